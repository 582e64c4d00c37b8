/**
 * Turns a push-style socket (events per received chunk) into the pull-style
 * `read()` of a {@link ByteStream}, pausing the socket while too much is
 * buffered.
 *
 * @module
 */

import { AsyncQueue } from "../base/async_queue.ts";

/** Flow control hooks of a push-style socket. */
export interface FlowControl {
  /** Stops reading from the socket. */
  pause(): void;
  /** Starts reading again. */
  resume(): void;
}

/** Default number of buffered bytes above which the socket is paused: 1 MiB. */
export const DEFAULT_READ_HIGH_WATER_MARK: number = 1024 * 1024;

/** Received chunks waiting to be read, with read-side backpressure. */
export class ChunkQueue {
  readonly #queue = new AsyncQueue<Uint8Array>();
  readonly #flow: FlowControl;
  readonly #highWaterMark: number;
  #buffered = 0;
  #paused = false;

  /**
   * Creates the instance.
   *
   * @param flow Pauses and resumes the socket.
   * @param highWaterMark Bytes buffered before the socket is paused.
   */
  constructor(flow: FlowControl, highWaterMark: number = DEFAULT_READ_HIGH_WATER_MARK) {
    this.#flow = flow;
    this.#highWaterMark = highWaterMark;
  }

  /**
   * Adds a received chunk (owned by the queue from now on).
   *
   * @param chunk The bytes.
   */
  push(chunk: Uint8Array): void {
    if (!this.#queue.push(chunk)) return;
    this.#buffered += chunk.length;
    if (!this.#paused && this.#buffered > this.#highWaterMark) {
      this.#paused = true;
      this.#flow.pause();
    }
  }

  /**
   * Marks the end of the stream; readers get `null` after the buffered chunks.
   *
   * @param error Ends with an error instead.
   */
  end(error?: unknown): void {
    this.#queue.end(error);
  }

  /**
   * Takes the next chunk.
   *
   * @returns The chunk, or `null` at the end.
   */
  async read(): Promise<Uint8Array | null> {
    const result = await this.#queue.next();
    if (result.done) return null;
    this.#buffered -= result.value.length;
    if (this.#paused && this.#buffered <= this.#highWaterMark / 2) {
      this.#paused = false;
      this.#flow.resume();
    }
    return result.value;
  }
}
