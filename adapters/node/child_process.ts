/**
 * Child processes on Node: `node:child_process` `spawn` with stdin and
 * stdout piped (no shell), and this process's `process.stdin` /
 * `process.stdout` for serving a parent.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { Readable } from "node:stream";
import type { ChildExit } from "../../src/base/errors.ts";
import { spawnFailure } from "../../src/transport/child_stream.ts";
import type { ChildSpawnSettings, SpawnedChild } from "../../src/transport/runtime_adapter.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import { NodePipeStream } from "./pipe_stream.ts";

/**
 * Starts a child process with `node:child_process`.
 *
 * @param command The program (looked up in `PATH` when it has no slash).
 * @param settings Arguments, environment, working directory, stderr.
 * @returns The running child, once Node reported it spawned.
 * @throws {UsageError} `ERR_SPAWN_FAILED` when Node reports an error instead (ENOENT, EACCES, ...).
 */
export async function spawnNodeChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild> {
  const child = spawn(command, [...settings.args], {
    stdio: ["pipe", "pipe", settings.stderr],
    env: settings.env === undefined ? process.env : { ...process.env, ...settings.env },
    ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
  });
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
  // Piped, so present.
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  const stderr = child.stderr;
  // Failures after the start (EPIPE once the child is gone, a signal to a dead process) must not crash this one.
  const ignore = (): void => {};
  child.on("error", ignore);
  stdin.on("error", ignore);
  stdout.on("error", ignore);
  const stdio = new NodePipeStream(stdout, stdin, { transport: "stdio" }, () => {
    stdin.end();
    stdout.destroy();
  });
  return {
    pid: child.pid!,
    stdio,
    stderr: stderr === null ? undefined : Readable.toWeb(stderr) as unknown as ReadableStream<Uint8Array>,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/**
 * This process's stdin and stdout as a byte stream. `close()` destroys
 * `process.stdin`, so that reading it no longer keeps the process alive,
 * and leaves `process.stdout` open.
 *
 * @returns The stream.
 */
export function nodeStdio(): ByteStream {
  return new NodePipeStream(process.stdin, process.stdout, { transport: "stdio" }, () => process.stdin.destroy());
}
