/**
 * Receive-side flow control: a peer stops reading from its connection while
 * too many received requests are being handled or too many received bytes
 * wait to be consumed, so a fast or hostile sender is held back by the
 * socket instead of growing this process's memory.
 *
 * @module
 */

/** Limits of {@link ReadGate}, set through the connection options. */
export interface FlowOptions {
  /**
   * Requests from the peer handled at once; at the limit the connection is
   * not read until one is answered. Default 1024.
   */
  maxConcurrentRequests?: number;
  /**
   * Bytes of received updates (stream items, client items) waiting to be
   * consumed; above it the connection is not read until consumers catch up
   * to half of it. Default 64 MiB.
   */
  maxBufferedBytes?: number;
}

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

/** Decides when the read loop may read the next message. */
export class ReadGate {
  readonly #maxRequests: number;
  readonly #maxBytes: number;
  readonly #openRequests: () => number;
  #buffered = 0;
  #held = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  /**
   * Creates the gate.
   *
   * @param options The limits.
   * @param openRequests Counts the received requests not yet answered.
   */
  constructor(options: FlowOptions, openRequests: () => number) {
    this.#maxRequests = options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS;
    this.#maxBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#openRequests = openRequests;
  }

  /** Bytes received and not yet consumed. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Counts bytes handed to a queue.
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
    if (this.#held && this.#buffered <= this.#maxBytes / 2) this.#held = false;
    this.changed();
  }

  /** Re-checks the limits, e.g. after a request was answered. */
  changed(): void {
    if (this.#waiters.length > 0 && !this.#blocked()) for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Releases every waiter for good (the connection closed). */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves when the next message may be read. */
  async open(): Promise<void> {
    while (this.#blocked()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #blocked(): boolean {
    return !this.#closed && (this.#held || this.#openRequests() >= this.#maxRequests);
  }
}
