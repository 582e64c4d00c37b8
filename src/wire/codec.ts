/**
 * Body encodings. peerlink encodes RPC parameters, results, items and errors
 * with a {@link Codec}; the default is CBOR through cborg.
 *
 * @module
 */

import { decode as cborDecode, encode as cborEncode } from "cborg";
import { ProtocolError, UsageError } from "../base/errors.ts";

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
   * Decodes bytes produced by a peer's `encode`.
   *
   * @param bytes The body bytes.
   * @returns The decoded value.
   * @throws {ProtocolError} `ERR_DECODE` when the bytes are not valid.
   */
  decode(bytes: Uint8Array): unknown;
}

const decodeOptions = { rejectDuplicateMapKeys: true, strict: false } as const;
const decodeWithMaps = { ...decodeOptions, useMaps: true } as const;

/**
 * The default codec: CBOR (RFC 8949) through cborg. Integers beyond 2^53
 * decode as `bigint`; byte strings decode as `Uint8Array` copies; maps with
 * string keys decode as plain objects, and a body holding any map with other
 * keys decodes all its maps as `Map`s. Values this codec cannot carry
 * (functions, symbols, `Date`s, class instances) fail to encode with
 * `ERR_ENCODE`.
 *
 * @example
 * ```ts
 * import { cborCodec } from "./codec.ts";
 * const bytes = cborCodec.encode({ n: 1 });
 * console.assert((cborCodec.decode(bytes) as { n: number }).n === 1);
 * ```
 */
export const cborCodec: Codec = {
  name: "cbor",
  encode(value: unknown): Uint8Array {
    try {
      return cborEncode(value);
    } catch (cause) {
      throw new UsageError("ERR_ENCODE", `Cannot encode the value as CBOR: ${(cause as Error).message}`, { cause });
    }
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    try {
      return cborDecode(bytes, decodeOptions);
    } catch {
      // Decoding as plain objects refuses maps with non-string keys; decoding with Maps does not.
      // If that succeeds, such a map was the only problem, and every map of this body becomes a Map.
    }
    try {
      return cborDecode(bytes, decodeWithMaps);
    } catch (cause) {
      throw new ProtocolError("ERR_DECODE", `Invalid CBOR body of ${bytes.length} bytes: ${(cause as Error).message}`, {
        cause,
      });
    }
  },
};
