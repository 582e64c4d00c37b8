/**
 * Splits a byte stream into length-prefixed frames (fizyr-rpc's stream
 * framing: a u32 little-endian length, then that many bytes of header + body).
 *
 * @module
 */

import { ProtocolError } from "../base/errors.ts";
import { HEADER_SIZE } from "./message.ts";
import { ByteSlab } from "../base/byte_slab.ts";

/** Size of the length prefix on byte streams. */
export const LENGTH_PREFIX_SIZE = 4;

/** Default largest message (header + body): 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE: number = 16 * 1024 * 1024;

/**
 * The refusal of a message longer than the receive limit, saying when the
 * limit is the smaller one of an unauthenticated connection.
 *
 * @param what What was too large ("Frame", "Datagram").
 * @param size Its size in bytes (header + body).
 * @param limit The receive limit in force.
 * @param maxMessageSize The connection's largest message.
 * @returns The `ERR_FRAME_TOO_LARGE` error.
 */
export function frameTooLarge(what: string, size: number, limit: number, maxMessageSize: number): ProtocolError {
  const when = limit < maxMessageSize ? " before the session is established" : "";
  return new ProtocolError("ERR_FRAME_TOO_LARGE", `${what} of ${size} bytes exceeds the ${limit}-byte limit${when}`);
}

/** Chunks shorter than this that arrive behind others are gathered into a shared buffer. */
const SMALL_CHUNK = 4 * 1024;
/** Size of the buffer small chunks are gathered into. */
const GATHER_SIZE = 16 * 1024;
/** Copies of at most this many bytes are made byte by byte, without a view of the chunk. */
const SMALL_COPY = 64;
/** Size of the slabs small frames are copied into (frames of up to a quarter of it). */
const FRAME_SLAB_SIZE = 16 * 1024;
/** Chunks of at least this many bytes are detached once taken, when the stream allows it. */
const DETACH_MIN = 16 * 1024;
/** Whether this runtime's `ArrayBuffer` can be detached at all (ES2024 `transfer`). */
const CAN_DETACH: boolean = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function";
/** The slabs small received frames are copied into, shared by every connection (one per connection would cost an idle one 16 KiB). */
const frameSlab = new ByteSlab(FRAME_SLAB_SIZE);

