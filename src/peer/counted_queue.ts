/**
 * Queues of received things whose bytes count against the connection's
 * {@link ReadGate} until a consumer takes them: {@link CountedQueue} for a
 * request's updates, {@link CountedLine} for requests waiting for a handler
 * slot.
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
   * Takes the next item if one is queued, without waiting (it is no longer counted).
   *
   * @returns The item, or `undefined` when none is queued.
   */
  take(): T | undefined {
    const counted = this.#queue.take();
    if (counted === undefined) return undefined;
    this.#uncount(counted.bytes);
    return counted.item;
  }

  /** True while a reader waits: the next item pushed is handed over at once, not kept. */
  get hasReader(): boolean {
    return this.#queue.hasReader;
  }

  /**
   * Takes every queued item at once (no longer counted) and ends the queue.
   *
   * @returns The items, oldest first.
   */
  takeAll(): T[] {
    const items = this.#queue.drain().map(({ item, bytes }) => {
      this.#uncount(bytes);
      return item;
    });
    this.#queue.end();
    return items;
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

/**
 * A first-in first-out line whose items count against the gate while they
 * wait, and from which any item can leave early by its ticket. Every
 * operation is O(1) (amortised): an item that leaves early only empties its
 * place, which the front skips, so cancelling tens of thousands of waiting
 * requests never scans the line.
 */
export class CountedLine<T> {
  readonly #gate: ReadGate;
  /** The waiting items, by place; a place an item left early is `undefined`. */
  #items: (T | undefined)[] = [];
  #bytes: number[] = [];
  /** The place of `#items[0]`: tickets are places, counted since the line was made. */
  #base = 0;
  #head = 0;
  #size = 0;

  /**
   * Creates the line.
   *
   * @param gate The connection's read gate.
   */
  constructor(gate: ReadGate) {
    this.#gate = gate;
  }

  /** How many items wait. */
  get size(): number {
    return this.#size;
  }

  /**
   * Puts an item at the end of the line.
   *
   * @param item The item.
   * @param bytes Its size, counted against the gate until it leaves.
   * @returns Its ticket, for {@link CountedLine.remove}.
   */
  push(item: T, bytes: number): number {
    this.#items.push(item);
    this.#bytes.push(bytes);
    this.#size++;
    this.#gate.add(bytes);
    return this.#base + this.#items.length - 1;
  }

  /**
   * Takes the item at the front.
   *
   * @returns The item, or `undefined` if none waits.
   */
  shift(): T | undefined {
    while (this.#head < this.#items.length) {
      const index = this.#head++;
      const item = this.#items[index];
      if (item === undefined) continue;
      this.#items[index] = undefined;
      this.#leave(this.#bytes[index]!);
      return item;
    }
    this.#compact();
    return undefined;
  }

  /**
   * Takes an item out of the line wherever it is.
   *
   * @param ticket What {@link CountedLine.push} returned for it.
   * @returns The item, or `undefined` if it had left already.
   */
  remove(ticket: number): T | undefined {
    const index = ticket - this.#base;
    if (index < this.#head || index >= this.#items.length) return undefined;
    const item = this.#items[index];
    if (item === undefined) return undefined;
    this.#items[index] = undefined;
    this.#leave(this.#bytes[index]!);
    return item;
  }

  /**
   * Empties the line without counting anything back (the connection is gone).
   *
   * @returns The items that waited, in order.
   */
  drain(): T[] {
    const items: T[] = [];
    for (let index = this.#head; index < this.#items.length; index++) {
      const item = this.#items[index];
      if (item !== undefined) items.push(item);
    }
    this.#base += this.#items.length;
    this.#items = [];
    this.#bytes = [];
    this.#head = 0;
    this.#size = 0;
    return items;
  }

  #leave(bytes: number): void {
    this.#size--;
    this.#gate.release(bytes);
    this.#compact();
  }

  /** Drops the places in front of the head once they are most of the line, keeping every operation amortised O(1). */
  #compact(): void {
    if (this.#size === 0) {
      this.#base += this.#items.length;
      this.#items = [];
      this.#bytes = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#bytes.splice(0, this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }
}
