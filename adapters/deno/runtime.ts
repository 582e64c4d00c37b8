/**
 * Deno's socket operations: `Deno.listen` / `Deno.connect` for Unix stream
 * sockets and `Deno.dlopen` (loaded on first use) for seqpacket sockets.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import type { RuntimeAdapter, StreamListenOptions } from "../../src/transport/runtime_adapter.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { connectError, isConnectionRefused, listenError } from "../../src/transport/socket_errors.ts";
import { claimSocketPath, DEFAULT_SOCKET_MODE, type SocketFileOps } from "../../src/transport/socket_file.ts";
import type { ByteStream, ConnectionInfo, Listener } from "../../src/transport/types.ts";

/** Bytes asked for per read; each read's bytes are copied out, so one buffer serves every read. */
const READ_BUFFER_SIZE = 64 * 1024;

/** A `Deno.UnixConn` as a {@link ByteStream}. `Deno.Conn` reads pull, so backpressure is natural. */
class DenoConnStream implements ByteStream {
  readonly info: ConnectionInfo;
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(READ_BUFFER_SIZE);
  #closed = false;

  constructor(conn: Deno.Conn, info: ConnectionInfo) {
    this.#conn = conn;
    this.info = info;
  }

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

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) offset += await this.#conn.write(chunk.subarray(offset));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch {
        // Already closed by the runtime.
      }
    }
    return Promise.resolve();
  }
}

function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

const socketFileOps: SocketFileOps = {
  async kind(path) {
    try {
      return (await Deno.lstat(path)).isSocket ? "socket" : "other";
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return "missing";
      throw error;
    }
  },
  async isStale(path) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return false;
    } catch (error) {
      return isConnectionRefused(error);
    }
  },
  async remove(path) {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  },
};

async function listenStream(address: SocketAddress, options: StreamListenOptions): Promise<Listener<ByteStream>> {
  const text = formatAddress(address);
  if (!address.abstract) await claimSocketPath(address.path, socketFileOps);
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ transport: "unix", path: socketPathOf(address) });
  } catch (error) {
    throw listenError(error, text);
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      if (!address.abstract) await socketFileOps.remove(address.path);
    })();
    return closing;
  };
  if (!address.abstract) {
    await Deno.chmod(address.path, options.mode ?? DEFAULT_SOCKET_MODE).catch(async (error) => {
      await close();
      throw error;
    });
  }
  return {
    address: text,
    async accept() {
      if (closing) return null;
      try {
        const conn = await listener.accept();
        if (closing) {
          conn.close();
          return null;
        }
        return new DenoConnStream(conn, { transport: "unix", localAddress: text });
      } catch (error) {
        if (closing || isClosedError(error)) return null;
        throw error;
      }
    },
    close,
  };
}

async function connectStream(address: SocketAddress): Promise<ByteStream> {
  const text = formatAddress(address);
  try {
    const conn = await Deno.connect({ transport: "unix", path: socketPathOf(address) });
    return new DenoConnStream(conn, { transport: "unix", remoteAddress: text });
  } catch (error) {
    throw connectError(error, text);
  }
}

/** Deno's socket operations. */
export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  listenStream,
  connectStream,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
};
