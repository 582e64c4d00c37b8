/**
 * Body encodings. peerlink encodes RPC parameters, results, items and errors
 * with a {@link Codec}; the default is CBOR through cborg.
 *
 * @module
 */

import { decode as cborDecode, encode as cborEncode } from "cborg";
import { ProtocolError } from "./errors.ts";

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

/**
 * The default codec: CBOR (RFC 8949) through cborg. Integers beyond 2^53
 * decode as `bigint`; byte strings decode as `Uint8Array` copies; maps with
 * string keys decode as plain objects.
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
    return cborEncode(value);
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    try {
      return cborDecode(bytes, decodeOptions);
    } catch (cause) {
      throw new ProtocolError("ERR_DECODE", `Invalid CBOR body of ${bytes.length} bytes: ${(cause as Error).message}`, {
        cause,
      });
    }
  },
};
