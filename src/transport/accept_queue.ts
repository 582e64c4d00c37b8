/**
 * Connections accepted by a push-style server (an event per connection),
 * handed out by a pull-style `accept()`.
 *
 * @module
 */

/** Queue of accepted connections; after {@link AcceptQueue.end}, late arrivals are disposed of. */
export class AcceptQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T | null) => void)[] = [];
  #dispose: ((item: T) => void) | undefined;

  /**
   * Adds a new connection, or disposes of it if the queue has ended.
   *
   * @param item The connection.
   */
  push(item: T): void {
    if (this.#dispose) return this.#dispose(item);
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the queue has ended.
   */
  next(): Promise<T | null> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#dispose) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Ends the queue: queued and later connections are disposed of, waiters get `null`.
   *
   * @param dispose Closes a connection nobody will accept.
   */
  end(dispose: (item: T) => void): void {
    if (this.#dispose) return;
    this.#dispose = dispose;
    for (const item of this.#items.splice(0)) dispose(item);
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }
}
