/**
 * Unix stream sockets through Deno's own `Deno.listen` / `Deno.connect`,
 * for a Deno process without `--allow-ffi`. A `Deno.UnixConn` shows no
 * descriptor, so these connections carry no peer credentials; with
 * `--allow-ffi` the adapter uses `node:net` instead (`../node_net/`),
 * which does. Unlike Deno's `node:net` server, `Deno.listen` keeps
 * accepting after the descriptor limit was reached (its `accept` throws
 * EMFILE, which the RPC server retries with a back-off), so it needs no
 * guard, which could not work without FFI anyway.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { connectError, isConnectionRefused } from "../../src/transport/socket_errors.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import type { BoundSocket, UnixSocketOps } from "../../src/transport/unix_listener.ts";
import { denoSocketFiles } from "./socket_files.ts";
import { closeQuietly, DenoConnStream, isClosedError } from "./stream_socket.ts";

/** A `Deno.Listener` as the skeleton's bound socket. */
function bound(listener: Deno.Listener, address: string): BoundSocket<ByteStream> {
  let closed = false;
  return {
    async accept() {
      try {
        const conn = await listener.accept();
        if (!closed) return new DenoConnStream(conn, { transport: "unix", localAddress: address });
        closeQuietly(conn);
        return null;
      } catch (error) {
        if (closed || isClosedError(error)) return null;
        throw error;
      }
    },
    close() {
      closed = true;
      closeQuietly(listener);
    },
  };
}

/** Deno's own Unix stream listener operations. */
export const denoNativeUnixListener: UnixSocketOps<ByteStream> = {
  files: denoSocketFiles,
  async bind(path, address) {
    return bound(Deno.listen({ transport: "unix", path }), address);
  },
  async isStale(path) {
    try {
      (await Deno.connect({ transport: "unix", path })).close();
      return false;
    } catch (error) {
      return isConnectionRefused(error);
    }
  },
};

/**
 * Connects to a Unix stream socket with `Deno.connect`.
 *
 * @param address A path or abstract address.
 * @returns The connection (without credentials).
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export async function connectDenoUnix(address: SocketAddress): Promise<ByteStream> {
  const shown = formatAddress(address);
  try {
    const conn = await Deno.connect({ transport: "unix", path: socketPathOf(address) });
    return new DenoConnStream(conn, { transport: "unix", remoteAddress: shown });
  } catch (error) {
    throw connectError(error, shown);
  }
}
