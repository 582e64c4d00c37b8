/**
 * The interfaces between the runtime-agnostic core and the runtime adapters.
 *
 * Adapters provide either a {@link ByteStream} (Unix stream sockets, TCP, TLS)
 * or a {@link PacketSocket} (Unix SOCK_SEQPACKET, one message per datagram,
 * with file descriptors). The core turns both into a {@link MessageTransport},
 * which is all the peer state machine sees.
 *
 * @module
 */

import type { FdHandle } from "../base/fd_handle.ts";
import type { Message, OutgoingMessage } from "../wire/message.ts";

/** Credentials of the process at the other end of a Unix socket (SO_PEERCRED). */
export interface PeerCredentials {
  /** Process id of the peer when it connected. */
  pid: number;
  /** Effective user id of the peer. */
  uid: number;
  /** Effective group id of the peer. */
  gid: number;
}

/** One end of a TCP connection. */
export interface InetEndpoint {
  /** The IP address (IPv6 without brackets). */
  host: string;
  /** The port. */
  port: number;
}

/** A certificate the other side of a TLS connection presented. */
export interface PeerCertificate {
  /** SHA-256 of the certificate's DER bytes, as 64 lowercase hex digits (what `pin` takes). */
  fingerprint256: string;
  /** The subject, such as `CN=daemon.example`, where the runtime shows it. */
  subject?: string;
}

/** What is known about the TLS session of a `tls://` connection (fields the runtime cannot show are absent). */
export interface TlsInfo {
  /** The negotiated protocol version, such as `TLSv1.3`. */
  protocol?: string;
  /** The negotiated cipher suite, such as `TLS_AES_256_GCM_SHA384`. */
  cipher?: string;
  /** The other side's certificate, if it presented one and the runtime shows it. */
  peerCertificate?: PeerCertificate;
}

/** What is known about a connection. */
export interface ConnectionInfo {
  /** Transport kind: `"unix"`, `"seqpacket"`, `"tcp"` or `"tls"`. */
  transport: string;
  /** Local address in peerlink's address syntax, if known. */
  localAddress?: string;
  /** Remote address in peerlink's address syntax, if known. */
  remoteAddress?: string;
  /** Local IP address and port (`tcp://`, `tls://`). */
  local?: InetEndpoint;
  /** Remote IP address and port (`tcp://`, `tls://`). */
  remote?: InetEndpoint;
  /** The TLS session (`tls://`). */
  tls?: TlsInfo;
  /** Peer credentials, where the transport provides them. */
  credentials?: PeerCredentials;
}

/**
 * A bidirectional byte stream, as provided by stream-socket adapters.
 * Implementations must respect the socket's backpressure: `write` resolves
 * only once the runtime can take more data.
 */
export interface ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  /**
   * Reads the next chunk. The returned bytes become owned by the caller.
   *
   * @returns The chunk, or `null` once the peer closed its side.
   */
  read(): Promise<Uint8Array | null>;
  /**
   * True when every chunk `read` returns that spans a whole `ArrayBuffer`
   * owns that buffer alone: nothing else reads or writes it, now or later.
   * The reader may then detach such a chunk once it took its bytes
   * (`ArrayBuffer.prototype.transfer(0)`), which frees the memory at once
   * instead of at the next full garbage collection (see
   * `../wire/frame_decoder.ts`). Absent means false.
   */
  readonly chunksDetachable?: boolean;
  /**
   * Writes all of `chunk`. The caller does not reuse `chunk` until this
   * settles; once it has, the stream holds no reference to a chunk of
   * 64 KiB or more (`POOLED_MIN`), whose memory the caller may use again.
   *
   * @param chunk Bytes to write.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Closes both directions and releases the socket; a pending `read` resolves `null`. */
  close(): Promise<void>;
}

/** One datagram received by a {@link PacketSocket}. */
export interface Packet {
  /** The datagram bytes, owned by the receiver. */
  data: Uint8Array;
  /** File descriptors that came with it. */
  fds: FdHandle[];
}

/**
 * A connected message-oriented socket (SOCK_SEQPACKET): one datagram per
 * message, each able to carry file descriptors.
 */
export interface PacketSocket {
  /** Information about the connection, including peer credentials. */
  readonly info: ConnectionInfo;
  /** The largest datagram this socket sends or accepts, in bytes. */
  readonly maxPacketSize: number;
  /** The most file descriptors one datagram may carry. */
  readonly maxFds: number;
  /**
   * Sends one datagram.
   *
   * @param data The datagram; never empty.
   * @param fds Descriptors to pass; they stay open on the sender.
   * @throws {UsageError} `ERR_MESSAGE_TOO_LARGE` or `ERR_TOO_MANY_FDS`, with nothing sent.
   */
  send(data: Uint8Array, fds: readonly number[]): Promise<void>;
  /**
   * Receives the next datagram.
   *
   * @returns The packet, or `null` once the peer closed the connection.
   * @throws {ProtocolError} `ERR_TRUNCATED` if the datagram or its descriptors were cut (any descriptors that arrived are closed).
   */
  receive(): Promise<Packet | null>;
  /** Closes the socket; a pending `receive` resolves `null`. */
  close(): Promise<void>;
}

/**
 * A connection that carries whole messages. The peer state machine works on
 * this alone, so a handshake can use `send`/`receive` before the peer starts.
 */
export interface MessageTransport {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  /** Largest message (header + body) that may be sent or received. */
  readonly maxMessageSize: number;
  /** The most descriptors one message may carry (0 when descriptors are not supported). */
  readonly maxFds: number;
  /**
   * Sends one message; resolves once the transport accepted it.
   *
   * @param message The message to send.
   * @throws {UsageError} `ERR_MESSAGE_TOO_LARGE`, `ERR_FDS_NOT_SUPPORTED` or `ERR_TOO_MANY_FDS`, with nothing sent.
   * @throws {ConnectionClosedError} if the connection is gone.
   */
  send(message: OutgoingMessage): Promise<void>;
  /**
   * Receives the next message. Only one `receive` may be pending at a time.
   *
   * @returns The message, or `null` at a clean end of the connection.
   * @throws {ProtocolError} on malformed input.
   */
  receive(): Promise<Message | null>;
  /**
   * Takes the next message if it is already received and whole, without
   * waiting, so that a reader can take every message of one chunk in one
   * go. Optional; not called while a `receive` is pending.
   *
   * @returns The message, or `undefined` when `receive` has to be called (to wait, or to see the end).
   * @throws {ProtocolError} on malformed input, as `receive` would.
   */
  poll?(): Message | undefined;
  /**
   * Changes the largest message `receive` accepts from now on (at most
   * `maxMessageSize`): a session keeps it at a few KiB until the peer is
   * authenticated. A longer frame is refused from its length prefix, before
   * anything is allocated for it (`ProtocolError` `ERR_FRAME_TOO_LARGE`).
   *
   * @param bytes The limit, header included.
   */
  setReceiveLimit(bytes: number): void;
  /** Closes the connection. Safe to call more than once. */
  close(): Promise<void>;
}

/** Accepts incoming connections. */
export interface Listener<T> {
  /** The address in peerlink syntax the listener is bound to. */
  readonly address: string;
  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the listener is closed.
   */
  accept(): Promise<T | null>;
  /**
   * Stops listening and removes the socket file, if any, while it is still
   * the file this listener created. Safe to call more than once.
   */
  close(): Promise<void>;
}
