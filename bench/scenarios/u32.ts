/**
 * Unsigned 32-bit little-endian integers in byte arrays: the raw floor's
 * length prefix and the tag that starts every small payload.
 *
 * @module
 */

/** Writes `value` as a u32 little-endian at `offset`. */
export function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff;
  target[offset + 1] = (value >>> 8) & 0xff;
  target[offset + 2] = (value >>> 16) & 0xff;
  target[offset + 3] = (value >>> 24) & 0xff;
}

/** Reads a u32 little-endian at `offset`. */
export function readU32(source: Uint8Array, offset: number): number {
  return (source[offset]! | (source[offset + 1]! << 8) | (source[offset + 2]! << 16) | (source[offset + 3]! << 24)) >>>
    0;
}
