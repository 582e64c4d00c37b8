/**
 * The CBOR decoder for the bodies calls carry most: definite-length items
 * made of integers, floats, byte and text strings, arrays, maps with text
 * keys, booleans, `null` and `undefined`. It returns what cborg 6.1 returns
 * for them with `codec.ts`'s options (pinned by
 * `test/cbor_fast_path.test.ts`), and declines everything else (tags,
 * indefinite lengths, other keys, duplicate keys, other simple values, break
 * codes, truncated or trailing bytes, nesting deeper than
 * {@link MAX_DEPTH}) so that cborg decodes the body, or refuses it, as before.
 *
 * @module
 */

/** What {@link decodeCommonBody} returns for a body it leaves to cborg. */
export const DECLINED: unique symbol = Symbol("declined");
/** Byte strings from this length on decode as views of the body instead of copies. */
const VIEW_BYTES = 64 * 1024;

/** Deeper bodies are left to cborg. */
const MAX_DEPTH = 64;
/**
 * ASCII text shorter than this is built by hand, longer text and any other
 * by `TextDecoder` (cborg's own cut is 32 bytes: the strings are the same).
 * Measured: by hand wins below about 12 bytes on every runtime, loses beyond.
 */
const SHORT_TEXT = 12;
const UINT32_LIMIT = 0x1_0000_0000;
/** The high 32 bits of the largest safe integer. */
const SAFE_HIGH_LIMIT = 0x20_0000;

/** Map keys up to this many bytes are remembered ({@link readKey}). */
const MAX_CACHED_KEY = 24;
const KEY_CACHE_SLOTS = 512;
const keyCache: string[] = new Array<string>(KEY_CACHE_SLOTS).fill("");

/** Thrown inside the decoder to hand the body to cborg. */
const DECLINE = Object.freeze({ declined: true });

// Default options, as cborg's: U+FFFD for invalid UTF-8, and a leading byte order mark dropped.
const utf8 = new TextDecoder();
const floatBytes = new Uint8Array(8);
const floatView = new DataView(floatBytes.buffer);
const plainSlice = Uint8Array.prototype.slice;
const NO_BODY: Uint8Array = new Uint8Array(0);

let data = NO_BODY;
let at = 0;

/**
 * Decodes `body` as cborg would with `codec.ts`'s options, or returns
 * {@link DECLINED} when the body holds something this decoder leaves to
 * cborg (which then gives today's value or error).
 *
 * @param body One whole CBOR item, not empty.
 * @returns The value, or {@link DECLINED}.
 *
 * @example
 * ```ts
 * import { decodeCommonBody, DECLINED } from "./cbor_fast_decode.ts";
 * console.assert((decodeCommonBody(new Uint8Array([0xa1, 0x61, 0x61, 0x01])) as { a: number }).a === 1);
 * console.assert(decodeCommonBody(new Uint8Array([0xc1, 0x00])) === DECLINED);
 * ```
 */
export function decodeCommonBody(body: Uint8Array): unknown {
  if (Object.getPrototypeOf(body) !== Uint8Array.prototype) {
    // cborg copies byte strings out of a Node buffer (whose `slice` is a view) as plain Uint8Arrays, and
    // out of any other subclass as that subclass: the latter it does itself.
    if (body.slice === plainSlice) return DECLINED;
    body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
  data = body;
  at = 0;
  let value: unknown;
  try {
    value = readItem(0);
    if (at !== body.length) value = DECLINED;
  } catch {
    value = DECLINED;
  }
  // Not kept alive by the decoder until the next body comes.
  data = NO_BODY;
  return value;
}

function readItem(depth: number): unknown {
  if (at >= data.length) throw DECLINE;
  const initial = data[at++]!;
  const info = initial & 0x1f;
  switch (initial >> 5) {
    case 0:
      return info < 24 ? info : readUnsigned(info);
    case 1:
      return info < 24 ? -1 - info : readNegative(info);
    case 2: {
      const size = readLength(info);
      // A large byte string is handed out as a view of the body, which is then mostly its own: no second copy.
      const bytes = size >= VIEW_BYTES ? data.subarray(at, at + size) : data.slice(at, at + size);
      at += size;
      return bytes;
    }
    case 3:
      return readText(readLength(info));
    case 4:
      return readArray(readLength(info), depth);
    case 5:
      return readMap(readLength(info), depth);
    case 7:
      return readSimple(info);
    default:
      throw DECLINE;
  }
}

/** The argument of a head (after its initial byte) as a `number`, which may be unsafe for 8 bytes. */
function readArgument(info: number): number {
  const bytes = data;
  const start = at;
  switch (info) {
    case 24:
      if (start + 1 > bytes.length) throw DECLINE;
      at = start + 1;
      return bytes[start]!;
    case 25:
      if (start + 2 > bytes.length) throw DECLINE;
      at = start + 2;
      return (bytes[start]! << 8) | bytes[start + 1]!;
    case 26:
      if (start + 4 > bytes.length) throw DECLINE;
      at = start + 4;
      return bytes[start]! * 0x100_0000 + ((bytes[start + 1]! << 16) | (bytes[start + 2]! << 8) | bytes[start + 3]!);
    default:
      throw DECLINE;
  }
}

/** A length (of a string, array or map) that the rest of the body can hold, one byte per item at least. */
function readLength(info: number): number {
  const size = info < 24 ? info : info === 27 ? readLongLength() : readArgument(info);
  if (size > data.length - at) throw DECLINE;
  return size;
}

function readLongLength(): number {
  if (at + 8 > data.length) throw DECLINE;
  const high = readUint32(at);
  const low = readUint32(at + 4);
  at += 8;
  // Any length beyond 32 bits exceeds the body.
  if (high !== 0) throw DECLINE;
  return low;
}

function readUint32(from: number): number {
  const bytes = data;
  return bytes[from]! * 0x100_0000 + ((bytes[from + 1]! << 16) | (bytes[from + 2]! << 8) | bytes[from + 3]!);
}

/** An unsigned integer: a `number` up to 2^53 - 1, a `bigint` beyond, as cborg reads it. */
function readUnsigned(info: number): number | bigint {
  if (info !== 27) return readArgument(info);
  if (at + 8 > data.length) throw DECLINE;
  const high = readUint32(at);
  const low = readUint32(at + 4);
  at += 8;
  return high < SAFE_HIGH_LIMIT ? high * UINT32_LIMIT + low : (BigInt(high) << 32n) | BigInt(low);
}

/** -1 - n: a `number` down to -(2^53 - 1), a `bigint` beyond, as cborg reads it. */
function readNegative(info: number): number | bigint {
  const n = readUnsigned(info);
  if (typeof n === "bigint") return -1n - n;
  return n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n);
}

