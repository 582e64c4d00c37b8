/**
 * Imports a module the first time it is needed. The adapters load what
 * only some programs use this way (TCP and TLS, child processes, the
 * seqpacket layer): a program that only talks over `unix:` does not carry
 * `node:tls`, `node:crypto` or `node:child_process`, whose code and objects
 * would stay in its heap for every full garbage collection to mark. In a
 * Node 24 1 MiB echo, where such collections set the pace, loading the Node
 * adapter as it was (everything at once) into the raw floor's processes
 * cost the floor 16 to 18 % of its MB/s.
 *
 * @module
 */

/**
 * Wraps a dynamic import so that it runs once, on the first call.
 *
 * @example
 * ```ts
 * import { lazyImport } from "./lazy_import.ts";
 * const tcp = lazyImport(() => import("./node_net/tcp_connect.ts"));
 * const connect = async (...args: Parameters<typeof import("./node_net/tcp_connect.ts").connectNodeTcp>) =>
 *   (await tcp()).connectNodeTcp(...args);
 * ```
 *
 * @param load Imports the module.
 * @returns A function that resolves with the module; every call after the first gets the same promise.
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => loading ??= load();
}
