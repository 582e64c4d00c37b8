/**
 * Errors across the wire: the body a handler's error is answered with, and
 * the {@link RemoteError} an error response becomes on the caller's side.
 *
 * @module
 */

import type { Codec } from "../wire/codec.ts";
import { RemoteError, RpcError } from "../base/errors.ts";
import type { Message } from "../wire/message.ts";
import { type ErrorBody, STATUS_ERROR, STATUS_ERROR_TEXT } from "./protocol.ts";

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
