/**
 * Turns a push-style socket (events per received chunk) into the pull-style
 * `read()` of a {@link ByteStream}, pausing the socket while too much is
 * buffered.
 *
 * @module
 */

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
  /** Chunks not read yet, from `#head` on. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** The readers waiting for a chunk, in order (almost always one or none). */
  readonly #readers: { resolve(chunk: Uint8Array | null): void; reject(error: unknown): void }[] = [];
  readonly #flow: FlowControl;
  readonly #highWaterMark: number;
  #buffered = 0;
  #paused = false;
  #ended = false;
  #error: unknown = undefined;

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
    if (this.#ended) return;
    const reader = this.#readers.shift();
    if (reader !== undefined) {
      reader.resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
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
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    for (const reader of this.#readers.splice(0)) {
      if (error === undefined) reader.resolve(null);
      else reader.reject(error);
    }
  }

  /**
   * Takes the next chunk.
   *
   * @returns The chunk, or `null` at the end.
   */
  read(): Promise<Uint8Array | null> {
    if (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head]!;
      this.#chunks[this.#head++] = EMPTY;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
      }
      this.#buffered -= chunk.length;
      if (this.#paused && this.#buffered <= this.#highWaterMark / 2) {
        this.#paused = false;
        try {
          this.#flow.resume();
        } catch (error) {
          // A read rejects; it never throws.
          return Promise.reject(error);
        }
      }
      return Promise.resolve(chunk);
    }
    if (this.#ended) return this.#error === undefined ? END : Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
  }
}

/** What a taken slot of the queue holds, so that the chunk is not kept alive. */
const EMPTY = new Uint8Array(0);
/** What every read at the end returns. */
const END: Promise<null> = Promise.resolve(null);
