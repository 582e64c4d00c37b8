/**
 * Socket-file operations through `node:fs`, shared by the Node and Bun adapters.
 *
 * @module
 */

import { chmod, lstat, readFile, unlink } from "node:fs/promises";
import type { SocketFileOps } from "../src/transport/socket_file.ts";

/**
 * Builds the socket-file operations around a runtime's connect probe.
 *
 * @param isStale Returns true only if a connection to the path is refused.
 * @returns The operations.
 */
export function nodeFsSocketFileOps(isStale: (path: string) => Promise<boolean>): SocketFileOps {
  return {
    async kind(path) {
      try {
        return (await lstat(path)).isSocket() ? "socket" : "other";
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return "missing";
        throw error;
      }
    },
    isStale,
    async remove(path) {
      await unlink(path).catch((error: { code?: string }) => {
        if (error.code !== "ENOENT") throw error;
      });
    },
  };
}

/**
 * Sets a socket file's permissions.
 *
 * @param path The socket file.
 * @param mode Permission bits.
 */
export async function setSocketMode(path: string, mode: number): Promise<void> {
  await chmod(path, mode);
}

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
    return fields.length >= 8 && fields.slice(7).join(" ") === path && (parseInt(fields[3]!, 16) & LISTENING_FLAG) !== 0;
  });
}
