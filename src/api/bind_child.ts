/**
 * `spawn` and `serveStdio` bound to a runtime adapter: a connection to a
 * child process over its stdin and stdout (`ChildStream` framed by
 * `StreamMessageTransport`) or over a seqpacket socket at its descriptor 3
 * (`ChildPacketSocket` under `PacketMessageTransport`), the client's
 * session, a `ChildConnection` that ends the child; and the child's side
 * (an `RpcServer` on this process's stdin and stdout, or on the seqpacket
 * channel `PEERLINK_CHANNEL` names, `StdioServer`).
 *
 * @module
 */

import { ChildExitedError, UsageError } from "../base/errors.ts";
import type { SocketAddress } from "../transport/address.ts";
import { CHANNEL_FD, CHANNEL_VARIABLE, ChildPacketSocket, parseChannelVariable } from "../transport/child_channel.ts";
import { ChildStream, commandLine } from "../transport/child_stream.ts";
import { PacketMessageTransport } from "../transport/packet_transport.ts";
import type { ChildSpawnSettings, RuntimeAdapter, SpawnedChild } from "../transport/runtime_adapter.ts";
import { StreamMessageTransport } from "../transport/stream_transport.ts";
import type { MessageTransport } from "../transport/types.ts";
import { ChildConnection, DEFAULT_KILL_GRACE, endChild } from "./child_connection.ts";
import type { ServeStdioFunction, SpawnFunction, SpawnOptions } from "./child_options.ts";
import {
  claimStdio,
  releaseStdio,
  StdioServer,
  stdoutCarriesProtocol,
  watchClose,
  watchPacketClose,
} from "./serve_stdio.ts";
import { clientSessionSettings, serverSessionSettings } from "./session_settings.ts";
import { startSession, streamOptions } from "./stream_session.ts";
import { checkEntryOptions, seqpacketOptions } from "./validate_options.ts";

/** The placeholder address of the stdio server's session settings (read only for `allow`, which it does not take). */
const STDIO_ADDRESS: SocketAddress = { transport: "unix", path: "", abstract: false };

/**
 * Binds `spawn` and `serveStdio` to a runtime. Each checks its options
 * first, so a bad option is an `ERR_INVALID_ARGUMENT` before any process
 * starts or stdin is read.
 *
 * @param loadRuntime Returns the runtime adapter.
 * @returns The bound functions.
 */
