/**
 * Socket-file operations through `node:fs`, shared by the Node and Bun
 * adapters (their stream listeners and their seqpacket layer).
 *
 * @module
 */

import { chmod, link, lstat, readFile, unlink } from "node:fs/promises";
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
};

/** `__SO_ACCEPTCON` in /proc/net/unix: the socket is listening. */
const LISTENING_FLAG = 0x10000;

/**
 * Whether Linux lists a listening socket bound to `path` in /proc/net/unix
 * (false where that file does not exist). For runtimes whose connect errors
 * do not tell a refused connection from a socket of another type.
 *
 * @param path The socket file path, as it was bound.
 * @returns True if some socket listens there.
 */
export async function isListeningOnLinux(path: string): Promise<boolean> {
  let table: string;
  try {
    table = await readFile("/proc/net/unix", "utf8");
  } catch {
    return false;
  }
  return table.split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields.length >= 8 && fields.slice(7).join(" ") === path &&
      (parseInt(fields[3]!, 16) & LISTENING_FLAG) !== 0;
  });
}
