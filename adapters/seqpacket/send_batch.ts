/**
 * Datagrams sent one after another in one turn of the promise queue, handed
 * to the kernel with one `sendmmsg` instead of one `sendmsg` each: a server
 * answering 64 pipelined calls makes a system call or two, not 64. The
 * first datagram of a turn is sent at once by its socket, so a lone send
 * waits for nothing; the ones sent after it are gathered until the promise
 * continuations that may send more had their turn (a few microtask passes,
 * never a turn of the event loop). One batch serves the whole process
 * (calls never overlap); a send on another socket writes the batch out
 * first.
 *
 * Only datagrams without descriptors, of at most {@link BATCH_LARGEST}
 * bytes, sent while their socket has nothing queued, are gathered; the
 * rest go through the socket's own queue, after the batch is written.
 *
 * @module
 */

import type { Libc, NativeMemory } from "./libc.ts";
import { IOV_BASE, IOV_LEN, IOVEC_SIZE, MMSGHDR_SIZE } from "./layout.ts";
import { allocateMessageVector, type MessageVector } from "./message_vector.ts";
import { Errno } from "../../src/transport/errno.ts";
import { MSG_DONTWAIT, MSG_NOSIGNAL } from "./linux.ts";
import { MicrotaskSettle } from "../../src/base/microtask_settle.ts";

/** The most datagrams one batch holds. */
const BATCH_DATAGRAMS = 64;
/** Bytes of datagram data one batch holds. */
const BATCH_BYTES = 128 * 1024;
/** The largest datagram that joins a batch; larger ones gain little from it. */
export const BATCH_LARGEST: number = 16 * 1024;
/** Microtask passes a batch waits at least for more datagrams, and at most while they keep coming. */
const SETTLE_PASSES = 2;
const MAX_SETTLE_PASSES = 16;

/** The socket a batch is gathered for. */
export interface BatchOwner {
  /** The socket's descriptor. */
  readonly fd: number;
  /**
   * The kernel would not take these datagrams now (EAGAIN): the socket sends
   * them, in order, before anything sent after them.
   *
   * @param datagram A copy of the datagram, owned by the socket from now on.
   * @param settle Settles the datagram's `send`.
   */
  requeue(datagram: Uint8Array, settle: Settle): void;
  /**
   * The error a datagram failed with.
   *
   * @param errno What `sendmmsg` left for it.
   * @param length The datagram's length.
   */
  sendError(errno: number, length: number): Error;
}

/** Settles one `send`. */
export interface Settle {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The process's batch of datagrams not yet handed to the kernel. */
export class SendBatch {
  readonly #libc: Libc;
  readonly #vector: MessageVector;
  readonly #iovecsView: DataView;
  readonly #data: NativeMemory;
  /** The data area's address, split into 32-bit halves so that an entry costs no bigint. */
  readonly #dataLow: number;
  readonly #dataHigh: number;
  readonly #settles: Settle[] = [];
  /** Where each datagram of the batch starts in the data area. */
  readonly #offsets: number[] = [];
  #owner: BatchOwner | null = null;
  #used = 0;
  /** Flushes the batch once the senders queued on the promise queue had their turn. */
  readonly #settle = new MicrotaskSettle(
    () => this.#settles.length,
    () => this.flush(),
    SETTLE_PASSES,
    MAX_SETTLE_PASSES,
  );

  /**
   * @param libc The runtime's libc bindings.
   */
  constructor(libc: Libc) {
    this.#libc = libc;
    // Each entry: no name, no control data, one iovec of its own.
    this.#vector = allocateMessageVector(libc, BATCH_DATAGRAMS);
    this.#iovecsView = this.#vector.iovecsView;
    this.#data = libc.allocate(BATCH_BYTES);
    this.#dataLow = Number(this.#data.address & 0xffffffffn);
    this.#dataHigh = Number(this.#data.address >> 32n);
  }

  /**
   * Whether `owner` has datagrams in the batch.
   *
   * @param owner A socket.
   */
  /**
   * Whether the next datagram (of any socket) should join the batch: not
   * the first of a turn of the promise queue, which its socket sends at
   * once so that a lone send waits for nothing; the ones after it, until
   * the queue has settled, do.
   */
  gathering(): boolean {
    if (this.#settle.scheduled) return true;
    this.#settle.schedule();
    return false;
  }

  holds(owner: BatchOwner): boolean {
    return this.#owner === owner && this.#settles.length > 0;
  }

  /**
   * Adds one datagram (copied now) to the batch; it is written with the
   * batch, at the latest when the promise queue has settled.
   *
   * @param owner The socket, which has nothing queued.
   * @param head The first bytes of the datagram.
   * @param body The rest; `head.length + body.length` is at most {@link BATCH_LARGEST}.
   * @returns Settles once the kernel took the datagram, or with its error.
   */
  add(owner: BatchOwner, head: Uint8Array, body: Uint8Array): Promise<void> {
    const length = head.length + body.length;
    if (this.#owner !== owner || this.#settles.length === BATCH_DATAGRAMS || this.#used + length > BATCH_BYTES) {
      this.flush();
      this.#owner = owner;
    }
    const data = this.#data.bytes;
    data.set(head, this.#used);
    if (body.length > 0) data.set(body, this.#used + head.length);
    const iovec = this.#settles.length * IOVEC_SIZE;
    const low = this.#dataLow + this.#used;
    this.#iovecsView.setUint32(iovec + IOV_BASE, low >>> 0, true);
    this.#iovecsView.setUint32(iovec + IOV_BASE + 4, this.#dataHigh + (low > 0xffffffff ? 1 : 0), true);
    this.#iovecsView.setUint32(iovec + IOV_LEN, length, true);
    this.#offsets.push(this.#used);
    this.#used += length;
    const sent = new Promise<void>((resolve, reject) => this.#settles.push({ resolve, reject }));
    this.#settle.schedule();
    return sent;
  }

  /** Writes the batch now: what the kernel takes is settled, what it would not take goes back to its socket. */
  flush(): void {
    this.#settle.cancel();
    const owner = this.#owner;
    const settles = this.#settles.splice(0);
    const offsets = this.#offsets.splice(0);
    const count = settles.length;
    this.#owner = null;
    this.#used = 0;
    if (owner === null || count === 0) return;
    let next = 0;
    while (next < count) {
      const sent = this.#libc.sendmmsg(
        owner.fd,
        this.#vector.headers.subarray(next * MMSGHDR_SIZE),
        count - next,
        MSG_DONTWAIT | MSG_NOSIGNAL,
      );
      if (sent > 0) {
        for (let i = next; i < next + sent; i++) settles[i]!.resolve();
        next += sent;
        continue;
      }
      const errno = sent === 0 ? Errno.EAGAIN : this.#libc.errno();
      if (errno === Errno.EINTR) continue;
      if (errno === Errno.EAGAIN) {
        for (let i = next; i < count; i++) {
          const start = offsets[i]!;
          owner.requeue(this.#data.bytes.slice(start, start + this.#lengthOf(i)), settles[i]!);
        }
        return;
      }
      // The error belongs to the first datagram not sent; the ones after it are tried again.
      settles[next]!.reject(owner.sendError(errno, this.#lengthOf(next)));
      next++;
    }
  }

  #lengthOf(index: number): number {
    return this.#iovecsView.getUint32(index * IOVEC_SIZE + IOV_LEN, true);
  }
}
