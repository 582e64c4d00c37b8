/**
 * The conventions the RPC layer adds on top of fizyr-rpc messages: update
 * kinds, response statuses and the structured error body. docs/PROTOCOL.md
 * describes them byte by byte. Public through the `./peer` entry point.
 *
 * @module
 */

import { ERROR_TEXT_SERVICE_ID } from "../wire/message.ts";

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
