/**
 * The received updates of one request, counted against the connection's
 * {@link ReadGate} until a consumer takes them.
 *
 * @module
 */

import { AsyncQueue } from "./async_queue.ts";
import { closeUnclaimed } from "./fd.ts";
import type { Message } from "./message.ts";
import type { ReadGate } from "./read_gate.ts";

/** A queue of received messages with flow accounting and descriptor cleanup. */
export class MessageQueue {
  readonly #queue = new AsyncQueue<Message>();
  readonly #gate: ReadGate;

  /**
   * Creates the queue.
   *
   * @param gate The connection's read gate.
   */
  constructor(gate: ReadGate) {
    this.#gate = gate;
  }

  /**
   * Queues a message, or closes its descriptors if the queue has ended.
   *
   * @param message The message.
   */
  push(message: Message): void {
    if (this.#queue.push(message)) this.#gate.add(message.body.length);
    else closeUnclaimed(message.fds);
  }

  /**
   * Takes the next message.
   *
   * @returns The message, or `null` once the queue ended.
   */
  async next(): Promise<Message | null> {
    const result = await this.#queue.next();
    if (result.done) return null;
    this.#gate.release(result.value.body.length);
    return result.value;
  }

  /**
   * Drops queued messages (closing their descriptors) and ends the queue.
   *
   * @param error Given to readers instead of the end, if set.
   */
  discard(error?: unknown): void {
    for (const message of this.#queue.drain()) {
      this.#gate.release(message.body.length);
      closeUnclaimed(message.fds);
    }
    this.#queue.end(error);
  }

  /**
   * Ends the queue after the queued messages (readers still get them).
   *
   * @param error Given to readers after the queued messages, if set.
   */
  end(error?: unknown): void {
    this.#queue.end(error);
  }
}
