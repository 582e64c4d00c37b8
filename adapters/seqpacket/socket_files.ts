/**
 * The socket-file operations of seqpacket listeners, through the same libc
 * bindings as the sockets themselves: a seqpacket listener on a path then
 * needs no permission beyond FFI (Deno's `--allow-ffi`), and every runtime
 * handles the file the same way. Errors are {@link SystemCallError}s, whose
 * `code` is the errno name the listener skeleton and `socket_errors.ts` read.
 *
 * @module
 */

import type { FileStatus, SocketFileOps } from "../../src/transport/unix_listener.ts";
import { SystemCallError } from "./errors.ts";
import { STATX_SIZE, STX_DEV_MAJOR, STX_DEV_MINOR, STX_INO, STX_MODE } from "./layout.ts";
import type { Libc } from "./libc.ts";
import { Errno } from "../../src/transport/errno.ts";
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, S_IFMT, S_IFSOCK, STATX_INO, STATX_TYPE } from "./linux.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a path as a NUL-terminated C string.
 *
 * @param path The path.
 * @returns Its UTF-8 bytes and a NUL.
 */
function cString(path: string): Uint8Array {
  const bytes = encoder.encode(path);
  const terminated = new Uint8Array(bytes.length + 1);
  terminated.set(bytes);
  return terminated;
}

/**
 * The socket-file operations over `libc`.
 *
 * @param libc The runtime's libc bindings.
 * @returns The operations.
 */
export function libcSocketFiles(libc: Libc): SocketFileOps {
  const check = (syscall: string, result: number): void => {
    if (result !== 0) throw new SystemCallError(syscall, libc.errno());
  };
  return {
    lstat(path): Promise<FileStatus | null> {
      const buffer = new Uint8Array(STATX_SIZE);
      if (libc.statx(AT_FDCWD, cString(path), AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, buffer) !== 0) {
        const errno = libc.errno();
        if (errno === Errno.ENOENT) return Promise.resolve(null);
        return Promise.reject(new SystemCallError("statx", errno));
      }
      const view = new DataView(buffer.buffer);
      return Promise.resolve({
        isSocket: (view.getUint16(STX_MODE, true) & S_IFMT) === S_IFSOCK,
        inode: view.getBigUint64(STX_INO, true),
        device: (BigInt(view.getUint32(STX_DEV_MAJOR, true)) << 32n) | BigInt(view.getUint32(STX_DEV_MINOR, true)),
      });
    },
    chmod: (path, mode) => run(() => check("chmod", libc.chmod(cString(path), mode))),
    link: (existing, path) => run(() => check("link", libc.link(cString(existing), cString(path)))),
    unlink: (path) =>
      run(() => {
        if (libc.unlink(cString(path)) !== 0 && libc.errno() !== Errno.ENOENT) {
          throw new SystemCallError("unlink", libc.errno());
        }
      }),
    rename: (from, to) => run(() => check("rename", libc.rename(cString(from), cString(to)))),
    rmdir: (path) => run(() => check("rmdir", libc.rmdir(cString(path)))),
    mkdtemp: (prefix) =>
      run(() => {
        const template = cString(`${prefix}XXXXXX`);
        if (libc.mkdtemp(template) === 0) throw new SystemCallError("mkdtemp", libc.errno());
        return decoder.decode(template.subarray(0, template.length - 1));
      }),
  };
}

/** Runs a synchronous file operation as the promise the skeleton expects. */
function run<T>(operation: () => T): Promise<T> {
  try {
    return Promise.resolve(operation());
  } catch (error) {
    return Promise.reject(error);
  }
}
