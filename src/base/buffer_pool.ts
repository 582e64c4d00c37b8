/**
 * Large buffers used again and again instead of made anew. A body of a
 * megabyte costs more to allocate than to fill: Node and Deno allocate
 * every such buffer outside the JavaScript heap, and each one brings the
 * next full garbage collection closer. The encoder takes the buffer of a
 * large outgoing body from a pool, and the transport gives it back once the
 * body is written (measured on a 1 MiB echo, as a ratio to the raw socket:
 * Node 22 0.92× → 0.97×, Node 24 0.47× → 0.60×, Bun 0.68× → 0.78×).
 *
 * A view that is never given back is an ordinary buffer: the garbage
 * collector takes it. Giving one back is a promise that nothing reads it
 * any more, since its memory will hold the next body.
 *
 * @module
 */

/** Buffers of at least this many bytes come from a pool; smaller ones are cheap to make. */
export const POOLED_MIN: number = 64 * 1024;
/** Buffers a pool keeps at most. */
const KEEP_COUNT = 8;
/** Bytes a pool keeps at most. */
const KEEP_BYTES = 16 * 1024 * 1024;
/** Sizes are rounded up to this, so that bodies of about the same size share buffers. */
const SIZE_STEP = 64 * 1024;

/**
 * A pool of large buffers. {@link BufferPool.take} hands out a view of
 * exactly the asked length; {@link BufferPool.give} takes it back.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./buffer_pool.ts";
 * const pool = new BufferPool();
 * const first = pool.take(100_000);
 * pool.give(first);
 * console.assert(pool.take(90_000).buffer === first.buffer);
 * ```
 */
export class BufferPool {
  /** Free buffers, smallest first. */
  #free: ArrayBuffer[] = [];
  #freeBytes = 0;
  /** The views handed out and not given back, with the buffer each one is of. */
  readonly #lent = new WeakMap<Uint8Array, ArrayBuffer>();

  /**
   * A view of `length` bytes (any content) of a free buffer no more than
   * twice that size, or of a new one.
   *
   * @param length How many bytes; at least {@link POOLED_MIN}.
   * @returns The view.
   */
  take(length: number): Uint8Array {
    const free = this.#free;
    let buffer: ArrayBuffer | undefined;
    for (let i = 0; i < free.length; i++) {
      const candidate = free[i]!;
      if (candidate.byteLength < length) continue;
      if (candidate.byteLength <= 2 * length) {
        buffer = candidate;
        free.splice(i, 1);
        this.#freeBytes -= candidate.byteLength;
      }
      break;
    }
    buffer ??= new ArrayBuffer(Math.ceil(length / SIZE_STEP) * SIZE_STEP);
    const view = new Uint8Array(buffer, 0, length);
    this.#lent.set(view, buffer);
    return view;
  }

  /**
   * Takes back a view {@link BufferPool.take} handed out, to be handed out
   * again; anything else (and a view given back before) is left alone.
   *
   * @param view The view, which nothing may read or write any more.
   */
  give(view: Uint8Array): void {
    const buffer = this.#lent.get(view);
    if (buffer === undefined) return;
    this.#lent.delete(view);
    const free = this.#free;
    if (free.length >= KEEP_COUNT || this.#freeBytes + buffer.byteLength > KEEP_BYTES) return;
    let at = 0;
    while (at < free.length && free[at]!.byteLength < buffer.byteLength) at++;
    free.splice(at, 0, buffer);
    this.#freeBytes += buffer.byteLength;
  }
}

/**
 * The pool of outgoing bodies, shared by every connection of the process:
 * the encoder takes from it (`encodeForSend` in `../wire/codec.ts`), the
 * transports give back what they wrote.
 */
export const sendBuffers: BufferPool = new BufferPool();

/**
 * Gives the memory of a body that was written, or will never be, back to
 * {@link sendBuffers}, if it came from there.
 *
 * @param body A body or a piece of a frame; small ones are skipped at once.
 */
export function releaseSent(body: Uint8Array): void {
  if (body.length >= POOLED_MIN) sendBuffers.give(body);
}
