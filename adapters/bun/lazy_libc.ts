/**
 * libc through `bun:ffi`, imported and bound on first use, for the parts
 * of the Bun adapter that need a system call Bun does not offer: probing a
 * socket file, peer credentials, and the listener guard. Seqpacket sockets
 * share the same bindings.
 *
 * @module
 */

import process from "node:process";
import type { Libc } from "../seqpacket/libc.ts";

/**
 * Binds libc (once; later calls share the bindings).
 *
 * @returns The bindings.
 * @throws what `bun:ffi` threw, such as a missing `libc.so.6` off Linux.
 */
export async function loadBunLibc(): Promise<Libc> {
  return (await import("./seqpacket_ffi.ts")).loadLibc();
}

/**
 * The bindings where they can be had.
 *
 * @returns The bindings, or `undefined` off Linux or if they failed to load.
 */
export function bunLibcIfAvailable(): Promise<Libc | undefined> {
  return process.platform === "linux" ? loadBunLibc().catch(() => undefined) : Promise.resolve(undefined);
}
