/**
 * The interface every runtime adapter implements. Adapters build their
 * listeners on `unix_listener.ts` and map socket errors with
 * `socket_errors.ts`, so every runtime reports the same failure with the
 * same code.
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
   * 2 × net.core.wmem_max). An integer from 12 to 2^31 − 33, and at most
   * what the system's send buffer allows (checked when the socket is made).
   * Default 64 KiB.
   */
  maxPacketSize?: number;
  /** The most file descriptors one message may carry: an integer from 0 to 253 (SCM_MAX_FD). Default 16. */
  maxFds?: number;
}

/** Options for creating a seqpacket listener. */
export interface SeqpacketListenOptions extends SeqpacketOptions {
  /**
   * Permissions of the socket file, applied before the listener accepts
   * anything: an integer from 0 to 0o7777. Ignored for abstract addresses.
   * Default `0o600`.
   */
  mode?: number;
  /**
   * Length of the kernel's queue of connections not yet accepted: an integer
   * from 1 to 65535. Used by seqpacket listeners; stream listeners use their
   * runtime's. Default 128.
   */
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
   * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_INVALID_ADDRESS`, `ERR_PERMISSION_DENIED` or `ERR_CONNECTION_FAILED`.
   */
  listenStream(address: SocketAddress, options: StreamListenOptions): Promise<Listener<ByteStream>>;
  /**
   * Connects to a Unix stream socket.
   *
   * @param address Path or abstract name.
   * @throws {UsageError} `ERR_CONNECTION_FAILED`.
   */
  connectStream(address: SocketAddress): Promise<ByteStream>;
  /**
   * Listens on a Unix SOCK_SEQPACKET socket.
   *
   * @param address Path or abstract name.
   * @param options Limits and permissions, range-checked by the caller.
   * @throws {UsageError} as `listenStream`, `ERR_UNSUPPORTED_PLATFORM` off Linux (or on Node without koffi), `ERR_INVALID_ARGUMENT` if the system cannot send datagrams of `maxPacketSize`.
   */
  listenSeqpacket(address: SocketAddress, options: SeqpacketListenOptions): Promise<Listener<PacketSocket>>;
  /**
   * Connects to a Unix SOCK_SEQPACKET socket.
   *
   * @param address Path or abstract name.
   * @param options Limits, range-checked by the caller.
   * @throws {UsageError} `ERR_CONNECTION_FAILED`, `ERR_UNSUPPORTED_PLATFORM`, `ERR_INVALID_ARGUMENT` as for `listenSeqpacket`.
   */
  connectSeqpacket(address: SocketAddress, options: SeqpacketOptions): Promise<PacketSocket>;
  /**
   * Creates a connected pair of SOCK_SEQPACKET sockets in this process.
   *
   * @param options Limits, range-checked by the caller.
   * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM`, `ERR_INVALID_ARGUMENT` as for `listenSeqpacket`.
   */
  seqpacketPair(options: SeqpacketOptions): Promise<[PacketSocket, PacketSocket]>;
}
