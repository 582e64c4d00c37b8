/**
 * How Deno binds a Unix stream listener (`Deno.listen`) for the shared
 * listener skeleton in `src/transport/unix_listener.ts`.
 *
 * @module
 */

import { isConnectionRefused } from "../../src/transport/socket_errors.ts";
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

/** Deno's Unix stream listener operations. */
export const denoStreamListener: UnixSocketOps<ByteStream> = {
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
