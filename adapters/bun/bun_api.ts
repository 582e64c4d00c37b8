/**
 * The part of Bun's socket API the Bun adapter uses, typed locally so that
 * the adapter type-checks in every toolchain (Deno's and tsc without
 * bun-types included).
 *
 * @module
 */

/** A certificate as `getPeerCertificate` returns it (the fields used here). */
export interface BunPeerCertificate {
  /** The certificate's DER bytes (present only with `getPeerCertificate(true)` and a certificate). */
  raw?: Uint8Array;
  /** Subject alternative names, as `node:tls`'s `checkServerIdentity` reads them. */
  subjectaltname?: string;
  /** Subject fields. */
  subject?: Record<string, string>;
}

/** A Bun TCP/Unix socket. */
export interface BunSocket<Data> {
  /** Per-socket state. */
  data: Data;
  /** The socket's descriptor. */
  readonly fd: number;
  /**
   * Writes as much of `data` as the kernel takes now.
   *
   * @returns Bytes written, or -1 if the socket is closed.
   */
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  /** Flushes and closes the write side. */
  end(): void;
  /** Closes at once. */
  terminate(): void;
  /** Stops reading. */
  pause(): void;
  /** Starts reading again. */
  resume(): void;
}

/** A Bun TCP socket, possibly speaking TLS. */
export interface BunTcpSocket<Data> extends BunSocket<Data> {
  /** The local IP address. */
  readonly localAddress: string;
  /** The local port. */
  readonly localPort: number;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** TLS: whether the peer's certificate passed verification. */
  readonly authorized: boolean;
  /**
   * Sets TCP_NODELAY.
   *
   * @returns Whether it could be set.
   */
  setNoDelay(noDelay: boolean): boolean;
  /** TLS: the negotiated protocol version, such as `TLSv1.3`, or null. */
  getTLSVersion(): string | null;
  /** TLS: the negotiated cipher suite, or null. */
  getCipher(): { standardName?: string; name?: string } | null;
  /** TLS: the peer's certificate; `raw` (its DER) only when `detailed` is true. Empty or undefined without one. */
  getPeerCertificate(detailed?: boolean): BunPeerCertificate | null | undefined;
  /** TLS: the peer's certificate as an X509 object, if it sent one. */
  getPeerX509Certificate(): { subject: string } | undefined;
}

/** Socket event handlers. */
export interface BunSocketHandler<Data, Socket extends BunSocket<Data> = BunSocket<Data>> {
  /** Called when a connection opens (for TLS with a `handshake` handler: before the handshake). */
  open?(socket: Socket): void;
  /** Called per received chunk. */
  data?(socket: Socket, data: Uint8Array): void;
  /** Called when the socket can take more data. */
  drain?(socket: Socket): void;
  /** Called when the peer ended its side. */
  end?(socket: Socket): void;
  /** Called once the socket closed. */
  close?(socket: Socket, error?: Error): void;
  /** Called when a handler threw, and when an established TLS session fails (a fatal alert from the peer). */
  error?(socket: Socket, error: Error): void;
  /**
   * TLS: called once the handshake finished or failed. After a failure (and
   * after a refused certificate, unless `rejectUnauthorized` is false) Bun
   * closes the socket itself.
   */
  handshake?(socket: Socket, success: boolean, authorizationError: Error | null): void;
  /** Chunk type. */
  binaryType?: "uint8array";
}

/** A Unix socket listener. */
export interface BunUnixListener {
  /** The listening socket's descriptor; `stop` closes it. */
  readonly fd: number;
  /**
   * Stops listening.
   *
   * @param closeActiveConnections Also closes accepted sockets.
   */
  stop(closeActiveConnections?: boolean): void;
}

/** A TCP listener. */
export interface BunTcpListener extends BunUnixListener {
  /** The bound port. */
  readonly port: number;
}

/** TLS settings of `Bun.listen` and `Bun.connect`, as far as the adapter uses them. */
export interface BunTlsOptions {
  /** Own certificate chain (PEM). */
  cert?: string;
  /** Own private key (PEM). */
  key?: string;
  /** CAs that verify the peer (PEM each); Bun's bundled roots when absent. */
  ca?: string[];
  /** Server: ask clients for a certificate. */
  requestCert?: boolean;
  /** Refuse a peer whose certificate fails verification. */
  rejectUnauthorized?: boolean;
  /** Client: the name sent as SNI and verified against the certificate. */
  serverName?: string;
}

/** Where `Bun.listen` and `Bun.connect` bind or connect over TCP. */
export interface BunTcpOptions<Data> {
  /** IP address or host name (IPv6 without brackets). */
  hostname: string;
  /** The port. */
  port: number;
  /** Speak TLS. */
  tls?: BunTlsOptions;
  /** Initial per-socket state (connect only). */
  data?: Data;
  /** Event handlers. */
  socket: BunSocketHandler<Data, BunTcpSocket<Data>>;
}

/** The `Bun` global, as far as the adapter uses it. */
export interface BunGlobal {
  /** Starts a Unix socket server. */
  listen<Data>(options: { unix: string; socket: BunSocketHandler<Data> }): BunUnixListener;
  /** Starts a TCP server, with TLS when `options.tls` is set. */
  listen<Data>(options: BunTcpOptions<Data>): BunTcpListener;
  /** Serves a listening socket that exists already (it is closed when the listener stops). */
  listen<Data, Socket extends BunSocket<Data>>(
    options: { fd: number; tls?: BunTlsOptions; socket: BunSocketHandler<Data, Socket> },
  ): BunUnixListener;
  /** Connects a Unix socket. */
  connect<Data>(options: { unix: string; data?: Data; socket: BunSocketHandler<Data> }): Promise<BunSocket<Data>>;
  /** Connects over TCP; for TLS with a `handshake` handler it resolves before the handshake. */
  connect<Data>(options: BunTcpOptions<Data>): Promise<BunTcpSocket<Data>>;
  /** A lazily read file. */
  file(path: string): { text(): Promise<string> };
}

/**
 * The `Bun` global.
 *
 * @returns Bun's API object.
 */
export function bunGlobal(): BunGlobal {
  return (globalThis as unknown as { Bun: BunGlobal }).Bun;
}

/**
 * A Bun listener as `../listener_guard.ts` handles it.
 *
 * @param listener The listener.
 * @returns Its descriptor, and a `stop` that leaves accepted connections open.
 */
export function watched(listener: BunUnixListener): { readonly fd: number; stop(): void } {
  return { fd: listener.fd, stop: () => listener.stop(false) };
}
