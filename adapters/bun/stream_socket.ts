/**
 * Bun's sockets (`Bun.listen` / `Bun.connect` callbacks) as
 * {@link ByteStream}s, Unix and TCP alike, and the client side of Unix
 * stream sockets: `Bun.connect` to a path. Unix sockets carry the peer's
 * credentials, read from the socket's `fd` when it opens.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { ChunkQueue } from "../../src/transport/chunk_queue.ts";
import { connectError, isConnectionRefused } from "../../src/transport/socket_errors.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";
import type { CredentialsReader } from "../lazy_credentials.ts";
import { bunGlobal, type BunSocket, type BunSocketHandler } from "./bun_api.ts";
import { bunStreamCredentials } from "./credentials.ts";
import { probeBunUnixPath } from "./unix_probe.ts";

/** Per-socket state: the stream object once the socket opened. */
export interface SocketState {
  /** The stream, set by the `open` handler. */
  stream?: BunSocketStream;
}

/**
 * A Bun socket as a {@link ByteStream}. Bun's `write` takes what the kernel
 * accepts and returns the count; the rest waits for `drain`, so nothing is
 * buffered beyond the chunk being written.
 */
export class BunSocketStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  /** Each chunk is this stream's own copy of what Bun handed to `data`. */
  readonly chunksDetachable = true;
  readonly #socket: BunSocket<SocketState>;
  readonly #chunks: ChunkQueue;
  #drained: (() => void) | undefined;
  #isClosed = false;
  #closed!: () => void;
  readonly #closedPromise: Promise<void>;

  /**
   * Wraps an open socket; the stream owns it from now on.
   *
   * @param socket The socket.
   * @param info What is known about it.
   */
  constructor(socket: BunSocket<SocketState>, info: ConnectionInfo) {
    this.info = info;
    this.#socket = socket;
    this.#chunks = new ChunkQueue({ pause: () => socket.pause(), resume: () => socket.resume() });
    this.#closedPromise = new Promise((resolve) => (this.#closed = resolve));
  }

  /**
   * Called by the `data` handler.
   *
   * @param data The received bytes.
   */
  onData(data: Uint8Array): void {
    // Copy: the runtime may reuse the buffer it handed to the callback.
    this.#chunks.push(data.slice());
  }

  /** Called by the `drain` handler. */
  onDrain(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }

  /** Called by the `end` handler. */
  onEnd(): void {
    this.#chunks.end();
  }

  /**
   * Called when an established TLS session failed (a fatal alert from the
   * peer): reads fail with `error` once the buffered bytes are read.
   *
   * @param error The typed error.
   */
  onError(error: unknown): void {
    this.#chunks.end(error);
  }

  /** Called by the `close` handler. */
  onClose(): void {
    this.#isClosed = true;
    this.#chunks.end();
    this.onDrain();
    this.#closed();
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
   * Writes all of `chunk`, waiting for `drain` whenever the kernel takes only part.
   *
   * @param chunk The bytes.
   */
  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#isClosed) throw new Error("The socket is closed");
      const written = this.#socket.write(chunk, offset, chunk.length - offset);
      if (written < 0) throw new Error("The socket is closed");
      offset += written;
      if (offset < chunk.length) await new Promise<void>((resolve) => (this.#drained = resolve));
    }
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    // end() sends what Bun still buffers, then the FIN; terminate() would drop it. A peer that
    // never lets the socket finish closing is cut off after a moment.
    if (!this.#isClosed) {
      this.#socket.end();
      const timer = setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS);
      await this.#closedPromise;
      clearTimeout(timer);
    }
    await this.#closedPromise;
  }
}

/** How long `close()` lets Bun flush and finish closing before it cuts the socket off. */
const CLOSE_GRACE_MS = 1000;

/**
 * The socket handlers that feed a socket's {@link BunSocketStream}.
 *
 * @param onOpen Creates the stream of a socket that opened.
 * @returns The handlers for `Bun.listen` or `Bun.connect`.
 */
export function streamHandlers<Socket extends BunSocket<SocketState>>(
  onOpen: (socket: Socket) => void,
): BunSocketHandler<SocketState, Socket> {
  return {
    binaryType: "uint8array",
    open: onOpen,
    data: (socket, data) => socket.data.stream?.onData(data),
    drain: (socket) => socket.data.stream?.onDrain(),
    end: (socket) => socket.data.stream?.onEnd(),
    close: (socket) => socket.data.stream?.onClose(),
    error: () => {},
  };
}

/**
 * The info of a Unix socket: `base`, and the peer's credentials if they can be read.
 *
 * @param socket The open socket.
 * @param base What is known about it otherwise.
 * @param read Reads credentials, where they can be read.
 * @returns The info.
 */
export function unixInfo(
  socket: BunSocket<SocketState>,
  base: ConnectionInfo,
  read: CredentialsReader | undefined,
): ConnectionInfo {
  const credentials = read?.(socket.fd);
  return credentials === undefined ? base : { ...base, credentials };
}

/**
 * Connects to a Unix stream socket.
 *
 * @param address A path or abstract address.
 * @returns The connection; its `info.credentials` are the server's, where they can be read.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export async function connectBunStream(address: SocketAddress): Promise<ByteStream> {
  const shown = formatAddress(address);
  const state: SocketState = {};
  const read = await bunStreamCredentials.reader();
  try {
    await bunGlobal().connect<SocketState>({
      unix: socketPathOf(address),
      data: state,
      socket: streamHandlers((socket) => {
        state.stream = new BunSocketStream(socket, unixInfo(socket, { transport: "unix", remoteAddress: shown }, read));
      }),
    });
    return state.stream!;
  } catch (error) {
    // Bun reports every failed Unix connect as ECONNREFUSED: ask the kernel for the real reason.
    const errno = isConnectionRefused(error)
      ? await probeBunUnixPath(socketPathOf(address)).catch(() => undefined)
      : undefined;
    const real = errno !== undefined && errno !== "ECONNREFUSED";
    throw connectError(
      real ? Object.assign(new Error(`Bun: ${errno}`, { cause: error }), { code: errno }) : error,
      shown,
    );
  }
}
