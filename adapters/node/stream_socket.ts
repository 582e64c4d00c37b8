/**
 * `node:net` sockets as {@link ByteStream}s, and the client side:
 * `net.connect` to a Unix stream socket.
 *
 * @module
 */

import * as net from "node:net";
import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { ChunkQueue } from "../../src/transport/chunk_queue.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";

/** A `node:net` socket as a {@link ByteStream}. */
export class NodeSocketStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  readonly #socket: net.Socket;
  readonly #chunks: ChunkQueue;
  readonly #closed: Promise<void>;
  #error: unknown = undefined;

  /**
   * Wraps a connected socket; the stream owns it from now on.
   *
   * @param socket The socket.
   * @param info What is known about it.
   */
  constructor(socket: net.Socket, info: ConnectionInfo) {
    this.info = info;
    this.#socket = socket;
    this.#chunks = new ChunkQueue({ pause: () => socket.pause(), resume: () => socket.resume() });
    socket.on("data", (chunk: Uint8Array) => this.#chunks.push(chunk));
    socket.on("end", () => this.#chunks.end());
    socket.on("error", (error) => {
      this.#error = error;
      this.#chunks.end();
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
   */
  read(): Promise<Uint8Array | null> {
    return this.#chunks.read();
  }

  /**
   * Writes all of `chunk`; resolves once the socket can take more.
   *
   * @param chunk The bytes.
   */
  write(chunk: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return Promise.reject(this.#error ?? new Error("The socket is closed"));
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        socket.off("drain", onDrain);
        reject(this.#error ?? new Error("The socket closed while writing"));
      };
      const onDrain = (): void => {
        socket.off("close", onClose);
        resolve();
      };
      if (socket.write(chunk)) return resolve();
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (!this.#socket.destroyed) this.#socket.destroy();
    await this.#closed;
  }
}

/**
 * Connects to a Unix stream socket.
 *
 * @param address A path or abstract address.
 * @returns The connection.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export function connectNodeStream(address: SocketAddress): Promise<ByteStream> {
  const shown = formatAddress(address);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPathOf(address));
    socket.once("error", (error) => reject(connectError(error, shown)));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(new NodeSocketStream(socket, { transport: "unix", remoteAddress: shown }));
    });
  });
}
