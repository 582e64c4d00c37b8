/**
 * SO_PEERCRED through the shared libc bindings: the pid, uid and gid the
 * process at the other end of a connected Unix socket had when it
 * connected (or listened). One `getsockopt` per socket, on seqpacket
 * sockets and, through `adapters/lazy_credentials.ts`, on every runtime's
 * Unix stream sockets.
 *
 * @module
 */

import type { PeerCredentials } from "../../src/transport/types.ts";
import type { Libc } from "./libc.ts";
import { UCRED_SIZE } from "./layout.ts";
import { SO_PEERCRED, SOL_SOCKET } from "./linux.ts";
import { SystemCallError } from "./errors.ts";

// One struct ucred and its length, reused: each call copies the values out before it returns.
const ucred = new Uint8Array(UCRED_SIZE);
const ucredView = new DataView(ucred.buffer);
const length = new Uint8Array(4);
const lengthView = new DataView(length.buffer);

/**
 * Reads SO_PEERCRED.
 *
 * @param libc The runtime's libc bindings.
 * @param fd A connected Unix socket (stream or seqpacket).
 * @returns The peer's pid, uid and gid.
 * @throws {SystemCallError} if getsockopt fails (`EBADF`, `ENOTSOCK`, ...).
 */
export function readPeerCredentials(libc: Libc, fd: number): PeerCredentials {
  lengthView.setUint32(0, UCRED_SIZE, true);
  if (libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, length) !== 0) {
    throw new SystemCallError("getsockopt", libc.errno());
  }
  return { pid: ucredView.getInt32(0, true), uid: ucredView.getUint32(4, true), gid: ucredView.getUint32(8, true) };
}
