/**
 * Turns errno values into peerlink's typed errors.
 *
 * @module
 */

import { ConnectionClosedError, PeerlinkError, UsageError } from "../../src/base/errors.ts";
import { Errno, errnoName } from "./linux.ts";

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

/**
 * The error for a failed connect.
 *
 * @param shown The address in peerlink syntax.
 * @param errno The errno value.
 * @returns A {@link UsageError} `ERR_CONNECTION_FAILED`.
 */
export function connectError(shown: string, errno: number): UsageError {
  const cause = new SystemCallError("connect", errno);
  const reason = errno === Errno.ECONNREFUSED
    ? "nobody is listening there"
    : errno === Errno.ENOENT
    ? "no such socket"
    : errno === Errno.EACCES
    ? "permission denied"
    : errno === Errno.EPROTOTYPE
    ? "the socket there is not a SOCK_SEQPACKET socket"
    : errno === Errno.EAGAIN
    ? "the listener's backlog stayed full"
    : errnoName(errno);
  return new UsageError("ERR_CONNECTION_FAILED", `Cannot connect to ${shown}: ${reason}`, { cause });
}

/**
 * The error for a failed bind (other than an address already in use).
 *
 * @param shown The address in peerlink syntax.
 * @param errno The errno value.
 * @returns A {@link UsageError} `ERR_INVALID_ADDRESS`, or `ERR_ADDRESS_IN_USE` for EADDRINUSE.
 */
export function bindError(shown: string, errno: number): UsageError {
  const cause = new SystemCallError("bind", errno);
  if (errno === Errno.EADDRINUSE) {
    return new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${shown}: the address is in use`, { cause });
  }
  return new UsageError("ERR_INVALID_ADDRESS", `Cannot listen on ${shown}: ${errnoName(errno)}`, { cause });
}
