/**
 * Address strings: what users type to name a socket.
 *
 * | form | meaning |
 * |---|---|
 * | `unix:/run/app.sock`, `unix:./app.sock`, `/run/app.sock` | Unix stream socket at a filesystem path |
 * | `unix:@name` | Unix stream socket in the Linux abstract namespace |
 * | `seqpacket:/run/app.sock`, `seqpacket:@name` | Unix SOCK_SEQPACKET socket (Linux), carries file descriptors |
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

/** Largest `sun_path` on Linux, including the terminating NUL (or the leading NUL of an abstract name). */
export const SUN_PATH_SIZE = 108;

/** A parsed address. */
export interface SocketAddress {
  /** Socket kind. */
  transport: "unix" | "seqpacket";
  /** Filesystem path, or the abstract name without its leading NUL. */
  path: string;
  /** True for a Linux abstract-namespace name. */
  abstract: boolean;
}

const encoder = new TextEncoder();

/**
 * Parses an address string.
 *
 * @param address An address such as `unix:/run/app.sock` or `unix:@app`.
 * @returns The parsed address.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` for an unknown form, `ERR_PATH_TOO_LONG` when the path does not fit `sun_path`.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * console.assert(parseAddress("unix:@app").abstract);
 * ```
 */
export function parseAddress(address: string): SocketAddress {
  if (typeof address !== "string" || address.length === 0) {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Expected an address string such as "unix:/run/app.sock", got ${String(address)}`,
    );
  }
  let transport: SocketAddress["transport"];
  let rest: string;
  if (address.startsWith("unix:")) [transport, rest] = ["unix", address.slice(5)];
  else if (address.startsWith("seqpacket:")) [transport, rest] = ["seqpacket", address.slice(10)];
  else if (address.startsWith("/") || address.startsWith("./") || address.startsWith("../")) {
    [transport, rest] = ["unix", address];
  } else {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Unknown address "${address}": expected unix:/path, unix:@name, seqpacket:/path or seqpacket:@name`,
    );
  }
  const abstract = rest.startsWith("@");
  const path = abstract ? rest.slice(1) : rest;
  if (path.length === 0) throw new UsageError("ERR_INVALID_ADDRESS", `Address "${address}" has an empty path`);
  if (path.includes("\0")) throw new UsageError("ERR_INVALID_ADDRESS", `Address "${address}" contains a NUL byte`);
  const bytes = encoder.encode(path).length;
  const limit = SUN_PATH_SIZE - 1;
  if (bytes > limit) {
    throw new UsageError(
      "ERR_PATH_TOO_LONG",
      `Socket ${abstract ? "name" : "path"} of ${bytes} bytes exceeds the ${limit}-byte sun_path limit: "${path}"`,
    );
  }
  return { transport, path, abstract };
}

/**
 * Formats a parsed address back into its string form.
 *
 * @param address The parsed address.
 * @returns The address string.
 */
export function formatAddress(address: SocketAddress): string {
  return `${address.transport}:${address.abstract ? "@" : ""}${address.path}`;
}

/**
 * The path string runtimes' socket APIs take: the filesystem path, or a NUL
 * byte followed by the name for an abstract address.
 *
 * @param address The parsed address.
 * @returns The path to hand to `listen`/`connect`.
 */
export function socketPathOf(address: SocketAddress): string {
  return address.abstract ? `\0${address.path}` : address.path;
}
