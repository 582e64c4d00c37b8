/**
 * Body encodings. peerlink encodes RPC parameters, results, items and errors
 * with a {@link Codec}; the default is CBOR (RFC 8949) through cborg, with
 * bignums (tags 2 and 3) and nothing else from the tag registry. The data
 * model it carries is described in docs/PROTOCOL.md, "The CBOR data model".
 * The values calls carry most skip cborg: `cbor_fast_encode.ts` and
 * `cbor_fast_decode.ts` write and read them byte for byte as cborg does, and
 * hand everything else to it.
 *
 * @module
 */

import { decode as cborDecode, type DecodeOptions, encode as cborEncode, type TagDecoder, Token, Type } from "cborg";
import { DataError, ProtocolError, UsageError } from "../base/errors.ts";
import { DECLINED, decodeCommonBody } from "./cbor_fast_decode.ts";
import { bignumBytes, encodeCommonValue, encodeCommonValueForSend } from "./cbor_fast_encode.ts";

/** Turns values into body bytes and back. */
export interface Codec {
  /** Short name, for error messages. */
  readonly name: string;
  /**
   * Encodes a value.
   *
   * @param value The value to encode.
   * @returns The encoded bytes.
   */
  encode(value: unknown): Uint8Array;
  /**
   * Optional: encodes a value behind `room` free bytes, so that a caller can
   * put a prefix in front (the call context of a session) without copying
   * the encoding.
   *
   * @param value The value to encode.
   * @param room How many bytes to leave free at the start.
   * @returns `room` bytes (any content), then what `encode` returns.
   */
  encodeWithRoom?(value: unknown, room: number): Uint8Array;
  /**
   * Decodes bytes produced by a peer's `encode`.
   *
   * @param bytes The body bytes.
   * @returns The decoded value.
   * @throws {ProtocolError} `ERR_DECODE` when the bytes are not valid: the connection is closed.
   * @throws {DataError} when the bytes are valid but hold a value this codec does not decode:
   * only the call (or item) fails.
   */
  decode(bytes: Uint8Array): unknown;
}

