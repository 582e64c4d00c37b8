/**
 * peerlink: process-to-process RPC over Unix sockets, the same code on
 * Deno, Bun and Node. Wire-compatible with the Rust fizyr-rpc protocol.
 *
 * This entry point works in every runtime: `listen` and `connect` load the
 * adapter of the runtime they run in on first use. The npm package's
 * conditional exports point each runtime straight at its adapter instead.
 * The fizyr-level API (`Peer`, raw transports, method ids) is the `./peer`
 * subpath.
 *
 * @example
 * ```ts ignore
 * import { connect, listen } from "@peerlink/peerlink";
 *
 * const handlers = { add: ([a, b]: [number, number]) => a + b };
 * const server = await listen("unix:/tmp/demo.sock", { handlers });
 * const client = await connect<typeof handlers>("unix:/tmp/demo.sock");
 * console.log(await client.call("add", [1, 2])); // 3
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import {
  bindRuntime,
  type BoundApi,
  type ConnectFunction,
  type CreateSecretFileFunction,
  type ListenFunction,
  type ServeStdioFunction,
  type SpawnFunction,
} from "./src/api/bind_runtime.ts";
import { loadRuntimeAdapter } from "./adapters/detect.ts";

export * from "./src/api/public_api.ts";

const api: BoundApi = bindRuntime(loadRuntimeAdapter);
/** Starts an RPC server on an address such as `unix:/run/app.sock`. */
export const listen: ListenFunction = api.listen;
/** Connects to an RPC server; its type parameter is the server's service type. */
export const connect: ConnectFunction = api.connect;
/** Creates a new secret file (mode 0600, never overwriting) for `secretFile`. */
export const createSecretFile: CreateSecretFileFunction = api.createSecretFile;
/** Starts a child process and connects to it over its stdin and stdout; its type parameter is the child's service type. */
export const spawn: SpawnFunction = api.spawn;
/** Serves handlers to the parent process over this process's stdin and stdout (the child's side of `spawn`). */
export const serveStdio: ServeStdioFunction = api.serveStdio;
