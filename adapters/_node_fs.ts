/**
 * Socket-file operations through `node:fs`, shared by the Node and Bun adapters.
 *
 * @module
 */

import { chmod, lstat, unlink } from "node:fs/promises";
import type { SocketFileOps } from "../src/socket_file.ts";

/**
 * Builds the socket-file operations around a runtime's connect probe.
 *
 * @param probe Returns true if a server accepts a connection at the path.
 * @returns The operations.
 */
export function nodeFsSocketFileOps(probe: (path: string) => Promise<boolean>): SocketFileOps {
  return {
    async kind(path) {
      try {
        return (await lstat(path)).isSocket() ? "socket" : "other";
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return "missing";
        throw error;
      }
    },
    probe,
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
