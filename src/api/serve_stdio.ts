/**
 * The child's side of `spawn`: an {@link RpcServer} whose one connection is
 * this process's stdin and stdout, or the seqpacket channel the parent
 * gave. It ends when stdin (or the channel) ends (the parent closed the
 * connection, or is gone) or on `close()`, after which nothing of it keeps
 * the process alive.
 *
 * @module
 */

import { ConnectionClosedError, UsageError } from "../base/errors.ts";
import type { RpcConnection } from "../rpc/connection.ts";
import type { Notifications, Router } from "../rpc/router.ts";
import { type CloseOptions, RpcServer, type RpcServerOptions, type ServerSessionSettings } from "../rpc/server.ts";
import type { Service } from "../rpc/service.ts";
import { fastPathsOf } from "../transport/child_channel.ts";
import type { PollablePacketSocket } from "../transport/packet_transport.ts";
import type { ByteStream, ConnectionInfo, Listener, MessageTransport, PacketSocket } from "../transport/types.ts";

/** The console methods that write to stdout, sent to stderr while serving. */
const STDOUT_METHODS = ["log", "info", "debug", "dirxml", "dir", "table"] as const;

/** How this process's stdio is taken: not, by a server on stdin and stdout, or by one on a seqpacket channel. */
let stdioTaken: "no" | "stdout" | "channel" = "no";

/**
 * Takes this process's stdio for serving: once per process, since a second
 * server would read the same stdin.
 *
 * @param onStdout Whether the server speaks the protocol on stdout (not on a seqpacket channel).
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` on a second call.
 */
export function claimStdio(onStdout: boolean): void {
  if (stdioTaken !== "no") {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "serveStdio() was called before in this process: stdin and stdout carry one connection",
    );
  }
  stdioTaken = onStdout ? "stdout" : "channel";
}

/** Gives back what {@link claimStdio} took, after a `serveStdio` that failed before it served. */
export function releaseStdio(): void {
  stdioTaken = "no";
}

/**
 * Whether this process's stdout carries a connection (`serveStdio` serves
 * on stdin and stdout), so that a child must not write to it.
 *
 * @returns `true` from `serveStdio`'s claim on, also after that server closed (its parent still reads stdout).
 */
export function stdoutCarriesProtocol(): boolean {
  return stdioTaken === "stdout";
}

/**
 * Wraps a byte stream so that its closing is seen.
 *
 * @param stream The stream.
 * @returns The same stream, and a promise that resolves once it was closed.
 */
export function watchClose(stream: ByteStream): { stream: ByteStream; closed: Promise<void> } {
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  return {
    closed,
    stream: {
      info: stream.info,
      read: () => stream.read(),
      write: (chunk) => stream.write(chunk),
      close: () => stream.close().finally(done),
    },
  };
}

/**
 * Wraps a packet socket so that its closing is seen.
 *
 * @param socket The socket.
 * @returns A socket that does what `socket` does, and a promise that resolves once it was closed.
 */
export function watchPacketClose(socket: PollablePacketSocket): { socket: PacketSocket; closed: Promise<void> } {
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  const watched: PollablePacketSocket = {
    info: socket.info,
    maxPacketSize: socket.maxPacketSize,
    maxFds: socket.maxFds,
    send: (data, fds) => socket.send(data, fds),
    receive: () => socket.receive(),
    close: () => socket.close().finally(done),
    ...fastPathsOf(socket),
  };
  return { socket: watched, closed };
}

/**
 * Sends what the console would print on stdout to stderr instead.
 *
 * @returns Puts the console back (only the methods still as this left them).
 */
function redirectConsole(): () => void {
  const target = console as unknown as Record<string, unknown>;
  const error = console.error.bind(console);
  const replacements = new Map<string, unknown>(STDOUT_METHODS.map((name) => {
    // dir and table take options, not more values to print.
    const replacement = name === "dir" || name === "table" ? (item: unknown) => error(item) : error;
    return [name, replacement];
  }));
  const originals = new Map(STDOUT_METHODS.map((name) => [name, target[name]]));
  for (const [name, replacement] of replacements) target[name] = replacement;
  return () => {
    for (const [name, original] of originals) {
      if (target[name] === replacements.get(name)) target[name] = original;
    }
  };
}

