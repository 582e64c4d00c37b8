/**
 * Socket-file operations through Deno's file system API, for the Deno
 * stream listener and the seqpacket layer under Deno.
 *
 * @module
 */

import { unlessMissing } from "../../src/transport/socket_errors.ts";
import type { SocketFileOps } from "../../src/transport/unix_listener.ts";

/** The socket-file operations of Deno. */
export const denoSocketFiles: SocketFileOps = {
  async lstat(path) {
    const status = await unlessMissing(Deno.lstat(path));
    return status && { isSocket: status.isSocket === true, device: BigInt(status.dev), inode: BigInt(status.ino ?? 0) };
  },
  chmod: (path, mode) => Deno.chmod(path, mode),
  link: (existing, path) => Deno.link(existing, path),
  async unlink(path) {
    await unlessMissing(Deno.remove(path));
  },
  mkdtemp: (prefix) => {
    const slash = prefix.lastIndexOf("/");
    return Deno.makeTempDir({
      dir: slash < 0 ? "." : prefix.slice(0, slash + 1) || "/",
      prefix: prefix.slice(slash + 1),
    });
  },
  rename: (from, to) => Deno.rename(from, to),
  rmdir: (path) => Deno.remove(path),
};
