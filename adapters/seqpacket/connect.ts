/**
 * Opening client sockets: connect to a listener, or create a connected pair.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import type { PacketSocket } from "../../src/transport/types.ts";
import type { SeqpacketSystem, SocketLimits } from "./system.ts";
import { SeqpacketSocket } from "./socket.ts";
import { SystemCallError } from "./errors.ts";
import { packSockaddr } from "./layout.ts";
import { Errno } from "../../src/transport/errno.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_SEQPACKET } from "./linux.ts";

/**
 * How long to keep retrying while the listener's backlog is full. A
 * non-blocking Unix connect fails with EAGAIN then, and polling the
 * unconnected socket does not tell when to retry, so retries back off.
 */
const BACKLOG_RETRY_MS = 5000;

/**
 * Connects to a listener.
 *
 * @param system The process's seqpacket state.
 * @param address Where the listener is.
 * @param limits Limits of the new socket.
 * @returns The connected socket.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export async function connect(
  system: SeqpacketSystem,
  address: SocketAddress,
  limits: SocketLimits,
): Promise<PacketSocket> {
  const sockaddr = packSockaddr(socketPathOf(address));
  const shown = formatAddress(address);
  const libc = system.libc;
  const fd = system.newSocket();
  const started = Date.now();
  for (let attempt = 0;; attempt++) {
    if (libc.connect(fd, sockaddr.bytes, sockaddr.length) === 0) break;
    const errno = libc.errno();
    if (errno === Errno.EINTR) continue;
    if (errno !== Errno.EAGAIN || Date.now() - started > BACKLOG_RETRY_MS) {
      libc.close(fd);
      throw connectError(new SystemCallError("connect", errno), shown);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(2 ** attempt, 100)));
  }
  return new SeqpacketSocket(system, fd, limits, { transport: "seqpacket", remoteAddress: shown });
}

/**
 * Creates two sockets connected to each other (socketpair).
 *
 * @param system The process's seqpacket state.
 * @param limits Limits of both sockets.
 * @returns The two ends.
 * @throws {SystemCallError} if socketpair fails.
 */
export function pair(system: SeqpacketSystem, limits: SocketLimits): [PacketSocket, PacketSocket] {
  const libc = system.libc;
  const fds = new Uint8Array(8);
  if (libc.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) !== 0) {
    throw new SystemCallError("socketpair", libc.errno());
  }
  const view = new DataView(fds.buffer);
  const first = view.getInt32(0, true);
  const second = view.getInt32(4, true);
  let a: SeqpacketSocket;
  try {
    a = new SeqpacketSocket(system, first, limits, { transport: "seqpacket" });
  } catch (error) {
    libc.close(second);
    throw error;
  }
  try {
    return [a, new SeqpacketSocket(system, second, limits, { transport: "seqpacket" })];
  } catch (error) {
    void a.close();
    throw error;
  }
}
