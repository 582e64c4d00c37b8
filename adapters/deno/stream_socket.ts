/**
 * Deno's stream connections as {@link ByteStream}s: the one wrapper of a
 * `Deno.Conn` for TCP (`Deno.TcpConn`) and native TLS (`Deno.TlsConn`),
 * which differ only in their `info`. (Unix stream sockets go through
 * `node:net`, in `../node_net/`.)
 *
 * @module
 */

import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";

/** Bytes asked for per read; each read's bytes are copied out, so one buffer serves every read. */
const READ_BUFFER_SIZE = 64 * 1024;

/** A `Deno.Conn` as a {@link ByteStream}. `Deno.Conn` reads pull, so backpressure is natural. */
export class DenoConnStream implements ByteStream {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(READ_BUFFER_SIZE);
  readonly #readError: (error: unknown) => unknown;
  #closed = false;

  /**
   * Wraps a connection; the stream owns it from now on.
   *
   * @param conn The connection.
   * @param info What is known about it.
   * @param readError Turns an error of a read (other than the socket being closed or reset) into what `read`
   *   throws; by default Deno's error is thrown as it is.
   */
  constructor(conn: Deno.Conn, info: ConnectionInfo, readError: (error: unknown) => unknown = (error) => error) {
    this.#conn = conn;
    this.info = info;
    this.#readError = readError;
  }

  /**
   * Reads the next chunk.
   *
   * @returns A copy of the bytes read, or `null` once the peer closed its side or the stream was closed.
   * @throws what `readError` made of a failed read.
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    let count: number | null;
    try {
      count = await this.#conn.read(this.#buffer);
    } catch (error) {
      if (this.#closed || isClosedError(error)) return null;
      throw this.#readError(error);
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
 * `UnexpectedEof` is a TLS peer closing without `close_notify`, as a
 * node:tls socket's `destroy()` does; a cut frame is still caught by the
 * framing above.
 *
 * @param error What Deno threw.
 * @returns True for a closed or reset resource, or a TLS peer that closed.
 */
export function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof;
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
