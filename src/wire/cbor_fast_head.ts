/**
 * CBOR heads (RFC 8949 §3): the initial byte of an item, with its major
 * type, and the argument after it, in the shortest form. Shared by the fast
 * encoder and its map-key layouts.
 *
 * @module
 */

/** Unsigned integer (major type 0), as the high bits of an initial byte. */
export const MAJOR_UINT = 0x00;
/** Negative integer -1 - n (major type 1). */
export const MAJOR_NEGINT = 0x20;
/** Byte string (major type 2). */
export const MAJOR_BYTES = 0x40;
/** Text string (major type 3). */
export const MAJOR_TEXT = 0x60;
/** Array (major type 4). */
export const MAJOR_ARRAY = 0x80;
/** Map (major type 5). */
export const MAJOR_MAP = 0xa0;

const UINT32_LIMIT = 0x1_0000_0000;

/**
 * How many bytes the head of argument `n` takes.
 *
 * @param n The argument: a safe integer, at least 0.
 * @returns 1, 2, 3, 5 or 9.
 *
 * @example
 * ```ts
 * import { headSize } from "./cbor_fast_head.ts";
 * console.assert(headSize(23) === 1 && headSize(24) === 2 && headSize(2 ** 32) === 9);
 * ```
 */
export function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < UINT32_LIMIT ? 5 : 9;
}

/**
 * Writes a head in its shortest form.
 *
 * @param out Where to write; it must have {@link headSize} bytes of room at `at`.
 * @param at The offset of the initial byte.
 * @param major The major type, as one of the `MAJOR_` constants.
 * @param n The argument: a safe integer, at least 0.
 * @returns The offset just after the head.
 *
 * @example
 * ```ts
 * import { MAJOR_TEXT, writeHeadInto } from "./cbor_fast_head.ts";
 * const out = new Uint8Array(9);
 * console.assert(writeHeadInto(out, 0, MAJOR_TEXT, 300) === 3 && out.subarray(0, 3).join() === "121,1,44");
 * ```
 */
export function writeHeadInto(out: Uint8Array, at: number, major: number, n: number): number {
  if (n < 24) {
    out[at] = major | n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = major | 24;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = major | 25;
    out[at + 1] = n >> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  if (n < UINT32_LIMIT) {
    out[at] = major | 26;
    writeUint32(out, at + 1, n);
    return at + 5;
  }
  out[at] = major | 27;
  writeUint32(out, at + 1, Math.floor(n / UINT32_LIMIT));
  writeUint32(out, at + 5, n >>> 0);
  return at + 9;
}

function writeUint32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >> 16) & 0xff;
  out[at + 2] = (n >> 8) & 0xff;
  out[at + 3] = n & 0xff;
}
