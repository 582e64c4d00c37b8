/**
 * Splits a byte stream into length-prefixed frames (fizyr-rpc's stream
 * framing: a u32 little-endian length, then that many bytes of header + body).
 *
 * @module
 */

import { ProtocolError } from "../base/errors.ts";
import { HEADER_SIZE } from "./message.ts";

/** Size of the length prefix on byte streams. */
export const LENGTH_PREFIX_SIZE = 4;

/** Default largest message (header + body): 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE: number = 16 * 1024 * 1024;

/**
 * Incremental frame decoder. Feed it chunks of any size with
 * {@link FrameDecoder.push} and take whole frames with
 * {@link FrameDecoder.next}. A frame's declared length is checked before
 * anything is allocated, and every body byte is copied exactly once, into
 * the frame buffer that is handed out.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./frame_decoder.ts";
 * const decoder = new FrameDecoder();
 * decoder.push(new Uint8Array([12, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0]));
 * console.assert(decoder.next()?.length === 12);
 * ```
 */
export class FrameDecoder {
  readonly #maxMessageSize: number;
  readonly #chunks: Uint8Array[] = [];
  #chunkOffset = 0;
  readonly #prefix = new Uint8Array(LENGTH_PREFIX_SIZE);
  #prefixFilled = 0;
  #frame: Uint8Array | null = null;
  #frameFilled = 0;

  /**
   * Creates the instance.
   *
   * @param maxMessageSize Largest accepted frame length (header + body), default 16 MiB.
   */
  constructor(maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE) {
    this.#maxMessageSize = maxMessageSize;
  }

  /** True while part of a frame has been received but not all of it. */
  get hasPartialFrame(): boolean {
    return this.#prefixFilled > 0 || this.#frame !== null || this.#chunks.length > 0;
  }

  /**
   * Adds received bytes. The decoder keeps a reference to `chunk` until its
   * bytes are consumed, so the caller must not reuse it.
   *
   * @param chunk Bytes from the stream.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#chunks.push(chunk);
  }

  /**
   * Returns the next complete frame (header + body, without the length prefix).
   *
   * @returns The frame, or `null` if more bytes are needed.
   * @throws {ProtocolError} `ERR_FRAME_TOO_SMALL` or `ERR_FRAME_TOO_LARGE` for a bad length; the decoder is then unusable.
   */
  next(): Uint8Array | null {
    if (this.#frame === null) {
      this.#prefixFilled = this.#fill(this.#prefix, this.#prefixFilled);
      if (this.#prefixFilled < LENGTH_PREFIX_SIZE) return null;
      const p = this.#prefix;
      const length = (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0;
      if (length < HEADER_SIZE) {
        throw new ProtocolError(
          "ERR_FRAME_TOO_SMALL",
          `Frame length ${length} is below the ${HEADER_SIZE}-byte message header`,
        );
      }
      if (length > this.#maxMessageSize) {
        throw new ProtocolError(
          "ERR_FRAME_TOO_LARGE",
          `Frame of ${length} bytes exceeds the ${this.#maxMessageSize}-byte limit`,
        );
      }
      this.#frame = new Uint8Array(length);
      this.#frameFilled = 0;
    }
    this.#frameFilled = this.#fill(this.#frame, this.#frameFilled);
    if (this.#frameFilled < this.#frame.length) return null;
    const frame = this.#frame;
    this.#frame = null;
    this.#prefixFilled = 0;
    return frame;
  }

  /** Copies queued bytes into `target` from `filled` on; returns the new fill level. */
  #fill(target: Uint8Array, filled: number): number {
    while (filled < target.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(target.length - filled, chunk.length - this.#chunkOffset);
      target.set(chunk.subarray(this.#chunkOffset, this.#chunkOffset + take), filled);
      filled += take;
      this.#chunkOffset += take;
      if (this.#chunkOffset === chunk.length) {
        this.#chunks.shift();
        this.#chunkOffset = 0;
      }
    }
    return filled;
  }
}
