/**
 * Child processes on Deno: `Deno.Command(...).spawn()` with stdin and
 * stdout piped (needs `--allow-run`; no shell), Deno's `node:child_process`
 * for a child that gets a seqpacket channel at descriptor 3
 * (`../node_spawn.ts`: `Deno.Command` cannot pass a descriptor;
 * needs `--allow-run` and `--allow-env`), and `Deno.stdin` / `Deno.stdout`
 * for serving a parent.
 *
 * This process's stdin is read with `Deno.stdin.read` into one buffer and
 * copied out, not through `Deno.stdin.readable`: a 64-byte round trip with
 * a Node parent took 41 µs against 96 µs (one CPU, `taskset -c 0`). A read
 * that is still pending when `close()` is called ends with `Interrupted`
 * once `Deno.stdin` is closed, after which the process can exit even if the
 * parent keeps the pipe open (a cancelled `readable` reader lets it exit
 * too; `node:process`'s `stdin.destroy()` does not).
 *
 * @module
 */

import { closeSync, fstatSync } from "node:fs";
import type { ChildExit } from "../../src/base/errors.ts";
import { spawnFailure } from "../../src/transport/child_stream.ts";
import type { ChildSpawnSettings, SpawnedChild } from "../../src/transport/runtime_adapter.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";
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

/** The largest read from stdin at once. */
const READ_SIZE = 64 * 1024;

/** `Deno.stdin` and `Deno.stdout` as a {@link ByteStream}. */
class DenoStdioStream implements ByteStream {
  readonly info: ConnectionInfo = { transport: "stdio" };
  readonly #buffer = new Uint8Array(READ_SIZE);
  #closed = false;

  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    let count: number | null;
    try {
      count = await Deno.stdin.read(this.#buffer);
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
    return count === null || this.#closed ? null : this.#buffer.slice(0, count);
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let offset = 0; offset < chunk.length;) offset += await Deno.stdout.write(chunk.subarray(offset));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        Deno.stdin.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }
}

/**
 * This process's stdin and stdout as a byte stream. `close()` closes
 * `Deno.stdin` (a pending read ends, and the process can exit) and leaves
 * `Deno.stdout` open.
 *
 * @returns The stream.
 */
export function denoStdio(): ByteStream {
  return new DenoStdioStream();
}

/**
 * Closes the copy of an inherited descriptor that Deno keeps for its
 * `node:fs` when it started with `DENO_EXTRA_STDIO_FDS` naming it (a Deno
 * parent's `node:child_process` sets that for the seqpacket channel): a
 * duplicate at another number, which would keep the channel open after
 * `serveStdio` closed it. `node:fs` knows a descriptor above 2 only if Deno
 * registered it that way or opened it itself, and this process cannot have
 * opened another file at `fd` while `fd` was the channel, so a socket there
 * is that copy.
 *
 * @param fd The inherited descriptor, already taken over.
 */
export function closeDenoStdioCopy(fd: number): void {
  try {
    if (fstatSync(fd).isSocket()) closeSync(fd);
  } catch {
    // No copy: Deno started without the variable.
  }
}
