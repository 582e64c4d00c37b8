/**
 * Listening seqpacket sockets: how the seqpacket layer binds, listens and
 * accepts through FFI. The socket file (claiming the path, its mode, its
 * identity, removing it on close) is the business of the shared listener
 * skeleton in `src/transport/unix_listener.ts`, which calls these
 * operations.
 *
 * @module
 */

import type { SocketAddress } from "../../src/transport/address.ts";
import type { Listener, PacketSocket } from "../../src/transport/types.ts";
import { adoptUnix, type BoundSocket, listenUnix, type UnixSocketOps } from "../../src/transport/unix_listener.ts";
import type { Registration } from "./libc.ts";
import type { SeqpacketSystem, SocketLimits } from "./system.ts";
import { SeqpacketSocket } from "./socket.ts";
import { SystemCallError } from "./errors.ts";
import { packSockaddr } from "./layout.ts";
import { Errno } from "../../src/transport/errno.ts";
import { EPOLLIN, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK } from "./linux.ts";
import { AGAIN, RetryQueue, SocketBudget } from "./retry_queue.ts";

/** Settings of a listener beyond its sockets' limits. */
export interface ListenerSettings extends SocketLimits {
  /** Permissions of the socket file. */
  readonly mode: number;
  /** listen(2) backlog. */
  readonly backlog: number;
}

/**
 * Listens on `address`.
 *
 * @param system The process's seqpacket state.
 * @param address Where to listen.
 * @param settings Limits of accepted sockets, file mode and backlog.
 * @returns The listener.
 * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_INVALID_ADDRESS`, `ERR_PERMISSION_DENIED` or `ERR_CONNECTION_FAILED` (see `socket_errors.ts`), `ERR_INVALID_ARGUMENT` if the system cannot send datagrams of `maxPacketSize`.
 */
export function listen(
  system: SeqpacketSystem,
  address: SocketAddress,
  settings: ListenerSettings,
): Promise<Listener<PacketSocket>> {
  return listenUnix(address, seqpacketSocketOps(system, settings), { mode: settings.mode });
}

/**
 * Serves an inherited seqpacket socket that is bound and listening already
 * (socket activation, `fd:N`). The descriptor is made non-blocking and
 * close-on-exec, as sockets of our own are; the listener closes it, and no
 * socket file is removed (it is the service manager's).
 *
 * @param system The process's seqpacket state.
 * @param fd The listening descriptor (its kind was checked by the caller).
 * @param shown Its address in peerlink syntax (`fd:3`, `systemd:`).
 * @param settings Limits of accepted sockets (file mode and backlog do not apply).
 * @returns The listener.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` if the descriptor cannot be set up, `ERR_INVALID_ARGUMENT` if the system cannot send datagrams of `maxPacketSize`.
 */
export function adopt(
  system: SeqpacketSystem,
  fd: number,
  shown: string,
  settings: ListenerSettings,
): Promise<Listener<PacketSocket>> {
  return adoptUnix(fd, seqpacketSocketOps(system, settings), shown);
}

function seqpacketSocketOps(system: SeqpacketSystem, settings: ListenerSettings): UnixSocketOps<PacketSocket> {
  const libc = system.libc;
  return {
    files: system.files,
    bind(path, address) {
      const fd = system.newSocket();
      try {
        // Checks maxPacketSize against the system's limit now, not at every accept.
        system.prepare(fd, settings);
        const sockaddr = packSockaddr(path);
        if (libc.bind(fd, sockaddr.bytes, sockaddr.length) !== 0) throw new SystemCallError("bind", libc.errno());
      } catch (error) {
        libc.close(fd);
        return Promise.reject(error);
      }
      return Promise.resolve(new BoundListener(system, fd, address, settings));
    },
    adopt(fd, address) {
      try {
        const flags = libc.fcntl(fd, F_GETFL, 0);
        if (flags < 0) throw new SystemCallError("fcntl", libc.errno());
        if (libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw new SystemCallError("fcntl", libc.errno());
        if (libc.fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) throw new SystemCallError("fcntl", libc.errno());
        system.prepare(fd, settings);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve(new BoundListener(system, fd, address, settings));
    },
    isStale(path) {
      // A live listener answers 0, or EAGAIN while its backlog is full.
      const fd = system.newSocket();
      const sockaddr = packSockaddr(path);
      const answer = libc.connect(fd, sockaddr.bytes, sockaddr.length) === 0 ? 0 : libc.errno();
      libc.close(fd);
      return Promise.resolve(answer === Errno.ECONNREFUSED);
    },
  };
}

/** A bound seqpacket socket: listens when told to, then accepts. */
class BoundListener implements BoundSocket<PacketSocket> {
  readonly #system: SeqpacketSystem;
  readonly #fd: number;
  readonly #address: string;
  readonly #limits: SocketLimits;
  readonly #backlog: number;
  readonly #registration: Registration;
  readonly #accepts: RetryQueue;
  #closed = false;

  /**
   * @param system The process's seqpacket state.
   * @param fd The bound socket; owned from now on.
   * @param address The address in peerlink syntax.
   * @param settings Limits of accepted sockets and the backlog.
   */
  constructor(system: SeqpacketSystem, fd: number, address: string, settings: ListenerSettings) {
    this.#system = system;
    this.#fd = fd;
    this.#address = address;
    this.#limits = { maxPacketSize: settings.maxPacketSize, maxFds: settings.maxFds };
    this.#backlog = settings.backlog;
    const registration = system.readiness.register(fd);
    this.#registration = registration;
    this.#accepts = new RetryQueue(() => registration.wait(EPOLLIN), new SocketBudget());
  }

  /** Starts listening (after the socket file got its mode). */
  listen(): void {
    const libc = this.#system.libc;
    if (libc.listen(this.#fd, this.#backlog) !== 0) throw new SystemCallError("listen", libc.errno());
  }

  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the listener is closed.
   * @throws {SystemCallError} if accept4 fails for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM).
   */
  accept(): Promise<PacketSocket | null> {
    return this.#accepts.run(() => this.#closed ? null : this.#tryAccept());
  }

  /** Accepts now, or returns {@link AGAIN}. */
  #tryAccept(): PacketSocket | typeof AGAIN {
    const libc = this.#system.libc;
    for (;;) {
      const fd = libc.accept4(this.#fd, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        return new SeqpacketSocket(this.#system, fd, this.#limits, {
          transport: "seqpacket",
          localAddress: this.#address,
        });
      }
      const errno = libc.errno();
      if (errno === Errno.EAGAIN) return AGAIN;
      // A connection that vanished before it was accepted; look for the next one.
      if (errno === Errno.EINTR || errno === Errno.ECONNABORTED) continue;
      throw new SystemCallError("accept4", errno);
    }
  }

  /** Stops listening; a pending `accept` resolves `null`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#registration.close();
    this.#system.libc.close(this.#fd);
  }
}
