/**
 * The transport a server hands on for a plain fizyr-rpc connection found in
 * "auto" mode: the message that showed it was not a peerlink hello has been
 * read already, so this transport returns it first, then reads on.
 *
 * @module
 */

import { closeUnclaimed } from "../base/fd_handle.ts";
import type { ConnectionInfo, MessageTransport } from "../transport/types.ts";
import type { Message, OutgoingMessage } from "../wire/message.ts";

/** A transport whose first `receive` returns a message read before. */
export class ReplayTransport implements MessageTransport {
  readonly #inner: MessageTransport;
  #first: Message | undefined;

  /**
   * Creates the instance.
   *
   * @param inner The connection; this transport owns it from now on.
   * @param first The message already read from it, with its descriptors.
   */
  constructor(inner: MessageTransport, first: Message) {
    this.#inner = inner;
    this.#first = first;
  }

  /** Information about the connection. */
  get info(): ConnectionInfo {
    return this.#inner.info;
  }

  /** Largest message (header + body) that may be sent or received. */
  get maxMessageSize(): number {
    return this.#inner.maxMessageSize;
  }

  /** The most descriptors one message may carry. */
  get maxFds(): number {
    return this.#inner.maxFds;
  }

  /**
   * Sends one message.
   *
   * @param message The message.
   */
  send(message: OutgoingMessage): Promise<void> {
    return this.#inner.send(message);
  }

  /**
   * The message read before, then the connection's next ones.
   *
   * @returns The message, or `null` at the end of the connection.
   */
  receive(): Promise<Message | null> {
    const first = this.#first;
    if (first === undefined) return this.#inner.receive();
    this.#first = undefined;
    return Promise.resolve(first);
  }

  /**
   * Takes the next message if it is already here (never the replayed one: `receive` hands that out).
   *
   * @returns The message, or `undefined` when `receive` has to be called.
   */
  poll(): Message | undefined {
    return this.#first === undefined ? this.#inner.poll?.() : undefined;
  }

  /**
   * Changes the largest message `receive` accepts.
   *
   * @param bytes The limit, header included.
   */
  setReceiveLimit(bytes: number): void {
    this.#inner.setReceiveLimit(bytes);
  }

  /** Closes the connection, and the descriptors of a message nobody took. */
  close(): Promise<void> {
    if (this.#first !== undefined) closeUnclaimed(this.#first.fds);
    this.#first = undefined;
    return this.#inner.close();
  }
}
