/**
 * Errors of failed system calls, and their translation for sends and
 * receives on a connected socket. Failed binds and connects go through the
 * one mapping in `src/transport/socket_errors.ts`, which reads the errno
 * name a {@link SystemCallError} carries as its `code`.
 *
 * @module
 */

import { ConnectionClosedError, PeerlinkError, UsageError } from "../../src/base/errors.ts";
import { Errno, errnoName } from "../../src/transport/errno.ts";

/**
 * A system call failed in a way this layer does not translate further. The
 * `code` is the errno name (`EMFILE`, ...). Typed errors carry it as `cause`.
 */
export class SystemCallError extends PeerlinkError {
  /** The errno value. */
  readonly errno: number;
  /** The failing call, such as `accept4`. */
  readonly syscall: string;

  /**
   * @param syscall The failing call.
   * @param errno The errno value it left.
   */
  constructor(syscall: string, errno: number) {
    super(errnoName(errno), `${syscall}() failed with ${errnoName(errno)}`);
    this.errno = errno;
    this.syscall = syscall;
  }
}

const PEER_GONE: ReadonlySet<number> = new Set([Errno.EPIPE, Errno.ECONNRESET, Errno.ENOTCONN]);

/**
 * The error for a failed sendmsg or recvmsg on a connected socket.
 *
 * @param syscall `sendmsg` or `recvmsg`.
 * @param errno The errno value.
 * @returns {@link ConnectionClosedError} when the peer is gone, a
 * {@link UsageError} for descriptors that cannot be passed, and a
 * {@link SystemCallError} otherwise.
 */
export function transferError(syscall: string, errno: number): Error {
  const cause = new SystemCallError(syscall, errno);
  if (PEER_GONE.has(errno)) {
    return new ConnectionClosedError(`The peer closed the connection (${errnoName(errno)})`, { cause });
  }
  if (syscall === "sendmsg" && (errno === Errno.EBADF || errno === Errno.ETOOMANYREFS)) {
    return new UsageError("ERR_INVALID_ARGUMENT", "A descriptor to pass is not open or cannot be passed", { cause });
  }
  return cause;
}
