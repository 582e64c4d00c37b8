/**
 * What an inherited descriptor is, as `getsockopt` SO_DOMAIN, SO_TYPE and
 * SO_ACCEPTCONN say: for socket activation (`../socket_activation.ts`) and
 * for the channel a parent process hands its child (`connect.ts`).
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { InheritedSocketType } from "../../src/transport/socket_activation.ts";
import type { Libc } from "./libc.ts";
import { SOL_SOCKET } from "./linux.ts";

const SO_TYPE = 3;
const SO_ACCEPTCONN = 30;
const SO_DOMAIN = 39;
const EBADF = 9;
const ENOTSOCK = 88;

/** Reads one int socket option; the errno on failure. */
function intOption(libc: Libc, fd: number, name: number): number | { errno: number } {
  const value = new Uint8Array(4);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, 4, true);
  if (libc.getsockopt(fd, SOL_SOCKET, name, value, length) !== 0) return { errno: libc.errno() };
  return new DataView(value.buffer).getInt32(0, true);
}

/**
 * Asks the kernel what a descriptor is.
 *
 * @param libc The runtime's libc bindings.
 * @param fd The descriptor.
 * @param refuse Makes the error to throw from why the descriptor cannot be examined ("is not open").
 * @returns Its domain, type and whether it listens.
 * @throws what `refuse` returns, when the descriptor is not open or not a socket.
 */
export function socketTypeOf(libc: Libc, fd: number, refuse: (why: string) => UsageError): InheritedSocketType {
  const domain = intOption(libc, fd, SO_DOMAIN);
  const type = intOption(libc, fd, SO_TYPE);
  const listening = intOption(libc, fd, SO_ACCEPTCONN);
  for (const result of [domain, type, listening]) {
    if (typeof result === "number") continue;
    throw refuse(
      result.errno === EBADF
        ? "is not open"
        : result.errno === ENOTSOCK
        ? "is not a socket"
        : `cannot be examined (errno ${result.errno})`,
    );
  }
  return { domain: domain as number, type: type as number, listening: listening !== 0 };
}
