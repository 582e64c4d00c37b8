/**
 * A first-in first-out queue of byte chunks waiting for a socket, with
 * constant-time removal from the front (a server stream queues 200,000
 * frames at once; `Array.shift` would make that quadratic).
 *
 * @module
 */

/** Chunks waiting to be written, oldest first. */
export class ByteQueue {
  #items: Uint8Array[] = [];
  #head = 0;

  /** How many chunks wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The oldest chunk, or undefined when none waits. */
  peek(): Uint8Array | undefined {
    return this.#items[this.#head];
  }

  /** Adds a chunk at the back. */
  push(bytes: Uint8Array): void {
    this.#items.push(bytes);
  }

  /** Replaces the oldest chunk (with what is left of it after a partial write). */
  replaceHead(bytes: Uint8Array): void {
    this.#items[this.#head] = bytes;
  }

  /** Removes the oldest chunk. */
  shift(): void {
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
