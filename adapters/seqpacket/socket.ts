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
import {
  EPOLLIN,
  EPOLLOUT,
  Errno,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  SHUT_RDWR,
} from "./linux.ts";

/** Result of a receive attempt that found nothing to read. */
const AGAIN = Symbol("again");

/**
 * How many receives in a row may complete without returning to the event
 * loop. A peer that keeps the socket readable would otherwise let a receive
 * loop run on microtasks alone and starve timers and other I/O.
 */
const RECEIVE_BUDGET = 64;

/** The same for sends: a sender whose peer keeps up would otherwise never yield. */
const SEND_BUDGET = 64;

/**
 * Lets timers and I/O run once. `setImmediate` (Deno, Bun and Node all have
 * it) instead of `setTimeout(0)`, which Node clamps to 1 ms.
 */
function nextMacrotask(): Promise<void> {
  const setImmediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => setImmediate ? setImmediate(resolve) : setTimeout(resolve, 0));
}

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
  #closed = false;
  #ended = false;
  #queuedSends = 0;
  #sendTail: Promise<void> = Promise.resolve();
  #queuedReceives = 0;
  #receiveTail: Promise<unknown> = Promise.resolve();
  #receiveBudget = RECEIVE_BUDGET;
  #sendBudget = SEND_BUDGET;

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
    this.#registration = system.poller.register(fd);
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
    if (this.#closed) return Promise.reject(new ConnectionClosedError("The socket is closed"));
    const yieldFirst = this.#sendBudget === 0;
    let tried = false;
    if (this.#queuedSends === 0 && !yieldFirst) {
      this.#sendBudget--;
      const result = this.#trySend(data, fds);
      if (result === true) return Promise.resolve();
      if (result instanceof Error) return Promise.reject(result);
      tried = true;
    }
    return this.#sendLater(data.slice(), [...fds], tried, yieldFirst);
  }

  /**
   * @param tried The datagram was just refused with EAGAIN: wait for EPOLLOUT first.
   * @param yieldFirst The send budget is spent: let timers and I/O run first.
   */
  #sendLater(data: Uint8Array, fds: readonly number[], tried: boolean, yieldFirst: boolean): Promise<void> {
    this.#queuedSends++;
    const run = this.#sendTail.then(async () => {
      if (yieldFirst) {
        // Not EPOLLOUT: Unix sockets report it only below a quarter of the send buffer.
        await nextMacrotask();
        this.#sendBudget = SEND_BUDGET;
      }
      for (let skipTry = tried;; skipTry = false) {
        if (this.#closed) throw new ConnectionClosedError("The socket was closed before the datagram was sent");
        if (!skipTry) {
          const result = this.#trySend(data, fds);
          if (result === true) return;
          if (result instanceof Error) throw result;
        }
        await this.#registration.wait(EPOLLOUT);
        this.#sendBudget = SEND_BUDGET;
      }
    }).finally(() => {
      this.#queuedSends--;
    });
    this.#sendTail = run.catch(() => {});
    return run;
  }

  /** @returns true once sent, false on EAGAIN, or the error to throw. */
  #trySend(data: Uint8Array, fds: readonly number[]): boolean | Error {
    for (;;) {
      const sent = this.#system.buffer.send(this.#fd, data, fds, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent >= 0) return true;
      const errno = -sent;
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN) return false;
      if (errno === Errno.EMSGSIZE) {
        return new UsageError("ERR_MESSAGE_TOO_LARGE", `The system refused a datagram of ${data.length} bytes`);
      }
      return transferError("sendmsg", errno);
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
    if (this.#closed || this.#ended) return Promise.resolve(null);
    if (this.#queuedReceives > 0) return this.#receiveLater(false);
    if (this.#receiveBudget === 0) return this.#receiveLater(true);
    this.#receiveBudget--;
    const result = this.#tryReceive();
    if (result === AGAIN) return this.#receiveLater(true);
    return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
  }

  /** @param waitFirst Wait for readiness before the first attempt. */
  #receiveLater(waitFirst: boolean): Promise<Packet | null> {
    this.#queuedReceives++;
    const run = this.#receiveTail.then(async () => {
      for (let skipTry = waitFirst;; skipTry = false) {
        if (this.#closed || this.#ended) return null;
        if (!skipTry) {
          const result = this.#tryReceive();
          if (result instanceof Error) throw result;
          if (result !== AGAIN) return result;
        }
        await this.#registration.wait(EPOLLIN);
        this.#receiveBudget = RECEIVE_BUDGET;
      }
    }).finally(() => {
      this.#queuedReceives--;
    });
    this.#receiveTail = run.catch(() => {});
    return run;
  }

  #tryReceive(): Packet | null | typeof AGAIN | Error {
    const buffer = this.#system.buffer;
    let length: number;
    for (;;) {
      length = buffer.receive(this.#fd, this.maxPacketSize, this.maxFds, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (length !== -Errno.EINTR) break;
    }
    if (length < 0) {
      if (length === -Errno.EAGAIN) return AGAIN;
      return transferError("recvmsg", -length);
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
      return new ProtocolError("ERR_TRUNCATED", `Received ${what}; it was truncated and discarded`);
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
