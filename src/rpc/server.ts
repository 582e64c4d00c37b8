/**
 * The RPC server: accepts connections on a listener and serves a shared set
 * of handlers on each.
 *
 * @module
 */

import type { Codec } from "../wire/codec.ts";
import { type Notifications, type Router, routerOf } from "./router.ts";
import type { Service } from "./service.ts";
import { callSafely } from "../base/call_safely.ts";
import { RpcConnection } from "./connection.ts";
import { type FlowOptions, flowOptionsOf } from "../peer/read_gate.ts";
import type { ConnectionInfo, Listener, MessageTransport, PeerCredentials } from "../transport/types.ts";
import { SessionError, type SessionErrorCode } from "../base/errors.ts";
import {
  isClosedBeforeHello,
  refuseConnection,
  serverHandshake,
  type ServerHandshakeSettings,
} from "../session/server_handshake.ts";
import { SessionTransport } from "../session/session_transport.ts";

/** Decides whether to serve a new connection (for example by peer credentials). */
export type AcceptFilter = (info: ConnectionInfo) => boolean | Promise<boolean>;

/**
 * Runs on a new connection before the message layer starts (version,
 * capabilities, authentication). Throwing refuses the connection.
 */
export type Handshake = (transport: MessageTransport) => Promise<void>;

/** Options of {@link RpcServer}. */
export interface RpcServerOptions<S extends Service = Service> extends FlowOptions {
  /** The methods to serve. More can be added with `server.router.handle()`. */
  handlers?: S;
  /**
   * Listeners for the notifications clients send, by name. More can be added
   * with `server.router.onNotify()`.
   */
  notifications?: Notifications;
  /** Explicit method name → service id mapping (fizyr interop), ids from −2^31 to 2^31 − 1; other names are hashed. */
  serviceIds?: Readonly<Record<string, number>>;
  /** Body codec; default CBOR. */
  codec?: Codec;
  /** Accept decision, run first; returning false closes the connection. */
  accept?: AcceptFilter;
  /** Handshake run before the RPC layer starts. */
  handshake?: Handshake;
  /**
   * Told about connections that failed (protocol errors, handshake failures)
   * and accept errors. Peers refused by `accept` are closed silently.
   */
  onError?: (error: unknown, info: ConnectionInfo) => void;
  /** Told about each new connection once it is served. */
  onConnection?: (connection: RpcConnection) => void;
  /**
   * The most connections served at once, handshakes included: an integer
   * from 1 to 2^31 − 1. A connection beyond it is refused at once with
   * `ERR_TOO_MANY_CONNECTIONS` (the client sees it), and the server goes on
   * accepting once others close. Default 4096.
   */
  maxConnections?: number;
  /**
   * Close a connection that had no open call (either way) and sent no
   * request or notification for this many milliseconds: an integer from 1
   * to 2^31 − 1. The client is told (`ERR_IDLE_TIMEOUT`) first. Default: never.
   */
  idleTimeout?: number;
  /**
   * Serve only peers whose credentials match (Unix sockets): `uid` and
   * `gid` are an id, a list of ids, or `"self"` for this process's own.
   * Others are refused with `ERR_PEER_REFUSED`. A server with `allow` refuses
   * to start where the runtime cannot read peer credentials, and on
   * `tcp://` and `tls://`.
   */
  allow?: AllowPolicy;
}

/** Which peers a server serves, by their Unix credentials. */
export interface AllowPolicy {
  /** Allowed user ids, or `"self"`. */
  uid?: number | readonly number[] | "self";
  /** Allowed group ids, or `"self"`. */
  gid?: number | readonly number[] | "self";
}

/** Options of {@link RpcServer.close}. */
export interface CloseOptions {
  /**
   * Milliseconds in-flight calls get to finish after clients were told the
   * server is going away; the rest are then aborted. Default 0.
   */
  grace?: number;
}

