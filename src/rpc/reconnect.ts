/**
 * Reconnecting a client: the back-off between attempts to dial again, and
 * the wait of calls made while the connection is lost.
 *
 * @module
 */

import { callSafely } from "../base/call_safely.ts";
import type { MessageTransport } from "../transport/types.ts";

/** How a client reconnects (the `reconnect` option of `connect`). */
export interface ReconnectOptions {
  /** Milliseconds before the first attempt: an integer from 0 to 2^31 − 1. Default 100. */
  initialDelay?: number;
  /** The longest wait between attempts (each failure doubles it up to this): 1 to 2^31 − 1. Default 5000. */
  maxDelay?: number;
  /** Attempts before giving up (the connection then closes for good): a positive integer or `Infinity` (the default). */
  attempts?: number;
  /**
   * What a call made while the connection is lost does: `"wait"` (the
   * default) for the new connection, up to its own timeout, deadline or
   * signal; `"fail"` at once with `ERR_CONNECTION_CLOSED`. Calls in flight
   * when the connection is lost always reject, and are never sent again.
   */
  whileDisconnected?: "wait" | "fail";
  /** Told each time the connection is lost, with why. */
  onDisconnect?: (error: unknown) => void;
  /** Told each time a new connection is up (after its handshake). */
  onReconnect?: (connection: unknown) => void;
}

/** {@link ReconnectOptions} with the means to dial again, as the RPC connection takes them. */
export interface Reconnection extends ReconnectOptions {
  /** Opens a new transport, handshake done; `signal` aborts an attempt under way (the connection was closed). */
  redial: (signal: AbortSignal) => Promise<MessageTransport>;
}

/** What the redialer does with the outcome. */
export interface RedialTarget {
  /** Takes the new transport. */
  attach(transport: MessageTransport): void;
  /** Called when no attempt is left, with the last failure. */
  giveUp(lastError: unknown): void;
}

/** Dials again with exponential back-off, one loop at a time. */
export class Redialer {
  readonly #options: Reconnection;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #running = false;
  readonly #abort = new AbortController();
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  /**
   * Creates the instance.
   *
   * @param options The back-off and `redial`.
   */
  constructor(options: Reconnection) {
    this.#options = options;
  }

  /** True while attempts are under way (or waiting for their back-off). */
  get running(): boolean {
    return this.#running;
  }

  /** True when calls made while disconnected fail at once. */
  get failFast(): boolean {
    return this.#options.whileDisconnected === "fail";
  }

  /** Resolves when the next new connection is attached; rejects if reconnecting stops first. */
  nextAttach(): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error("Reconnecting stopped"));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Starts dialing again after a loss.
   *
   * @param error Why the connection was lost.
   * @param target Where the new transport goes.
   */
  start(error: unknown, target: RedialTarget): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    void this.#loop(error, target).finally(() => (this.#running = false));
  }

  /**
   * Tells `onDisconnect` of a loss.
   *
   * @param error Why the connection was lost.
   */
  lost(error: unknown): void {
    callSafely(this.#options.onDisconnect, error);
  }

  /** Stops for good: a pending wait ends, a transport that arrives late is closed, waiting calls reject. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
    this.#wake?.();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error("Reconnecting stopped"));
  }

  async #loop(firstError: unknown, target: RedialTarget): Promise<void> {
    const { initialDelay = 100, maxDelay = 5000, attempts = Infinity } = this.#options;
    let delay = initialDelay;
    let lastError = firstError;
    for (let attempt = 0; attempt < attempts; attempt++) {
      await this.#sleep(delay);
      if (this.#stopped) return;
      delay = Math.min(Math.max(delay * 2, 1), maxDelay);
      let transport: MessageTransport;
      try {
        transport = await this.#options.redial(this.#abort.signal);
      } catch (error) {
        lastError = error;
        continue;
      }
      if (this.#stopped) {
        await transport.close().catch(() => {});
        return;
      }
      target.attach(transport);
      for (const waiter of this.#waiters.splice(0)) waiter.resolve();
      return;
    }
    target.giveUp(lastError);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }
}
