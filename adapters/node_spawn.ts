/**
 * Starting a child process through `node:child_process`, shared by every
 * runtime: Node starts every child this way, and all three start a child
 * that gets a seqpacket channel this way (`spawn`'s `channel: "seqpacket"`),
 * since a descriptor at a position of the `stdio` array becomes that
 * descriptor of the child in Node, Bun and Deno's `node:child_process`
 * alike, and `Deno.Command` cannot pass one.
 *
 * @module
 */

import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import process from "node:process";
import { Readable } from "node:stream";
import type { ChildExit } from "../src/base/errors.ts";
import { CHANNEL_FD, spawnFailure } from "../src/transport/child_stream.ts";
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
 * @throws {UsageError} `ERR_SPAWN_FAILED` when the runtime reports an error instead (ENOENT, EACCES, ...).
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
      env: settings.env === undefined ? process.env : { ...process.env, ...settings.env },
      ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
    });
  } catch (cause) {
    // Deno throws a permission it was not given (--allow-run, --allow-env) rather than emitting it.
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
 * stdin `/dev/null`, this process's stdout, and stderr as asked.
 *
 * @param command The program.
 * @param settings As for `spawnChild`, with `channel` set.
 * @returns The running child, without `stdio`.
 * @throws {UsageError} `ERR_SPAWN_FAILED`.
 */
export async function spawnChannelChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild> {
  const stdio: StdioOptions = ["ignore", "inherit", settings.stderr];
  stdio[CHANNEL_FD] = settings.channel!;
  const child = await startNodeChild(command, settings, stdio);
  return { pid: child.process.pid!, stdio: undefined, stderr: child.stderr, exited: child.exited, kill: child.kill };
}
