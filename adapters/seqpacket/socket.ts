/**
 * A connected SOCK_SEQPACKET socket: the {@link PacketSocket} every runtime
 * binding hands out.
 *
 * @module
 */

import { ConnectionClosedError, UsageError } from "../../src/base/errors.ts";
import type { ConnectionInfo, Packet, PacketSocket } from "../../src/transport/types.ts";
import type { Registration } from "./libc.ts";
import type { SeqpacketSystem, SocketLimits } from "./system.ts";
import { transferError } from "./errors.ts";
import { AGAIN, RetryQueue, SocketBudget } from "./retry_queue.ts";
import { BATCH_LARGEST, type BatchOwner } from "./send_batch.ts";
import { Arrivals } from "./arrivals.ts";
import { Errno } from "../../src/transport/errno.ts";
import { EPOLLIN, EPOLLOUT, MSG_CMSG_CLOEXEC, MSG_DONTWAIT, MSG_NOSIGNAL, SHUT_RDWR } from "./linux.ts";

const NO_BYTES = new Uint8Array(0);
const NO_FDS: readonly number[] = [];

/** The error of a datagram of `length` bytes that sendmsg or sendmmsg refused with `errno`. */
function sendError(errno: number, length: number): Error {
  return errno === Errno.EMSGSIZE
    ? new UsageError("ERR_MESSAGE_TOO_LARGE", `The system refused a datagram of ${length} bytes`)
    : transferError("sendmsg", errno);
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
  readonly #sends: RetryQueue;
  readonly #receives: RetryQueue;
  readonly #budget: SocketBudget;
  /** This socket as the process's send batch sees it. */
  readonly #batchOwner: BatchOwner;
  #closed = false;
  #ended = false;
  /** Datagrams the last receive took that were not handed out yet. */
  readonly #arrivals = new Arrivals();
  /** The last {@link SeqpacketSocket.poll} found nothing: the next receive waits for readiness before trying. */
  #pollMissed = false;

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
    const registration = system.readiness.register(fd);
    this.#registration = registration;
    const budget = new SocketBudget();
    this.#budget = budget;
    this.#sends = new RetryQueue(() => registration.wait(EPOLLOUT), budget);
    this.#receives = new RetryQueue(() => registration.wait(EPOLLIN), budget);
    this.#batchOwner = {
      fd,
      requeue: (datagram, settle) => this.#sendQueued(datagram, settle),
      sendError: sendError,
    };
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
    return this.sendParts(data, NO_BYTES, fds);
  }

  /**
   * Sends `head` and `body` as one datagram, as `send` would their
   * concatenation, without making it: both are copied straight into the
   * buffer the system call reads.
   *
   * @param head The first bytes of the datagram.
   * @param body The rest of it (may be empty).
   * @param fds Descriptors to pass; they stay open on the sender.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT`, `ERR_MESSAGE_TOO_LARGE` or `ERR_TOO_MANY_FDS`, with nothing sent.
   * @throws {ConnectionClosedError} if this socket or the peer is closed.
   */
  sendParts(head: Uint8Array, body: Uint8Array, fds: readonly number[]): Promise<void> {
    const problem = this.#checkSend(head, body, fds);
    if (problem !== undefined) return Promise.reject(problem);
    const batch = this.#system.batch;
    if (
      fds.length === 0 && head.length + body.length <= BATCH_LARGEST && !this.#closed && this.#sends.idle &&
      !this.#budget.spent() && batch.gathering()
    ) {
      return batch.add(this.#batchOwner, head, body);
    }
    // What was gathered before goes first.
    if (batch.holds(this.#batchOwner)) batch.flush();
    let first = head;
    let rest = body;
    let passed = fds;
    return this.#sends.run(
      () => {
        if (this.#closed) throw new ConnectionClosedError("The socket was closed before the datagram was sent");
        return this.#trySend(first, rest, passed);
      },
      () => {
        // The caller may reuse what it passed once this returns.
        first = new Uint8Array(head.length + body.length);
        first.set(head);
        first.set(body, head.length);
        rest = NO_BYTES;
        passed = [...fds];
      },
    );
  }

  /** A datagram of the batch the kernel would not take at once: it waits in the queue, before later sends. */
  #sendQueued(datagram: Uint8Array, settle: { resolve: () => void; reject: (error: unknown) => void }): void {
    this.#sends.runAfterWait(() => {
      if (this.#closed) throw new ConnectionClosedError("The socket was closed before the datagram was sent");
      return this.#trySend(datagram, NO_BYTES, NO_FDS);
    }).then(settle.resolve, settle.reject);
  }

  /** Sends now, or returns {@link AGAIN}; throws what the send failed with. */
  #trySend(head: Uint8Array, body: Uint8Array, fds: readonly number[]): void | typeof AGAIN {
    for (;;) {
      const sent = this.#system.buffer.send(this.#fd, head, body, fds, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent >= 0) return;
      const errno = -sent;
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN) return AGAIN;
      throw sendError(errno, head.length + body.length);
    }
  }

  #checkSend(head: Uint8Array, body: Uint8Array, fds: readonly number[]): UsageError | undefined {
    if (!(head instanceof Uint8Array) || !(body instanceof Uint8Array)) {
      return new UsageError("ERR_INVALID_ARGUMENT", "Expected the datagram as a Uint8Array");
    }
    const length = head.length + body.length;
    if (length === 0) {
      return new UsageError(
        "ERR_INVALID_ARGUMENT",
        "Expected a non-empty datagram, found 0 bytes (an empty datagram reads as the end of the connection)",
      );
    }
    if (length > this.maxPacketSize) {
      return new UsageError(
        "ERR_MESSAGE_TOO_LARGE",
        `Datagram of ${length} bytes exceeds the ${this.maxPacketSize}-byte limit`,
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
    if (this.#pollMissed) {
      this.#pollMissed = false;
      return this.#receives.runAfterWait(this.#attemptReceive);
    }
    return this.#receives.run(this.#attemptReceive);
  }

  /**
   * Takes the next datagram if one has arrived, without waiting (and
   * without a turn of the promise queue), unless a receive is queued or the
   * turn's budget is spent. Not to be called while a `receive` is pending.
   *
   * @returns The packet, or `undefined` when `receive` has to be called (to wait, or to see the end).
   * @throws What `receive` would throw for this datagram.
   */
  poll(): Packet | undefined {
    const packet = this.#receives.tryNow(this.#attemptReceive);
    if (packet === AGAIN) {
      this.#pollMissed = true;
      return undefined;
    }
    return packet ?? undefined;
  }

  readonly #attemptReceive = (): Packet | null | typeof AGAIN =>
    this.#closed || this.#ended ? null : this.#tryReceive();

  /** Hands out what the last receive took, else receives now, or returns {@link AGAIN}; throws what the receive failed with. */
  #tryReceive(): Packet | null | typeof AGAIN {
    const arrivals = this.#arrivals;
    if (arrivals.empty) {
      const batch = this.#system.receiver;
      let count: number;
      for (;;) {
        count = batch.receive(this.#fd, this.maxPacketSize, this.maxFds, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (count !== -Errno.EINTR) break;
      }
      if (count < 0) {
        if (count === -Errno.EAGAIN) return AGAIN;
        throw transferError("recvmsg", -count);
      }
      // recvmmsg reports the end as a datagram of length 0; a count of 0 would mean the same.
      if (count === 0) {
        this.#ended = true;
        return null;
      }
      arrivals.fill(batch, count, this, this.#system.closeFd);
    }
    const packet = arrivals.next();
    if (packet === null) this.#ended = true;
    return packet;
  }

  /** Closes the socket: a pending `receive` resolves `null` and a pending `send` rejects. Safe to call more than once. */
  close(): Promise<void> {
    if (!this.#closed) {
      // Datagrams sent before close() still go out, as they would have without the batch.
      const batch = this.#system.batch;
      if (batch.holds(this.#batchOwner)) batch.flush();
      this.#closed = true;
      this.#arrivals.discard();
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
