/**
 * Starting a child process through `node:child_process`, shared by every
 * runtime: Node starts every child this way, and all three start a child
 * that gets a seqpacket channel this way (`spawn`'s `channel: "seqpacket"`),
 * since a descriptor at a position of the `stdio` array becomes that
 * descriptor of the child in Node, Bun and Deno's `node:child_process`
 * alike, and `Deno.Command` cannot pass one. Also the environment every
 * runtime gives a child (this process's without `PEERLINK_CHANNEL`; the
 * child reads that variable with `./channel_variable.ts`).
 *
 * A Deno parent's `node:child_process` also sets `DENO_EXTRA_STDIO_FDS=3`
 * in the child's environment, whatever `env` says. A Deno child consumes
 * it at start-up and keeps a copy of descriptor 3 for its `node:fs` (the
 * Deno adapter closes that copy once `serveStdio` took the channel); Node
 * and Bun children would pass it on, so `takeChannelVariable`
 * (`./channel_variable.ts`) removes it.
 *
 * @module
 */

import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import process from "node:process";
import { Readable } from "node:stream";
import type { ChildExit } from "../src/base/errors.ts";
import { CHANNEL_FD, CHANNEL_VARIABLE } from "../src/transport/child_channel.ts";
import { spawnFailure } from "../src/transport/child_stream.ts";
import type { ChildSpawnSettings, SpawnedChild } from "../src/transport/runtime_adapter.ts";

/** A child `node:child_process` started, once it runs. */
export interface StartedNodeChild {
  /** The child. */
  readonly process: ChildProcess;
  /** Resolves (never rejects) once it exited. */
  readonly exited: Promise<ChildExit>;
  /** Its stderr as a web stream, when piped. */
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  /**
   * Sends a signal; does nothing once it exited.
   *
   * @param signal The signal.
   */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

/**
 * Starts a child process with `node:child_process` and waits until it runs.
 *
 * @param command The program (looked up in `PATH` when it has no slash).
 * @param settings Arguments, environment (added to this process's), working directory; stderr is in `stdio`.
 * @param stdio The `stdio` array.
 * @returns The running child.
 * @throws {UsageError} `ERR_SPAWN_FAILED` when the runtime reports an error instead (ENOENT, EACCES, ...),
 *   `ERR_PERMISSION_DENIED` when Deno refused a permission (`--allow-run`, `--allow-env`).
 */
export async function startNodeChild(
  command: string,
  settings: ChildSpawnSettings,
  stdio: StdioOptions,
): Promise<StartedNodeChild> {
  let child: ChildProcess;
  try {
    child = spawn(command, [...settings.args], {
      stdio,
      env: childEnvironment(settings.env),
      ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
    });
  } catch (cause) {
    // Deno throws a permission it was not given (--allow-run, --allow-env) rather than emitting it,
    // as does childEnvironment without --allow-env.
    throw spawnFailure(command, settings.cwd, cause);
  }
  const exited = new Promise<ChildExit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code: signal === null ? code : null, signal }))
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (cause) {
    throw spawnFailure(command, settings.cwd, cause);
  }
  // Failures after the start (a signal to a dead process, EPIPE on a pipe) must not crash this process.
  child.on("error", () => {});
  const stderr = child.stderr;
  return {
    process: child,
    exited,
    stderr: stderr === null ? undefined : Readable.toWeb(stderr) as unknown as ReadableStream<Uint8Array>,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * Starts a child process whose descriptor 3 is `settings.channel`, with
 * stdin `/dev/null`, this process's stdout (or its stderr, as
 * `settings.stdout` says), and stderr as asked.
 *
 * @param command The program.
 * @param settings As for `spawnChild`, with `channel` set.
 * @returns The running child, without `stdio`.
 * @throws {UsageError} `ERR_SPAWN_FAILED`, or `ERR_PERMISSION_DENIED` (Deno without `--allow-run` or `--allow-env`).
 */
export async function spawnChannelChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild> {
  const stdio: StdioOptions = ["ignore", settings.stdout === "stderr" ? 2 : "inherit", settings.stderr];
  stdio[CHANNEL_FD] = settings.channel!;
  const child = await startNodeChild(command, settings, stdio);
  return { pid: child.process.pid!, stdio: undefined, stderr: child.stderr, exited: child.exited, kill: child.kill };
}

/**
 * The environment of a child: this process's, without `PEERLINK_CHANNEL`,
 * with `overlay` on top. Built anew for every child, and always passed
 * explicitly: Bun's `Bun.spawn` and `node:child_process` without an `env`
 * pass the environment the process started with, not `process.env` as it
 * is now.
 *
 * @param overlay The variables to set.
 * @returns The environment.
 * @throws Deno's `NotCapable` without `--allow-env`.
 */
export function childEnvironment(overlay: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== CHANNEL_VARIABLE) env[name] = value;
  }
  return overlay === undefined ? env : Object.assign(env, overlay);
}
