/**
 * File operations through `node:fs`, shared by the Node and Bun adapters:
 * socket files (their stream listeners and their seqpacket layer), and
 * reading the certificate and key files of `tls://` addresses.
 *
 * @module
 */

import { chmod, link, lstat, mkdtemp, readFile, rename, rmdir, unlink } from "node:fs/promises";
import { UsageError } from "../src/base/errors.ts";
import { unlessMissing } from "../src/transport/socket_errors.ts";
import type { SocketFileOps } from "../src/transport/unix_listener.ts";

/** The socket-file operations of Node and Bun. */
export const nodeSocketFiles: SocketFileOps = {
  async lstat(path) {
    const status = await unlessMissing(lstat(path, { bigint: true }));
    return status && { isSocket: status.isSocket(), device: status.dev, inode: status.ino };
  },
  chmod: (path, mode) => chmod(path, mode),
  link: (existing, path) => link(existing, path),
  async unlink(path) {
    await unlessMissing(unlink(path));
  },
  mkdtemp: (prefix) => mkdtemp(prefix),
  rename: (from, to) => rename(from, to),
  rmdir: (path) => rmdir(path),
};

/**
 * Reads a UTF-8 text file, such as a PEM certificate or key given as a path;
 * the `readTextFile` of a runtime adapter.
 *
 * @param path The file.
 * @returns Its text.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the file when it is missing or cannot be read, with the cause.
 *
 * @example
 * ```ts ignore
 * import { readNodeTextFile } from "./node_fs.ts";
 * const pem = await readNodeTextFile("/etc/peerlink/cert.pem");
 * ```
 */
export async function readNodeTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (cause) {
    const reason = (cause as { code?: unknown } | null)?.code === "ENOENT"
      ? "no such file"
      : (cause as Error)?.message ?? String(cause);
    throw new UsageError("ERR_INVALID_ARGUMENT", `Cannot read ${path}: ${reason}`, { cause });
  }
}
