/**
 * What Deno can do through `Deno.dlopen` (opened on first use): peer
 * credentials (SO_PEERCRED) of Unix stream sockets, and the listener guard
 * of its `node:net` servers. Whether they (and seqpacket sockets) are
 * available is answered without loading anything: the FFI permission must
 * be granted (`--allow-ffi`), and the OS must be Linux.
 *
 * @module
 */

import { lazyCredentials, type StreamCredentials } from "../lazy_credentials.ts";
import type { GuardLibc } from "../listener_guard.ts";
import { unsupportedPlatform } from "../seqpacket/layout.ts";

/** Why `Deno.dlopen` may not be used, or `undefined` if `--allow-ffi` was given. */
function ffiDenied(): string | undefined {
  // A permission that would have to be asked for is not there: never prompt from a socket.
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted"
    ? undefined
    : "Deno without --allow-ffi (run with --allow-ffi)";
}

function ffiUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") {
    return `peer credentials (SO_PEERCRED) are read on Linux only, not on ${Deno.build.os}`;
  }
  return ffiDenied();
}

const loadLibc = async () => (await import("./seqpacket_ffi.ts")).loadLibc();

/** The credentials of Deno's Unix stream sockets. */
export const denoStreamCredentials: StreamCredentials = lazyCredentials({ unavailable: ffiUnavailable, loadLibc });

/** libc for the guard of Deno's `node:net` servers, where `--allow-ffi` was given. */
export const denoGuardLibc: GuardLibc = () =>
  ffiUnavailable() === undefined ? loadLibc().catch(() => undefined) : Promise.resolve(undefined);

/**
 * Whether this process can use the FFI (it then serves and connects Unix
 * stream sockets through `node:net`, with credentials and a guard).
 *
 * @returns True with `--allow-ffi` on Linux.
 */
export function denoFfiUsable(): boolean {
  return denoStreamCredentials.unavailable() === undefined;
}

/**
 * Why connections of `transport` carry no peer credentials in this Deno process.
 *
 * @param transport `"unix"` or `"seqpacket"`.
 * @returns The reason, or `undefined` when every connection carries them.
 */
export function denoCredentialsUnavailable(transport: "unix" | "seqpacket"): string | undefined {
  if (transport === "unix") return denoStreamCredentials.unavailable();
  return unsupportedPlatform(Deno.build.os, Deno.build.arch) ?? ffiDenied();
}
