/**
 * Child processes on Bun: `Bun.spawn` with stdin and stdout piped (no
 * shell), Bun's `node:child_process` for a child that gets a seqpacket
 * channel at descriptor 3 (`../node_spawn.ts`, the code every
 * runtime uses for that). Loaded when the first child is spawned; serving
 * a parent over this process's stdin and stdout is in `stdio.ts`. The part
 * of Bun's API used here is typed locally, as in `bun_api.ts`.
 *
 * A `FileSink` (a child's stdin, this process's stdout) takes each write at
 * once and returns the byte count, or a promise while the pipe is full
 * (which rejects with EPIPE once the reader is gone); no `flush()` is needed
 * for the bytes to leave. `Bun.spawn` is always given the environment
 * (`childEnvironment`): without one it passes the environment Bun started
 * with, in which variables deleted from `process.env` are still set. Raw 64-byte round trips (a loaded 2-core machine):
 * Bun parent and Bun child 16-19 µs, Node parent and Bun child 17-19 µs.
 *
 * @module
 */

import type { ChildExit } from "../../src/base/errors.ts";
import { spawnFailure } from "../../src/transport/child_stream.ts";
import type { ChildSpawnSettings, SpawnedChild } from "../../src/transport/runtime_adapter.ts";
import { childEnvironment, spawnChannelChild } from "../node_spawn.ts";
import { webChild } from "../web_pipe_stream.ts";
import { type FileSink, sinkWriter } from "./stdio.ts";

/** A process `Bun.spawn` started, with stdin and stdout piped. */
interface BunSubprocess {
  readonly pid: number;
  readonly stdin: FileSink;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  /** Resolves with the exit code (128 + the signal's number after a signal). */
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  kill(signal: string): void;
}

/** The part of the `Bun` global this file uses. */
interface BunProcessApi {
  spawn(
    command: string[],
    options: {
      stdin: "pipe";
      stdout: "pipe";
      stderr: "inherit" | "pipe" | "ignore";
      env?: Record<string, string | undefined>;
      cwd?: string;
    },
  ): BunSubprocess;
}

function bun(): BunProcessApi {
  return (globalThis as unknown as { Bun: BunProcessApi }).Bun;
}

/**
 * Starts a child process with `Bun.spawn`, or with `node:child_process`
 * when it gets a channel.
 *
 * @param command The program (looked up in `PATH` when it has no slash).
 * @param settings Arguments, environment (added to this process's), working directory, stderr, the channel if any.
 * @returns The running child.
 * @throws {UsageError} `ERR_SPAWN_FAILED` (no such command or directory, not executable).
 */
export function spawnBunChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild> {
  if (settings.channel !== undefined) return spawnChannelChild(command, settings);
  let child: BunSubprocess;
  try {
    child = bun().spawn([command, ...settings.args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: settings.stderr,
      // Always given: without it, Bun.spawn passes the environment the process started with.
      env: childEnvironment(settings.env),
      ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
    });
  } catch (cause) {
    return Promise.reject(spawnFailure(command, settings.cwd, cause));
  }
  return Promise.resolve(webChild({
    pid: child.pid,
    stdout: child.stdout,
    stdin: sinkWriter(child.stdin, true),
    stderr: settings.stderr === "pipe" ? child.stderr : undefined,
    exited: child.exited.then((): ChildExit => ({
      code: child.signalCode === null ? child.exitCode : null,
      signal: child.signalCode,
    })),
    kill: (signal) => child.kill(signal),
  }));
}
