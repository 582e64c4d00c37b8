/**
 * A Node readable stream and a writable one (a child's stdout and stdin, or
 * this process's stdin and stdout) as one {@link ByteStream}: reads pause
 * the readable side while too much is buffered, writes resolve once Node
 * took the bytes (at once, or at `drain`).
 *
 * @module
 */

import type { Readable, Writable } from "node:stream";
import { ChunkQueue } from "../../src/transport/chunk_queue.ts";
import { needsFlushedWrite, writeFlushed } from "../node_flushed_write.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";

/** A readable and a writable Node stream as a {@link ByteStream}. */
export class NodePipeStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  readonly #readable: Readable;
  readonly #writable: Writable;
  readonly #release: () => void;
  readonly #chunks: ChunkQueue;
  #writeError: unknown = undefined;
  #closed = false;
  readonly #onData = (chunk: Uint8Array): void => this.#chunks.push(chunk);
  readonly #onEnd = (): void => this.#chunks.end();
  readonly #onReadError = (error: unknown): void => this.#chunks.end(error);
  readonly #onWriteError = (error: unknown): void => void (this.#writeError ??= error);

  /**
   * Starts reading `readable`.
   *
   * @param readable Where reads come from.
   * @param writable Where writes go; its errors (EPIPE once the other end is gone) reject writes instead of
   *   crashing the process while this stream listens. Errors after `close()` are the owner's to handle.
   * @param info What is known about the connection.
   * @param release Called by `close()` after this stream stopped listening: ends or destroys the two sides.
   */
  constructor(readable: Readable, writable: Writable, info: ConnectionInfo, release: () => void) {
    this.info = info;
    this.#readable = readable;
    this.#writable = writable;
    this.#release = release;
    this.#chunks = new ChunkQueue({ pause: () => readable.pause(), resume: () => readable.resume() });
    readable.on("data", this.#onData);
    readable.on("end", this.#onEnd);
    readable.on("close", this.#onEnd);
    readable.on("error", this.#onReadError);
    writable.on("error", this.#onWriteError);
  }

  /**
   * Reads the next chunk.
   *
   * @returns The bytes, or `null` at the end.
   * @throws the readable side's error.
   */
  read(): Promise<Uint8Array | null> {
    return this.#chunks.read();
  }

  /**
   * Writes all of `chunk`; resolves once the writable side can take more.
   *
   * @param chunk The bytes.
   * @throws the writable side's error (such as EPIPE), or a plain `Error` once it is closed.
   */
  write(chunk: Uint8Array): Promise<void> {
    const writable = this.#writable;
    if (this.#closed || writable.destroyed || !writable.writable || this.#writeError !== undefined) {
      return Promise.reject(this.#writeError ?? new Error("The pipe is closed"));
    }
    if (needsFlushedWrite(writable, chunk)) {
      return writeFlushed(
        writable,
        chunk,
        (cause) => this.#writeError ?? cause ?? new Error("The pipe closed while writing"),
      );
    }
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown): void => {
        writable.off("drain", onDrain);
        writable.off("close", onClose);
        writable.off("error", settle);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDrain = (): void => settle();
      const onClose = (): void => settle(this.#writeError ?? new Error("The pipe closed while writing"));
      if (writable.write(chunk)) return resolve();
      writable.once("drain", onDrain);
      writable.once("close", onClose);
      writable.once("error", settle);
    });
  }

  /** Stops listening to both sides and releases them; a pending `read` resolves `null`. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const readable = this.#readable;
    readable.off("data", this.#onData);
    readable.off("end", this.#onEnd);
    readable.off("close", this.#onEnd);
    readable.off("error", this.#onReadError);
    this.#writable.off("error", this.#onWriteError);
    this.#chunks.end();
    this.#release();
    return Promise.resolve();
  }
}
