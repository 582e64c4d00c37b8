/**
 * A web `ReadableStream` of bytes and a writer as one {@link ByteStream}:
 * what Deno's and Bun's process APIs give for a child's pipes (and Bun for
 * its own stdin). Reading pulls one chunk at a time, so the pipe itself
 * holds the other side back. `webChild` assembles the `SpawnedChild` both
 * runtimes hand the core.
 *
 * @module
 */

import type { ChildExit } from "../src/base/errors.ts";
import type { SpawnedChild } from "../src/transport/runtime_adapter.ts";
import type { ByteStream, ConnectionInfo } from "../src/transport/types.ts";

/** The writing half of a {@link WebPipeStream}. */
export interface PipeWriter {
  /**
   * Writes all of `chunk`; resolves once the runtime took it.
   *
   * @param chunk The bytes.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the writing side, after what was written; must not wait for a reader that never comes. */
  end(): void;
}

/** A readable web stream and a {@link PipeWriter} as a {@link ByteStream}. */
export class WebPipeStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: PipeWriter;
  #closed = false;

  /**
   * Takes a reader of `readable` (locking it) and the writer.
   *
   * @param readable Where reads come from.
   * @param writer Where writes go.
   * @param info What is known about the connection.
   */
  constructor(readable: ReadableStream<Uint8Array>, writer: PipeWriter, info: ConnectionInfo) {
    this.info = info;
    this.#reader = readable.getReader();
    this.#writer = writer;
  }

  /**
   * Reads the next chunk.
   *
   * @returns The bytes, or `null` at the end (or once closed).
   * @throws the stream's error.
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    try {
      const { done, value } = await this.#reader.read();
      return done || this.#closed ? null : value;
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
  }

  /**
   * Writes all of `chunk`.
   *
   * @param chunk The bytes.
   * @throws the writer's error, or a plain `Error` once closed.
   */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("The pipe is closed"));
    return this.#writer.write(chunk);
  }

  /** Ends the writing side and cancels reading; a pending `read` resolves `null`. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#reader.cancel().catch(() => {});
    this.#writer.end();
    return Promise.resolve();
  }
}

/** What a runtime's process API gives for a child spawned with piped stdin and stdout. */
export interface WebChildParts {
  /** The process id. */
  pid: number;
  /** Its stdout. */
  stdout: ReadableStream<Uint8Array>;
  /** Its stdin. */
  stdin: PipeWriter;
  /** Its stderr, when piped. */
  stderr: ReadableStream<Uint8Array> | undefined;
  /** Resolves once it exited. */
  exited: Promise<ChildExit>;
  /** Sends a signal; may throw once the child exited. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

/**
 * A spawned child as the core takes it: the pipes as one byte stream, and a
 * `kill` that does nothing once the child exited.
 *
 * @param parts The runtime's handles.
 * @returns The child.
 */
export function webChild(parts: WebChildParts): SpawnedChild {
  let finished = false;
  const exited = parts.exited.then((exit) => {
    finished = true;
    return exit;
  });
  return {
    pid: parts.pid,
    stdio: new WebPipeStream(parts.stdout, parts.stdin, { transport: "stdio" }),
    stderr: parts.stderr,
    exited,
    kill(signal) {
      if (finished) return;
      try {
        parts.kill(signal);
      } catch {
        // It exited in the meantime.
      }
    },
  };
}
