/**
 * The raw floor's framing: a u32 little-endian length, then that many
 * bytes, whose first byte says what the frame is. The 12 bytes after the
 * length stand where peerlink's header stands, so a small echo frame is 64
 * bytes, as peerlink's is 66. No RPC layer: no ids, no encoding, replies
 * come in order.
 *
 * @module
 */

import { SMALL_PAYLOAD_SIZE } from "./payload.ts";
import { readU32, writeU32 } from "./u32.ts";

/** Bytes before a frame's body: the length (4) and the header-sized prefix whose first byte is the op (12). */
export const RAW_PREFIX = 16;

/** Frame kinds (the byte after the length). */
export const RawOp = {
  /** Echo me as I am. */
  echo: 1,
  /** Send me the number of item frames my body's u32 says, then an end frame. */
  stream: 2,
  /** One stream item; its body starts with the item's value as a u32. */
  item: 3,
  /** The end of a stream. */
  end: 4,
} as const;

/** A frame of `op` with `bodySize` body bytes (all zero), ready to be filled from `RAW_PREFIX` on. */
export function rawFrame(op: number, bodySize: number): Uint8Array {
  const frame = new Uint8Array(RAW_PREFIX + bodySize);
  writeU32(frame, 0, frame.length - 4);
  frame[4] = op;
  return frame;
}

/** An item frame: 64 bytes like an echo frame, carrying `value`. */
export function rawItem(value: number): Uint8Array {
  const frame = rawFrame(RawOp.item, SMALL_PAYLOAD_SIZE);
  writeU32(frame, RAW_PREFIX, value);
  return frame;
}

/**
 * Cuts a byte stream into frames. A frame inside one chunk is handed out as
 * a view of it; one that spans chunks is gathered into its own buffer,
 * allocated once its length is known, so a 1 MiB frame is copied once.
 */
export class RawFrameReader {
  #frame: Uint8Array | null = null;
  #filled = 0;
  readonly #length = new Uint8Array(4);
  #lengthFilled = 0;

  /** Feeds a chunk; calls `onFrame` with each frame it completes, in order. */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#frame !== null) {
        const take = Math.min(this.#frame.length - this.#filled, chunk.length - at);
        this.#frame.set(chunk.subarray(at, at + take), this.#filled);
        this.#filled += take;
        at += take;
        if (this.#filled === this.#frame.length) {
          const frame = this.#frame;
          this.#frame = null;
          onFrame(frame);
        }
      } else if (this.#lengthFilled === 0 && chunk.length - at >= 4) {
        const total = 4 + readU32(chunk, at);
        if (chunk.length - at >= total) {
          onFrame(chunk.subarray(at, at + total));
          at += total;
        } else {
          this.#start(total);
          at += 4;
        }
      } else {
        this.#length[this.#lengthFilled++] = chunk[at++]!;
        if (this.#lengthFilled === 4) {
          this.#lengthFilled = 0;
          this.#start(4 + readU32(this.#length, 0));
        }
      }
    }
  }

  #start(total: number): void {
    this.#frame = new Uint8Array(total);
    writeU32(this.#frame, 0, total - 4);
    this.#filled = 4;
  }
}
