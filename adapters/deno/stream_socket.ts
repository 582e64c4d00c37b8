/**
 * Deno's Unix stream connections (`Deno.UnixConn`) as {@link ByteStream}s,
 * and the client side: `Deno.connect`.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";

/** Bytes asked for per read; each read's bytes are copied out, so one buffer serves every read. */
const READ_BUFFER_SIZE = 64 * 1024;

/** A `Deno.Conn` as a {@link ByteStream}. `Deno.Conn` reads pull, so backpressure is natural. */
export class DenoConnStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(READ_BUFFER_SIZE);
  #closed = false;

  /**
   * Wraps a connection; the stream owns it from now on.
   *
   * @param conn The connection.
   * @param info What is known about it.
   */
  constructor(conn: Deno.Conn, info: ConnectionInfo) {
    this.#conn = conn;
    this.info = info;
  }

  /**
   * Reads the next chunk.
   *
   * @returns A copy of the bytes read, or `null` once the peer closed its side or the stream was closed.
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    let count: number | null;
    try {
      count = await this.#conn.read(this.#buffer);
    } catch (error) {
      if (this.#closed || isClosedError(error)) return null;
      throw error;
    }
    return count === null ? null : this.#buffer.slice(0, count);
  }

  /**
   * Writes all of `chunk`.
   *
   * @param chunk The bytes.
   */
  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) offset += await this.#conn.write(chunk.subarray(offset));
  }

  /** Closes the connection. Safe to call more than once. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      closeQuietly(this.#conn);
    }
    return Promise.resolve();
  }
}

/**
 * Whether a Deno socket error only says that the socket was closed.
 *
 * @param error What Deno threw.
 * @returns True for a closed or reset resource.
 */
export function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

/**
 * Closes a Deno resource that the runtime may have closed already.
 *
 * @param resource A connection or listener.
 */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed by the runtime.
  }
}

/**
 * Connects to a Unix stream socket.
 *
 * @param address A path or abstract address.
 * @returns The connection.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export async function connectDenoStream(address: SocketAddress): Promise<ByteStream> {
  const shown = formatAddress(address);
  try {
    const conn = await Deno.connect({ transport: "unix", path: socketPathOf(address) });
    return new DenoConnStream(conn, { transport: "unix", remoteAddress: shown });
  } catch (error) {
    throw connectError(error, shown);
  }
}
