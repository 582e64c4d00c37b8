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
import { BunSocketStream, type SocketState, streamHandlers } from "./stream_socket.ts";
import { probeBunUnixPath } from "./unix_probe.ts";

/** Bun's Unix stream listener operations. */
export const bunStreamListener: UnixSocketOps<ByteStream> = {
  files: nodeSocketFiles,
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
  // Bun's own connect cannot tell a busy or other-type socket from a stale one: the kernel can.
  isStale: async (path) => (await probeBunUnixPath(path)) === "ECONNREFUSED",
};
