/**
 * A probe connection to a Unix socket through libc, for runtimes whose own
 * connect errors do not say why a connection failed (Bun reports every
 * failed Unix connect as ECONNREFUSED, even a full backlog or a socket of
 * another type). The answer is the kernel's errno.
 *
 * @module
 */

import { errnoName } from "../../src/transport/errno.ts";
import { packSockaddr } from "./layout.ts";
import type { Libc } from "./libc.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from "./linux.ts";
import { SystemCallError } from "./errors.ts";

/**
 * Connects a throw-away non-blocking stream socket to `path`.
 *
 * @param libc The runtime's libc bindings.
 * @param path A filesystem path, or a NUL byte and an abstract name.
 * @returns `undefined` if the connection was made (someone listens), else the errno name:
 *   `ECONNREFUSED` (nobody listens: a stale file), `EAGAIN` (a listener whose backlog is full),
 *   `EPROTOTYPE` (a live socket of another type), `ENOENT`, ...
 * @throws {SystemCallError} if no socket can be made.
 */
export function probeUnixPath(libc: Libc, path: string): string | undefined {
  const fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SystemCallError("socket", libc.errno());
  try {
    const sockaddr = packSockaddr(path);
    return libc.connect(fd, sockaddr.bytes, sockaddr.length) === 0 ? undefined : errnoName(libc.errno());
  } finally {
    libc.close(fd);
  }
}
