/**
 * Queues of received things whose bytes count against the connection's
 * {@link ReadGate} until a consumer takes them.
 *
 * @module
 */

import { AsyncQueue } from "../base/async_queue.ts";
import { closeUnclaimed, type FdHandle } from "../base/fd_handle.ts";
import type { ReadGate } from "./read_gate.ts";

interface Counted<T> {
  item: T;
  bytes: number;
}

/** An async queue with flow accounting and descriptor cleanup. */
export class CountedQueue<T extends { fds: FdHandle[] }> {
  readonly #queue = new AsyncQueue<Counted<T>>();
  readonly #gate: ReadGate;
  /** Bytes of queued items still counted against the gate. */
  #counted = 0;
  #counting = true;

  /**
   * Creates the queue.
   *
   * @param gate The connection's read gate.
   */
  constructor(gate: ReadGate) {
    this.#gate = gate;
  }

  /**
   * Queues an item, or closes its descriptors if the queue has ended.
   *
   * @param item The item.
   * @param bytes Its size, counted until it is taken.
   */
  push(item: T, bytes: number): void {
    if (!this.#queue.push({ item, bytes })) {
      closeUnclaimed(item.fds);
      return;
    }
    if (!this.#counting) return;
    this.#counted += bytes;
    this.#gate.add(bytes);
  }

  /**
   * Takes the next item.
   *
   * @returns The item, or `null` once the queue ended.
   */
  async next(): Promise<T | null> {
    const result = await this.#queue.next();
    if (result.done) return null;
    this.#uncount(result.value.bytes);
    return result.value.item;
  }

  /**
   * Drops queued items (closing their descriptors) and ends the queue.
   *
   * @param error Given to readers instead of the end, if set.
   */
  discard(error?: unknown): void {
    for (const { item, bytes } of this.#queue.drain()) {
      this.#uncount(bytes);
      closeUnclaimed(item.fds);
    }
    this.#queue.end(error);
  }

  /**
   * Ends the queue after the queued items, which stay counted until taken.
   *
   * @param error Given to readers after the queued items, if set.
   */
  end(error?: unknown): void {
    this.#queue.end(error);
  }

  /**
   * Ends the queue after the queued items (readers still get them) and stops
   * counting them: they belong to a finished request whose holder may read
   * them at leisure, and must not hold up the connection meanwhile.
   *
   * @param error Given to readers after the queued items, if set.
   */
  endAndRelease(error?: unknown): void {
    this.#queue.end(error);
    if (!this.#counting) return;
    this.#counting = false;
    this.#gate.release(this.#counted);
    this.#counted = 0;
  }

  #uncount(bytes: number): void {
    if (!this.#counting) return;
    this.#counted -= bytes;
    this.#gate.release(bytes);
  }
}
