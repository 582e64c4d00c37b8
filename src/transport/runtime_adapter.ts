/**
 * The interface every runtime adapter implements.
 *
 * @module
 */

import type { SocketAddress } from "./address.ts";
import type { ByteStream, Listener, PacketSocket } from "./types.ts";

/** Options for creating a stream-socket listener. */
export interface StreamListenOptions {
  /** Permissions of the socket file (path addresses only). Default `0o600`. */
  mode?: number;
}

/** Options of every seqpacket socket. */
export interface SeqpacketOptions {
  /**
   * The largest datagram (12-byte header + body) sent or received, in bytes.
   * The socket's send buffer is grown to fit it (the kernel refuses
   * datagrams above SO_SNDBUF − 32 bytes, and SO_SNDBUF is capped at
   * 2 × net.core.wmem_max). Default 64 KiB.
   */
  maxPacketSize?: number;
  /** The most file descriptors one message may carry, at most 253 (SCM_MAX_FD). Default 16. */
  maxFds?: number;
}

/** Options for creating a seqpacket listener. */
export interface SeqpacketListenOptions extends SeqpacketOptions {
  /**
   * Permissions of the socket file, applied before the listener accepts
   * anything. Ignored for abstract addresses. Default `0o600`.
   */
  mode?: number;
  /** Length of the kernel's queue of connections not yet accepted. Default 128. */
  backlog?: number;
}

/** Socket operations of one runtime (Deno, Bun or Node). */
export interface RuntimeAdapter {
  /** `"deno"`, `"bun"` or `"node"`. */
  readonly name: string;
  /**
   * Listens on a Unix stream socket.
   *
   * @param address Path or abstract name.
   * @param options Socket file permissions.
   */
  listenStream(address: SocketAddress, options: StreamListenOptions): Promise<Listener<ByteStream>>;
  /**
   * Connects to a Unix stream socket.
   *
   * @param address Path or abstract name.
   */
  connectStream(address: SocketAddress): Promise<ByteStream>;
  /**
   * Listens on a Unix SOCK_SEQPACKET socket.
   *
   * @param address Path or abstract name.
   * @param options Limits and permissions.
   */
  listenSeqpacket(address: SocketAddress, options: SeqpacketListenOptions): Promise<Listener<PacketSocket>>;
  /**
   * Connects to a Unix SOCK_SEQPACKET socket.
   *
   * @param address Path or abstract name.
   * @param options Limits.
   */
  connectSeqpacket(address: SocketAddress, options: SeqpacketOptions): Promise<PacketSocket>;
  /**
   * Creates a connected pair of SOCK_SEQPACKET sockets in this process.
   *
   * @param options Limits.
   */
  seqpacketPair(options: SeqpacketOptions): Promise<[PacketSocket, PacketSocket]>;
}
