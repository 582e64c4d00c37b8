/**
 * peerlink: process-to-process RPC over Unix sockets, the same code on
 * Deno, Bun and Node. Wire-compatible with the Rust fizyr-rpc protocol.
 *
 * This entry point works in every runtime: `listen` and `connect` load the
 * adapter of the runtime they run in on first use. The npm package's
 * conditional exports point each runtime straight at its adapter instead.
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
  type BoundApi,
  bindRuntime,
  type ConnectFunction,
  type ConnectTransportFunction,
  type ListenFunction,
  type ListenTransportFunction,
  type TransportPairFunction,
} from "./src/api/bind_runtime.ts";
import type { RuntimeAdapter } from "./src/transport/runtime_adapter.ts";

export * from "./src/api/everything.ts";

let runtime: Promise<RuntimeAdapter> | undefined;

function loadRuntimeAdapter(): Promise<RuntimeAdapter> {
  runtime ??= "Deno" in globalThis
    ? import("./adapters/deno/mod.ts").then((module) => module.denoRuntime)
    : "Bun" in globalThis
    ? import("./adapters/bun/mod.ts").then((module) => module.bunRuntime)
    : import("./adapters/node/mod.ts").then((module) => module.nodeRuntime);
  return runtime;
}

const api: BoundApi = bindRuntime(loadRuntimeAdapter);
/** Starts an RPC server on an address such as `unix:/run/app.sock`. */
export const listen: ListenFunction = api.listen;
/** Connects to an RPC server. */
export const connect: ConnectFunction = api.connect;
/** Listens for raw message transports (low-level `Peer` API). */
export const listenTransport: ListenTransportFunction = api.listenTransport;
/** Connects a raw message transport (low-level `Peer` API). */
export const connectTransport: ConnectTransportFunction = api.connectTransport;
/** Creates a connected pair of seqpacket transports in this process. */
export const transportPair: TransportPairFunction = api.transportPair;
/** Loads (once) and returns the adapter of the runtime this code runs in: Deno, Bun or Node. */
export const detectRuntime: () => Promise<RuntimeAdapter> = api.detectRuntime;
