/**
 * The options and signatures of the functions every entry point exports:
 * `listen` and `connect` (RPC), and `listenTransport`, `connectTransport`
 * and `transportPair` (raw message transports for the `Peer` API).
 *
 * @module
 */

import type { RpcConnection, RpcConnectionOptions } from "../rpc/connection.ts";
import type { Notifications } from "../rpc/router.ts";
import type { Handshake, RpcServer, RpcServerOptions } from "../rpc/server.ts";
import type { Service } from "../rpc/service.ts";
import type { SeqpacketListenOptions, SeqpacketOptions } from "../transport/runtime_adapter.ts";
import type { ClientSessionOptions, ServerSessionOptions } from "../session/options.ts";
import type { ReconnectOptions } from "../rpc/reconnect.ts";
import type { Listener, MessageTransport } from "../transport/types.ts";

/**
 * The TLS side of a `tls://` server. Each certificate or key is either PEM
 * text (a string starting with `-----BEGIN`) or the path of a file holding
 * it, read when `listen` is called.
 */
export interface ServerTlsOptions {
  /** The server's certificate (chain), PEM or a path. Required. */
  cert: string;
  /** The private key of `cert`, PEM or a path. Required. */
  key: string;
  /**
   * Require client certificates signed by this CA (or one of these): a
   * client without one, or with another, fails the handshake. PEM or paths.
   * Default: no client certificates are asked for.
   */
  clientCa?: string | string[];
}

/**
 * The TLS side of a `tls://` client. Without `pin`, the server's
 * certificate must chain to `ca` (default: the system's roots) and be valid
 * for `serverName`; with `pin`, exactly the pinned certificate is accepted,
 * whoever signed it.
 */
export interface ClientTlsOptions {
  /** Trust these CAs instead of the system's roots: PEM or paths. Ignored with `pin`. */
  ca?: string | string[];
  /**
   * Accept exactly the certificate with this SHA-256 fingerprint (64 hex
   * digits, with or without colons, any case: what `peerlink cert` and
   * `openssl x509 -noout -fingerprint -sha256` print), or the certificate
   * itself (PEM or a path), whose fingerprint is taken. Any other
   * certificate fails with `ERR_TLS_PIN_MISMATCH`; the chain is not checked.
   */
  pin?: string;
  /** The name the certificate must be valid for, also sent as SNI. Default: the address's host. */
  serverName?: string;
  /**
   * Check that the certificate is valid for `serverName`. Default true; false
   * is accepted only together with `pin` (the pin alone then identifies the
   * server).
   */
  checkServerName?: boolean;
  /** A client certificate to present (for servers with `clientCa`), PEM or a path. Needs `key`. */
  cert?: string;
  /** The private key of `cert`, PEM or a path. */
  key?: string;
}

/** Options of a `tcp://` or `tls://` listener; refused with other addresses. */
export interface TcpListenOptions {
  /** TLS certificate and key: required for `tls://`, refused for `tcp://`. */
  tls?: ServerTlsOptions;
  /** Set TCP_NODELAY on accepted connections (small messages go out at once). Default true. */
  noDelay?: boolean;
}

/** Options of a `tcp://` or `tls://` connect; refused with other addresses. */
export interface TcpConnectOptions {
  /** How to check the server: optional for `tls://`, refused for `tcp://`. */
  tls?: ClientTlsOptions;
  /** Set TCP_NODELAY on the connection. Default true. */
  noDelay?: boolean;
  /**
   * Milliseconds the connection (and the TLS handshake) may take before the
   * connect fails with `ERR_CONNECTION_FAILED`: an integer from 1 to
   * 2^31 − 1. Default 10 000.
   */
  connectTimeout?: number;
}

