/**
 * Linux errno numbers and their names, for the socket code of every runtime:
 * the seqpacket layer reads numbers from FFI calls, and Deno reports some
 * socket errors only as "(os error N)". The numbers are the same on x86_64
 * and aarch64 (both use the generic errno table).
 *
 * @module
 */

/** The errno values peerlink reacts to or names, by name. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EEXIST: 17,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EROFS: 30,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ELOOP: 40,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  EADDRINUSE: 98,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETOOMANYREFS: 109,
  ECONNREFUSED: 111,
} as const;

const errnoNames = new Map<number, string>(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);

/**
 * Names an errno value.
 *
 * @param errno The value.
 * @returns Its symbolic name, or `errno N` for values not in {@link Errno}.
 *
 * @example
 * ```ts
 * import { errnoName } from "./errno.ts";
 * console.assert(errnoName(111) === "ECONNREFUSED");
 * ```
 */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}
