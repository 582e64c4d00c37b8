/**
 * A `node:net` server on a Unix socket file that closes every connection
 * it accepted when it closes: the server half of the `raw-net` and
 * `jsonrpc` scenarios.
 *
 * @module
 */

import { once } from "node:events";
import { createServer, type Socket } from "node:net";

/**
 * Listens on `path`, handing each accepted socket to `serve`.
 *
 * @returns A `close` that destroys every open connection and stops listening.
 */
export async function serveNet(path: string, serve: (socket: Socket) => void): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    serve(socket);
  });
  server.listen(path);
  await once(server, "listening");
  return {
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
