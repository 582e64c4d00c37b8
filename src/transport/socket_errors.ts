/**
 * Maps the errno-style codes of socket errors to peerlink's typed errors, so
 * every adapter reports the same failure the same way.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

/**
 * The typed error for a failed `listen`.
 *
 * @param cause The runtime's error (its `code` is read, e.g. `EADDRINUSE`).
 * @param address The address in peerlink syntax.
 * @returns The error to throw.
 */
export function listenError(cause: unknown, address: string): UsageError {
  const code = errnoCode(cause);
  if (code === "EADDRINUSE" || code === "AddrInUse") {
    return new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${address}: the address is in use`, { cause });
  }
  if (code === "EACCES" || code === "PermissionDenied") {
    return new UsageError("ERR_CONNECTION_FAILED", `Cannot listen on ${address}: permission denied`, { cause });
  }
  if (code === "ENOENT" || code === "NotFound") {
    return new UsageError("ERR_CONNECTION_FAILED", `Cannot listen on ${address}: the directory does not exist`, { cause });
  }
  return new UsageError("ERR_CONNECTION_FAILED", `Cannot listen on ${address}: ${messageOf(cause)}`, { cause });
}

/**
 * The typed error for a failed `connect`.
 *
 * @param cause The runtime's error.
 * @param address The address in peerlink syntax.
 * @returns The error to throw.
 */
export function connectError(cause: unknown, address: string): UsageError {
  const code = errnoCode(cause);
  const reason = code === "ENOENT" || code === "NotFound"
    ? "no socket exists there"
    : code === "ECONNREFUSED" || code === "ConnectionRefused"
    ? "nobody accepts connections there"
    : code === "EACCES" || code === "PermissionDenied"
    ? "permission denied"
    : messageOf(cause);
  return new UsageError("ERR_CONNECTION_FAILED", `Cannot connect to ${address}: ${reason}`, { cause });
}

/**
 * Whether a connect failed because nobody listens on the socket.
 *
 * @param error The runtime's error.
 * @returns True for `ECONNREFUSED`.
 */
export function isConnectionRefused(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ECONNREFUSED" || code === "ConnectionRefused";
}

function errnoCode(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const name = (error as { name?: unknown }).name;
  return typeof name === "string" ? name : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
