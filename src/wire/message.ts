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
  const view = new DataView(target.buffer, target.byteOffset + offset, HEADER_SIZE);
  view.setUint32(0, header.type, true);
  view.setUint32(4, header.requestId >>> 0, true);
  view.setInt32(8, header.serviceId | 0, true);
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
  const view = new DataView(source.buffer, source.byteOffset + offset, HEADER_SIZE);
  const type = view.getUint32(0, true);
  if (type > MessageType.Stream) {
    throw new ProtocolError("ERR_INVALID_MESSAGE_TYPE", `Unknown message type ${type} (expected 0 to 4)`);
  }
  return {
    type: type as MessageType,
    requestId: view.getUint32(4, true),
    serviceId: view.getInt32(8, true),
  };
}