function readText(size: number): string {
  const bytes = data;
  const start = at;
  const end = start + size;
  at = end;
  if (size < SHORT_TEXT) {
    let text = "";
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80) return utf8.decode(bytes.subarray(start, end));
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return utf8.decode(bytes.subarray(start, end));
}

/**
 * Short ASCII keys come back as the very string decoded last time (when the
 * slot of their hash holds it): the engine has that one internalized
 * already, which makes the property store that follows cheaper.
 */
function readKey(size: number): string {
  if (size === 0 || size > MAX_CACHED_KEY) return readText(size);
  const bytes = data;
  const start = at;
  const end = start + size;
  let hash = size;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return readText(size);
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  const slot = hash & (KEY_CACHE_SLOTS - 1);
  const cached = keyCache[slot]!;
  if (cached.length === size) {
    let same = true;
    for (let i = 0; same && i < size; i++) same = cached.charCodeAt(i) === bytes[start + i];
    if (same) {
      at = end;
      return cached;
    }
  }
  const key = readText(size);
  keyCache[slot] = key;
  return key;
}

function readArray(count: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw DECLINE;
  const array: unknown[] = [];
  for (let i = 0; i < count; i++) array.push(readItem(depth + 1));
  return array;
}

/** A map with text keys as a plain object, `__proto__` an own key, as cborg builds it; a duplicate key declines. */
function readMap(count: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH) throw DECLINE;
  const object: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    if (at >= data.length) throw DECLINE;
    const initial = data[at++]!;
    if (initial >> 5 !== 3) throw DECLINE;
    const key = readKey(readLength(initial & 0x1f));
    if (Object.hasOwn(object, key)) throw DECLINE;
    const value = readItem(depth + 1);
    if (key === "__proto__") {
      Object.defineProperty(object, key, { value, configurable: true, enumerable: true, writable: true });
    } else {
      object[key] = value;
    }
  }
  return object;
}

/** false, true, null, undefined and floats; other simple values and the break code decline. */
function readSimple(info: number): unknown {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return undefined;
    case 25:
      return readHalf();
    case 26:
      return readFloat(4);
    case 27:
      return readFloat(8);
    default:
      throw DECLINE;
  }
}

function readHalf(): number {
  if (at + 2 > data.length) throw DECLINE;
  const half = (data[at]! << 8) | data[at + 1]!;
  at += 2;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const magnitude = exponent === 0
    ? mantissa * 2 ** -24
    : exponent !== 31
    ? (mantissa + 1024) * 2 ** (exponent - 25)
    : mantissa === 0
    ? Infinity
    : NaN;
  return half & 0x8000 ? -magnitude : magnitude;
}

function readFloat(size: 4 | 8): number {
  if (at + size > data.length) throw DECLINE;
  for (let i = 0; i < size; i++) floatBytes[i] = data[at + i]!;
  at += size;
  return size === 4 ? floatView.getFloat32(0) : floatView.getFloat64(0);
}
