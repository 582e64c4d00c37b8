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
  new DataView(head.buffer).setUint32(0, HEADER_SIZE + bodyLength, true);
  writeHeader(header, head, LENGTH_PREFIX_SIZE);
  return head;
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
  frame.set(encodeFrameHead(header, body.length));
  frame.set(body, LENGTH_PREFIX_SIZE + HEADER_SIZE);
  return frame;
}
