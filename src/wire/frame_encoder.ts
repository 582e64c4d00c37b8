/**
 * Encodes messages as length-prefixed frames for byte streams (the inverse
 * of {@link FrameDecoder} in `frame_decoder.ts`).
 *
 * @module
 */

import { LENGTH_PREFIX_SIZE } from "./frame_decoder.ts";
import { HEADER_SIZE, type MessageHeader, writeHeader } from "./message.ts";

/**
 * Encodes the 16 bytes in front of a body: the u32 length prefix and the header.
 *
 * @param header The message header.
 * @param bodyLength Length of the body that follows.
 * @returns The frame head.
 */
export function encodeFrameHead(header: MessageHeader, bodyLength: number): Uint8Array {
  const head = new Uint8Array(LENGTH_PREFIX_SIZE + HEADER_SIZE);
  writeFrameHead(head, header, bodyLength);
  return head;
}

/** Writes the length prefix and header at the start of `target`. */
function writeFrameHead(target: Uint8Array, header: MessageHeader, bodyLength: number): void {
  const length = HEADER_SIZE + bodyLength;
  target[0] = length;
  target[1] = length >>> 8;
  target[2] = length >>> 16;
  target[3] = length >>> 24;
  writeHeader(header, target, LENGTH_PREFIX_SIZE);
}

/**
 * Encodes a whole frame: length prefix, header and body.
 *
 * @param header The message header.
 * @param body The body.
 * @returns The frame bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame_encoder.ts";
 * const frame = encodeFrame({ type: 0, requestId: 21, serviceId: 0 }, new TextEncoder().encode("Hello World"));
 * console.assert(frame.length === 27 && frame[0] === 23);
 * ```
 */
export function encodeFrame(header: MessageHeader, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(LENGTH_PREFIX_SIZE + HEADER_SIZE + body.length);
  encodeFrameInto(frame, header, body);
  return frame;
}

/**
 * Encodes a whole frame into `target`, which must be exactly its size
 * (16 bytes more than the body).
 *
 * @param target Where the frame goes.
 * @param header The message header.
 * @param body The body.
 */
export function encodeFrameInto(target: Uint8Array, header: MessageHeader, body: Uint8Array): void {
  writeFrameHead(target, header, body.length);
  target.set(body, LENGTH_PREFIX_SIZE + HEADER_SIZE);
}
