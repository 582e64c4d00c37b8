/**
 * An array of struct mmsghdr in memory with stable addresses, each entry
 * pointing at an iovec of its own: what `sendmmsg` and `recvmmsg` take.
 *
 * @module
 */

import type { Libc } from "./libc.ts";
import { IOVEC_SIZE, MMSGHDR_SIZE, MSG_IOV, MSG_IOVLEN } from "./layout.ts";

/** The mmsghdr array and its iovecs; names, control areas and lengths are left to the user (zeroed). */
export interface MessageVector {
  /** The mmsghdr array, as the system calls take it. */
  readonly headers: Uint8Array;
  /** A view of `headers`. */
  readonly headersView: DataView;
  /** A view of the iovec array: entry `i`'s iovec starts at `i * IOVEC_SIZE`. */
  readonly iovecsView: DataView;
}

/**
 * Allocates a vector of `count` entries.
 *
 * @param libc The runtime's libc bindings.
 * @param count How many entries.
 * @returns The vector.
 */
export function allocateMessageVector(libc: Libc, count: number): MessageVector {
  const headers = libc.allocate(count * MMSGHDR_SIZE);
  const iovecs = libc.allocate(count * IOVEC_SIZE);
  const headersView = new DataView(headers.bytes.buffer);
  for (let i = 0; i < count; i++) {
    headersView.setBigUint64(i * MMSGHDR_SIZE + MSG_IOV, iovecs.address + BigInt(i * IOVEC_SIZE), true);
    headersView.setBigUint64(i * MMSGHDR_SIZE + MSG_IOVLEN, 1n, true);
  }
  return { headers: headers.bytes, headersView, iovecsView: new DataView(iovecs.bytes.buffer) };
}
