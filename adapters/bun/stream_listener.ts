/**
 * How Bun binds a Unix stream listener (`Bun.listen`) for the shared
 * listener skeleton in `src/transport/unix_listener.ts`.
 *
 * @module
 */

import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import type { UnixSocketOps } from "../../src/transport/unix_listener.ts";
import { bunGlobal } from "./bun_api.ts";
import { nodeSocketFiles } from "../node_fs.ts";
import { BunSocketStream, isRefusedByNobody, type SocketState, streamHandlers } from "./stream_socket.ts";

/** Bun's Unix stream listener operations. */
export const bunStreamListener: UnixSocketOps<ByteStream> = {
  files: nodeSocketFiles,
  // Bun removes the bound path when the listener stops.
  removesPathOnClose: true,
  async bind(path, address) {
    const accepted = new AcceptQueue<BunSocketStream>();
    const server = bunGlobal().listen<SocketState>({
      unix: path,
      socket: streamHandlers((socket) => {
        const stream = new BunSocketStream(socket, { transport: "unix", localAddress: address });
        socket.data = { stream };
        accepted.push(stream);
      }),
    });
    return {
      accept: () => accepted.next(),
      close() {
        accepted.end((stream) => void stream.close());
        server.stop(false);
      },
    };
  },
  async isStale(path) {
    try {
      const probe = await bunGlobal().connect<SocketState>({
        unix: path,
        data: {},
        socket: { data: () => {}, error: () => {} },
      });
      probe.terminate();
      return false;
    } catch (error) {
      return isRefusedByNobody(error, path);
    }
  },
};
