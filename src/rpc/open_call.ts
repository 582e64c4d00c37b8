/**
 * The cancellation and timeout wiring of one call ({@link OpenCall}): the
 * caller's signal and timer, the races of every wait against them, and
 * telling the peer when a call it still has open is cancelled.
 *
 * @module
 */

import { CancelledError, TimeoutError } from "../base/errors.ts";
import type { SentRequest } from "../peer/peer.ts";
import { UPDATE_CANCEL } from "./protocol.ts";

/**
 * Tells the peer a request is cancelled (if it is still open) and stops
 * waiting for it, dropping queued updates and closing their descriptors.
 *
 * @param request The request.
 * @param dropFinished Also drop what a finished request still holds (false
 *   while its holder may still read its items, as with `open()`).
 */
function cancelRequest(request: SentRequest, dropFinished = true): void {
  if (!request.finished) request.sendUpdate(UPDATE_CANCEL, new Uint8Array(0)).catch(() => {});
  else if (!dropFinished) return;
  request.abandon();
}

/** How an {@link OpenCall} can end early. */
export interface OpenCallOptions {
  /** The signals that cancel the call: the caller's, and the one of the context it inherits. */
  signals: readonly AbortSignal[];
  /** The timeout in milliseconds, already checked; `undefined` for none. */
  timeout: number | undefined;
  /** True when the call can also be cancelled by hand (open calls). */
  cancellable: boolean;
}

/**
 * The cancellation and timeout wiring of one call. It exists before the
 * request is sent, so a signal or timeout also ends a call whose request is
 * still waiting to be written.
 */
export class OpenCall {
  /** The method called, for error messages. */
  readonly method: string;
  #request: SentRequest | undefined;
  #error: unknown = undefined;
  readonly #waiters = new Set<(error: unknown) => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #signals: readonly AbortSignal[];
  readonly #onAbort: (event: Event) => void;
  #done = false;
  /** False when nothing can cancel the call, so waits need no race. */
  readonly #cancellable: boolean;

  /**
   * Starts watching the call's signal and timeout.
   *
   * @param method The method called.
   * @param options The `signals` that cancel it, a checked `timeout` in milliseconds (none when undefined), and whether
   *   the call can be cancelled by hand (`open()` calls can), which makes every wait a race.
   */
  constructor(method: string, options: OpenCallOptions) {
    const { signals, timeout, cancellable } = options;
    this.method = method;
    this.#cancellable = cancellable || signals.length > 0 || timeout !== undefined;
    this.#signals = signals;
    this.#onAbort = (event) =>
      this.cancel(new CancelledError("The call was cancelled", { cause: (event.target as AbortSignal).reason }));
    for (const signal of signals) signal.addEventListener("abort", this.#onAbort, { once: true });
    if (timeout !== undefined) this.#timer = setTimeout(() => this.cancel(new TimeoutError(timeout)), timeout);
  }

  /** The request, once sent. */
  get request(): SentRequest {
    return this.#request!;
  }

  /** Waits for the request to be written, unless the call is cancelled first. */
  async send(sending: Promise<SentRequest>): Promise<void> {
    try {
      this.#request = await this.race(sending);
    } catch (error) {
      // Cancelled mid-write: once the request is out, tell the peer it is cancelled.
      sending.then(cancelRequest, () => {});
      this.dispose();
      throw error;
    }
    // Cancelled between the write and this line: the request is out, so cancel it there.
    if (this.#error !== undefined) cancelRequest(this.#request);
  }

  /** Waits for `promise` unless the call is cancelled first. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (!this.#cancellable) return promise;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise<T>((resolve, reject) => {
      this.#waiters.add(reject);
      promise.then(
        (value) => {
          this.#waiters.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.#waiters.delete(reject);
          reject(error);
        },
      );
    });
  }

  /** Tells the peer, stops waiting, and rejects every `race`. */
  cancel(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    for (const reject of this.#waiters) reject(error);
    this.#waiters.clear();
    this.dispose();
  }

  /**
   * Releases the timer and signal listener; cancels the request if it is still open.
   *
   * @param dropFinished Also drop updates a finished request still holds.
   */
  dispose(dropFinished = true): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    for (const signal of this.#signals) signal.removeEventListener("abort", this.#onAbort);
    if (this.#request) cancelRequest(this.#request, dropFinished);
  }
}
