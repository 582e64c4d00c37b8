/**
 * The Deno entry point: the same API as the root `mod.ts`, bound to
 * Deno's sockets (`Deno.listen`/`Deno.connect` and `Deno.dlopen`) without runtime detection. The npm package's
 * `deno` export condition points here.
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
} from "../../src/api/bind_runtime.ts";
import { denoRuntime } from "./runtime.ts";

export * from "../../src/api/public_api.ts";

const api: BoundApi = bindRuntime(() => Promise.resolve(denoRuntime));
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