/** Framing options every transport takes. */
export interface FramingOptions extends SeqpacketOptions {
  /** Largest message (header + body) on stream sockets: an integer from 12 to 2^32 − 1. Default 16 MiB. */
  maxMessageSize?: number;
  /**
   * Milliseconds a frame may take to arrive once its first byte did (stream
   * sockets): an integer from 1 to 2^31 − 1. A peer that starts a frame and
   * stalls is cut off with `ERR_FRAME_TIMEOUT`. Time this side spends not
   * reading (flow control) does not count. Default 30 000.
   */
  frameTimeout?: number;
}

/** Options for connecting a transport (no RPC layer). */
export interface TransportOptions extends FramingOptions, TcpConnectOptions {}

/** Options for listening for transports (no RPC layer). */
export interface ListenTransportOptions extends FramingOptions, SeqpacketListenOptions, TcpListenOptions {
  /**
   * On a `tls://` listener: milliseconds a client may take from its connect
   * to the end of its TLS handshake; its connection is then closed and
   * counts as refused (`ERR_TLS_HANDSHAKE`, "did not finish the TLS
   * handshake within …"). An integer from 1 to 2^31 − 1; refused with other
   * addresses. Default 10 000. `listen` takes it as a session option, which
   * bounds the TLS handshake and then, afresh, the peerlink handshake.
   */
  handshakeTimeout?: number;
}

/** Options of `listen`. */
export interface ListenOptions<S extends Service = Service>
  extends ListenTransportOptions, RpcServerOptions<S>, ServerSessionOptions {
  /**
   * Answer `describe` requests (`peerlink describe`, `connection.describe()`)
   * with the methods and notifications served, their kinds, descriptions and
   * schemas. Default true; false answers them `ERR_METHOD_NOT_FOUND`, like
   * any unknown method.
   */
  describe?: boolean;
  /**
   * Once the server listens, tell the service manager it is ready: send
   * `READY=1` to `$NOTIFY_SOCKET`, as `sd_notify(3)` does (for systemd's
   * `Type=notify`). Nothing is sent when `NOTIFY_SOCKET` is not set. Needs
   * the runtime's FFI (Node: koffi; Deno: `--allow-ffi`), else `listen`
   * fails with `ERR_UNSUPPORTED_PLATFORM`. Default false.
   */
  notify?: boolean;
}

/** Options of `connect`. */
export interface ConnectOptions
  extends TransportOptions, Omit<RpcConnectionOptions, "router" | "reconnect">, ClientSessionOptions {
  /** Handshake run after the peerlink handshake, before the RPC layer starts; throwing refuses the server. */
  handshake?: Handshake;
  /**
   * Reconnect with back-off when the connection is lost (a daemon that
   * restarts): `true` for the defaults, or the back-off and what calls made
   * meanwhile do. Default: no reconnecting.
   */
  reconnect?: boolean | ReconnectOptions;
}

/** Starts an RPC server on an address. */
export type ListenFunction = <S extends Service>(address: string, options?: ListenOptions<S>) => Promise<RpcServer>;
/**
 * Connects to an RPC server. `Remote` is the server's service type (the type
 * of its `handlers`), `RemoteNotifications` the type of its `notifications`;
 * calls and notifications are checked against them. Without them any name
 * and any parameters are accepted.
 */
export type ConnectFunction = <Remote = Service, RemoteNotifications = Notifications>(
  address: string,
  options?: ConnectOptions,
) => Promise<RpcConnection<Remote, RemoteNotifications>>;
/** Listens for raw message transports (for the low-level `Peer` API). */
export type ListenTransportFunction = (
  address: string,
  options?: ListenTransportOptions,
) => Promise<Listener<MessageTransport>>;
/** Connects a raw message transport (for the low-level `Peer` API). */
export type ConnectTransportFunction = (address: string, options?: TransportOptions) => Promise<MessageTransport>;
/** Creates two connected seqpacket transports in this process. */
export type TransportPairFunction = (options?: SeqpacketOptions) => Promise<[MessageTransport, MessageTransport]>;