export function bindChild(
  loadRuntime: () => Promise<RuntimeAdapter>,
): { spawn: SpawnFunction; serveStdio: ServeStdioFunction } {
  const spawn: SpawnFunction = async <Remote, RemoteNotifications>(
    command: string,
    args: readonly string[] = [],
    given?: Parameters<SpawnFunction>[2],
  ) => {
    checkCommand(command, args);
    const options = checkEntryOptions("spawn", given);
    checkChannelOptions(options);
    const runtime = await loadRuntime();
    await keepChannelFromChildren(runtime);
    // Pipes and socket pairs reach no one else, and the kernel reports a child's death: no keepalive unless asked.
    const session = await clientSessionSettings(runtime, { ...options, keepalive: options.keepalive ?? false });
    const label = commandLine(command, args);
    const settings: ChildSpawnSettings = {
      args,
      stderr: options.stderr ?? "inherit",
      ...(options.env === undefined ? {} : { env: withoutChannelVariable(options.env) }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    };
    const { child, channel } = options.channel === "seqpacket"
      ? await spawnWithSocket(runtime, command, settings, label, options)
      : await spawnWithPipes(runtime, command, settings, label, options);
    const { env: _env, cwd: _cwd, stderr: _stderr, channel: _channel, killGrace, handshake, ...rest } = options;
    const grace = killGrace ?? DEFAULT_KILL_GRACE;
    let transport: MessageTransport | undefined;
    try {
      transport = await startSession(channel, `exec:${label}`, session, handshake, undefined);
      return new ChildConnection<Remote, RemoteNotifications>(transport, child, { ...rest, killGrace: grace });
    } catch (error) {
      await transport?.close().catch(() => {});
      await endChild(child, grace);
      // A failed write to a child that is gone carries its exit as the cause.
      const cause = (error as { cause?: unknown } | null)?.cause;
      throw cause instanceof ChildExitedError ? cause : error;
    }
  };

  const serveStdio: ServeStdioFunction = async <Remote, RemoteNotifications>(
    given?: Parameters<ServeStdioFunction>[0],
  ) => {
    const options = checkEntryOptions("serveStdio", given);
    const runtime = await loadRuntime();
    const variable = runtime.takeChannelVariable();
    const fd = variable === undefined ? undefined : parseChannelVariable(variable);
    // stdout carries the protocol only without a channel of its own.
    const { redirectConsole = fd === undefined, ...rest } = options;
    // serveStdio takes no allow policy, the one setting that reads the address.
    const settings = await serverSessionSettings(runtime, STDIO_ADDRESS, {
      ...rest,
      keepalive: rest.keepalive ?? false,
    });
    claimStdio(fd === undefined);
    let transport: MessageTransport | undefined;
    try {
      let closed: Promise<void>;
      if (fd === undefined) {
        const watched = watchClose(runtime.stdio());
        transport = new StreamMessageTransport(watched.stream, streamOptions(options));
        closed = watched.closed;
      } else {
        channelTaken = true;
        const shown = `${CHANNEL_VARIABLE}=${variable}`;
        const socket = await runtime.adoptSeqpacketConnection(fd, shown, seqpacketOptions(options));
        const watched = watchPacketClose(socket);
        transport = new PacketMessageTransport(watched.socket);
        closed = watched.closed;
      }
      return new StdioServer<Remote, RemoteNotifications>(transport, closed, { ...rest, redirectConsole }, settings);
    } catch (error) {
      await transport?.close().catch(() => {});
      releaseStdio();
      throw error;
    }
  };

  return { spawn, serveStdio };
}

/** A started child and the transport to it, before the session. */
interface StartedChild {
  child: SpawnedChild;
  channel: MessageTransport;
}

/** Starts a child with stdin and stdout piped to this process. */
async function spawnWithPipes(
  runtime: RuntimeAdapter,
  command: string,
  settings: ChildSpawnSettings,
  label: string,
  options: SpawnOptions,
): Promise<StartedChild> {
  const child = await runtime.spawnChild(command, settings);
  return { child, channel: new StreamMessageTransport(new ChildStream(child, label), streamOptions(options)) };
}

/**
 * Starts a child with one end of a seqpacket socket pair at its descriptor 3
 * and `PEERLINK_CHANNEL` saying so. The pair is made first, so that a
 * platform without the seqpacket layer fails before anything starts; this
 * process's copy of the child's end is closed once the child runs (or
 * could not start), so that the child's exit ends the connection.
 */
async function spawnWithSocket(
  runtime: RuntimeAdapter,
  command: string,
  settings: ChildSpawnSettings,
  label: string,
  options: SpawnOptions,
): Promise<StartedChild> {
  const pair = await runtime.seqpacketChildChannel(seqpacketOptions(options));
  let child: SpawnedChild;
  try {
    child = await runtime.spawnChild(command, {
      ...settings,
      env: { ...settings.env, [CHANNEL_VARIABLE]: `seqpacket:${CHANNEL_FD}` },
      channel: pair.childFd,
      // A child writing to a stdout that carries this process's own connection would corrupt it.
      stdout: stdoutCarriesProtocol() ? "stderr" : "inherit",
    });
  } catch (error) {
    await pair.socket.close();
    throw error;
  } finally {
    pair.closeChildEnd();
  }
  return { child, channel: new PacketMessageTransport(new ChildPacketSocket(pair.socket, child, label)) };
}

/** Whether `serveStdio` took (or tried to take) the channel a parent gave this process. */
let channelTaken = false;

/**
 * Before this process starts a child: takes the channel a parent gave this
 * process, if `serveStdio` has not: removes `PEERLINK_CHANNEL` from the
 * environment (kept for a later `serveStdio`) and marks the descriptor it
 * names close-on-exec, so that neither reaches the child, which would take
 * the parent's channel for its own (a plugin that starts a helper before
 * it serves). Where the seqpacket layer cannot be loaded (Deno without
 * `--allow-ffi`, Node without koffi) only the variable is removed: the
 * descriptor may reach the child, but nothing names it there.
 */
async function keepChannelFromChildren(runtime: RuntimeAdapter): Promise<void> {
  if (channelTaken) return;
  channelTaken = true;
  const variable = runtime.takeChannelVariable();
  if (variable === undefined) return;
  let fd: number;
  try {
    fd = parseChannelVariable(variable);
  } catch {
    return; // serveStdio reports it.
  }
  await runtime.closeOnExec(fd).catch(() => {});
}

/** `spawn`'s `env` without `PEERLINK_CHANNEL`, which names no channel of the child unless `spawn` sets it. */
function withoutChannelVariable(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (!Object.hasOwn(env, CHANNEL_VARIABLE)) return env;
  const { [CHANNEL_VARIABLE]: _, ...rest } = env;
  return rest;
}

/** The options of `spawn` that apply to one channel only. */
const CHANNEL_ONLY = {
  stdio: ["maxMessageSize", "frameTimeout"],
  seqpacket: ["maxPacketSize", "maxFds"],
} as const;

/** Refuses options of `spawn` meant for the other channel (they would be ignored). */
function checkChannelOptions(options: SpawnOptions): void {
  const channel = options.channel ?? "stdio";
  const other = channel === "stdio" ? "seqpacket" : "stdio";
  const misplaced = CHANNEL_ONLY[other].find((name) => options[name] !== undefined);
  if (misplaced === undefined) return;
  throw new UsageError(
    "ERR_INVALID_ARGUMENT",
    `Option "${misplaced}" of spawn() applies to channel: "${other}" only, found it with channel: "${channel}"`,
  );
}

/** Checks `spawn`'s command and arguments. */
function checkCommand(command: unknown, args: unknown): void {
  if (typeof command !== "string" || command.length === 0) {
    throw new UsageError("ERR_INVALID_ARGUMENT", `spawn(): expected a command, found ${JSON.stringify(command)}`);
  }
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `spawn(): expected the arguments as an array of strings, found ${JSON.stringify(args)}`,
    );
  }
}
