/**
 * The msghdr, iovec, control area and data area used for every sendmsg and
 * recvmsg of the process. Calls are synchronous and never overlap, so one
 * set of buffers, grown to the largest socket's limits, serves all sockets.
 *
 * @module
 */

import type { Libc, NativeMemory } from "./libc.ts";
import {
  CMSG_HEADER_SIZE,
  CMSG_LEN_OFFSET,
  CMSG_LEVEL_OFFSET,
  CMSG_TYPE_OFFSET,
  cmsgAlign,
  cmsgLen,
  cmsgSpace,
  IOV_BASE,
  IOV_LEN,
  IOVEC_SIZE,
  MSG_CONTROL,
  MSG_CONTROLLEN,
  MSG_FLAGS,
  MSG_IOV,
  MSG_IOVLEN,
  MSG_NAME,
  MSG_NAMELEN,
  MSGHDR_SIZE,
} from "./layout.ts";
import { MSG_CMSG_CLOEXEC, SCM_RIGHTS, SOL_SOCKET } from "./linux.ts";

/** Packs and unpacks msghdr structures in memory with stable addresses. */
export class MessageBuffer {
  readonly #libc: Libc;
  readonly #header: NativeMemory;
  readonly #headerView: DataView;
  #control: NativeMemory;
  #controlView: DataView;
  #data: NativeMemory;

  /**
   * @param libc The runtime's libc bindings.
   */
  constructor(libc: Libc) {
    this.#libc = libc;
    this.#header = libc.allocate(MSGHDR_SIZE + IOVEC_SIZE);
    this.#headerView = view(this.#header.bytes);
    this.#control = libc.allocate(cmsgSpace(4));
    this.#controlView = view(this.#control.bytes);
    this.#data = libc.allocate(4096);
    this.#headerView.setBigUint64(MSG_IOV, this.#header.address + BigInt(MSGHDR_SIZE), true);
  }

  /**
   * Grows the buffers to hold a datagram of `maxPacketSize` bytes with `maxFds` descriptors.
   *
   * @param maxPacketSize Largest datagram.
   * @param maxFds Most descriptors per datagram.
   */
  reserve(maxPacketSize: number, maxFds: number): void {
    if (maxPacketSize > this.#data.bytes.length) this.#data = this.#libc.allocate(maxPacketSize);
    if (cmsgSpace(4 * maxFds) > this.#control.bytes.length) {
      this.#control = this.#libc.allocate(cmsgSpace(4 * maxFds));
      this.#controlView = view(this.#control.bytes);
    }
  }

  /**
   * Sends `data` with `fds` in one SCM_RIGHTS message. The caller checked the
   * limits given to {@link MessageBuffer.reserve}.
   *
   * @param fd The socket.
   * @param data The datagram.
   * @param fds Descriptors to pass.
   * @param flags sendmsg flags.
   * @returns The bytes sent, or minus errno.
   */
  send(fd: number, data: Uint8Array, fds: readonly number[], flags: number): number {
    this.#data.bytes.set(data);
    const controlLength = fds.length === 0 ? 0 : cmsgSpace(4 * fds.length);
    if (controlLength > 0) {
      const control = this.#controlView;
      this.#control.bytes.fill(0, 0, controlLength);
      control.setBigUint64(CMSG_LEN_OFFSET, BigInt(cmsgLen(4 * fds.length)), true);
      control.setInt32(CMSG_LEVEL_OFFSET, SOL_SOCKET, true);
      control.setInt32(CMSG_TYPE_OFFSET, SCM_RIGHTS, true);
      fds.forEach((passed, i) => control.setInt32(CMSG_HEADER_SIZE + 4 * i, passed, true));
    }
    this.#prepare(data.length, controlLength);
    const sent = this.#libc.sendmsg(fd, this.#header.bytes, flags);
    return sent < 0 ? -this.#libc.errno() : sent;
  }

  /**
   * Receives one datagram into the buffers.
   *
   * @param fd The socket.
   * @param maxPacketSize Room offered for the datagram; a longer one sets MSG_TRUNC.
   * @param maxFds Room offered for descriptors; more set MSG_CTRUNC.
   * @param flags recvmsg flags.
   * @returns The datagram's length, or minus errno.
   */
  receive(fd: number, maxPacketSize: number, maxFds: number, flags: number): number {
    this.#prepare(maxPacketSize, maxFds === 0 ? 0 : cmsgSpace(4 * maxFds));
    const received = this.#libc.recvmsg(fd, this.#header.bytes, flags);
    return received < 0 ? -this.#libc.errno() : received;
  }

  /** msg_flags of the last receive, without the MSG_CMSG_CLOEXEC echo. */
  receivedFlags(): number {
    return this.#headerView.getInt32(MSG_FLAGS, true) & ~MSG_CMSG_CLOEXEC;
  }

  /** Every descriptor in the SCM_RIGHTS messages of the last receive. */
  receivedFds(): number[] {
    const fds: number[] = [];
    const length = Math.min(Number(this.#headerView.getBigUint64(MSG_CONTROLLEN, true)), this.#control.bytes.length);
    const control = this.#controlView;
    let offset = 0;
    while (offset + CMSG_HEADER_SIZE <= length) {
      const cmsgLength = Number(control.getBigUint64(offset + CMSG_LEN_OFFSET, true));
      if (cmsgLength < CMSG_HEADER_SIZE || offset + cmsgLength > length) break;
      if (
        control.getInt32(offset + CMSG_LEVEL_OFFSET, true) === SOL_SOCKET &&
        control.getInt32(offset + CMSG_TYPE_OFFSET, true) === SCM_RIGHTS
      ) {
        const count = Math.floor((cmsgLength - CMSG_HEADER_SIZE) / 4);
        for (let i = 0; i < count; i++) fds.push(control.getInt32(offset + CMSG_HEADER_SIZE + 4 * i, true));
      }
      offset += cmsgAlign(cmsgLength);
    }
    return fds;
  }

  /**
   * Copies out the data of the last receive.
   *
   * @param length Bytes received.
   * @returns A new array the caller owns.
   */
  receivedData(length: number): Uint8Array {
    return this.#data.bytes.slice(0, length);
  }

  #prepare(dataLength: number, controlLength: number): void {
    const header = this.#headerView;
    header.setBigUint64(MSG_NAME, 0n, true);
    header.setUint32(MSG_NAMELEN, 0, true);
    header.setBigUint64(MSG_IOVLEN, 1n, true);
    header.setBigUint64(MSG_CONTROL, controlLength === 0 ? 0n : this.#control.address, true);
    header.setBigUint64(MSG_CONTROLLEN, BigInt(controlLength), true);
    header.setInt32(MSG_FLAGS, 0, true);
    header.setBigUint64(MSGHDR_SIZE + IOV_BASE, this.#data.address, true);
    header.setBigUint64(MSGHDR_SIZE + IOV_LEN, BigInt(dataLength), true);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
