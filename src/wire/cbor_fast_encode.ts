/**
 * The CBOR encoder for the values calls carry most: numbers, bigints,
 * strings, byte strings, booleans, `null`, `undefined`, arrays, plain
 * objects and `Map`s with text or integer keys. It writes exactly the bytes
 * cborg 6.1 writes with `codec.ts`'s options (pinned by
 * `test/cbor_fast_path.test.ts`), without cborg's tokens, writer chunks and
 * option objects, and declines everything else (class instances, `Date`s,
 * cycles, values nested deeper than {@link MAX_DEPTH}, ...) so that cborg
 * encodes those, or fails on them, as before.
 *
 * @module
 */

import { ByteSlab } from "../base/byte_slab.ts";
import { POOLED_MIN, sendBuffers } from "../base/buffer_pool.ts";
import {
  headSize,
  MAJOR_ARRAY,
  MAJOR_BYTES,
  MAJOR_MAP,
  MAJOR_NEGINT,
  MAJOR_TEXT,
  MAJOR_UINT,
  writeHeadInto,
} from "./cbor_fast_head.ts";
import { keyLayoutOf, MAX_LAYOUT_KEYS, sortTextKeys } from "./cbor_fast_keys.ts";

/** Nesting this deep (or a cycle) is left to cborg, which finds cycles and reports them. */
const MAX_DEPTH = 64;
/** Byte strings from this length on are referenced while encoding and copied once, into the result. */
const LARGE_BYTES = 2048;
/**
 * A value with a byte string this long goes to cborg, which allocates its
 * result without zeroing it first (Node's buffers, on every runtime here);
 * JavaScript cannot. Measured for 1 MiB: 1.7× faster on Bun that way, the
 * same on Node and Deno. Not when room is asked for in front: a second copy
 * would cost more.
 */
const HUGE_BYTES = 64 * 1024;
/** A scratch buffer that had to grow beyond this is dropped after the call rather than kept. */
const SCRATCH_KEEP = 64 * 1024;
const UINT64_LIMIT = 1n << 64n;
const FALSE = 0xf4;
const TRUE = 0xf5;
const NULL = 0xf6;
const UNDEFINED = 0xf7;
const HALF = 0xf9;
const SINGLE = 0xfa;
const DOUBLE = 0xfb;
const TAG_BIGNUM_POSITIVE = 0xc2;
const TAG_BIGNUM_NEGATIVE = 0xc3;

/** The `Object.prototype.toString` tags cborg encodes as the byte string of the bytes viewed. */
const VIEW_TAGS = new Set(
  "Uint8Clamped Uint16 Uint32 Int8 Int16 Int32 BigUint64 BigInt64 Float32 Float64".split(" ")
    .map((name) => `[object ${name}Array]`).concat("[object DataView]"),
);
const objectTag = Object.prototype.toString;

/** Thrown inside the encoder to hand the whole value to cborg. */
const DECLINE = Object.freeze({ declined: true });

const utf8 = new TextEncoder();
const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

let scratch = new Uint8Array(4096);
let view = new DataView(scratch.buffer);
let length = 0;
let busy = false;
/** Whether a huge byte string is encoded here: when room is asked for, cborg's output would need a second copy. */
let hugeAllowed = false;
/** Whether a large result goes into a buffer of the send pool ({@link encodeCommonValueForSend}). */
let pooled = false;
/**
 * Where results are carved out: Node and Deno allocate every typed array
 * above 64 bytes outside the heap (about 650 ns, 250 ns on this machine's
 * Deno for any size), a view of a slab costs 30 ns. Results are short-lived:
 * small ones are framed (copied) when sent; large ones come from the send pool
 * or are buffers of their own.
 */
const outputSlab = new ByteSlab();
/** Large byte strings, and where in the output they go (an offset into `scratch`). */
const largeBytes: Uint8Array[] = [];
const largeBytesAt: number[] = [];

/**
 * Encodes `value` as cborg would with `codec.ts`'s options, or returns
 * `null` when the value holds something this encoder leaves to cborg.
 *
 * @param value The value to encode.
 * @param room Free bytes to leave in front of the encoding (for a prefix the caller writes).
 * @returns The room and the encoded bytes (memory of their own, exactly that size), or `null`.
 *
 * @example
 * ```ts
 * import { encodeCommonValue } from "./cbor_fast_encode.ts";
 * console.assert(encodeCommonValue({ a: [1, "b"] })?.join() === "161,97,97,130,1,97,98");
 * console.assert(encodeCommonValue(new Date()) === null);
 * ```
 */
export function encodeCommonValue(value: unknown, room = 0): Uint8Array | null {
  return encodeWith(value, room, false);
}

