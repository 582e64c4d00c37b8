/**
 * The options and signatures of `spawn` (a connection to a child process
 * over its stdin and stdout) and `serveStdio` (the child's side).
 *
 * @module
 */

import type { RpcConnectionOptions } from "../rpc/connection.ts";
import type { Notifications } from "../rpc/router.ts";
import type { Handshake, RpcServerOptions } from "../rpc/server.ts";
import type { Service } from "../rpc/service.ts";
import type { ClientSessionOptions, ServerSessionOptions } from "../session/options.ts";
import type { ChildConnection } from "./child_connection.ts";
import type { StdioServer } from "./serve_stdio.ts";

/** The framing options of a pipe (what `unix:` and `tcp://` take too). */
export interface PipeFramingOptions {
  /** Largest message (header + body): an integer from 1024 (a session's handshake) to 2^32 − 1. Default 16 MiB. */
  maxMessageSize?: number;
  /**
   * Milliseconds a frame may take to arrive once its first byte did: an
   * integer from 1 to 2^31 − 1 (`ERR_FRAME_TIMEOUT`). Default 30 000.
   */
  frameTimeout?: number;
}

/** Options of `spawn`. */
export interface SpawnOptions
  extends
    PipeFramingOptions,
    Omit<RpcConnectionOptions, "router" | "reconnect">,
    Pick<ClientSessionOptions, "handshakeTimeout" | "keepalive" | "protocol"> {
  /**
   * Variables to set in the child's environment, on top of this process's
   * own (which the child inherits). Default: just this process's.
   */
  env?: Readonly<Record<string, string>>;
  /** The child's working directory. Default: this process's. */
  cwd?: string;
  /**
   * The child's stderr: `"inherit"` (this process's stderr, the default),
   * `"pipe"` (read it from `connection.child.stderr`, and do: a child
   * blocks once the pipe is full), or `"ignore"`.
   */
  stderr?: "inherit" | "pipe" | "ignore";
  /**
   * How `close()` ends the child: its stdin ends at once, then the child
   * gets `killGrace` milliseconds to exit on its own, then SIGTERM and
   * `killGrace` more, then SIGKILL. An integer from 0 to 2^31 − 1. Default 2000.
   */
  killGrace?: number;
  /** Handshake run after the peerlink handshake, before the RPC layer starts; throwing refuses the child. */
  handshake?: Handshake;
}

/** Options of `serveStdio`. */
export interface ServeStdioOptions<S extends Service = Service>
  extends
    PipeFramingOptions,
    Pick<RpcServerOptions<S>, "handlers" | "notifications" | "serviceIds" | "codec" | "handshake" | "onError">,
    Pick<RpcConnectionOptions, "maxConcurrentRequests" | "maxBufferedBytes" | "describe">,
    Pick<ServerSessionOptions, "handshakeTimeout" | "keepalive" | "protocol"> {
  /**
   * While serving, `console.log`, `console.info`, `console.debug`,
   * `console.dir`, `console.dirxml` and `console.table` write to stderr, as
   * `console.error` does: anything else on stdout would corrupt the
   * connection. Default true; `false` leaves the console alone.
   */
  redirectConsole?: boolean;
}

/**
 * Starts a child process and connects to it over its stdin and stdout.
 * `Remote` is the child's service type (the type of the handlers it gives
 * `serveStdio`), `RemoteNotifications` that of its notification listeners.
 *
 * @example
 * ```ts ignore
 * import { spawn } from "@peerlink/peerlink";
 * import type { Plugin } from "./plugin.ts";
 *
 * const plugin = await spawn<Plugin>("deno", ["run", "plugin.ts"], { killGrace: 1000 });
 * console.log(await plugin.call("add", [1, 2]), plugin.child.pid);
 * await plugin.close(); // resolves once the child exited
 * ```
 */
export type SpawnFunction = <Remote = Service, RemoteNotifications = Notifications>(
  command: string,
  args?: readonly string[],
  options?: SpawnOptions,
) => Promise<ChildConnection<Remote, RemoteNotifications>>;

/**
 * Serves handlers to the parent process over this process's stdin and
 * stdout. `Remote` is the parent's service type (the handlers it gives
 * `spawn`), for calls back to it.
 *
 * @example
 * ```ts ignore
 * import { serveStdio } from "@peerlink/peerlink";
 *
 * const handlers = { add: ([a, b]: [number, number]) => a + b };
 * export type Plugin = typeof handlers;
 * const server = await serveStdio({ handlers });
 * await server.closed; // the parent closed the connection, or exited
 * ```
 */
export type ServeStdioFunction = <Remote = Service, RemoteNotifications = Notifications, S extends Service = Service>(
  options?: ServeStdioOptions<S>,
) => Promise<StdioServer<Remote, RemoteNotifications>>;
