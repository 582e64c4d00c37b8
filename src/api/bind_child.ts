/**
 * `spawn` and `serveStdio` bound to a runtime adapter: a connection to a
 * child process over its stdin and stdout (`ChildStream` framed by
 * `StreamMessageTransport`, the client's session, a `ChildConnection` that
 * ends the child), and the child's side (an `RpcServer` on this process's
 * stdin and stdout, `StdioServer`).
 *
 * @module
 */

import { ChildExitedError, UsageError } from "../base/errors.ts";
import type { SocketAddress } from "../transport/address.ts";
import { ChildStream, commandLine } from "../transport/child_stream.ts";
import type { RuntimeAdapter } from "../transport/runtime_adapter.ts";
import { StreamMessageTransport } from "../transport/stream_transport.ts";
import type { MessageTransport } from "../transport/types.ts";
import { ChildConnection, DEFAULT_KILL_GRACE, endChild } from "./child_connection.ts";
import type { ServeStdioFunction, SpawnFunction } from "./child_options.ts";
import { claimStdio, StdioServer, watchClose } from "./serve_stdio.ts";
import { clientSessionSettings, serverSessionSettings } from "./session_settings.ts";
import { startSession, streamOptions } from "./stream_session.ts";
import { checkEntryOptions } from "./validate_options.ts";

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
    const runtime = await loadRuntime();
    // Pipes reach no one else, and the kernel reports a child's death: keepalive is off unless asked for.
    const session = await clientSessionSettings(runtime, { ...options, keepalive: options.keepalive ?? false });
    const label = commandLine(command, args);
    const child = await runtime.spawnChild(command, {
      args,
      stderr: options.stderr ?? "inherit",
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const { env: _env, cwd: _cwd, stderr: _stderr, killGrace, handshake, ...rest } = options;
    const grace = killGrace ?? DEFAULT_KILL_GRACE;
    let transport: MessageTransport | undefined;
    try {
      const stream = new StreamMessageTransport(new ChildStream(child, label), streamOptions(options));
      transport = await startSession(stream, `exec:${label}`, session, handshake, undefined);
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
    const { redirectConsole = true, ...rest } = options;
    // serveStdio takes no allow policy, the one setting that reads the address.
    const settings = await serverSessionSettings(runtime, STDIO_ADDRESS, {
      ...rest,
      keepalive: rest.keepalive ?? false,
    });
    claimStdio();
    const { stream, closed } = watchClose(runtime.stdio());
    try {
      return new StdioServer<Remote, RemoteNotifications>(
        new StreamMessageTransport(stream, streamOptions(options)),
        closed,
        { ...rest, redirectConsole },
        settings,
      );
    } catch (error) {
      await stream.close();
      throw error;
    }
  };

  return { spawn, serveStdio };
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