/**
 * Encodes `value` as {@link encodeCommonValue} does, for a body that is
 * about to be sent: a result of 64 KiB or more (a large byte string) is
 * written into a buffer of the send pool (`../base/buffer_pool.ts`), which
 * the transport gives back once the body is written. Such a result must be
 * sent once and not kept.
 *
 * @param value The value to encode.
 * @param room Free bytes to leave in front of the encoding.
 * @returns The room and the encoded bytes, or `null`.
 *
 * @example
 * ```ts
 * import { encodeCommonValueForSend } from "./cbor_fast_encode.ts";
 * console.assert(encodeCommonValueForSend(new Uint8Array(1 << 17), 1)?.length === 1 + 5 + (1 << 17));
 * ```
 */
export function encodeCommonValueForSend(value: unknown, room = 0): Uint8Array | null {
  return encodeWith(value, room, true);
}

function encodeWith(value: unknown, room: number, forSend: boolean): Uint8Array | null {
  // A getter that encodes while this encoder runs would overwrite its buffer: cborg takes that one.
  if (busy) return null;
  busy = true;
  length = 0;
  // Bound for a pooled buffer, a huge byte string is copied once here; cborg would allocate for it.
  hugeAllowed = forSend || room > 0;
  pooled = forSend;
  let encoded: Uint8Array | null = null;
  try {
    writeValue(value, 0);
    encoded = largeBytes.length === 0 ? copyOut(room) : joinLargeBytes(room);
  } catch {
    // DECLINE, or anything a getter threw: cborg runs again and reports it as it always has.
  }
  busy = false;
  if (largeBytes.length !== 0) {
    largeBytes.length = 0;
    largeBytesAt.length = 0;
  }
  if (scratch.length > SCRATCH_KEEP) replaceScratch(new Uint8Array(4096));
  return encoded;
}

/**
 * The scratch bytes, behind `room` free bytes, in memory of their own: a
 * view of a shared slab when small (see `../base/byte_slab.ts`), copied by
 * hand when short, where that beats `set`.
 */
function copyOut(room: number): Uint8Array {
  const out = outputSlab.take(room + length);
  if (length > 32) out.set(scratch.subarray(0, length), room);
  else for (let i = 0; i < length; i++) out[room + i] = scratch[i]!;
  return out;
}

/**
 * The minimal big-endian bytes of a non-negative `bigint`: the content of a
 * bignum (tag 2 or 3).
 *
 * @param magnitude The integer, at least 0.
 * @returns Its bytes, most significant first, without leading zero bytes (one zero byte for 0).
 *
 * @example
 * ```ts
 * import { bignumBytes } from "./cbor_fast_encode.ts";
 * console.assert(bignumBytes(0x10203n).join() === "1,2,3");
 * ```
 */
