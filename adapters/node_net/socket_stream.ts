/**
 * A `node:net` socket (or a `node:tls` one, which is a `net.Socket` too) as
 * a {@link ByteStream}: the one copy of the write/drain and read/pause logic
 * for every stream socket opened through `node:net` or `node:tls`, Unix,
 * TCP or TLS, on Node, Deno or Bun.
 *
 * Deno 2.9's `node:tls` socket goes on reading its TCP socket while it is
 * paused, buffering whatever the peer sends, so that a peer is never held
 * back; there the TCP handle under the TLS layer (the internal
 * `_handle._nativeTcpHandle`, looked for and used only where it exists) is
 * stopped and started with it.
 *
 * @module
 */

import type * as net from "node:net";
import { ChunkQueue } from "../../src/transport/chunk_queue.ts";
import { needsFlushedWrite, writeFlushed } from "../node_flushed_write.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";

/** Options of a {@link NodeSocketStream}. */
export interface NodeSocketStreamOptions {
  /**
   * Turns a socket error into the error a pending or later `read` rejects
   * with; `undefined` ends the stream quietly (`read` resolves `null`), which
   * is also what happens without this option.
   */
  readError?: (error: unknown) => unknown;
}

/** The part of Deno's internal TCP handle under a `node:tls` socket used here. */
interface ReadControl {
  readStop(): unknown;
  readStart(): unknown;
}

/** The TCP handle under a Deno `node:tls` socket, or `undefined` on every other socket and runtime. */
function denoTlsTcpHandle(socket: net.Socket): ReadControl | undefined {
  const handle = (socket as unknown as { _handle?: { _nativeTcpHandle?: Partial<ReadControl> } })._handle;
  const tcp = handle?._nativeTcpHandle;
  return typeof tcp?.readStop === "function" && typeof tcp.readStart === "function" ? tcp as ReadControl : undefined;
}

/** A `node:net` socket as a {@link ByteStream}. */
export class NodeSocketStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  /**
   * Node and Deno's `node:net` never read into a chunk again once its `data`
   * event is emitted. A chunk may be a view of a larger buffer (TLS chunks
   * on Node 24 and 26 are 16 KiB views of a shared 64 KiB one): the decoder
   * copies a view of less than half its buffer when it takes it, and detaches
   * only a chunk that spans its whole buffer, so no shared buffer is ever
   * detached. Only Node's are said to be detachable: detaching them made a
   * 1 MiB echo faster on Node 24 and 26, but slower on Deno (0.85, 0.78,
   * 0.80 and 0.82 times the floor without, 0.72, 0.66, 0.74 and 0.68 with,
   * in alternating runs).
   */
  readonly chunksDetachable: boolean = !("Deno" in globalThis);
  readonly #socket: net.Socket;
  readonly #chunks: ChunkQueue;
  readonly #closed: Promise<void>;
  #error: unknown = undefined;

  /**
   * Wraps a connected socket; the stream owns it from now on.
   *
   * @param socket The socket.
   * @param info What is known about it.
   * @param options How socket errors reach `read`.
   */
  constructor(socket: net.Socket, info: ConnectionInfo, options: NodeSocketStreamOptions = {}) {
    this.info = info;
    this.#socket = socket;
    const tcp = denoTlsTcpHandle(socket);
    this.#chunks = new ChunkQueue({
      pause: () => {
        socket.pause();
        tcp?.readStop();
      },
      resume: () => {
        tcp?.readStart();
        socket.resume();
      },
    });
    socket.on("data", (chunk: Uint8Array) => this.#chunks.push(chunk));
    socket.on("end", () => this.#chunks.end());
    socket.on("error", (error) => {
      this.#error = error;
      this.#chunks.end(options.readError?.(error));
    });
    this.#closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.#chunks.end();
        resolve();
      })
    );
  }

  /**
   * Reads the next chunk.
   *
   * @returns The bytes, or `null` once the peer closed its side.
   * @throws what `options.readError` made of a socket error.
   */
  read(): Promise<Uint8Array | null> {
    return this.#chunks.read();
  }

  /**
   * Writes all of `chunk`; resolves once the socket can take more, and for a
   * chunk of 64 KiB or more once the socket no longer holds it (its memory
   * may be used again).
   *
   * @param chunk The bytes.
   * @throws the socket's error (or a plain `Error`) if the socket is or becomes closed first.
   */
  write(chunk: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return Promise.reject(this.#error ?? new Error("The socket is closed"));
    if (needsFlushedWrite(socket, chunk)) {
      return writeFlushed(
        socket,
        chunk,
        (cause) => this.#error ?? cause ?? new Error("The socket closed while writing"),
      );
    }
    // Taken below the socket's high-water mark: no promise or listener of its own.
    try {
      if (socket.write(chunk)) return WRITTEN;
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        socket.off("drain", onDrain);
        reject(this.#error ?? new Error("The socket closed while writing"));
      };
      const onDrain = (): void => {
        socket.off("close", onClose);
        resolve();
      };
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
  }

  /**
   * Closes the socket and waits until it is closed. Bytes the socket still
   * buffers (a write resolves once Node took it, not once the kernel did) are
   * sent first, with the FIN; a peer that keeps the close from finishing is
   * cut off after a moment.
   */
  async close(): Promise<void> {
    const socket = this.#socket;
    if (!socket.destroyed) {
      if (socket.writableLength === 0 || !socket.writable) socket.destroy();
      else {
        socket.end();
        const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
        socket.once("finish", () => socket.destroy());
        await this.#closed;
        clearTimeout(timer);
      }
    }
    await this.#closed;
  }
}

/** How long `close()` lets buffered bytes go out before it destroys the socket. */
const CLOSE_GRACE_MS = 1000;
/** What every write the socket took below its high-water mark returns. */
const WRITTEN: Promise<void> = Promise.resolve();
