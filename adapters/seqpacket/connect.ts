/**
 * Opening client sockets: connect to a listener, create a connected pair
 * (both ends here, or one for a child process), or take over the connected
 * socket a parent process handed down.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import type { PacketSocket } from "../../src/transport/types.ts";
import type { SeqpacketChildChannel } from "../../src/transport/runtime_adapter.ts";
import { UsageError } from "../../src/base/errors.ts";
import type { SeqpacketSystem, SocketLimits } from "./system.ts";
import { SeqpacketSocket } from "./socket.ts";
import { SystemCallError } from "./errors.ts";
import { packSockaddr } from "./layout.ts";
import { Errno } from "../../src/transport/errno.ts";
import {
  AF_UNIX,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  FD_CLOEXEC,
  O_NONBLOCK,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_SEQPACKET,
} from "./linux.ts";
import { socketTypeOf } from "./socket_type.ts";

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
  const [first, second] = socketpair(system);
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

/** socketpair(2): two connected, non-blocking, close-on-exec seqpacket sockets. */
function socketpair(system: SeqpacketSystem): [number, number] {
  const libc = system.libc;
  const fds = new Uint8Array(8);
  if (libc.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) !== 0) {
    throw new SystemCallError("socketpair", libc.errno());
  }
  const view = new DataView(fds.buffer);
  return [view.getInt32(0, true), view.getInt32(4, true)];
}

/**
 * Creates a connected pair whose second end is for a child process: the
 * first is a socket of this process, the second a bare descriptor
 * (close-on-exec, so that only the child it is handed to gets it; and
 * blocking, as a child that is not written for peerlink expects of an
 * inherited socket: `O_NONBLOCK` belongs to the open file description the
 * child shares with this process's copy, and the two ends of a socketpair
 * are two descriptions, so this process's end stays non-blocking).
 *
 * @param system The process's seqpacket state.
 * @param limits Limits of this process's end.
 * @returns The channel; nothing is left open if this throws.
 * @throws {SystemCallError} if socketpair fails.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` if the system cannot send datagrams of `maxPacketSize`.
 */
export function childChannel(system: SeqpacketSystem, limits: SocketLimits): SeqpacketChildChannel {
  const libc = system.libc;
  const [own, child] = socketpair(system);
  let socket: SeqpacketSocket;
  try {
    // The child's end sends too: its send buffer must fit the datagrams, whatever the child asks for later.
    system.prepare(child, limits);
    const flags = libc.fcntl(child, F_GETFL, 0);
    if (flags < 0 || libc.fcntl(child, F_SETFL, flags & ~O_NONBLOCK) < 0) {
      throw new SystemCallError("fcntl", libc.errno());
    }
    socket = new SeqpacketSocket(system, own, limits, { transport: "seqpacket" });
  } catch (error) {
    libc.close(child);
    throw error;
  }
  let open = true;
  return {
    socket,
    childFd: child,
    closeChildEnd() {
      if (!open) return;
      open = false;
      libc.close(child);
    },
  };
}

/**
 * Takes over a connected seqpacket socket this process inherited (the
 * channel a parent's `spawn` handed down): checks that it is one, makes it
 * non-blocking and close-on-exec (so that this process's own children do
 * not inherit it), and owns it from then on.
 *
 * @param system The process's seqpacket state.
 * @param fd The descriptor.
 * @param shown How to name it in messages, such as `PEERLINK_CHANNEL=seqpacket:3`.
 * @param limits Limits of the socket.
 * @returns The socket. On failure the descriptor is not closed (it may be anything) but is marked close-on-exec,
 *   so that no child inherits it, unless it was taken over (then it is closed).
 * @throws {UsageError} `ERR_INVALID_ADDRESS` naming the descriptor when it is not open, not a socket, not a Unix
 *   seqpacket socket, or listening; `ERR_INVALID_ARGUMENT` if the system cannot send datagrams of `maxPacketSize`.
 */
export function adoptConnected(
  system: SeqpacketSystem,
  fd: number,
  shown: string,
  limits: SocketLimits,
): PacketSocket {
  const refuse = (why: string): UsageError => {
    closeOnExec(system, fd);
    return new UsageError("ERR_INVALID_ADDRESS", `Cannot serve the channel ${shown}: descriptor ${fd} ${why}`);
  };
  const type = socketTypeOf(system.libc, fd, refuse);
  if (type.domain !== AF_UNIX) throw refuse(`is not a Unix socket (socket domain ${type.domain}, expected AF_UNIX)`);
  if (type.type !== SOCK_SEQPACKET) {
    throw refuse(`is a Unix socket of type ${type.type} (expected SOCK_SEQPACKET, ${SOCK_SEQPACKET})`);
  }
  if (type.listening) throw refuse("is listening (expected a connected socket)");
  const libc = system.libc;
  const flags = libc.fcntl(fd, F_GETFL, 0);
  if (
    flags < 0 || libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || libc.fcntl(fd, F_SETFD, FD_CLOEXEC) < 0
  ) {
    throw connectError(new SystemCallError("fcntl", libc.errno()), shown);
  }
  // The constructor closes the descriptor if it fails: it is ours now.
  return new SeqpacketSocket(system, fd, limits, { transport: "seqpacket", localAddress: shown });
}

/**
 * Marks a descriptor close-on-exec (`fcntl` F_SETFD; a descriptor has no
 * other descriptor flag).
 *
 * @param system The process's seqpacket state.
 * @param fd The descriptor.
 * @returns `false` when it is not open (or cannot be changed).
 */
export function closeOnExec(system: SeqpacketSystem, fd: number): boolean {
  return system.libc.fcntl(fd, F_SETFD, FD_CLOEXEC) === 0;
}
