/**
 * File operations through `node:fs`, shared by the Node and Bun adapters:
 * socket files (their stream listeners), reading the certificate and key
 * files of `tls://` addresses, creating files that must be new (secret
 * files), and the owner and mode of a file.
 *
 * @module
 */

import { chmod, link, lstat, mkdtemp, open, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { UsageError } from "../src/base/errors.ts";
import type { FileStatus } from "../src/transport/runtime_adapter.ts";
import { unlessMissing } from "../src/transport/socket_errors.ts";
import type { SocketFileOps } from "../src/transport/unix_listener.ts";
import { fileError } from "./file_errors.ts";

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

/**
 * Creates a file that must not exist yet (`O_CREAT | O_EXCL`, which also
 * refuses a dangling symbolic link), gives it exactly `mode` through its
 * descriptor before anything is written (the umask only narrows the mode
 * `open` applies), then writes `text`; the `createFile` of a runtime
 * adapter. A file whose writing failed is removed again.
 *
 * @param path The file.
 * @param text What it holds (UTF-8).
 * @param mode Its permission bits, such as `0o600`.
 * @throws {UsageError} `ERR_FILE_EXISTS` if anything is at `path` (it is left untouched), else
 *   `ERR_PERMISSION_DENIED` or `ERR_INVALID_ARGUMENT` naming the file, with the cause.
 *
 * @example
 * ```ts ignore
 * import { createNodeFile } from "./node_fs.ts";
 * await createNodeFile("/run/app/secret", "0123456789abcdef\n", 0o600);
 * ```
 */
export async function createNodeFile(path: string, text: string, mode: number): Promise<void> {
  let file;
  try {
    file = await open(path, "wx", mode);
  } catch (cause) {
    throw fileError(cause, path, "create");
  }
  try {
    await file.chmod(mode);
    await file.writeFile(text, "utf8");
    await file.close();
  } catch (cause) {
    await file.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw fileError(cause, path, "create");
  }
}

/**
 * The owner and permission bits of a file, symbolic links followed; the
 * `fileStatus` of a runtime adapter.
 *
 * @param path The file.
 * @returns Its mode (`st_mode & 0o7777`) and owner.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` (or `ERR_PERMISSION_DENIED`) naming the file, with the cause.
 */
export async function nodeFileStatus(path: string): Promise<FileStatus> {
  try {
    const status = await stat(path);
    return { mode: status.mode & 0o7777, uid: status.uid };
  } catch (cause) {
    throw fileError(cause, path, "examine");
  }
}
