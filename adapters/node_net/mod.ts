/**
 * Unix stream sockets, TCP and TLS through `node:net` and `node:tls`,
 * shared by the runtime adapters: Node's for everything, Deno's for its
 * Unix stream sockets and for what its native TLS cannot do (see
 * README.md). Runs unchanged on Node 22 to 26, Deno 2.9 and Bun 1.4.
 *
 * @module
 */

export { connectNodeTcp } from "./tcp_connect.ts";
export { listenNodeTcp } from "./tcp_listener.ts";
export { NodeSocketStream, type NodeSocketStreamOptions } from "./socket_stream.ts";
export { connectNodeUnix, nodeUnixListener } from "./unix_socket.ts";