/** What a server has seen, counted since it started. */
export interface ServerStats {
  /** Connections accepted (including those refused afterwards). */
  accepted: number;
  /** Connections refused at once (`maxConnections`, `allow`, `accept`). */
  refused: number;
  /** Failed authentications: wrong secret, or none where one is required. */
  authFailures: number;
  /** peerlink handshakes that did not finish in time (a TLS handshake that did not goes to `onError` only). */
  handshakeTimeouts: number;
  /** Other failed handshakes (version or capability mismatch, not peerlink, broken). */
  handshakeFailures: number;
  /** Connections closed for idleness. */
  idleClosed: number;
}

/** Session settings of a server, resolved by `listen` (secret read, defaults filled in). */
export interface ServerSessionSettings {
  /** The handshake (each connection adds its own size limit), or `undefined` for plain fizyr-rpc (`protocol: "fizyr"`). */
  handshake: Omit<ServerHandshakeSettings, "maxMessageSize"> | undefined;
  /** The `allow` policy with `"self"` resolved. */
  allow?: { uid?: readonly number[]; gid?: readonly number[] };
}

/** Refused connections told why at the same time; others beyond it are closed without a word. */
const MAX_REFUSALS_AT_ONCE = 64;
/** The longest an idle connection told to go is kept for calls the client sent before it heard. */
const IDLE_DRAIN_LIMIT = 30_000;

/** Default {@link RpcServerOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * Serves a {@link Router}'s handlers on every connection a listener accepts.
 * Each connection fails on its own: a bad peer is closed, the others go on.
 */
