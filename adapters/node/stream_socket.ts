/**
 * The client side of Node's Unix stream sockets: `net.connect` to a path
 * or abstract name. The socket becomes a `ByteStream` through the
 * `NodeSocketStream` shared with TCP and TLS in `../node_net/`.
 *
 * @module
 */

import * as net from "node:net";
import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import { NodeSocketStream } from "../node_net/socket_stream.ts";

/**
 * Connects to a Unix stream socket.
 *
 * @param address A path or abstract address.
 * @returns The connection.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export function connectNodeStream(address: SocketAddress): Promise<ByteStream> {
  const shown = formatAddress(address);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPathOf(address));
    socket.once("error", (error) => reject(connectError(error, shown)));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(new NodeSocketStream(socket, { transport: "unix", remoteAddress: shown }));
    });
  });
}
