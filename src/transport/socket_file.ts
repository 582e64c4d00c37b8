/**
 * Socket-file housekeeping shared by every adapter: stale files from dead
 * servers are replaced, live ones are refused.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

/** The filesystem and socket operations the housekeeping needs from a runtime. */
export interface SocketFileOps {
  /**
   * What is at `path`.
   *
   * @param path The path.
   */
  kind(path: string): Promise<"socket" | "other" | "missing">;
  /**
   * Tries to connect to the socket at `path`.
   *
   * @param path The path.
   * @returns True only if the connection was refused (`ECONNREFUSED`): nobody listens there.
   */
  isStale(path: string): Promise<boolean>;
  /**
   * Removes the file at `path`, ignoring a missing file.
   *
   * @param path The path.
   */
  remove(path: string): Promise<void>;
}

/** Default permissions of a new socket file: owner read and write only. */
export const DEFAULT_SOCKET_MODE = 0o600;

/**
 * Makes `path` free for a new listener: removes a stale socket file (one
 * whose connections are refused), refuses a live socket or any other file.
 *
 * @param path Filesystem path of the socket to create.
 * @param ops Runtime operations.
 * @throws {UsageError} `ERR_ADDRESS_IN_USE` if a server answers there or a non-socket file exists.
 */
export async function claimSocketPath(path: string, ops: SocketFileOps): Promise<void> {
  const kind = await ops.kind(path);
  if (kind === "missing") return;
  if (kind === "other") {
    throw new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${path}: a file that is not a socket is in the way`);
  }
  // Only a refused connection proves the file is stale: a busy server, a
  // socket of another type or a permission error all mean someone owns it.
  if (!(await ops.isStale(path))) {
    throw new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${path}: another server is accepting connections there`);
  }
  await ops.remove(path);
}