/**
 * Incremental frame decoder. Feed it chunks of any size with
 * {@link FrameDecoder.push} and take whole frames with
 * {@link FrameDecoder.next}.
 *
 * Memory follows what arrived, not what a peer announces: a frame's length
 * is checked against 12 and the limit as soon as its prefix is in, but its
 * buffer is allocated only once all its bytes are there. Until then the
 * decoder keeps the received chunks; small chunks that trickle in behind
 * others are gathered into 16 KiB buffers, so a sender writing one byte at
 * a time cannot make it hold one object per byte. Each frame is copied once
 * out of the chunks and never shares memory with them, so a small frame
 * kept by a handler does not keep a large chunk alive: frames of up to
 * 4 KiB are copied side by side into 16 KiB slabs (one allocation per many
 * frames, see `../base/byte_slab.ts`), larger ones into a buffer each. A
 * kept small frame keeps its slab alive: whoever keeps many frames for long
 * (a line of waiting requests, a queue of unread updates) copies them out
 * with `ownBytes`. Pushing and decoding are linear in the bytes received,
 * however they are split.
 *
 * A decoder told that its chunks are detachable (`ByteStream.chunksDetachable`)
 * detaches each chunk of 16 KiB or more that spans its whole `ArrayBuffer`
 * once every byte of it was copied out. That frees the chunk's memory at
 * once: otherwise the runtime frees it only at the next full collection,
 * since the buffer objects are too small to bring on a minor one. In a
 * 1 MiB echo the chunks are as many bytes as the frames, and on Node 24
 * their garbage started most of the full collections (the "external
 * memory pressure" of `--trace-incremental-marking`); detaching them took
 * the echo from 578-617 to 746-793 MB/s. Node's and Bun's sockets say so;
 * Deno's do not, since there it measured slower.
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
  readonly #detachChunks: boolean;
  /** The largest frame accepted now: `#maxMessageSize`, or less until a session is established. */
  #limit: number;
  /** Received bytes not handed out yet: `#chunks[#head]` from `#offset` on, then the chunks after it. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;
  /** The buffer small chunks are being gathered into; while set, its filled part is the last queued chunk. */
  #gather: Uint8Array | null = null;
  #gathered = 0;
  readonly #prefix = new Uint8Array(LENGTH_PREFIX_SIZE);
  /** The current frame's announced length, or -1 until its prefix is read. */
  #length = -1;

  /**
   * Creates the instance.
   *
   * @param maxMessageSize Largest accepted frame length (header + body), default 16 MiB.
   * @param detachChunks Whether pushed chunks are detachable (see above): only for a stream that says so.
   */
  constructor(maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE, detachChunks = false) {
    this.#maxMessageSize = maxMessageSize;
    this.#limit = maxMessageSize;
    this.#detachChunks = detachChunks && CAN_DETACH;
  }

  /** True while part of a frame has been received but not all of it. */
  get hasPartialFrame(): boolean {
    return this.#length >= 0 || this.#buffered > 0;
  }

  /** Bytes of the current partial frame received so far, its length prefix included. */
  get partialBytes(): number {
    return this.#buffered + (this.#length >= 0 ? LENGTH_PREFIX_SIZE : 0);
  }

  /** The current frame's full size with its length prefix, or `undefined` until the prefix is in. */
  get partialFrameSize(): number | undefined {
    return this.#length >= 0 ? this.#length + LENGTH_PREFIX_SIZE : undefined;
  }

  /** The largest frame (header + body) accepted from now on. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Changes the largest frame accepted from now on, also for a frame whose
   * prefix is already in. A session keeps it small until the peer is
   * authenticated.
   *
   * @param bytes The limit, header included; clamped to the decoder's maximum message size.
   */
  setLimit(bytes: number): void {
    this.#limit = Math.min(bytes, this.#maxMessageSize);
  }

  /**
   * Adds received bytes. The decoder may keep a reference to `chunk` until
   * its bytes are handed out, so the caller must not reuse it.
   *
   * @param chunk Bytes from the stream.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const queued = this.#buffered > 0;
    this.#buffered += chunk.length;
    if (queued && chunk.length < SMALL_CHUNK) return this.#gatherSmall(chunk);
    this.#closeGather();
    // A view of a much larger buffer would keep all of it alive while the frame waits.
    this.#chunks.push(chunk.byteLength * 2 < chunk.buffer.byteLength ? chunk.slice() : chunk);
  }

  /**
   * Returns the next complete frame (header + body, without the length
   * prefix), in memory of its own (a slab's view for a small frame).
   *
   * @returns The frame, or `null` if more bytes are needed.
   * @throws {ProtocolError} `ERR_FRAME_TOO_SMALL` or `ERR_FRAME_TOO_LARGE` for a bad length; the decoder is then unusable.
   */
  next(): Uint8Array | null {
    if (!this.#frameReady()) return null;
    const frame = frameSlab.take(this.#length);
    this.#take(frame);
    this.#length = -1;
    return frame;
  }

  /**
   * Like {@link FrameDecoder.next}, but hands out a frame's message header
   * and its body apart: the header is copied into `header`, and the body
   * gets memory of its own. No view of the frame is made, which JavaScriptCore
   * (Bun) pays for dearly on a fresh buffer.
   *
   * @param header Where the 12 header bytes go.
   * @returns The body, or `null` if more bytes are needed (`header` is then untouched).
   * @throws {ProtocolError} as `next` does.
   */
  nextSplit(header: Uint8Array): Uint8Array | null {
    if (!this.#frameReady()) return null;
    this.#take(header);
    const body = frameSlab.take(this.#length - HEADER_SIZE);
    this.#take(body);
    this.#length = -1;
    return body;
  }

  /** Reads the next frame's length prefix if it is in; true once the whole frame is. */
  #frameReady(): boolean {
    if (this.#length < 0) {
      if (this.#buffered < LENGTH_PREFIX_SIZE) return false;
      this.#take(this.#prefix);
      const p = this.#prefix;
      const length = (p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24)) >>> 0;
      if (length < HEADER_SIZE) {
        throw new ProtocolError(
          "ERR_FRAME_TOO_SMALL",
          `Frame length ${length} is below the ${HEADER_SIZE}-byte message header`,
        );
      }
      this.#length = length;
    }
    if (this.#length > this.#limit) throw frameTooLarge("Frame", this.#length, this.#limit, this.#maxMessageSize);
    return this.#buffered >= this.#length;
  }

  /** Copies `chunk` behind the queued bytes, into the gather buffer. */
  #gatherSmall(chunk: Uint8Array): void {
    if (this.#gather === null || this.#gathered + chunk.length > this.#gather.length) {
      this.#closeGather();
      this.#gather = new Uint8Array(GATHER_SIZE);
      this.#gathered = 0;
      this.#chunks.push(this.#gather.subarray(0, 0));
    }
    this.#gather.set(chunk, this.#gathered);
    this.#gathered += chunk.length;
    this.#chunks[this.#chunks.length - 1] = this.#gather.subarray(0, this.#gathered);
  }

  /** Stops gathering; a gather buffer left mostly empty is queued as a copy of its filled part. */
  #closeGather(): void {
    if (this.#gather === null) return;
    if (this.#gathered * 2 < this.#gather.length) {
      this.#chunks[this.#chunks.length - 1] = this.#gather.slice(0, this.#gathered);
    }
    this.#gather = null;
  }

  /** Moves the next `target.length` queued bytes (which must be there) into `target`. */
  #take(target: Uint8Array): void {
    let filled = 0;
    while (filled < target.length) {
      const chunk = this.#chunks[this.#head]!;
      const count = Math.min(target.length - filled, chunk.length - this.#offset);
      if (count <= SMALL_COPY) {
        // A view per copy costs more than the copy itself for the few bytes of a prefix or a small frame.
        for (let i = 0; i < count; i++) target[filled + i] = chunk[this.#offset + i]!;
      } else target.set(chunk.subarray(this.#offset, this.#offset + count), filled);
      filled += count;
      this.#offset += count;
      if (this.#offset === chunk.length) {
        // The gather buffer being filled is the decoder's own and still in use.
        if (this.#detachChunks && chunk.length >= DETACH_MIN && chunk.buffer !== this.#gather?.buffer) {
          detachWhole(chunk);
        }
        this.#head++;
        this.#offset = 0;
      }
    }
    this.#buffered -= target.length;
    if (this.#buffered === 0) {
      this.#chunks = [];
      this.#head = 0;
      this.#gather = null;
    } else if (this.#head * 2 > this.#chunks.length) {
      // Dropping taken chunks only once they are half the queue keeps taking linear.
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/** Detaches the buffer of `chunk` if `chunk` spans all of it (a view of part of a buffer is left alone). */
function detachWhole(chunk: Uint8Array): void {
  const buffer = chunk.buffer;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || !(buffer instanceof ArrayBuffer)) return;
  try {
    buffer.transfer(0);
  } catch {
    // A buffer that cannot be detached (a WebAssembly memory, say) is left to the collector, as without this.
  }
}
