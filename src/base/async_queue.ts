/**
 * A small unbounded async queue used to hand received messages to readers.
 *
 * @module
 */

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

/**
 * Items pushed by one side, read in order with {@link AsyncQueue.next}.
 * {@link AsyncQueue.end} finishes the queue after the queued items, optionally
 * with an error that readers receive once the queue is empty.
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #ended = false;
  #error: unknown = undefined;

  /**
   * Adds an item, or hands it to a waiting reader.
   *
   * @param item The item.
   * @returns False if the queue had already ended (the item was not added).
   */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else this.#items.push(item);
    return true;
  }

  /**
   * Ends the queue. Readers get the queued items, then `done` (or `error`).
   *
   * @param error If given, readers get this error after the queued items.
   */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    for (const waiter of this.#waiters.splice(0)) {
      if (error === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(error);
    }
  }

  /** True while a reader waits: the next push is handed over at once, not queued. */
  get hasReader(): boolean {
    return this.#waiters.length > 0;
  }

  /**
   * Removes and returns every queued item (for cleanup).
   *
   * @returns The items that were queued.
   */
  drain(): T[] {
    return this.#items.splice(0);
  }

  /**
   * Takes the next item if one is queued, without waiting.
   *
   * @returns The item, or `undefined` when none is queued (`next` then waits, or reports the end).
   */
  take(): T | undefined {
    return this.#items.length > 0 ? this.#items.shift() : undefined;
  }

  /**
   * Reads the next item.
   *
   * @returns The next iterator result.
   */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#ended) {
      return this.#error === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.#error);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}
