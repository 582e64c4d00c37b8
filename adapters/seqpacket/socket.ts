/**
 * A connected SOCK_SEQPACKET socket: the {@link PacketSocket} every runtime
 * binding hands out.
 *
 * @module
 */

import { ConnectionClosedError, ProtocolError, UsageError } from "../../src/base/errors.ts";
import { createFdHandle, type FdHandle } from "../../src/base/fd_handle.ts";
import type { ConnectionInfo, Packet, PacketSocket } from "../../src/transport/types.ts";
import type { Registration } from "./poller.ts";
import type { SeqpacketSystem, SocketLimits } from "./system.ts";
import { transferError } from "./errors.ts";
import { AGAIN, RetryQueue } from "./retry_queue.ts";
import { Errno } from "../../src/transport/errno.ts";
import {
  EPOLLIN,
  EPOLLOUT,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  SHUT_RDWR,
} from "./linux.ts";

/** A connected seqpacket socket. */
export class SeqpacketSocket implements PacketSocket {
  /** Information about the connection, including peer credentials. */
  readonly info: ConnectionInfo;
  /** The largest datagram sent or received, in bytes. */
  readonly maxPacketSize: number;
  /** The most descriptors one datagram may carry. */
  readonly maxFds: number;
  readonly #system: SeqpacketSystem;
  readonly #fd: number;
  readonly #registration: Registration;
  readonly #sends: RetryQueue;
  readonly #receives: RetryQueue;
  #closed = false;
  #ended = false;

  /**
   * Takes ownership of a connected, non-blocking socket. On failure the
   * descriptor is closed.
   *
   * @param system The process's seqpacket state.
   * @param fd The socket.
   * @param limits Its limits.
   * @param info Connection information without credentials (read here).
   */
  constructor(system: SeqpacketSystem, fd: number, limits: SocketLimits, info: Omit<ConnectionInfo, "credentials">) {
    try {
      system.prepare(fd, limits);
      this.info = { ...info, credentials: system.peerCredentials(fd) };
    } catch (error) {
      system.libc.close(fd);
      throw error;
    }
    this.#system = system;
    this.#fd = fd;
    this.maxPacketSize = limits.maxPacketSize;
    this.maxFds = limits.maxFds;
    const registration = system.poller.register(fd);
    this.#registration = registration;
    this.#sends = new RetryQueue(() => registration.wait(EPOLLOUT));
    this.#receives = new RetryQueue(() => registration.wait(EPOLLIN));
  }

  /**
   * Sends one datagram. Descriptors must stay open until the returned promise settles.
   *
   * @param data The datagram; never empty.
   * @param fds Descriptors to pass; they stay open on the sender.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT`, `ERR_MESSAGE_TOO_LARGE` or `ERR_TOO_MANY_FDS`, with nothing sent.
   * @throws {ConnectionClosedError} if this socket or the peer is closed.
   */
  send(data: Uint8Array, fds: readonly number[]): Promise<void> {
    const problem = this.#checkSend(data, fds);
    if (problem !== undefined) return Promise.reject(problem);
    let datagram = data;
    let passed = fds;
    return this.#sends.run(
      () => {
        if (this.#closed) throw new ConnectionClosedError("The socket was closed before the datagram was sent");
        return this.#trySend(datagram, passed);
      },
      () => {
        datagram = data.slice();
        passed = [...fds];
      },
    );
  }

  /** Sends now, or returns {@link AGAIN}; throws what the send failed with. */
  #trySend(data: Uint8Array, fds: readonly number[]): void | typeof AGAIN {
    for (;;) {
      const sent = this.#system.buffer.send(this.#fd, data, fds, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent >= 0) return;
      const errno = -sent;
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN) return AGAIN;
      if (errno === Errno.EMSGSIZE) {
        throw new UsageError("ERR_MESSAGE_TOO_LARGE", `The system refused a datagram of ${data.length} bytes`);
      }
      throw transferError("sendmsg", errno);
    }
  }

  #checkSend(data: Uint8Array, fds: readonly number[]): UsageError | undefined {
    if (!(data instanceof Uint8Array)) {
      return new UsageError("ERR_INVALID_ARGUMENT", "Expected the datagram as a Uint8Array");
    }
    if (data.length === 0) {
      return new UsageError(
        "ERR_INVALID_ARGUMENT",
        "Expected a non-empty datagram, found 0 bytes (an empty datagram reads as the end of the connection)",
      );
    }
    if (data.length > this.maxPacketSize) {
      return new UsageError(
        "ERR_MESSAGE_TOO_LARGE",
        `Datagram of ${data.length} bytes exceeds the ${this.maxPacketSize}-byte limit`,
      );
    }
    if (fds.length > this.maxFds) {
      return new UsageError(
        "ERR_TOO_MANY_FDS",
        `${fds.length} file descriptors exceed the limit of ${this.maxFds} per datagram`,
      );
    }
    for (const fd of fds) {
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
        return new UsageError(
          "ERR_INVALID_ARGUMENT",
          `Expected file descriptors as non-negative integers, found ${fd}`,
        );
      }
    }
    return undefined;
  }

  /**
   * Receives the next datagram.
   *
   * @returns The packet, or `null` once the peer closed the connection or this socket was closed.
   * @throws {ProtocolError} `ERR_TRUNCATED` if the datagram exceeded `maxPacketSize` or carried more than `maxFds` descriptors; the descriptors that arrived are closed.
   * @throws {ConnectionClosedError} if the peer reset the connection.
   */
  receive(): Promise<Packet | null> {
    return this.#receives.run(() => this.#closed || this.#ended ? null : this.#tryReceive());
  }

  /** Receives now, or returns {@link AGAIN}; throws what the receive failed with. */
  #tryReceive(): Packet | null | typeof AGAIN {
    const buffer = this.#system.buffer;
    let length: number;
    for (;;) {
      length = buffer.receive(this.#fd, this.maxPacketSize, this.maxFds, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (length !== -Errno.EINTR) break;
    }
    if (length < 0) {
      if (length === -Errno.EAGAIN) return AGAIN;
      throw transferError("recvmsg", -length);
    }
    const flags = buffer.receivedFlags();
    const fds = buffer.receivedFds();
    if (length === 0) {
      // The end of the connection (or an empty datagram, which cannot be told apart from it).
      for (const fd of fds) this.#system.closeFd(fd);
      this.#ended = true;
      return null;
    }
    if ((flags & (MSG_TRUNC | MSG_CTRUNC)) !== 0 || fds.length > this.maxFds) {
      for (const fd of fds) this.#system.closeFd(fd);
      const what = (flags & MSG_TRUNC) !== 0
        ? `a datagram larger than the ${this.maxPacketSize}-byte limit`
        : `a datagram with more than ${this.maxFds} file descriptors`;
      throw new ProtocolError("ERR_TRUNCATED", `Received ${what}; it was truncated and discarded`);
    }
    const handles: FdHandle[] = fds.map((fd) => createFdHandle(fd, this.#system.closeFd));
    return { data: buffer.receivedData(length), fds: handles };
  }

  /** Closes the socket: a pending `receive` resolves `null` and a pending `send` rejects. Safe to call more than once. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#registration.close();
      const libc = this.#system.libc;
      libc.shutdown(this.#fd, SHUT_RDWR);
      libc.close(this.#fd);
    }
    return Promise.resolve();
  }

  /** Same as {@link SeqpacketSocket.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
