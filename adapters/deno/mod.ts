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
