/**
 * The time limit of a handshake: one timer for the whole exchange, raced
 * against every send and receive of it, and always cleared when the
 * handshake ends, so it never keeps a process alive.
 *
 * @module
 */

import type { SessionError } from "../base/errors.ts";
import { closeUnclaimed } from "../base/fd_handle.ts";
import type { MessageTransport } from "../transport/types.ts";
import type { Message } from "../wire/message.ts";

/** One handshake's deadline. */
export class HandshakeDeadline {
  readonly #expired: Promise<never>;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts the timer.
   *
   * @param ms Milliseconds the handshake may take.
   * @param timeoutError The error every pending step rejects with once they passed.
   */
  constructor(ms: number, timeoutError: () => SessionError) {
    this.#expired = new Promise<never>((_, reject) => {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        reject(timeoutError());
      }, ms);
    });
    // Steps that finished before the deadline leave nobody listening; that is not an unhandled rejection.
    this.#expired.catch(() => {});
  }

  /**
   * Waits for `step`, or rejects with the timeout error once the deadline passed.
   *
   * @param step A send or receive of the handshake.
   * @returns What `step` resolved to.
   */
  within<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.#expired]);
  }

  /**
   * Receives the next message within the deadline, descriptors and all. A
   * message that arrives only after the deadline passed has its descriptors
   * closed, since nobody will take it.
   *
   * @param transport The connection.
   * @returns The message, or `null` at the end of the connection.
   */
  async receiveWithFds(transport: MessageTransport): Promise<Message | null> {
    const receiving = transport.receive();
    try {
      return await this.within(receiving);
    } catch (error) {
      receiving.then((late) => late && closeUnclaimed(late.fds), () => {});
      throw error;
    }
  }

  /**
   * Receives the next message within the deadline. Descriptors have no place
   * in a handshake: any that arrive are closed.
   *
   * @param transport The connection.
   * @returns The message, or `null` at the end of the connection.
   */
  async receive(transport: MessageTransport): Promise<Message | null> {
    const message = await this.receiveWithFds(transport);
    if (message !== null && message.fds.length > 0) {
      closeUnclaimed(message.fds);
      return { header: message.header, body: message.body, fds: [] };
    }
    return message;
  }

  /** Stops the timer; the handshake is over. */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
