/**
 * Per-process state of the seqpacket layer (libc bindings, readiness, message
 * buffers, the runtime's file operations) and the socket set-up steps every
 * kind of socket shares.
 *
 * @module
 */

import { libcSocketFiles } from "./socket_files.ts";
import { UsageError } from "../../src/base/errors.ts";
import type { PeerCredentials } from "../../src/transport/types.ts";
import type { SocketFileOps } from "../../src/transport/unix_listener.ts";
import type { Libc, Readiness, SeqpacketBackend } from "./libc.ts";
import type { StructLayout } from "./layout.ts";
import { readPeerCredentials } from "./peer_credentials.ts";
import { MessageBuffer } from "./message_buffer.ts";
import { SendBatch } from "./send_batch.ts";
import { ReceiveBatch } from "./receive_batch.ts";
import { SystemCallError } from "./errors.ts";
import { AF_UNIX, SO_SNDBUF, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_SEQPACKET, SOL_SOCKET } from "./linux.ts";

/** Resolved socket limits. */
export interface SocketLimits {
  /** Largest datagram in bytes. */
  readonly maxPacketSize: number;
  /** Most descriptors per datagram. */
  readonly maxFds: number;
}

/** The kernel refuses datagrams larger than SO_SNDBUF minus this. */
const SNDBUF_OVERHEAD = 32;

/** Everything the sockets of one process share. */
export class SeqpacketSystem {
  /** The runtime's libc bindings. */
  readonly libc: Libc;
  /** The runtime's readiness mechanism. */
  readonly readiness: Readiness;
  /** The msghdr buffers of sendmsg. */
  readonly buffer: MessageBuffer;
  /** The buffers of every receive. */
  readonly receiver: ReceiveBatch;
  /** Datagrams gathered for one sendmmsg. */
  readonly batch: SendBatch;
  /** The socket-file operations of listeners, through the same libc bindings. */
  readonly files: SocketFileOps;
  /** Closes a descriptor; the close function given to received descriptors. */
  readonly closeFd: (fd: number) => void;

  /**
   * @param backend The runtime binding.
   * @param layout The architecture's struct layout.
   */
  constructor(backend: SeqpacketBackend, layout: StructLayout) {
    const libc = backend.libc;
    this.libc = libc;
    this.files = libcSocketFiles(libc);
    this.readiness = backend.readiness(layout);
    this.buffer = new MessageBuffer(libc);
    this.receiver = new ReceiveBatch(libc);
    this.batch = new SendBatch(libc);
    this.closeFd = (fd) => {
      libc.close(fd);
    };
  }

  /**
   * Creates a non-blocking, close-on-exec SOCK_SEQPACKET socket.
   *
   * @returns The descriptor.
   * @throws {SystemCallError} if socket(2) fails.
   */
  newSocket(): number {
    const fd = this.libc.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new SystemCallError("socket", this.libc.errno());
    return fd;
  }

  /**
   * Makes `fd` able to send datagrams of `limits.maxPacketSize` bytes and
   * sizes the shared buffers for them.
   *
   * @param fd A connected socket.
   * @param limits The socket's limits.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if the system caps the send buffer below what is needed.
   */
  prepare(fd: number, limits: SocketLimits): void {
    const needed = limits.maxPacketSize + SNDBUF_OVERHEAD;
    if (this.#sendBufferSize(fd) < needed) {
      // The kernel doubles the value it is given (for its bookkeeping) and caps it at net.core.wmem_max.
      const value = new Uint8Array(4);
      new DataView(value.buffer).setInt32(0, Math.ceil(needed / 2), true);
      if (this.libc.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, value, 4) !== 0) {
        throw new SystemCallError("setsockopt", this.libc.errno());
      }
      const granted = this.#sendBufferSize(fd);
      if (granted < needed) {
        throw new UsageError(
          "ERR_INVALID_ARGUMENT",
          `maxPacketSize of ${limits.maxPacketSize} bytes exceeds the ${
            granted - SNDBUF_OVERHEAD
          }-byte datagram limit of this system (2 × net.core.wmem_max − 32)`,
        );
      }
    }
    this.buffer.reserve(limits.maxPacketSize, limits.maxFds);
    this.receiver.reserve(limits.maxPacketSize, limits.maxFds);
  }

  #sendBufferSize(fd: number): number {
    const value = new Uint8Array(4);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, 4, true);
    if (this.libc.getsockopt(fd, SOL_SOCKET, SO_SNDBUF, value, length) !== 0) {
      throw new SystemCallError("getsockopt", this.libc.errno());
    }
    return new DataView(value.buffer).getInt32(0, true);
  }

  /**
   * Reads SO_PEERCRED.
   *
   * @param fd A connected socket.
   * @returns The peer's pid, uid and gid.
   * @throws {SystemCallError} if getsockopt fails.
   */
  peerCredentials(fd: number): PeerCredentials {
    return readPeerCredentials(this.libc, fd);
  }
}
