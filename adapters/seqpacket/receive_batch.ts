/**
 * The buffers every receive of the process uses: up to
 * {@link RECEIVE_BATCH_MAX} datagrams per `recvmmsg`, each with its own
 * data and control area laid out for the receiving socket's limits, so
 * that a socket with several datagrams waiting takes them with one system
 * call. Calls are synchronous and never overlap, so one set serves all
 * sockets; it grows to hold one datagram of the largest socket.
 *
 * @module
 */

import type { Libc, NativeMemory } from "./libc.ts";
import { ByteSlab } from "../../src/base/byte_slab.ts";
import {
  cmsgSpace,
  IOV_BASE,
  IOV_LEN,
  IOVEC_SIZE,
  MMSG_LEN,
  MMSGHDR_SIZE,
  MSG_CONTROL,
  MSG_CONTROLLEN,
  MSG_FLAGS,
} from "./layout.ts";
import { readRights } from "./control_messages.ts";
import { allocateMessageVector } from "./message_vector.ts";
import { MSG_CMSG_CLOEXEC } from "./linux.ts";

/** The most datagrams one receive takes. */
const RECEIVE_BATCH_MAX = 16;
/** Bytes of data area a batch uses at least: sockets with larger datagrams take fewer per call (at least one). */
const RECEIVE_BATCH_BYTES = 512 * 1024;

/** Receives datagrams into memory with stable addresses and copies them out. */
export class ReceiveBatch {
  readonly #libc: Libc;
  readonly #headers: Uint8Array;
  readonly #headersView: DataView;
  readonly #iovecsView: DataView;
  #data: NativeMemory;
  #control: NativeMemory;
  #controlView: DataView;
  /** The limits the entries are laid out for (-1: none yet), and how many entries that gives. */
  #packetSize = -1;
  #controlLength = -1;
  #count = 0;
  /** How many entries the last call filled. */
  #filled = 0;
  readonly #slab = new ByteSlab();

  /**
   * @param libc The runtime's libc bindings.
   */
  constructor(libc: Libc) {
    this.#libc = libc;
    const vector = allocateMessageVector(libc, RECEIVE_BATCH_MAX);
    this.#headers = vector.headers;
    this.#headersView = vector.headersView;
    this.#iovecsView = vector.iovecsView;
    this.#data = libc.allocate(RECEIVE_BATCH_BYTES);
    this.#control = libc.allocate(RECEIVE_BATCH_MAX * cmsgSpace(4));
    this.#controlView = new DataView(this.#control.bytes.buffer);
  }

  /**
   * Grows the buffers to hold at least one datagram of `maxPacketSize`
   * bytes with `maxFds` descriptors (and a full batch of smaller ones).
   *
   * @param maxPacketSize Largest datagram.
   * @param maxFds Most descriptors per datagram.
   */
  reserve(maxPacketSize: number, maxFds: number): void {
    if (maxPacketSize > this.#data.bytes.length) {
      this.#data = this.#libc.allocate(maxPacketSize);
      this.#packetSize = -1;
    }
    const controlSize = RECEIVE_BATCH_MAX * cmsgSpace(4 * maxFds);
    if (controlSize > this.#control.bytes.length) {
      this.#control = this.#libc.allocate(controlSize);
      this.#controlView = new DataView(this.#control.bytes.buffer);
      this.#packetSize = -1;
    }
  }

  /**
   * Receives what has arrived, up to a batch: as many datagrams of the
   * socket's largest size as the data area holds (at most {@link RECEIVE_BATCH_MAX}).
   *
   * @param fd The socket.
   * @param maxPacketSize Room offered per datagram; a longer one sets MSG_TRUNC.
   * @param maxFds Room offered for descriptors per datagram; more set MSG_CTRUNC.
   * @param flags recvmmsg flags.
   * @returns How many datagrams were received, or minus errno.
   */
  receive(fd: number, maxPacketSize: number, maxFds: number, flags: number): number {
    this.#prepare(maxPacketSize, maxFds === 0 ? 0 : cmsgSpace(4 * maxFds));
    const received = this.#libc.recvmmsg(fd, this.#headers, this.#count, flags);
    this.#filled = Math.max(received, 0);
    return received < 0 ? -this.#libc.errno() : received;
  }

  /**
   * The length of datagram `index` of the last receive.
   *
   * @param index Below the count the receive returned.
   */
  receivedLength(index: number): number {
    return this.#headersView.getUint32(index * MMSGHDR_SIZE + MMSG_LEN, true);
  }

  /**
   * msg_flags of datagram `index`, without the MSG_CMSG_CLOEXEC echo.
   *
   * @param index Below the count the receive returned.
   */
  receivedFlags(index: number): number {
    return this.#headersView.getInt32(index * MMSGHDR_SIZE + MSG_FLAGS, true) & ~MSG_CMSG_CLOEXEC;
  }

  /**
   * Every descriptor in the SCM_RIGHTS messages of datagram `index`.
   *
   * @param index Below the count the receive returned.
   */
  receivedFds(index: number): readonly number[] {
    // msg_controllen is a size_t the kernel set to at most what was offered, which fits in 32 bits.
    const length = Math.min(
      this.#headersView.getUint32(index * MMSGHDR_SIZE + MSG_CONTROLLEN, true),
      this.#controlLength,
    );
    return readRights(this.#controlView, index * this.#controlLength, length);
  }

  /**
   * Copies out datagram `index`, small ones into a slab (Node and Deno
   * allocate every typed array above 64 bytes outside the heap, at about
   * 650 ns).
   *
   * @param index Below the count the receive returned.
   * @param length Its length.
   * @returns Bytes the caller owns; later receives do not touch them.
   */
  receivedData(index: number, length: number): Uint8Array {
    const bytes = this.#slab.take(length);
    const start = index * this.#packetSize;
    bytes.set(this.#data.bytes.subarray(start, start + length));
    return bytes;
  }

  /** Lays the entries out for these limits; after a call with the same limits, resets only what the kernel changed. */
  #prepare(packetSize: number, controlLength: number): void {
    const headers = this.#headersView;
    if (packetSize !== this.#packetSize || controlLength !== this.#controlLength) {
      this.#count = Math.max(1, Math.min(RECEIVE_BATCH_MAX, Math.floor(this.#data.bytes.length / packetSize)));
      for (let i = 0; i < this.#count; i++) {
        const header = i * MMSGHDR_SIZE;
        headers.setBigUint64(
          header + MSG_CONTROL,
          controlLength === 0 ? 0n : this.#control.address + BigInt(i * controlLength),
          true,
        );
        headers.setUint32(header + MSG_CONTROLLEN, controlLength, true);
        const iovec = i * IOVEC_SIZE;
        this.#iovecsView.setBigUint64(iovec + IOV_BASE, this.#data.address + BigInt(i * packetSize), true);
        this.#iovecsView.setUint32(iovec + IOV_LEN, packetSize, true);
      }
      this.#packetSize = packetSize;
      this.#controlLength = controlLength;
    } else {
      for (let i = 0; i < this.#filled; i++) headers.setUint32(i * MMSGHDR_SIZE + MSG_CONTROLLEN, controlLength, true);
    }
    this.#filled = 0;
  }
}
