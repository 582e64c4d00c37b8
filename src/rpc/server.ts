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
import type { ConnectionInfo, Listener, MessageTransport } from "../transport/types.ts";

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
}

/**
 * Serves a {@link Router}'s handlers on every connection a listener accepts.
 * Each connection fails on its own: a bad peer is closed, the others go on.
 */
export class RpcServer {
  readonly #listener: Listener<MessageTransport>;
  readonly #router: Router;
  readonly #options: RpcServerOptions;
  readonly #connections = new Set<RpcConnection>();
  readonly #pending = new Set<MessageTransport>();
  #closing: Promise<void> | undefined;
  readonly #acceptLoop: Promise<void>;

  /**
   * Starts accepting at once.
   *
   * @param listener The listener; the server owns it.
   * @param options Handlers, notification listeners, codec, accept filter, handshake, callbacks.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if two names map to the same service id (the listener is closed).
   */
  constructor(listener: Listener<MessageTransport>, options: RpcServerOptions = {}) {
    this.#listener = listener;
    try {
      this.#router = routerOf(options);
    } catch (error) {
      // Two names that map to one service id: refuse to serve, and free the address.
      void listener.close();
      throw error;
    }
    this.#options = options;
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

  /**
   * Stops accepting, closes every connection (their pending calls and
   * handlers see `ERR_CONNECTION_CLOSED` / an aborted signal) and removes the
   * socket file.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#listener.close();
      await this.#acceptLoop;
      for (const transport of this.#pending) await transport.close().catch(() => {});
      await Promise.all([...this.#connections].map((connection) => connection.close()));
    })();
    return this.#closing;
  }

  /** Same as {@link RpcServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
      this.#serve(transport).catch(() => {});
    }
  }

  async #serve(transport: MessageTransport): Promise<void> {
    this.#pending.add(transport);
    try {
      if (this.#options.accept && !(await this.#options.accept(transport.info))) {
        await transport.close();
        return;
      }
      await this.#options.handshake?.(transport);
    } catch (error) {
      callSafely(this.#options.onError, error, transport.info);
      await transport.close().catch(() => {});
      return;
    } finally {
      this.#pending.delete(transport);
    }
    if (this.#closing) {
      await transport.close();
      return;
    }
    let connection: RpcConnection;
    try {
      connection = new RpcConnection(transport, {
        ...flowOptionsOf(this.#options),
        router: this.#router,
        ...(this.#options.codec ? { codec: this.#options.codec } : {}),
        onClose: (error) => {
          this.#connections.delete(connection);
          if (error !== undefined) callSafely(this.#options.onError, error, transport.info);
        },
      });
    } catch (error) {
      // The connection could not start (options refused by the peer layer): report it, never leak the socket.
      callSafely(this.#options.onError, error, transport.info);
      await transport.close().catch(() => {});
      return;
    }
    this.#connections.add(connection);
    callSafely(this.#options.onConnection, connection);
  }
}
