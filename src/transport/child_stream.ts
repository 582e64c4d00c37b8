/**
 * The channel to a child process (its pipes as a byte stream, or a
 * seqpacket socket) with the child's exit in place of a bare end: once the
 * child exited, reading fails with a {@link ChildExitedError} that carries
 * its exit code or signal, so that every call still pending rejects with
 * it. Also the one error every adapter reports for a child that cannot
 * start, and the environment variable that names a seqpacket channel.
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
import type { PollablePacketSocket } from "./packet_transport.ts";
import type { SpawnedChild } from "./runtime_adapter.ts";
import { errnoOf } from "./socket_errors.ts";
import type { ByteStream, ConnectionInfo, Packet } from "./types.ts";

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

/**
 * The environment variable through which `spawn` tells a child which
 * channel it was given: `seqpacket:3` for a connected SOCK_SEQPACKET socket
 * at descriptor 3. Without it the channel is stdin and stdout.
 */
export const CHANNEL_VARIABLE = "PEERLINK_CHANNEL";

/** The descriptor number `spawn` puts the seqpacket channel at in the child. */
export const CHANNEL_FD = 3;

/**
 * Reads the value of {@link CHANNEL_VARIABLE}.
 *
 * @param value Its value.
 * @returns The descriptor of the seqpacket channel.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` unless it is `seqpacket:` and a descriptor number.
 *
 * @example
 * ```ts
 * import { parseChannelVariable } from "./child_stream.ts";
 * console.assert(parseChannelVariable("seqpacket:3") === 3);
 * ```
 */
export function parseChannelVariable(value: string): number {
  const match = /^seqpacket:(\d{1,9})$/.exec(value);
  if (match === null) {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Expected ${CHANNEL_VARIABLE} to be seqpacket: and a descriptor number (such as seqpacket:3), found ${
        JSON.stringify(value)
      }`,
    );
  }
  return Number(match[1]);
}

/**
 * What a child's channel (its pipes, or its seqpacket socket) knows about
 * the child's exit: whether this side closed the channel, and the exit as an
 * error once it is known.
 */
class ChildExitWatch {
  readonly #child: SpawnedChild;
  readonly #label: string;
  #exit: ChildExit | undefined;
  /** Set by a local `close()`: the end that follows is this side's doing, not the child's. */
  closed = false;
  /** Set once reading reached the end: no drain timer is needed any more. */
  #ended = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param child The child.
   * @param label Its command line, for messages.
   * @param abandon Ends the channel's reading (a pending read then sees the end), for a channel that stays
   *   open after the exit (a grandchild holds it).
   */
  constructor(child: SpawnedChild, label: string, abandon: () => void) {
    this.#child = child;
    this.#label = label;
    void child.exited.then((exit) => {
      this.#exit = exit;
      if (!this.#ended && !this.closed) this.#drainTimer = setTimeout(abandon, EXIT_SETTLE_MS);
    });
  }

  /** Reading reached the end (or failed). */
  end(): void {
    this.#ended = true;
    clearTimeout(this.#drainTimer);
  }

  /** The child's exit as an error, waiting a moment for the exit status; `undefined` if the child still runs. */
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
      this.#watch.end();
      throw await this.#watch.error(error) ?? error;
    }
    if (chunk !== null) return chunk;
    this.#watch.end();
    if (this.#watch.closed) return null;
    const exited = await this.#watch.error(undefined);
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
      await this.#pipes.write(chunk);
    } catch (error) {
      throw (this.#watch.closed ? undefined : await this.#watch.error(error)) ?? error;
    }
  }

  /** Ends the child's stdin and stops reading its stdout; ending the child is the caller's business. */
  close(): Promise<void> {
    this.#watch.closed = true;
    this.#watch.end();
    return this.#pipes.close();
  }
}

/**
 * The seqpacket channel to a child (`spawn`'s `channel: "seqpacket"`) as a
 * {@link PollablePacketSocket} that reports the child's exit as
 * {@link ChildExitedError}, as {@link ChildStream} does for pipes. Its
 * `info` names the command and gives the child's pid as the peer's: the
 * kernel records a socketpair's creator (this process) as both ends' peer,
 * so `uid` and `gid` are this process's, which the child shares unless its
 * program is set-user-ID or set-group-ID.
 */
export class ChildPacketSocket implements PollablePacketSocket {
  /** `transport: "seqpacket"`, `exec:COMMAND` as `remoteAddress`, the child's pid in `credentials`. */
  readonly info: ConnectionInfo;
  readonly #socket: PollablePacketSocket;
  readonly #watch: ChildExitWatch;

  /**
   * Wraps this process's end of the channel; owns it from now on.
   *
   * @param socket This process's end.
   * @param child The child that holds the other end.
   * @param label Its command line, for messages.
   */
  constructor(socket: PollablePacketSocket, child: SpawnedChild, label: string) {
    this.#socket = socket;
    const credentials = socket.info.credentials;
    this.info = {
      ...socket.info,
      transport: "seqpacket",
      remoteAddress: `exec:${label}`,
      ...(credentials === undefined ? {} : { credentials: { ...credentials, pid: child.pid } }),
    };
    this.#watch = new ChildExitWatch(child, label, () => void socket.close().catch(() => {}));
    if (socket.poll !== undefined) this.poll = socket.poll.bind(socket);
    if (socket.sendParts !== undefined) {
      const sendParts = socket.sendParts.bind(socket);
      this.sendParts = (head, body, fds) => sendParts(head, body, fds).catch((error) => this.#sendFailed(error));
    }
  }

  /** The largest datagram. */
  get maxPacketSize(): number {
    return this.#socket.maxPacketSize;
  }

  /** The most descriptors per datagram. */
  get maxFds(): number {
    return this.#socket.maxFds;
  }

  /** Takes a datagram that already arrived, if any. */
  poll?: () => Packet | undefined;

  /** Sends `head` and `body` as one datagram. */
  sendParts?: (head: Uint8Array, body: Uint8Array, fds: readonly number[]) => Promise<void>;

  /**
   * Sends one datagram.
   *
   * @param data The datagram.
   * @param fds Descriptors to pass.
   * @throws {ChildExitedError} when the send failed because the child exited (with the socket's error as cause).
   */
  send(data: Uint8Array, fds: readonly number[]): Promise<void> {
    return this.#socket.send(data, fds).catch((error) => this.#sendFailed(error));
  }

  /**
   * Receives the next datagram.
   *
   * @returns The packet, or `null` at the end of a channel this side closed, or whose child still runs.
   * @throws {ChildExitedError} once the child exited and what it sent has been read.
   */
  async receive(): Promise<Packet | null> {
    let packet: Packet | null;
    try {
      packet = await this.#socket.receive();
    } catch (error) {
      this.#watch.end();
      throw await this.#watch.error(error) ?? error;
    }
    if (packet !== null) return packet;
    this.#watch.end();
    if (this.#watch.closed) return null;
    const exited = await this.#watch.error(undefined);
    if (exited !== undefined) throw exited;
    return null;
  }

  /** Closes this process's end; ending the child is the caller's business. */
  close(): Promise<void> {
    this.#watch.closed = true;
    this.#watch.end();
    return this.#socket.close();
  }

  async #sendFailed(error: unknown): Promise<never> {
    throw (this.#watch.closed ? undefined : await this.#watch.error(error)) ?? error;
  }
}
