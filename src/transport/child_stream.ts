/**
 * The pipes to a child process as a byte stream with the child's exit in
 * place of a bare end: once the child exited, reading fails with a
 * {@link ChildExitedError} that carries its exit code or signal, so that
 * every call still pending rejects with it. Also what every channel to a
 * child shares ({@link ChildExitWatch}, used by `child_channel.ts` for a
 * seqpacket channel), the one error every adapter reports for a child that
 * cannot start, and a child's command line for messages.
 *
 * The end of the channel and the exit status arrive in either order (and a
 * grandchild that inherited the channel can keep it open after the child is
 * gone), so each waits a moment for the other: an end waits up to
 * {@link EXIT_SETTLE_MS} for the exit, and an exit lets the channel drain
 * for as long before reading gives up on it.
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
 * @returns A `UsageError` saying why, with `cause`: `ERR_PERMISSION_DENIED` when the runtime refused a
 *   permission this process was not given (Deno's `NotCapable`: `--allow-run`, or `--allow-env` for
 *   `node:child_process`), else `ERR_SPAWN_FAILED`.
 *
 * @example
 * ```ts
 * import { spawnFailure } from "./child_stream.ts";
 * const error = spawnFailure("nosuch", undefined, Object.assign(new Error("spawn nosuch ENOENT"), { code: "ENOENT" }));
 * console.assert(error.code === "ERR_SPAWN_FAILED" && error.message.includes("no such command"));
 * ```
 */
export function spawnFailure(command: string, cwd: string | undefined, cause: unknown): UsageError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const name = (cause as { name?: unknown } | null)?.name;
  if (name === "NotCapable" || name === "PermissionDenied") {
    const flag = /--allow-[a-z]+/.exec(detail)?.[0];
    return new UsageError(
      "ERR_PERMISSION_DENIED",
      `Cannot start "${command}": this process was not given ${flag ?? "a permission it needs"} (${detail})`,
      { cause },
    );
  }
  const errno = errnoOf(cause);
  const reason = errno === "ENOENT"
    ? cwd === undefined ? "no such command" : `no such command, or no directory ${cwd}`
    : errno === "EACCES" || errno === "EPERM"
    ? "permission denied (the file is not executable)"
    : errno === "ENOTDIR"
    ? `${cwd ?? "a directory in its path"} is not a directory`
    : "the runtime could not start it";
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

/**
 * What a channel to a child (its pipes, or its seqpacket socket) knows
 * about the child's exit: whether this side closed the channel, and the
 * exit as an error once it is known. Once the child exited and the channel
 * has still not ended after {@link EXIT_SETTLE_MS} (a grandchild holds it
 * open), it calls `abandon`.
 */
export class ChildExitWatch {
  readonly #child: SpawnedChild;
  readonly #label: string;
  #exit: ChildExit | undefined;
  #closed = false;
  #ended = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts watching the child's exit.
   *
   * @param child The child.
   * @param label Its command line, for messages.
   * @param abandon Ends the channel's reading (a pending read then sees the end), for a channel that stays
   *   open after the exit.
   */
  constructor(child: SpawnedChild, label: string, abandon: () => void) {
    this.#child = child;
    this.#label = label;
    void child.exited.then((exit) => {
      this.#exit = exit;
      if (!this.#ended && !this.#closed) this.#drainTimer = setTimeout(abandon, EXIT_SETTLE_MS);
    });
  }

  /** Whether this side closed the channel: the end that follows is its own doing, not the child's. */
  get closed(): boolean {
    return this.#closed;
  }

  /** This side closes the channel; reading ends with it. */
  close(): void {
    this.#closed = true;
    this.end();
  }

  /** Reading reached the end (or failed): no drain timer is needed any more. */
  end(): void {
    this.#ended = true;
    clearTimeout(this.#drainTimer);
  }

  /**
   * The child's exit as an error, waiting up to {@link EXIT_SETTLE_MS} for the exit status.
   *
   * @param cause The channel's own error, if any, kept as the cause.
   * @returns The error, or `undefined` if the child still runs.
   */
  async error(cause: unknown): Promise<ChildExitedError | undefined> {
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

  /**
   * What reading the channel gives at its end: `null` after this side closed it or while the child runs,
   * else the exit.
   *
   * @throws {ChildExitedError} once the child exited.
   */
  async atEnd(): Promise<null> {
    this.end();
    if (this.#closed) return null;
    const exited = await this.error(undefined);
    if (exited !== undefined) throw exited;
    return null;
  }

  /**
   * What reading the channel throws when it failed: the exit if the child exited, else `error`.
   *
   * @param error The channel's error.
   * @returns Never; rejects with the error to report.
   */
  async readFailed(error: unknown): Promise<never> {
    this.end();
    throw await this.error(error) ?? error;
  }

  /**
   * What writing to the channel throws when it failed: the exit if the child exited and this side did not
   * close the channel, else `error`.
   *
   * @param error The channel's error.
   * @returns Never; rejects with the error to report.
   */
  async writeFailed(error: unknown): Promise<never> {
    throw (this.#closed ? undefined : await this.error(error)) ?? error;
  }
}

/** A child's stdio pipes as a {@link ByteStream} that reports the child's exit. */
export class ChildStream implements ByteStream {
  /** `transport: "stdio"`, and the command as `exec:COMMAND` in `remoteAddress`. */
  readonly info: ConnectionInfo;
  readonly #pipes: ByteStream;
  readonly #watch: ChildExitWatch;

  /**
   * Wraps a spawned child's pipes; the stream owns them from now on.
   *
   * @param child The child, spawned with pipes (`stdio` set).
   * @param label Its command line, for messages.
   */
  constructor(child: SpawnedChild, label: string) {
    const pipes = child.stdio!;
    this.#pipes = pipes;
    this.info = { ...pipes.info, transport: "stdio", remoteAddress: `exec:${label}` };
    this.#watch = new ChildExitWatch(child, label, () => void pipes.close().catch(() => {}));
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
      chunk = await this.#pipes.read();
    } catch (error) {
      return this.#watch.readFailed(error);
    }
    return chunk ?? this.#watch.atEnd();
  }

  /**
   * Writes to the child's stdin.
   *
   * @param chunk The bytes.
   * @throws {ChildExitedError} when the write failed because the child exited (with the runtime's error as cause).
   */
  async write(chunk: Uint8Array): Promise<void> {
    try {
      await this.#pipes.write(chunk);
    } catch (error) {
      await this.#watch.writeFailed(error);
    }
  }

  /** Ends the child's stdin and stops reading its stdout; ending the child is the caller's business. */
  close(): Promise<void> {
    this.#watch.close();
    return this.#pipes.close();
  }
}