export class RpcServer {
  readonly #listener: Listener<MessageTransport>;
  readonly #router: Router;
  readonly #options: RpcServerOptions;
  readonly #settings: ServerSessionSettings;
  readonly #connections = new Set<RpcConnection>();
  readonly #pending = new Set<MessageTransport>();
  readonly #stats: ServerStats = {
    accepted: 0,
    refused: 0,
    authFailures: 0,
    handshakeTimeouts: 0,
    handshakeFailures: 0,
    idleClosed: 0,
  };
  #closing: Promise<void> | undefined;
  #idleSweep: ReturnType<typeof setInterval> | undefined;
  readonly #idleClosing = new WeakSet<RpcConnection>();
  /** When the idle sweep last saw a connection with a call open. */
  readonly #lastBusy = new WeakMap<RpcConnection, number>();
  /** Connections being told they are refused. */
  #refusing = 0;
  readonly #acceptLoop: Promise<void>;

  /**
   * Starts accepting at once.
   *
   * @param listener The listener; the server owns it.
   * @param options Handlers, notification listeners, codec, accept filter, handshake, limits, callbacks.
   * @param settings The session handshake and `allow` policy, resolved; default: plain fizyr-rpc, no policy.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if two names map to the same service id (the listener is closed).
   */
  constructor(
    listener: Listener<MessageTransport>,
    options: RpcServerOptions = {},
    settings: ServerSessionSettings = { handshake: undefined },
  ) {
    this.#listener = listener;
    try {
      this.#router = routerOf(options);
    } catch (error) {
      // Two names that map to one service id: refuse to serve, and free the address.
      void listener.close();
      throw error;
    }
    this.#options = options;
    this.#settings = settings;
    this.#acceptLoop = this.#acceptAll();
  }

  /** The address the server listens on. */
  get address(): string {
    return this.#listener.address;
  }

  /** The handlers this server offers; add more at any time. */
  get router(): Router {
    return this.#router;
  }

  /** The connections being served. */
  get connections(): ReadonlySet<RpcConnection> {
    return this.#connections;
  }

  /** Counters of accepted, refused and failed connections (a snapshot). */
  get stats(): ServerStats {
    return { ...this.#stats };
  }

  /**
   * Stops accepting, tells every client the server is going away (they make
   * no new calls; a call they make sees `ERR_SERVER_CLOSING`), lets calls in
   * flight finish for up to `grace` milliseconds, then closes every
   * connection (what is still running sees its signal abort, the client's
   * pending calls reject with `ERR_SERVER_CLOSING`) and removes the socket
   * file. Calling it again returns the same promise.
   *
   * @param options The grace period.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.grace ?? 0);
    return this.#closing;
  }

  /** Same as {@link RpcServer.close} with no grace period. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(grace: number): Promise<void> {
    clearInterval(this.#idleSweep);
    await this.#listener.close();
    await this.#acceptLoop;
    for (const transport of this.#pending) await transport.close().catch(() => {});
    const connections = [...this.#connections];
    const message = grace > 0
      ? `The server is shutting down; calls in flight have ${grace} ms to finish`
      : "The server is shutting down";
    await Promise.all(connections.map((connection) => connection.goAway("ERR_SERVER_CLOSING", message, grace)));
    if (grace > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(connections.map((connection) => connection.peer.whenNoReceived())),
        new Promise((resolve) => (timer = setTimeout(resolve, grace))),
      ]);
      clearTimeout(timer);
    }
    const closing = new SessionError("ERR_SERVER_CLOSING", "The server closed the connection: it is shutting down");
    await Promise.all([...this.#connections].map((connection) => connection.peer.close(closing)));
  }

  async #acceptAll(): Promise<void> {
    let backoff = 0;
    for (;;) {
      let transport: MessageTransport | null;
      try {
        transport = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        callSafely(this.#options.onError, error, { transport: "unknown", localAddress: this.address });
        // Failures such as EMFILE repeat at once: wait a little longer each time instead of spinning.
        backoff = Math.min(Math.max(backoff * 2, 10), 1000);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        continue;
      }
      backoff = 0;
      if (transport === null) return;
      this.#stats.accepted++;
      this.#serve(transport).catch(() => {});
    }
  }

  async #serve(accepted: MessageTransport): Promise<void> {
    const { handshake } = this.#settings;
    const maxConnections = this.#options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.#connections.size + this.#pending.size >= maxConnections) {
      this.#stats.refused++;
      await this.#refuse(
        accepted,
        "ERR_TOO_MANY_CONNECTIONS",
        `The server is at its limit of ${maxConnections} connections`,
      );
      return;
    }
    this.#pending.add(accepted);
    let transport = accepted;
    try {
      const refusal = this.#policyRefusal(accepted.info) ??
        (this.#options.accept && !(await this.#options.accept(accepted.info))
          ? "The server's accept filter refused this connection"
          : undefined);
      if (refusal !== undefined) {
        this.#stats.refused++;
        await this.#refuse(accepted, "ERR_PEER_REFUSED", refusal);
        return;
      }
      if (handshake !== undefined) {
        const result = await serverHandshake(accepted, { ...handshake, maxMessageSize: accepted.maxMessageSize });
        transport = result.kind === "fizyr" ? result.transport : new SessionTransport(accepted, result.session, {
          keepaliveInterval: result.keepaliveInterval,
          keepalive: handshake.keepalive,
        });
      }
      await this.#options.handshake?.(transport);
    } catch (error) {
      // Not failures: the server closing under a handshake, or a peer that left before sending a byte (a
      // health check that connects and closes).
      if (!this.#closing && !isClosedBeforeHello(error)) {
        this.#count(error);
        callSafely(this.#options.onError, error, accepted.info);
      }
      await transport.close().catch(() => {});
      return;
    } finally {
      this.#pending.delete(accepted);
    }
    if (this.#closing) {
      await transport.close();
      return;
    }
    this.#start(transport);
  }

  #start(transport: MessageTransport): void {
    let connection: RpcConnection;
    try {
      connection = new RpcConnection(transport, {
        ...flowOptionsOf(this.#options),
        router: this.#router,
        ...(this.#options.codec ? { codec: this.#options.codec } : {}),
        onClose: (error) => {
          this.#connections.delete(connection);
          // Closing for idleness or at shutdown is the server's own doing, not a failure to report.
          const expected = isSessionError(error, "ERR_IDLE_TIMEOUT") ||
            (this.#closing !== undefined && isSessionError(error, "ERR_SERVER_CLOSING"));
          if (error !== undefined && !expected) {
            callSafely(this.#options.onError, error, transport.info);
          }
        },
      });
    } catch (error) {
      // The connection could not start (options refused by the peer layer): report it, never leak the socket.
      callSafely(this.#options.onError, error, transport.info);
      void transport.close().catch(() => {});
      return;
    }
    this.#connections.add(connection);
    if (this.#options.idleTimeout !== undefined) this.#watchIdle(this.#options.idleTimeout);
    callSafely(this.#options.onConnection, connection);
  }

  /** The reason the `allow` policy refuses a peer, or `undefined`. */
  #policyRefusal(info: ConnectionInfo): string | undefined {
    const { allow } = this.#settings;
    if (allow === undefined) return undefined;
    const credentials: PeerCredentials | undefined = info.credentials;
    if (credentials === undefined) {
      return "The server's allow policy needs peer credentials, and this connection has none";
    }
    if (allow.uid !== undefined && !allow.uid.includes(credentials.uid)) {
      return `The server's allow policy does not admit uid ${credentials.uid}`;
    }
    if (allow.gid !== undefined && !allow.gid.includes(credentials.gid)) {
      return `The server's allow policy does not admit gid ${credentials.gid}`;
    }
    return undefined;
  }

  async #refuse(transport: MessageTransport, code: "ERR_TOO_MANY_CONNECTIONS" | "ERR_PEER_REFUSED", message: string) {
    // Telling a refused client why takes a moment; past a few dozen at once, they are just closed, so that a
    // flood of connections beyond maxConnections cannot hold descriptors.
    if (this.#settings.handshake === undefined || this.#refusing >= MAX_REFUSALS_AT_ONCE) {
      await transport.close().catch(() => {});
      return;
    }
    this.#refusing++;
    try {
      await refuseConnection(transport, code, message);
    } finally {
      this.#refusing--;
    }
  }

  #count(error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code as SessionErrorCode | undefined;
    if (code === "ERR_AUTH_FAILED" || code === "ERR_AUTH_REQUIRED") this.#stats.authFailures++;
    else if (code === "ERR_HANDSHAKE_TIMEOUT") this.#stats.handshakeTimeouts++;
    else this.#stats.handshakeFailures++;
  }

  /**
   * Tells an idle client to go, serves what it sent before it heard (calls
   * that crossed the GOAWAY), then closes.
   */
  async #closeIdle(connection: RpcConnection, message: string, settle: number): Promise<void> {
    const { peer } = connection;
    await connection.goAway("ERR_IDLE_TIMEOUT", message);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wait = (ms: number) => new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([peer.closed, wait(settle)]);
    clearTimeout(timer);
    await Promise.race([peer.whenNoReceived(), wait(IDLE_DRAIN_LIMIT)]);
    clearTimeout(timer);
    await peer.close(new SessionError("ERR_IDLE_TIMEOUT", message));
  }

  /** One sweep timer per server closes connections idle for `idleTimeout`. */
  #watchIdle(idleTimeout: number): void {
    if (this.#idleSweep !== undefined) return;
    const every = Math.max(10, Math.min(Math.floor(idleTimeout / 4), 1000));
    this.#idleSweep = setInterval(() => {
      const now = Date.now();
      for (const connection of this.#connections) {
        const { peer } = connection;
        if (peer.isClosed || this.#idleClosing.has(connection)) continue;
        // Idle time counts from the last message, or from the last sweep that saw a call still open.
        if (peer.openSent > 0 || peer.openReceived > 0) {
          this.#lastBusy.set(connection, now);
          continue;
        }
        const since = Math.max(peer.lastActivity, this.#lastBusy.get(connection) ?? 0);
        if (now - since < idleTimeout) continue;
        this.#stats.idleClosed++;
        this.#idleClosing.add(connection);
        const message = `The server closed the connection after ${idleTimeout} ms without calls`;
        void this.#closeIdle(connection, message, Math.min(idleTimeout, 1000));
      }
      if (this.#connections.size === 0) {
        clearInterval(this.#idleSweep);
        this.#idleSweep = undefined;
      }
    }, every);
  }
}

function isSessionError(error: unknown, code: SessionErrorCode): boolean {
  return error instanceof SessionError && error.code === code;
}
