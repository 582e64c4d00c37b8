/**
 * Child processes on Deno: `Deno.Command(...).spawn()` with stdin and
 * stdout piped (needs `--allow-run`; no shell), and Deno's
 * `node:child_process` for a child that gets a seqpacket channel at
 * descriptor 3 (`../node_spawn.ts`: `Deno.Command` cannot pass a
 * descriptor; needs `--allow-run` and `--allow-env`). Loaded when the
 * first child is spawned; serving a parent over `Deno.stdin` /
 * `Deno.stdout` is in `stdio.ts`.
 *
 * @module
 */

import type { ChildExit } from "../../src/base/errors.ts";
import { spawnFailure } from "../../src/transport/child_stream.ts";
import type { ChildSpawnSettings, SpawnedChild } from "../../src/transport/runtime_adapter.ts";
import { CHANNEL_VARIABLE } from "../../src/transport/child_channel.ts";
import { spawnChannelChild } from "../node_spawn.ts";
import { webChild } from "../web_pipe_stream.ts";

const STDERR_MODES = { inherit: "inherit", pipe: "piped", ignore: "null" } as const;

/**
 * Starts a child process with `Deno.Command`, or with `node:child_process`
 * when it gets a channel.
 *
 * @param command The program (looked up in `PATH` when it has no slash).
 * @param settings Arguments, environment (added to this process's), working directory, stderr, the channel if any.
 * @returns The running child.
 * @throws {UsageError} `ERR_SPAWN_FAILED` (no such command or directory, not executable), `ERR_PERMISSION_DENIED`
 *   (no `--allow-run`; with a channel, no `--allow-env` either).
 */
export function spawnDenoChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild> {
  if (settings.channel !== undefined) return spawnChannelChild(command, settings);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...settings.args],
      stdin: "piped",
      stdout: "piped",
      stderr: STDERR_MODES[settings.stderr],
      ...denoEnvironment(settings.env),
      ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
    }).spawn();
  } catch (cause) {
    return Promise.reject(spawnFailure(command, settings.cwd, cause));
  }
  const stdin = child.stdin.getWriter();
  return Promise.resolve(webChild({
    pid: child.pid,
    stdout: child.stdout,
    stdin: {
      write: (chunk) => stdin.write(chunk),
      // Not awaited: a close waits for writes the child may never read (it is then ended, which fails them).
      end: () => void stdin.close().catch(() => {}),
    },
    stderr: settings.stderr === "pipe" ? child.stderr : undefined,
    exited: child.status.then((status): ChildExit => ({
      code: status.signal === null ? status.code : null,
      signal: status.signal,
    })),
    kill: (signal) => child.kill(signal),
  }));
}

/**
 * The environment options of `Deno.Command`: `env` on top of this
 * process's environment, which the child inherits without
 * `PEERLINK_CHANNEL`. `Deno.Command` can only leave a variable out by
 * clearing the environment, so that happens only while the variable is set
 * (`spawn` takes it before it starts a child, so rarely); a process that
 * may not read it (no `--allow-env`) cannot tell, and its child inherits
 * whatever it has.
 */
function denoEnvironment(
  overlay: Readonly<Record<string, string>> | undefined,
): { env?: Record<string, string>; clearEnv?: boolean } {
  let inherited: Record<string, string> | undefined;
  try {
    if (Deno.env.get(CHANNEL_VARIABLE) !== undefined) {
      inherited = Deno.env.toObject();
      delete inherited[CHANNEL_VARIABLE];
    }
  } catch {
    // Not allowed to read the environment.
  }
  if (inherited !== undefined) return { env: { ...inherited, ...overlay }, clearEnv: true };
  return overlay === undefined ? {} : { env: { ...overlay } };
}
