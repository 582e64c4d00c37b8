/**
 * Small byte buffers carved out of larger ones. Deno and Node allocate
 * every typed array of more than 64 bytes outside the JavaScript heap, at
 * about 650 ns each (measured on this project's machines; Bun: 13 ns): a
 * call that made a few such buffers per message spent microseconds on
 * allocation alone. A slab hands out views of one 64 KiB buffer instead,
 * and starts a new one when it is used up; a view keeps its whole slab
 * alive, so slabs are for bytes that are short-lived or few. On Bun,
 * where small buffers are cheap and views are not, a slab hands out fresh
 * buffers.
 *
 * @module
 */

/**
 * JavaScriptCore (Bun) allocates small typed arrays in its heap, at 13 ns
 * for 66 bytes, where a view costs 39 ns: there every buffer is a fresh one.
 * Told by the user agent string the runtimes give (`Bun/1.4.5`).
 */
const FRESH_IS_CHEAPER =
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent?.startsWith("Bun/") ??
    false;

/** Default size of one slab. */
const DEFAULT_SLAB_SIZE = 64 * 1024;

/**
 * Hands out views of shared buffers; requests above a quarter of the slab
 * get a buffer of their own. Views never overlap and are never reused: a
 * view stays valid (and its slab alive) for as long as it is referenced.
 *
 * @example
 * ```ts
 * import { ByteSlab } from "./byte_slab.ts";
 * const slab = new ByteSlab();
 * const a = slab.take(100);
 * const b = slab.take(100);
 * console.assert(a.buffer === b.buffer && b.byteOffset === a.byteOffset + 100);
 * ```
 */
export class ByteSlab {
  readonly #size: number;
  readonly #largest: number;
  #buffer: Uint8Array;
  #used = 0;

  /**
   * Creates the slab.
   *
   * @param size Bytes per slab buffer (default 64 KiB).
   */
  constructor(size: number = DEFAULT_SLAB_SIZE) {
    this.#size = size;
    this.#largest = size >>> 2;
    this.#buffer = new Uint8Array(0);
  }

  /**
   * A zeroed view of `length` fresh bytes.
   *
   * @param length How many bytes.
   * @returns The view (of a shared slab, or of its own buffer when `length` is above a quarter of a slab).
   */
  take(length: number): Uint8Array {
    if (length > this.#largest || FRESH_IS_CHEAPER) return new Uint8Array(length);
    if (this.#used + length > this.#buffer.length) {
      this.#buffer = new Uint8Array(this.#size);
      this.#used = 0;
    }
    const view = this.#buffer.subarray(this.#used, this.#used + length);
    this.#used += length;
    return view;
  }
}

/**
 * The bytes of `view` in a buffer of their own when `view` is a small part of
 * a larger one (such as a slab), so that keeping them does not keep the rest.
 *
 * @param view The bytes.
 * @returns `view` itself, or a copy.
 */
export function ownBytes(view: Uint8Array): Uint8Array {
  return view.byteLength * 2 < view.buffer.byteLength ? view.slice() : view;
}

/** Below this many bytes, {@link tailOf} copies on Bun. */
const SMALL_TAIL = 1024;

/**
 * The bytes of `bytes` from `start` on: a view, except for a small one on
 * Bun, where a view of a fresh buffer first moves the buffer out of the
 * JavaScript heap (a copy and an allocation) and a copy of the tail is cheaper.
 *
 * @param bytes The bytes.
 * @param start Where the tail starts.
 * @returns A view of `bytes`, or a copy of the tail.
 */
export function tailOf(bytes: Uint8Array, start: number): Uint8Array {
  return FRESH_IS_CHEAPER && bytes.length < SMALL_TAIL ? bytes.slice(start) : bytes.subarray(start);
}
