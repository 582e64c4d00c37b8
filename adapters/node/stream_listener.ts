/**
 * How Node binds a Unix stream listener (`net.createServer`) for the shared
 * listener skeleton in `src/transport/unix_listener.ts`.
 *
 * @module
 */

import { existsSync } from "node:fs";
import * as net from "node:net";
import { dirname } from "node:path";
import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import { isConnectionRefused } from "../../src/transport/socket_errors.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import type { BoundSocket, UnixSocketOps } from "../../src/transport/unix_listener.ts";
import { nodeSocketFiles } from "../node_fs.ts";
import { NodeSocketStream } from "../node_net/socket_stream.ts";

/** Starts a server on `path`; rejects with libuv's error. */
function bind(path: string, address: string): Promise<BoundSocket<ByteStream>> {
  const server = net.createServer();
  const accepted = new AcceptQueue<ByteStream>();
  // Wrapped at once, so that an error or close before accept() is seen (and buffering is bounded).
  server.on(
    "connection",
    (socket) => accepted.push(new NodeSocketStream(socket, { transport: "unix", localAddress: address })),
  );
  return new Promise((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) => {
      // libuv reports a missing directory as EACCES; say what really went wrong.
      if (error.code === "EACCES" && !path.startsWith("\0") && !existsSync(dirname(path))) error.code = "ENOENT";
      reject(error);
    });
    server.listen(path, () => {
      server.on("error", () => {});
      resolve({
        accept: () => accepted.next(),
        close() {
          accepted.end((stream) => void stream.close());
          // Stops accepting at once; the callback would wait for every accepted socket, which the caller closes.
          server.close();
        },
      });
    });
  });
}

/** Node's Unix stream listener operations. */
export const nodeStreamListener: UnixSocketOps<ByteStream> = {
  files: nodeSocketFiles,
  bind,
  isStale: (path) =>
    new Promise((resolve) => {
      const socket = net.connect(path);
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", (error) => resolve(isConnectionRefused(error)));
    }),
};
