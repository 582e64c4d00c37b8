/**
 * SCM_RIGHTS control messages: packing the descriptors a datagram passes,
 * and reading those that came with one.
 *
 * @module
 */

import {
  CMSG_HEADER_SIZE,
  CMSG_LEN_OFFSET,
  CMSG_LEVEL_OFFSET,
  CMSG_TYPE_OFFSET,
  cmsgAlign,
  cmsgLen,
} from "./layout.ts";
import { SCM_RIGHTS, SOL_SOCKET } from "./linux.ts";

/** No descriptors: shared, since callers only read it. */
const NO_FDS: readonly number[] = Object.freeze([]);

/**
 * Writes one SCM_RIGHTS message with `fds` at the start of `control`.
 *
 * @param control The control area, at least `cmsgSpace(4 * fds.length)` bytes.
 * @param fds Descriptors to pass (at least one).
 */
export function writeRights(control: DataView, fds: readonly number[]): void {
  new Uint8Array(control.buffer, control.byteOffset, control.byteLength).fill(0);
  // cmsg_len is a size_t; its value fits in the low 32 bits.
  control.setUint32(CMSG_LEN_OFFSET, cmsgLen(4 * fds.length), true);
  control.setInt32(CMSG_LEVEL_OFFSET, SOL_SOCKET, true);
  control.setInt32(CMSG_TYPE_OFFSET, SCM_RIGHTS, true);
  for (let i = 0; i < fds.length; i++) control.setInt32(CMSG_HEADER_SIZE + 4 * i, fds[i]!, true);
}

/**
 * Every descriptor in the SCM_RIGHTS messages of a received control area.
 *
 * @param control The control areas.
 * @param offset Where this datagram's area starts.
 * @param length The msg_controllen the kernel set.
 * @returns The descriptors, in order.
 */
export function readRights(control: DataView, offset: number, length: number): readonly number[] {
  if (length < CMSG_HEADER_SIZE) return NO_FDS;
  const fds: number[] = [];
  let at = 0;
  while (at + CMSG_HEADER_SIZE <= length) {
    const cmsgLength = Number(control.getBigUint64(offset + at + CMSG_LEN_OFFSET, true));
    if (cmsgLength < CMSG_HEADER_SIZE || at + cmsgLength > length) break;
    if (
      control.getInt32(offset + at + CMSG_LEVEL_OFFSET, true) === SOL_SOCKET &&
      control.getInt32(offset + at + CMSG_TYPE_OFFSET, true) === SCM_RIGHTS
    ) {
      const count = Math.floor((cmsgLength - CMSG_HEADER_SIZE) / 4);
      for (let i = 0; i < count; i++) fds.push(control.getInt32(offset + at + CMSG_HEADER_SIZE + 4 * i, true));
    }
    at += cmsgAlign(cmsgLength);
  }
  return fds;
}