/** A one-connection listener: the transport once, then nothing until closed. */
function listenerOf(transport: MessageTransport): Listener<MessageTransport> {
  let given = false;
  let stop!: (value: null) => void;
  const stopped = new Promise<null>((resolve) => (stop = resolve));
  return {
    address: "stdio:",
    accept: () => {
      if (given) return stopped;
      given = true;
      return Promise.resolve(transport);
    },
    close: () => {
      stop(null);
      return Promise.resolve();
    },
  };
}

/** What {@link StdioServer} needs besides the transport. */
export interface StdioServerOptions extends RpcServerOptions {
  /** Send the console's stdout output to stderr while serving (resolved: the default depends on the channel). */
  redirectConsole: boolean;
}

/**
 * Serves handlers to the parent process over stdin and stdout.
 *
 * @typeParam Remote The service the parent offers (the `handlers` it gave `spawn`), for calls back.
 * @typeParam RemoteNotifications The parent's notification listeners.
 */
export class StdioServer<Remote = Service, RemoteNotifications = Notifications> {
  readonly #server: RpcServer;
  readonly #connection: Promise<RpcConnection<Remote, RemoteNotifications>>;
  readonly #closed: Promise<void>;

  /**
   * Starts serving at once.
   *
   * @param transport The transport over stdin and stdout, or over the seqpacket channel.
   * @param streamClosed Resolves once the byte stream (or socket) under `transport` was closed.
   * @param options Handlers, limits, callbacks, whether to redirect the console.
   * @param settings The session handshake, resolved.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if two names map to the same service id.
   */
  constructor(
    transport: MessageTransport,
    streamClosed: Promise<void>,
    options: StdioServerOptions,
    settings: ServerSessionSettings,
  ) {
    const { redirectConsole: redirect, ...serverOptions } = options;
    let lastError: unknown;
    let served!: (connection: RpcConnection<Remote, RemoteNotifications>) => void;
    let failed!: (error: unknown) => void;
    this.#connection = new Promise((resolve, reject) => {
      served = resolve;
      failed = reject;
    });
    // Nobody has to wait for the connection: a handshake that fails is reported through onError and `closed`.
    this.#connection.catch(() => {});
    this.#server = new RpcServer(listenerOf(transport), {
      ...serverOptions,
      onError: (error: unknown, info: ConnectionInfo) => {
        lastError = error;
        serverOptions.onError?.(error, info);
      },
      onConnection: (connection) => served(connection as RpcConnection<Remote, RemoteNotifications>),
    }, settings);
    const restore = redirect ? redirectConsole() : () => {};
    this.#closed = streamClosed.then(async () => {
      restore();
      failed(lastError ?? new ConnectionClosedError("stdin ended before the parent finished the handshake"));
      await this.#server.close();
    });
  }

  /**
   * The connection to the parent, once the handshake is done: to call it
   * back, notify it, or watch `closed`. Rejects when the handshake failed.
   */
  get connection(): Promise<RpcConnection<Remote, RemoteNotifications>> {
    return this.#connection;
  }

  /** The handlers served; add more at any time. */
  get router(): Router {
    return this.#server.router;
  }

  /**
   * Resolves once serving ended: stdin (or the channel) ended (the parent
   * closed the connection or exited), the connection failed, or `close()` was called.
   * Nothing of the server keeps the process alive after that.
   */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Stops serving: tells the parent this side is going away, lets calls in
   * flight finish within `grace`, closes the connection and stops reading
   * stdin. On stdin and stdout, the parent sees the connection end when this
   * process exits (stdout stays open until then); a seqpacket channel is
   * closed at once.
   *
   * @param options The grace period for calls in flight (default 0).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    await this.#server.close(options);
    await this.#closed;
  }

  /** Same as {@link StdioServer.close} with no grace period. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
