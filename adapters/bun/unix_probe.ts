/**
 * Why a Unix connect failed, in Bun. `Bun.connect` reports every failed Unix
 * connect as ECONNREFUSED, even EAGAIN from a busy listener and EPROTOTYPE
 * from a live socket of another type, so a stale-file check or an error
 * message built on it would be wrong. This asks the kernel instead, with a
 * probe connection through `bun:ffi` and the shared libc bindings (loaded
 * only when a probe is needed: a socket file in the way of a listener, or a
 * failed connect).
 *
 * @module
 */

import { probeUnixPath } from "../seqpacket/unix_probe.ts";
import { loadBunLibc } from "./lazy_libc.ts";

/**
 * Probes the Unix socket at `path`.
 *
 * @param path A filesystem path, or a NUL byte and an abstract name.
 * @returns `undefined` if a connection was made, else the errno name (`ECONNREFUSED` when nobody listens).
 */
export async function probeBunUnixPath(path: string): Promise<string | undefined> {
  return probeUnixPath(await loadBunLibc(), path);
}
