/**
 * The call context of the "call-context" capability: on a session that has
 * it, every request body starts with one flags byte, then what the flags
 * announce, then the codec's body. Flag 0x01: a u32 little-endian follows,
 * the milliseconds the caller still gives the call (its timeout or
 * deadline), so the handler can stop when nobody waits any more.
 *
 * @module
 */

import { ProtocolError } from "../base/errors.ts";
import { ByteSlab, tailOf } from "../base/byte_slab.ts";
import { type Codec, encodeForSend } from "../wire/codec.ts";

/** Flags byte: nothing follows. */
export const CALL_CONTEXT_NONE = 0x00;
/** Flags bit: a u32 little-endian "milliseconds left" follows. */
export const CALL_CONTEXT_DEADLINE = 0x01;
/** The flag bits this version knows. */
const KNOWN_FLAGS = CALL_CONTEXT_DEADLINE;
const MAX_MS = 0xffffffff;
/** Request bodies are framed (copied) as soon as they are sent: small ones are carved out of a shared slab. */
const slab = new ByteSlab();

/**
 * Prefixes a request body with its call context.
 *
 * @param body The codec's body.
 * @param msLeft Milliseconds the caller still waits, or `undefined` for no limit.
 *   Rounded up to a whole millisecond and clamped to 0 .. 2^32 − 1.
 * @returns The body to send.
 * @example
 * ```ts
 * import { decodeCallContext, encodeCallContext } from "./call_context.ts";
 * const sent = encodeCallContext(new Uint8Array([0xf6]), 250);
 * console.assert(decodeCallContext(sent).msLeft === 250);
 * ```
 */
export function encodeCallContext(body: Uint8Array, msLeft: number | undefined): Uint8Array {
  const room = msLeft === undefined ? 1 : 5;
  const out = slab.take(room + body.length);
  writeFlags(out, msLeft);
  out.set(body, room);
  return out;
}

/**
 * Splits a received request body into its call context and the codec's body.
 *
 * @param body The request body as received.
 * @returns The milliseconds the caller gives (or `undefined`), and the codec's body (a view, or a small copy on Bun: see `tailOf`).
 * @throws {ProtocolError} `ERR_DECODE` for an empty body, unknown flag bits, or a body too short for its flags.
 */
export function decodeCallContext(body: Uint8Array): { msLeft: number | undefined; body: Uint8Array } {
  if (body.length === 0) {
    throw new ProtocolError("ERR_DECODE", "The request body has no call-context flags byte");
  }
  const flags = body[0]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new ProtocolError(
      "ERR_DECODE",
      `Unknown call-context flags 0x${flags.toString(16).padStart(2, "0")} (this version knows 0x01)`,
    );
  }
  if (flags === CALL_CONTEXT_NONE) return { msLeft: undefined, body: tailOf(body, 1) };
  if (body.length < 5) {
    throw new ProtocolError(
      "ERR_DECODE",
      `The request body of ${body.length} bytes is too short for its call-context deadline (5 bytes)`,
    );
  }
  const msLeft = (body[1]! | (body[2]! << 8) | (body[3]! << 16) | (body[4]! << 24)) >>> 0;
  return { msLeft, body: tailOf(body, 5) };
}

/** Writes the flags byte (and the time left) at the start of `out`. */
function writeFlags(out: Uint8Array, msLeft: number | undefined): void {
  if (msLeft === undefined) {
    out[0] = CALL_CONTEXT_NONE;
    return;
  }
  out[0] = CALL_CONTEXT_DEADLINE;
  const ms = msLeft > 0 ? Math.min(Math.ceil(msLeft), MAX_MS) : 0;
  out[1] = ms;
  out[2] = ms >>> 8;
  out[3] = ms >>> 16;
  out[4] = ms >>> 24;
}

/**
 * Encodes a request's parameters behind its call context in one buffer,
 * for one send: through `encodeForSend`, so the body is never copied
 * behind the context (which matters for a large one).
 *
 * @param codec The connection's codec.
 * @param value The parameters.
 * @param msLeft As for {@link encodeCallContext}.
 * @returns The request body.
 */
export function encodeWithCallContext(codec: Codec, value: unknown, msLeft: number | undefined): Uint8Array {
  const out = encodeForSend(codec, value, msLeft === undefined ? 1 : 5);
  writeFlags(out, msLeft);
  return out;
}