const BIGNUM_POSITIVE = 2;
const BIGNUM_NEGATIVE = 3;
const UINT64_LIMIT = 1n << 64n;
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** The integer of a bignum's byte string: a `number` when it is safe, as a plain CBOR integer would be. */
function bignum(tag: number, decodeContent: () => unknown): number | bigint {
  const bytes = decodeContent();
  if (!(bytes instanceof Uint8Array)) throw new Error(`tag ${tag} (bignum) must hold a byte string`);
  let hex = "0x0";
  for (const byte of bytes) hex += HEX_BYTES[byte];
  const value = tag === BIGNUM_POSITIVE ? BigInt(hex) : -1n - BigInt(hex);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const bignumTags: Record<number, TagDecoder> = {
  [BIGNUM_POSITIVE]: (decodeContent) => bignum(BIGNUM_POSITIVE, decodeContent),
  [BIGNUM_NEGATIVE]: (decodeContent) => bignum(BIGNUM_NEGATIVE, decodeContent),
};

/** A `bigint` beyond 64 bits as tag 2 or 3 around its minimal big-endian bytes; `null` lets cborg write the rest. */
function encodeBigInt(value: bigint): Token[] | null {
  if (value < UINT64_LIMIT && value >= -UINT64_LIMIT) return null;
  const magnitude = value >= 0n ? value : -1n - value;
  return [
    new Token(Type.tag, value >= 0n ? BIGNUM_POSITIVE : BIGNUM_NEGATIVE),
    new Token(Type.bytes, bignumBytes(magnitude)),
  ];
}

const encodeOptions = {
  typeEncoders: {
    bigint: encodeBigInt,
    // cborg's own `Tagged` wrapper would write any tag; peerlink sends only what it decodes.
    Tagged: (): never => {
      throw new Error("CBOR tags other than bignums are not part of peerlink's data model");
    },
  },
};
const decodeOptions = { rejectDuplicateMapKeys: true, strict: false, tags: bignumTags } as const;

/** What cborg 6.1 hands back, instead of failing, for a break code where a map value belongs (`a1 61 61 ff`). */
const STRAY_BREAK = Symbol.for("BREAK");

/** Whether a decoded value holds {@link STRAY_BREAK}; only worth asking when the body has a byte 0xff. */
function holdsStrayBreak(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return value === STRAY_BREAK;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (holdsStrayBreak(value[i])) return true;
  } else if (value instanceof Map) {
    for (const [key, item] of value) if (holdsStrayBreak(key) || holdsStrayBreak(item)) return true;
  } else if (!(value instanceof Uint8Array)) {
    for (const key in value) if (holdsStrayBreak((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** cborg's decode, refusing a stray break too. */
function decodeWellFormed(body: Uint8Array, options: DecodeOptions): unknown {
  const value = cborDecode(body, options);
  if (body.includes(0xff) && holdsStrayBreak(value)) {
    throw new Error("CBOR decode error: a break code (0xff) stands where a map value belongs");
  }
  return value;
}

/**
 * Decodes a body the quick decode refused: with `Map`s (for maps with keys
 * that are not strings) and with every tag accepted, so that the whole body
 * is checked. Malformed anywhere -> `ProtocolError`; well formed but holding
 * a tag other than bignums -> `DataError` naming the first one.
 */
function decodeSlowly(body: Uint8Array, length: number): unknown {
  let unsupportedTag: string | undefined;
  // A fresh array around the content: two such map keys are not duplicates, and a stray break inside is still found.
  const recordUnsupported: TagDecoder = (decodeContent) => [decodeContent()];
  const tags = new Proxy(bignumTags, {
    get(known, tag: string) {
      if (Object.hasOwn(known, tag)) return known[Number(tag)];
      unsupportedTag ??= tag;
      return recordUnsupported;
    },
  });
  let value: unknown;
  try {
    value = decodeWellFormed(body, { ...decodeOptions, useMaps: true, tags });
  } catch (cause) {
    throw new ProtocolError("ERR_DECODE", `Invalid CBOR body of ${length} bytes: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (unsupportedTag === undefined) return value;
  throw new DataError(
    "ERR_UNSUPPORTED_TAG",
    `The CBOR body of ${length} bytes uses tag ${unsupportedTag}; peerlink decodes only tags 2 and 3 (bignums)`,
  );
}

/** Tag 55799, "self-described CBOR" (RFC 8949 §3.4.6), is a magic number that means nothing: skip it in front. */
function withoutSelfDescribedTag(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0xd9 && bytes[1] === 0xd9 && bytes[2] === 0xf7 ? bytes.subarray(3) : bytes;
}

/** Decodes a body (of `length` bytes before any tag 55799) with cborg. */
function decodeWithCborg(body: Uint8Array, length: number): unknown {
  try {
    return decodeWellFormed(body, decodeOptions);
  } catch {
    // A map with keys that are not strings, a tag other than bignums, or malformed bytes: decodeSlowly tells which.
    return decodeSlowly(body, length);
  }
}

/**
 * The default codec: CBOR (RFC 8949) through cborg.
 *
 * - Integers decode as `number` when safe (|n| < 2^53), else as `bigint`,
 *   whether written plainly or as a bignum (tags 2 and 3). A `bigint` encodes
 *   as a plain integer within 64 bits (-2^64 .. 2^64-1) and as a bignum beyond.
 *   A `number` that is not a safe integer (a fraction, NaN, ±Infinity, or
 *   2^53 and beyond) encodes as a float, in the shortest of half, single and
 *   double that holds it exactly; -0 encodes as the integer 0. Floats decode
 *   as `number` (half -0, `f9 8000`, as -0).
 * - Byte strings decode as `Uint8Array` copies, except those of 64 KiB or
 *   more, which are views of the body (a body that large is memory of its
 *   own: the frame is not copied a second time); every typed array,
 *   `DataView` and `ArrayBuffer` encodes as the byte string of the bytes it views.
 * - Maps with text keys decode as plain objects; a body holding any map with
 *   other keys decodes all its maps as `Map`s. Duplicate keys are refused.
 * - A body holding a tag other than 2 or 3 throws `DataError`
 *   `ERR_UNSUPPORTED_TAG` (only that call fails); a leading tag 55799
 *   (self-described CBOR) is skipped. Malformed bytes (truncated, trailing,
 *   invalid heads, indefinite-length strings, simple values other than
 *   false/true/null/undefined) throw `ProtocolError` `ERR_DECODE`.
 * - Values CBOR cannot carry (functions, symbols, `Date`s, `Set`s, errors)
 *   fail to encode with `UsageError` `ERR_ENCODE`; other class instances
 *   encode as maps of their own enumerable properties, as in JSON.
 *
 * An empty body decodes as `undefined`.
 *
 * @example
 * ```ts
 * import { cborCodec } from "./codec.ts";
 * const bytes = cborCodec.encode({ n: 2n ** 64n });
 * console.assert((cborCodec.decode(bytes) as { n: bigint }).n === 2n ** 64n);
 * ```
 */
export const cborCodec: Codec = {
  name: "cbor",
  encode(value: unknown): Uint8Array {
    return encodeCommonValue(value) ?? cborgCodec.encode(value);
  },
  encodeWithRoom(value: unknown, room: number): Uint8Array {
    return encodeCommonValue(value, room) ?? withRoom(cborgCodec.encode(value), room);
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    const body = withoutSelfDescribedTag(bytes);
    const value = decodeCommonBody(body);
    return value === DECLINED ? decodeWithCborg(body, bytes.length) : value;
  },
};

/**
 * Encodes a value for one send, behind `room` free bytes (any content).
 * With {@link cborCodec}, a body of 64 KiB or more is written into a
 * buffer of the send pool (`../base/buffer_pool.ts`) that the transport
 * takes back once it wrote the body: the result must be sent once, and
 * neither kept nor sent again. Other codecs give what their `encode` (or
 * `encodeWithRoom`) gives.
 *
 * @param codec The connection's codec.
 * @param value The value.
 * @param room Free bytes in front of the encoding (default 0).
 * @returns The body.
 *
 * @example
 * ```ts
 * import { cborCodec, encodeForSend } from "./codec.ts";
 * console.assert(encodeForSend(cborCodec, [1, 2], 1).length === 4);
 * ```
 */
export function encodeForSend(codec: Codec, value: unknown, room = 0): Uint8Array {
  if (codec === cborCodec) {
    const fast = encodeCommonValueForSend(value, room);
    if (fast !== null) return fast;
    // Declined: cborg encodes it (the fast encoder is not run a second time).
    return room === 0 ? cborgCodec.encode(value) : withRoom(cborgCodec.encode(value), room);
  }
  if (room === 0) return codec.encode(value);
  return codec.encodeWithRoom?.(value, room) ?? withRoom(codec.encode(value), room);
}

/** `encoded` behind `room` free bytes, in a buffer of its own. */
function withRoom(encoded: Uint8Array, room: number): Uint8Array {
  const out = new Uint8Array(room + encoded.length);
  out.set(encoded, room);
  return out;
}

/**
 * {@link cborCodec} without its fast paths (`cbor_fast_encode.ts`,
 * `cbor_fast_decode.ts`): every value through cborg. The reference the fast
 * paths are tested and measured against; the same data model, byte for byte.
 *
 * @example
 * ```ts
 * import { cborCodec, cborgCodec } from "./codec.ts";
 * console.assert(cborgCodec.encode([1.5, "x"]).join() === cborCodec.encode([1.5, "x"]).join());
 * ```
 */
export const cborgCodec: Codec = {
  name: "cbor",
  encode(value: unknown): Uint8Array {
    try {
      return cborEncode(value, encodeOptions);
    } catch (cause) {
      throw new UsageError("ERR_ENCODE", `Cannot encode the value as CBOR: ${(cause as Error).message}`, { cause });
    }
  },
  decode(bytes: Uint8Array): unknown {
    return bytes.length === 0 ? undefined : decodeWithCborg(withoutSelfDescribedTag(bytes), bytes.length);
  },
};
