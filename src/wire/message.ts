/**
 * The fizyr-rpc message layer: a 12-byte little-endian header followed by a
 * body. See docs/PROTOCOL.md for every byte.
 *
 * @module
 */

import { ProtocolError } from "../base/errors.ts";
import type { FdHandle } from "../base/fd_handle.ts";

/** Size of the message header in bytes. */
export const HEADER_SIZE = 12;

/** The five message types of the fizyr-rpc protocol. */
export const MessageType = {
  /** Opens a request. */
  Request: 0,
  /** Closes a request; service id >= 0 is success, < 0 an error. */
  Response: 1,
  /** An update sent by the side that opened the request. */
  RequesterUpdate: 2,
  /** An update sent by the side that received the request. */
  ResponderUpdate: 3,
  /** A one-way message outside any request. */
  Stream: 4,
} as const;

/** One of the values of {@link MessageType}. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** The decoded 12-byte header. */
export interface MessageHeader {
  /** What kind of message this is. */
  type: MessageType;
  /** The request this message belongs to (0 for stream messages). */
  requestId: number;
  /** Service id, response status, update kind or stream kind, depending on `type`. */
  serviceId: number;
}

/** A message received from a peer. */
export interface Message {
  /** The decoded header. */
  header: MessageHeader;
  /** The body bytes; owned by the receiver (never aliases a reused buffer). */
  body: Uint8Array;
  /** File descriptors that arrived with the message (datagram transports only). */
  fds: FdHandle[];
}

/** A message to send. */
export interface OutgoingMessage {
  /** The header to write. */
  header: MessageHeader;
  /** The body bytes. */
  body: Uint8Array;
  /** File descriptors to pass along (datagram transports only). They stay open on the sender. */
  fds?: readonly number[];
}

/** Status service id of a fizyr error response whose body is UTF-8 text. */
export const ERROR_TEXT_SERVICE_ID: number = -1;

/**
 * Writes `header` into `target` at `offset` (little endian).
 *
 * @param header The header to write.
 * @param target Buffer with at least 12 bytes after `offset`.
 * @param offset Where to start writing.
 */
export function writeHeader(header: MessageHeader, target: Uint8Array, offset = 0): void {
  writeU32(target, offset, header.type);
  writeU32(target, offset + 4, header.requestId >>> 0);
  writeU32(target, offset + 8, header.serviceId | 0);
}

/** Writes the low 32 bits of `value` at `offset`, little endian (no `DataView` per message). */
function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value;
  target[offset + 1] = value >>> 8;
  target[offset + 2] = value >>> 16;
  target[offset + 3] = value >>> 24;
}

/**
 * Reads a header from `source` at `offset`, validating the message type.
 *
 * @param source Bytes holding at least 12 bytes after `offset`.
 * @param offset Where the header starts.
 * @returns The decoded header.
 * @throws {ProtocolError} `ERR_FRAME_TOO_SMALL` if fewer than 12 bytes, `ERR_INVALID_MESSAGE_TYPE` for a type above 4.
 */
export function readHeader(source: Uint8Array, offset = 0): MessageHeader {
  if (source.length - offset < HEADER_SIZE) {
    throw new ProtocolError(
      "ERR_FRAME_TOO_SMALL",
      `Message of ${source.length - offset} bytes is shorter than the ${HEADER_SIZE}-byte header`,
    );
  }
  const type = readI32(source, offset) >>> 0;
  if (type > MessageType.Stream) {
    throw new ProtocolError("ERR_INVALID_MESSAGE_TYPE", `Unknown message type ${type} (expected 0 to 4)`);
  }
  return {
    type: type as MessageType,
    requestId: readI32(source, offset + 4) >>> 0,
    serviceId: readI32(source, offset + 8),
  };
}

/** The signed 32-bit little-endian integer at `offset`. */
function readI32(source: Uint8Array, offset: number): number {
  return source[offset]! | (source[offset + 1]! << 8) | (source[offset + 2]! << 16) | (source[offset + 3]! << 24);
}
