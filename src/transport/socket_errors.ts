/**
 * One mapping from socket failures to peerlink's typed errors, used by the
 * stream adapters of every runtime and by the seqpacket layer, so that a
 * condition gets the same `code` on `unix:` and `seqpacket:` everywhere.
 *
 * Runtime errors are first reduced to an errno name: Node and Bun put it in
 * `error.code` (`"ENOENT"`); Deno 2.9 does the same on its `Deno.errors.*`
 * classes (`NotFound`, `AddrInUse`, `ConnectionRefused`, ...) but throws a
 * plain `Error` whose message holds "(os error 91)" for errnos without a
 * class, such as EPROTOTYPE, and a plain `Error` "failed to lookup address
 * information: ..." when a host name does not resolve, read as Node's
 * `ENOTFOUND`; the seqpacket layer's `SystemCallError` carries the name of
 * the numeric errno its FFI call left.
 *
 * | when | errno | code |
 * |---|---|---|
 * | listen | `EADDRINUSE` | `ERR_ADDRESS_IN_USE` |
 * | listen | `ENOENT`, `ENOTDIR` (no such directory) | `ERR_INVALID_ADDRESS` |
 * | listen | `EACCES`, `EPERM`, `EROFS` | `ERR_PERMISSION_DENIED` |
 * | listen | `EADDRNOTAVAIL` (no local interface has the address), `ENOTFOUND`, `EAI_AGAIN` (the host name does not resolve) | `ERR_INVALID_ADDRESS` |
 * | listen | anything else (`EMFILE`, `ENOBUFS`, ...) | `ERR_CONNECTION_FAILED` |
 * | connect | any (`ENOENT`, `ECONNREFUSED`, `EACCES`, `EPROTOTYPE`, `EAGAIN`, `ENOTFOUND`, `ETIMEDOUT`, ...) | `ERR_CONNECTION_FAILED` |
 *
 * A failed connect is always `ERR_CONNECTION_FAILED`: a client can only
 * retry or give up, and the message says why. A failed listen keeps the
 * code of the one socket-setup failure there is no more specific code for.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import { errnoName } from "./errno.ts";

/**
 * The errno name of a runtime's socket or file error.
 *
 * @param error What the runtime threw.
 * @returns A name such as `ENOENT`, or `undefined` if the error carries none.
 *
 * @example
 * ```ts
 * import { errnoOf } from "./socket_errors.ts";
 * console.assert(errnoOf(Object.assign(new Error("gone"), { code: "ENOENT" })) === "ENOENT");
 * ```
 */
export function errnoOf(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z0-9_]+$/.test(code)) return code;
  if (!(error instanceof Error)) return undefined;
  // A permission Deno was not given (`--allow-write`, `--allow-net`) is as much a refusal as EACCES.
  if (error.name === "NotCapable") return "EACCES";
  if (error.message.startsWith("failed to lookup address information")) return "ENOTFOUND";
  const osError = /\(os error (\d+)\)/.exec(error.message);
  return osError === null ? undefined : errnoName(Number(osError[1]));
}

/**
 * Waits for a file operation, treating a missing file as a result.
 *
 * @param operation The runtime's promise.
 * @returns Its value, or `null` if it rejected with `ENOENT`.
 * @throws what the operation threw, for any other error.
 */
export async function unlessMissing<T>(operation: Promise<T>): Promise<T | null> {
  try {
    return await operation;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw error;
  }
}

/**
 * Whether a connect failed because nobody listens on the socket.
 *
 * @param error What the runtime threw.
 * @returns True for `ECONNREFUSED`.
 */
export function isConnectionRefused(error: unknown): boolean {
  return errnoOf(error) === "ECONNREFUSED";
}

/**
 * The typed error for a listener that could not be set up.
 *
 * @param cause What the runtime threw while binding, listening or preparing the socket file.
 * @param address The address in peerlink syntax.
 * @returns The error to throw; `cause` is attached.
 */
export function listenError(cause: unknown, address: string): UsageError {
  const errno = errnoOf(cause);
  const prefix = `Cannot listen on ${address}`;
  switch (errno) {
    case "EADDRINUSE":
      return new UsageError("ERR_ADDRESS_IN_USE", `${prefix}: the address is in use`, { cause });
    case "ENOENT":
      return new UsageError("ERR_INVALID_ADDRESS", `${prefix}: the directory does not exist`, { cause });
    case "ENOTDIR":
      return new UsageError("ERR_INVALID_ADDRESS", `${prefix}: a parent of the path is not a directory`, { cause });
    case "EACCES":
    case "EPERM":
      return new UsageError("ERR_PERMISSION_DENIED", `${prefix}: permission denied (${errno})`, { cause });
    case "EROFS":
      return new UsageError("ERR_PERMISSION_DENIED", `${prefix}: the file system is read-only`, { cause });
    case "EADDRNOTAVAIL":
      return new UsageError("ERR_INVALID_ADDRESS", `${prefix}: no local interface has this address`, { cause });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UsageError("ERR_INVALID_ADDRESS", `${prefix}: the host name does not resolve`, { cause });
    default:
      return new UsageError("ERR_CONNECTION_FAILED", `${prefix}: ${describe(cause, errno)}`, { cause });
  }
}

const CONNECT_REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no socket exists there",
  ENOTDIR: "no socket exists there",
  ECONNREFUSED: "nobody accepts connections there",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EPROTOTYPE: "the socket there is of another type (stream and seqpacket do not mix)",
  EAGAIN: "the listener's backlog stayed full",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve",
};

/**
 * The typed error for a connect that failed.
 *
 * @param cause What the runtime threw.
 * @param address The address in peerlink syntax.
 * @returns A {@link UsageError} `ERR_CONNECTION_FAILED` whose message says why; `cause` is attached.
 */
export function connectError(cause: unknown, address: string): UsageError {
  const errno = errnoOf(cause);
  const reason = (errno === undefined ? undefined : CONNECT_REASONS[errno]) ?? describe(cause, errno);
  return new UsageError("ERR_CONNECTION_FAILED", `Cannot connect to ${address}: ${reason}`, { cause });
}

function describe(error: unknown, errno: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return errno === undefined || message.includes(errno) ? message : `${message} (${errno})`;
}
