/**
 * The options and signatures of `spawn` (a connection to a child process
 * over its stdin and stdout, or over a seqpacket socket at its descriptor
 * 3) and `serveStdio` (the child's side).
 *
 * @module
 */

import type { RpcConnectionOptions } from "../rpc/connection.ts";
import type { Notifications } from "../rpc/router.ts";
import type { Handshake, RpcServerOptions } from "../rpc/server.ts";
import type { Service } from "../rpc/service.ts";
import type { ClientSessionOptions, ServerSessionOptions } from "../session/options.ts";
import type { SeqpacketOptions } from "../transport/runtime_adapter.ts";
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
    SeqpacketOptions,
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
   * How `close()` ends the child: its stdin (or its seqpacket socket) ends at once, then the child
   * gets `killGrace` milliseconds to exit on its own, then SIGTERM and
   * `killGrace` more, then SIGKILL. An integer from 0 to 2^31 − 1. Default 2000.
   */
  killGrace?: number;
  /** Handshake run after the peerlink handshake, before the RPC layer starts; throwing refuses the child. */
  handshake?: Handshake;
  /**
   * What the connection runs on. `"stdio"` (the default): the child's stdin
   * and stdout. `"seqpacket"` (Linux on x86_64 or aarch64, with the
   * runtime's FFI): a connected SOCK_SEQPACKET socket at the child's
   * descriptor 3, named by `PEERLINK_CHANNEL=seqpacket:3` in its
   * environment, so that calls can pass descriptors both ways (`fds`,
   * limited by `maxPacketSize` and `maxFds`); the child's stdin is then
   * `/dev/null` and its stdout this process's, free for logs. Anything
   * else is `ERR_INVALID_ARGUMENT`; `"seqpacket"` where the seqpacket layer
   * cannot load is `ERR_UNSUPPORTED_PLATFORM` (or, on Deno without
   * `--allow-ffi`, `ERR_PERMISSION_DENIED`) before anything is started.
   */
  channel?: "stdio" | "seqpacket";
}

/**
 * Options of `serveStdio`. `maxMessageSize` and `frameTimeout` apply to
 * stdin and stdout, `maxPacketSize` and `maxFds` to a seqpacket channel.
 */
export interface ServeStdioOptions<S extends Service = Service>
  extends
    PipeFramingOptions,
    SeqpacketOptions,
    Pick<RpcServerOptions<S>, "handlers" | "notifications" | "serviceIds" | "codec" | "handshake" | "onError">,
    Pick<RpcConnectionOptions, "maxConcurrentRequests" | "maxBufferedBytes" | "describe">,
    Pick<ServerSessionOptions, "handshakeTimeout" | "keepalive" | "protocol"> {
  /**
   * While serving, `console.log`, `console.info`, `console.debug`,
   * `console.dir`, `console.dirxml` and `console.table` write to stderr, as
   * `console.error` does: anything else on stdout would corrupt the
   * connection. Default true on stdin and stdout; false on a seqpacket
   * channel (stdout is free then), where `true` still redirects.
   */
  redirectConsole?: boolean;
}

/**
 * Starts a child process and connects to it over its stdin and stdout, or
 * over a seqpacket socket at its descriptor 3 (`channel: "seqpacket"`).
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
 *
 * // A plugin that is handed open files: calls carry descriptors both ways.
 * const host = await spawn("deno", ["run", "-A", "plugin.ts"], { channel: "seqpacket" });
 * ```
 */
export type SpawnFunction = <Remote = Service, RemoteNotifications = Notifications>(
  command: string,
  args?: readonly string[],
  options?: SpawnOptions,
) => Promise<ChildConnection<Remote, RemoteNotifications>>;

/**
 * Serves handlers to the parent process over this process's stdin and
 * stdout, or over the seqpacket channel the parent gave (when
 * `PEERLINK_CHANNEL` names one: it is checked, made close-on-exec and
 * removed from the environment). `Remote` is the parent's service type
 * (the handlers it gives `spawn`), for calls back to it.
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
