/**
 * The items of a streaming call as an async iterator, written out by hand:
 * an item that already arrived is handed out with one promise and no turn
 * of the promise queue, where stacked async generators cost several of each
 * per item.
 *
 * @module
 */

import { closeUnclaimed } from "../base/fd_handle.ts";
import type { Message } from "../wire/message.ts";
import type { OpenCall } from "./open_call.ts";
import { UPDATE_ITEM } from "./protocol.ts";
import type { Received } from "./with_fds.ts";

/** What {@link CallItems} needs from the connection. */
export interface ItemSource {
  /** Sends the request (on the first `next()`). */
  start(): Promise<OpenCall>;
  /**
   * Decodes an item; throws for a body that cannot be decoded (having abandoned the request).
   *
   * @param message The item's update.
   * @param call Its call.
   */
  decode(message: Message, call: OpenCall): unknown;
  /**
   * Checks the response once the items ended: throws the remote error of an error response.
   *
   * @param response The response.
   * @param call Its call.
   */
  finish(response: Message, call: OpenCall): void;
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The items of one streaming call, with their descriptors (`withFds`) or as
 * values alone (their descriptors closed). The call starts on the first
 * `next()`; `return()` (leaving a `for await` loop early) cancels it.
 *
 * @typeParam T What is handed out: an item, or an item with its descriptors.
 */
export class CallItems<T> implements AsyncIterableIterator<T> {
  readonly #source: ItemSource;
  readonly #withFds: boolean;
  #call: OpenCall | undefined;
  #done = false;
  /** The `next()` under way that had to wait; later calls queue behind it. */
  #waiting: Promise<IteratorResult<T, undefined>> | undefined;

  /**
   * Creates the iterator; nothing is sent yet.
   *
   * @param source Starts the call, decodes items, checks the response.
   * @param withFds Hand out `{ value, fds }` (true) or values (false, their descriptors closed).
   */
  constructor(source: ItemSource, withFds: boolean) {
    this.#source = source;
    this.#withFds = withFds;
  }

  /**
   * The next item.
   *
   * @returns The item, or the end once the response arrived.
   */
  next(): Promise<IteratorResult<T, undefined>> {
    // A `next()` while another waits goes after it (a `for await` loop never does this).
    if (this.#waiting !== undefined) return this.#waiting.then(() => this.next(), () => this.next());
    if (this.#done) return Promise.resolve(DONE);
    const call = this.#call;
    if (call !== undefined) {
      for (let update = call.request.takeUpdate(); update !== undefined; update = call.request.takeUpdate()) {
        if (update.header.serviceId !== UPDATE_ITEM) {
          closeUnclaimed(update.fds);
          continue;
        }
        try {
          return Promise.resolve({ done: false, value: this.#item(update, call) });
        } catch (error) {
          this.#end();
          return Promise.reject(error);
        }
      }
    }
    const waiting = this.#nextAfterWait();
    this.#waiting = waiting;
    const clear = (): void => {
      if (this.#waiting === waiting) this.#waiting = undefined;
    };
    waiting.then(clear, clear);
    return waiting;
  }

  /**
   * Stops: the call is cancelled if it is still open.
   *
   * @returns The end.
   */
  return(): Promise<IteratorResult<T, undefined>> {
    // As with a generator, a return() while a next() is under way takes effect once that one settled.
    const end = (): IteratorResult<T, undefined> => {
      this.#end();
      return DONE;
    };
    return this.#waiting === undefined ? Promise.resolve(end()) : this.#waiting.then(end, end);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #nextAfterWait(): Promise<IteratorResult<T, undefined>> {
    try {
      const call = this.#call ??= await this.#source.start();
      for (;;) {
        if (this.#done) {
          call.dispose();
          return DONE;
        }
        const update = await call.race(call.request.nextUpdate());
        // Ended meanwhile (the request abandoned): its response will never come.
        if (this.#done) return DONE;
        if (update === null) {
          this.#source.finish(await call.race(call.request.response), call);
          this.#end();
          return DONE;
        }
        if (update.header.serviceId !== UPDATE_ITEM) {
          closeUnclaimed(update.fds);
          continue;
        }
        return { done: false, value: this.#item(update, call) };
      }
    } catch (error) {
      this.#end();
      throw error;
    }
  }

  #item(update: Message, call: OpenCall): T {
    const value = this.#source.decode(update, call);
    if (this.#withFds) return { value, fds: update.fds } satisfies Received<unknown> as T;
    closeUnclaimed(update.fds);
    return value as T;
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#call?.dispose();
  }
}
