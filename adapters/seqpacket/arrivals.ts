/**
 * The datagrams one receive took from a socket, handed out one at a time:
 * each becomes a packet (its descriptors wrapped in handles), the end of
 * the connection, or the `ERR_TRUNCATED` error it stands for, in order.
 *
 * @module
 */

import { ProtocolError } from "../../src/base/errors.ts";
import { closeUnclaimed, createFdHandle } from "../../src/base/fd_handle.ts";
import type { Packet } from "../../src/transport/types.ts";
import type { ReceiveBatch } from "./receive_batch.ts";
import type { SocketLimits } from "./system.ts";
import { MSG_CTRUNC, MSG_TRUNC } from "./linux.ts";

/** What one datagram stands for: a packet, the end of the connection, or an error. */
type Arrival = Packet | null | ProtocolError;

/** The datagrams taken but not yet handed out, of one socket. */
export class Arrivals {
  #items: Arrival[] = [];
  #next = 0;

  /** True when nothing is left to hand out. */
  get empty(): boolean {
    return this.#next === this.#items.length;
  }

  /**
   * Takes the datagrams of the last receive. Nothing after the end of the
   * connection is kept (their descriptors are closed).
   *
   * @param batch The receive buffers.
   * @param count How many datagrams the receive returned.
   * @param limits The socket's limits.
   * @param closeFd Closes a received descriptor.
   */
  fill(batch: ReceiveBatch, count: number, limits: SocketLimits, closeFd: (fd: number) => void): void {
    const items: Arrival[] = [];
    let ended = false;
    for (let i = 0; i < count; i++) {
      const length = batch.receivedLength(i);
      const flags = batch.receivedFlags(i);
      const fds = batch.receivedFds(i);
      if (ended || length === 0) {
        // The end of the connection (or an empty datagram, which cannot be told apart from it).
        for (const fd of fds) closeFd(fd);
        if (!ended) items.push(null);
        ended = true;
      } else if ((flags & (MSG_TRUNC | MSG_CTRUNC)) !== 0 || fds.length > limits.maxFds) {
        for (const fd of fds) closeFd(fd);
        const what = (flags & MSG_TRUNC) !== 0
          ? `a datagram larger than the ${limits.maxPacketSize}-byte limit`
          : `a datagram with more than ${limits.maxFds} file descriptors`;
        items.push(new ProtocolError("ERR_TRUNCATED", `Received ${what}; it was truncated and discarded`));
      } else {
        const handles = fds.length === 0 ? [] : fds.map((fd) => createFdHandle(fd, closeFd));
        items.push({ data: batch.receivedData(i, length), fds: handles });
      }
    }
    this.#items = items;
    this.#next = 0;
  }

  /**
   * Hands out the next datagram; call only when not {@link Arrivals.empty}.
   *
   * @returns The packet, or `null` for the end of the connection.
   * @throws {ProtocolError} `ERR_TRUNCATED` for a datagram that was cut (its descriptors are closed already).
   */
  next(): Packet | null {
    const item = this.#items[this.#next]!;
    this.#items[this.#next++] = null;
    if (item instanceof ProtocolError) throw item;
    return item;
  }

  /** Closes the descriptors of every datagram not handed out. */
  discard(): void {
    for (let i = this.#next; i < this.#items.length; i++) {
      const item = this.#items[i];
      if (item !== null && item !== undefined && !(item instanceof ProtocolError)) closeUnclaimed(item.fds);
    }
    this.#items = [];
    this.#next = 0;
  }
}