export function bignumBytes(magnitude: bigint): Uint8Array {
  let hex = magnitude.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function replaceScratch(next: Uint8Array<ArrayBuffer>): void {
  scratch = next;
  view = new DataView(next.buffer);
}

/** Makes room for `bytes` more bytes. */
function reserve(bytes: number): void {
  const needed = length + bytes;
  if (needed <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < needed) size *= 2;
  const next = new Uint8Array(size);
  next.set(scratch.subarray(0, length));
  replaceScratch(next);
}

/** The output, behind `room` free bytes, with the large byte strings copied in between the scratch bytes. */
function joinLargeBytes(room: number): Uint8Array {
  let total = room + length;
  for (const bytes of largeBytes) total += bytes.length;
  const out = pooled && total >= POOLED_MIN ? sendBuffers.take(total) : outputSlab.take(total);
  let from = 0;
  let to = room;
  for (let i = 0; i < largeBytes.length; i++) {
    const at = largeBytesAt[i]!;
    const bytes = largeBytes[i]!;
    out.set(scratch.subarray(from, at), to);
    to += at - from;
    out.set(bytes, to);
    to += bytes.length;
    from = at;
  }
  out.set(scratch.subarray(from, length), to);
  return out;
}

function writeValue(value: unknown, depth: number): void {
  switch (typeof value) {
    case "number":
      return writeNumber(value);
    case "string":
      return writeText(value);
    case "boolean":
      return writeByte(value ? TRUE : FALSE);
    case "undefined":
      return writeByte(UNDEFINED);
    case "bigint":
      return writeBigInt(value);
    case "object":
      if (value === null) return writeByte(NULL);
      if (depth >= MAX_DEPTH) throw DECLINE;
      // The order of cborg's own type test (`is`): arrays, Uint8Arrays (Node's buffers too), plain objects, then by tag.
      if (Array.isArray(value)) return writeArray(value, depth);
      if (value instanceof Uint8Array) return writeBytes(value);
      if (value.constructor === Object) return writeObject(value as Record<string, unknown>, depth);
      return writeTagged(value, depth);
    default:
      throw DECLINE;
  }
}

function writeByte(byte: number): void {
  reserve(1);
  scratch[length++] = byte;
}

/** A head: major type and argument `n` (a safe integer, at least 0) in its shortest form. */
function writeHead(major: number, n: number): void {
  reserve(9);
  length = writeHeadInto(scratch, length, major, n);
}

function writeNumber(value: number): void {
  // -0 is a safe integer at least 0, so it goes out as the integer 0, as cborg writes it.
  if (Number.isSafeInteger(value)) {
    return value >= 0 ? writeHead(MAJOR_UINT, value) : writeHead(MAJOR_NEGINT, -value - 1);
  }
  reserve(9);
  if (value !== value) return writeHalf(0x7e00);
  if (value === Infinity) return writeHalf(0x7c00);
  if (value === -Infinity) return writeHalf(0xfc00);
  float32[0] = value;
  if (float32[0] !== value) {
    scratch[length++] = DOUBLE;
    view.setFloat64(length, value);
    length += 8;
    return;
  }
  const half = halfOf(float32Bits[0]!);
  if (half >= 0) return writeHalf(half);
  scratch[length++] = SINGLE;
  view.setFloat32(length, value);
  length += 4;
}

function writeHalf(half: number): void {
  scratch[length++] = HALF;
  scratch[length++] = half >> 8;
  scratch[length++] = half & 0xff;
}

/**
 * The half float cborg finds for a finite single float's bits, or -1. cborg
 * converts to half by truncating, keeping only a power of two below the
 * normal range, and uses the half if it reads back equal: so a normal half
 * needs the 13 low mantissa bits clear, and a subnormal one must be a power
 * of two (3 × 2^-24, exact as a half, goes out as a single float).
 */
function halfOf(bits: number): number {
  const exponent = ((bits >>> 23) & 0xff) - 127;
  const mantissa = bits & 0x7fffff;
  const sign = (bits >>> 16) & 0x8000;
  if (exponent >= -14 && exponent <= 15) {
    return (mantissa & 0x1fff) === 0 ? sign | ((exponent + 15) << 10) | (mantissa >> 13) : -1;
  }
  if (exponent >= -24 && exponent < -14) return mantissa === 0 ? sign | (1 << (24 + exponent)) : -1;
  return -1;
}

function writeBigInt(value: bigint): void {
  if (value >= 0n) {
    if (value < UINT64_LIMIT) return writeBigHead(MAJOR_UINT, value);
    writeByte(TAG_BIGNUM_POSITIVE);
    return writeBytes(bignumBytes(value));
  }
  if (value >= -UINT64_LIMIT) return writeBigHead(MAJOR_NEGINT, -1n - value);
  writeByte(TAG_BIGNUM_NEGATIVE);
  writeBytes(bignumBytes(-1n - value));
}

/** A head whose argument is a `bigint` below 2^64. */
function writeBigHead(major: number, n: bigint): void {
  if (n < 0x20_0000_0000_0000n) return writeHead(major, Number(n));
  reserve(9);
  scratch[length++] = major | 27;
  view.setBigUint64(length, n);
  length += 8;
}

/** Text as UTF-8, a lone surrogate as U+FFFD, as cborg writes it (its own loop, `TextEncoder` or Node's buffers). */
function writeText(text: string): void {
  const units = text.length;
  reserve(9 + 3 * units);
  // The head is sized for ASCII and moved if the UTF-8 turns out longer (never shorter).
  const guessed = headSize(units);
  const start = length + guessed;
  const end = units < 64 ? utf8Into(text, start) : start + utf8.encodeInto(text, scratch.subarray(start)).written;
  const bytes = end - start;
  const actual = headSize(bytes);
  if (actual !== guessed) scratch.copyWithin(length + actual, start, end);
  writeHead(MAJOR_TEXT, bytes);
  length += bytes;
}

/** Writes `text` as UTF-8 at `at` (room was reserved) and returns where it ends. */
function utf8Into(text: string, at: number): number {
  const out = scratch;
  for (let i = 0; i < text.length; i++) {
    let unit = text.charCodeAt(i);
    if (unit < 0x80) {
      out[at++] = unit;
    } else if (unit < 0x800) {
      out[at++] = 0xc0 | (unit >> 6);
      out[at++] = 0x80 | (unit & 0x3f);
    } else if ((unit & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const point = 0x10000 + ((unit & 0x3ff) << 10) + (text.charCodeAt(++i) & 0x3ff);
      out[at++] = 0xf0 | (point >> 18);
      out[at++] = 0x80 | ((point >> 12) & 0x3f);
      out[at++] = 0x80 | ((point >> 6) & 0x3f);
      out[at++] = 0x80 | (point & 0x3f);
    } else {
      if ((unit & 0xf800) === 0xd800) unit = 0xfffd;
      out[at++] = 0xe0 | (unit >> 12);
      out[at++] = 0x80 | ((unit >> 6) & 0x3f);
      out[at++] = 0x80 | (unit & 0x3f);
    }
  }
  return at;
}

function writeBytes(bytes: Uint8Array): void {
  if (bytes.length >= HUGE_BYTES && !hugeAllowed) throw DECLINE;
  writeHead(MAJOR_BYTES, bytes.length);
  if (bytes.length >= LARGE_BYTES) {
    largeBytes.push(bytes);
    largeBytesAt.push(length);
    return;
  }
  reserve(bytes.length);
  scratch.set(bytes, length);
  length += bytes.length;
}

function writeArray(array: unknown[], depth: number): void {
  // A subclass (or another realm's array) may iterate differently from its indices: cborg iterates.
  if (Object.getPrototypeOf(array) !== Array.prototype) throw DECLINE;
  const count = array.length;
  writeHead(MAJOR_ARRAY, count);
  for (let i = 0; i < count; i++) writeValue(array[i], depth + 1);
}

/** An object's own enumerable string keys, in cborg's order (length of their UTF-8 first, then bytewise). */
function writeObject(object: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(object);
  writeHead(MAJOR_MAP, keys.length);
  if (keys.length === 0) return;
  if (keys.length > MAX_LAYOUT_KEYS) {
    if (!sortTextKeys(keys)) throw DECLINE;
    for (const key of keys) {
      writeText(key);
      writeValue(object[key], depth + 1);
    }
    return;
  }
  const layout = keyLayoutOf(keys);
  if (layout === null) throw DECLINE;
  const { sorted, encoded, ends } = layout;
  let from = 0;
  for (let i = 0; i < sorted.length; i++) {
    const end = ends[i]!;
    reserve(end - from);
    for (let j = from; j < end; j++) scratch[length++] = encoded[j]!;
    from = end;
    writeValue(object[sorted[i]!], depth + 1);
  }
}

/** Values cborg types by their `Object.prototype.toString` tag: the other byte views, `Map`s, other plain objects. */
function writeTagged(value: object, depth: number): void {
  const tag = objectTag.call(value);
  if (VIEW_TAGS.has(tag)) {
    const { buffer, byteOffset, byteLength } = value as ArrayBufferView;
    return writeBytes(new Uint8Array(buffer, byteOffset, byteLength));
  }
  if (tag === "[object ArrayBuffer]") return writeBytes(new Uint8Array(value as ArrayBuffer));
  const prototype = Object.getPrototypeOf(value);
  if (tag === "[object Map]" && prototype === Map.prototype) return writeMap(value as Map<unknown, unknown>, depth);
  // `Object.create(null)`, or an own `constructor` key: cborg's `is` calls these objects too.
  if (tag === "[object Object]" && (prototype === Object.prototype || prototype === null)) {
    return writeObject(value as Record<string, unknown>, depth);
  }
  throw DECLINE;
}

/**
 * A `Map` whose keys are all text or safe integers, in cborg's order: by
 * major type (unsigned, negative, text), unsigned keys ascending, negative
 * ones descending (ascending by their encoded argument), text as in objects.
 */
function writeMap(map: Map<unknown, unknown>, depth: number): void {
  const unsigned: number[] = [];
  const negative: number[] = [];
  const texts: string[] = [];
  for (const key of map.keys()) {
    if (typeof key === "string") texts.push(key);
    else if (Number.isSafeInteger(key)) ((key as number) >= 0 ? unsigned : negative).push(key as number);
    else throw DECLINE;
  }
  unsigned.sort((a, b) => a - b);
  negative.sort((a, b) => b - a);
  if (!sortTextKeys(texts)) throw DECLINE;
  writeHead(MAJOR_MAP, map.size);
  for (const key of unsigned) {
    writeHead(MAJOR_UINT, key);
    writeValue(map.get(key), depth + 1);
  }
  for (const key of negative) {
    writeHead(MAJOR_NEGINT, -key - 1);
    writeValue(map.get(key), depth + 1);
  }
  for (const key of texts) {
    writeText(key);
    writeValue(map.get(key), depth + 1);
  }
}
