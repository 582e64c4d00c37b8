/**
 * Receive-side flow control: a peer stops reading from its connection while
 * too many received bytes wait to be consumed, so a fast or hostile sender
 * is held back by the socket instead of growing this process's memory.
 * Requests beyond `maxConcurrentRequests` wait (counted here) until a
 * handler slot frees up; reading goes on meanwhile, so cancels, client
 * items and responses still arrive.
 *
 * @module
 */

import { integerFrom, type OptionRules } from "../base/check_option.ts";

/** Limits of a connection's flow control, set through the connection options. */
export interface FlowOptions {
  /**
   * Requests from the peer handled at once; later ones wait, in arrival
   * order, until a handler finishes. An integer from 1 to 2^32 − 1; default 1024.
   */
  maxConcurrentRequests?: number;
  /**
   * Bytes received and not yet consumed (waiting requests, stream items,
   * client items); above it the connection is not read until consumers
   * catch up to half of it. An integer from 0 (one message at a time) to
   * 2^53 − 1; default 64 MiB.
   */
  maxBufferedBytes?: number;
}

/** Largest {@link FlowOptions.maxConcurrentRequests}: the number of request ids. */
const MAX_CONCURRENT_REQUESTS = 0xffffffff;

/**
 * The accepted values of the flow options, checked where options enter:
 * `maxConcurrentRequests` an integer from 1 to 2^32 − 1 (no more requests
 * can be open at once), `maxBufferedBytes` an integer from 0 (read one
 * message at a time, each consumed before the next is read) to 2^53 − 1.
 */
export const FLOW_OPTION_RULES: OptionRules = {
  maxConcurrentRequests: integerFrom(1, MAX_CONCURRENT_REQUESTS),
  maxBufferedBytes: integerFrom(0, Number.MAX_SAFE_INTEGER),
};

/**
 * Picks the flow options out of a larger options object.
 *
 * @param options Any options object that may hold flow options.
 * @returns Just the flow options that are set.
 */
export function flowOptionsOf(options: FlowOptions): FlowOptions {
  const flow: FlowOptions = {};
  if (options.maxConcurrentRequests !== undefined) flow.maxConcurrentRequests = options.maxConcurrentRequests;
  if (options.maxBufferedBytes !== undefined) flow.maxBufferedBytes = options.maxBufferedBytes;
  return flow;
}

/** Default {@link FlowOptions.maxConcurrentRequests}. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 1024;
/** Default {@link FlowOptions.maxBufferedBytes}: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES: number = 64 * 1024 * 1024;

/** Counts received bytes not yet consumed and decides when the read loop may read. */
export class ReadGate {
  readonly #maxBytes: number;
  #buffered = 0;
  #held = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  /**
   * Creates the gate.
   *
   * @param maxBufferedBytes Bytes above which reading pauses.
   */
  constructor(maxBufferedBytes: number = DEFAULT_MAX_BUFFERED_BYTES) {
    this.#maxBytes = maxBufferedBytes;
  }

  /** Bytes received and not yet consumed. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Counts bytes that were received and wait for a consumer.
   *
   * @param bytes How many.
   */
  add(bytes: number): void {
    this.#buffered += bytes;
    if (this.#buffered > this.#maxBytes) this.#held = true;
  }

  /**
   * Counts bytes a consumer took (or that were dropped).
   *
   * @param bytes How many.
   */
  release(bytes: number): void {
    this.#buffered -= bytes;
    if (this.#held && this.#buffered <= this.#maxBytes / 2) {
      this.#held = false;
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Releases every waiter for good (the connection closed). */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** True while reading must wait for {@link ReadGate.open}. */
  get held(): boolean {
    return this.#held && !this.#closed;
  }

  /** Resolves when the next message may be read. */
  async open(): Promise<void> {
    while (this.#held && !this.#closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
