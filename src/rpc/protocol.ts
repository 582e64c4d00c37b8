/**
 * The conventions the RPC layer adds on top of fizyr-rpc messages: update
 * kinds, response statuses and the structured error body. docs/PROTOCOL.md
 * describes them byte by byte.
 *
 * @module
 */

import type { Codec } from "../wire/codec.ts";
import { RemoteError, RpcError } from "../base/errors.ts";
import { ERROR_TEXT_SERVICE_ID, type Message } from "../wire/message.ts";

/** Update kind of a data item (both directions). */
export const UPDATE_ITEM = 0;
/** Requester update kind: the requester will send no more items. */
export const UPDATE_END_OF_INPUT = 1;
/** Requester update kind: the requester cancelled the request. */
export const UPDATE_CANCEL: number = -1;

/** Response status of success; the body is the encoded result. */
export const STATUS_OK = 0;
/** Response status of a fizyr text error; the body is UTF-8 text. */
export const STATUS_ERROR_TEXT: number = ERROR_TEXT_SERVICE_ID;
/** Response status of a structured error; the body encodes `{ code, message, data? }`. */
export const STATUS_ERROR: number = -2;

/** The structured error body sent with {@link STATUS_ERROR}. */
export interface ErrorBody {
  /** Stable error code. */
  code: string;
  /** Human-readable message. */
  message: string;
  /** Optional data. */
  data?: unknown;
}

/**
 * Builds the error body for something a handler threw.
 *
 * @param error The thrown value.
 * @returns The structured error to send.
 */
export function errorBodyFrom(error: unknown): ErrorBody {
  if (error instanceof RpcError) {
    return error.data === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, data: error.data };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === "string" ? code : "ERR_HANDLER_FAILED", message: error.message };
  }
  return { code: "ERR_HANDLER_FAILED", message: String(error) };
}

/**
 * Turns an error response into a {@link RemoteError}.
 *
 * @param message A response whose status is negative.
 * @param codec Decodes structured error bodies.
 * @returns The error to reject the call with.
 */
export function remoteErrorFrom(message: Message, codec: Codec): RemoteError {
  const status = message.header.serviceId;
  if (status === STATUS_ERROR) {
    const body = codec.decode(message.body) as Partial<ErrorBody> | null;
    if (
      body !== null && typeof body === "object" && typeof body.code === "string" && typeof body.message === "string"
    ) {
      return new RemoteError(body.code, body.message, body.data);
    }
    return new RemoteError("ERR_REMOTE", "The peer sent a malformed error body");
  }
  const text = status === STATUS_ERROR_TEXT ? new TextDecoder().decode(message.body) : "";
  return new RemoteError("ERR_REMOTE", text || `The peer answered with error status ${status} and no message`);
}
