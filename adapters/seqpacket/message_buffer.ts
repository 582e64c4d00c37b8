/**
 * The msghdr, iovec, control area and data area of every `sendmsg` of the
 * process: datagrams that pass descriptors, are too large for the send
 * batch, or wait in a socket's queue. Calls are synchronous and never
 * overlap, so one set of buffers, grown to the largest socket's limits,
 * serves all sockets. Receives use `receive_batch.ts`.
 *
 * @module
 */

import type { Libc, NativeMemory } from "./libc.ts";
import {
  cmsgSpace,
  IOV_BASE,
  IOV_LEN,
  IOVEC_SIZE,
  MSG_CONTROL,
  MSG_CONTROLLEN,
  MSG_IOV,
  MSG_IOVLEN,
  MSGHDR_SIZE,
} from "./layout.ts";
import { writeRights } from "./control_messages.ts";

/** Packs msghdr structures in memory with stable addresses. */
export class MessageBuffer {
  readonly #libc: Libc;
  readonly #header: NativeMemory;
  readonly #headerView: DataView;
  #control: NativeMemory;
  #data: NativeMemory;

  /**
   * @param libc The runtime's libc bindings.
   */
  constructor(libc: Libc) {
    this.#libc = libc;
    this.#header = libc.allocate(MSGHDR_SIZE + IOVEC_SIZE);
    this.#headerView = new DataView(this.#header.bytes.buffer);
    this.#control = libc.allocate(cmsgSpace(4));
    this.#data = libc.allocate(4096);
    // No name, one iovec at the data area (the allocation is zeroed); only lengths and the control area change.
    this.#headerView.setBigUint64(MSG_IOV, this.#header.address + BigInt(MSGHDR_SIZE), true);
    this.#headerView.setBigUint64(MSG_IOVLEN, 1n, true);
    this.#headerView.setBigUint64(MSGHDR_SIZE + IOV_BASE, this.#data.address, true);
  }

  /**
   * Grows the buffers to hold a datagram of `maxPacketSize` bytes with `maxFds` descriptors.
   *
   * @param maxPacketSize Largest datagram.
   * @param maxFds Most descriptors per datagram.
   */
  reserve(maxPacketSize: number, maxFds: number): void {
    if (maxPacketSize > this.#data.bytes.length) {
      this.#data = this.#libc.allocate(maxPacketSize);
      this.#headerView.setBigUint64(MSGHDR_SIZE + IOV_BASE, this.#data.address, true);
    }
    if (cmsgSpace(4 * maxFds) > this.#control.bytes.length) this.#control = this.#libc.allocate(cmsgSpace(4 * maxFds));
  }

  /**
   * Sends `head` and `body` as one datagram, with `fds` in one SCM_RIGHTS
   * message. The caller checked the limits given to {@link MessageBuffer.reserve}.
   *
   * @param fd The socket.
   * @param head The first bytes of the datagram.
   * @param body The rest (may be empty).
   * @param fds Descriptors to pass.
   * @param flags sendmsg flags.
   * @returns The bytes sent, or minus errno.
   */
  send(fd: number, head: Uint8Array, body: Uint8Array, fds: readonly number[], flags: number): number {
    const data = this.#data.bytes;
    data.set(head);
    if (body.length > 0) data.set(body, head.length);
    const header = this.#headerView;
    const controlLength = fds.length === 0 ? 0 : cmsgSpace(4 * fds.length);
    if (controlLength > 0) writeRights(new DataView(this.#control.bytes.buffer, 0, controlLength), fds);
    // size_t fields below 2^32: the high halves stay zero.
    header.setBigUint64(MSG_CONTROL, controlLength === 0 ? 0n : this.#control.address, true);
    header.setUint32(MSG_CONTROLLEN, controlLength, true);
    header.setUint32(MSGHDR_SIZE + IOV_LEN, head.length + body.length, true);
    const sent = this.#libc.sendmsg(fd, this.#header.bytes, flags);
    return sent < 0 ? -this.#libc.errno() : sent;
  }
}
