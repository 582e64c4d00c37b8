/**
 * Unix stream sockets through `node:net`, shared by the Node adapter and
 * the Deno adapter (whose own `Deno.UnixConn` shows no descriptor, so no
 * peer credentials): the listener operations for the shared skeleton in
 * `src/transport/unix_listener.ts`, and the client's connect. Every
 * accepted and connected socket carries `info.credentials` when the
 * runtime's FFI can read them (one `getsockopt` on `socket._handle.fd`,
 * an internal field that Node's and Deno's `node:net` both have).
 *
 * @module
 */

import { existsSync } from "node:fs";
import * as net from "node:net";
import { dirname } from "node:path";
import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import { connectError, isConnectionRefused } from "../../src/transport/socket_errors.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";
import type { BoundSocket, SocketFileOps, UnixSocketOps } from "../../src/transport/unix_listener.ts";
import type { CredentialsReader, StreamCredentials } from "../lazy_credentials.ts";
import type { GuardedListener, GuardLibc } from "../listener_guard.ts";
import type { Libc } from "../seqpacket/libc.ts";
import { guardServer } from "./guarded_server.ts";
import { NodeSocketStream } from "./socket_stream.ts";

/** The descriptor of a `node:net` socket (`socket._handle.fd`), if it has one. */
function nodeSocketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** The info of a Unix socket: `base`, and the peer's credentials if they can be read. */
function unixInfo(socket: net.Socket, base: ConnectionInfo, read: CredentialsReader | undefined): ConnectionInfo {
  const fd = read && nodeSocketFd(socket);
  const credentials = fd === undefined ? undefined : read?.(fd);
  return credentials === undefined ? base : { ...base, credentials };
}

/**
 * The Unix stream listener operations of a runtime whose `node:net` serves them.
 *
 * @param files The runtime's socket-file operations.
 * @param credentials How the runtime reads peer credentials.
 * @param guardLibc Where the runtime's `node:net` server stalls at the descriptor limit (Deno): libc for the guard.
 * @returns The operations for `listenUnix`.
 */
export function nodeUnixListener(
  files: SocketFileOps,
  credentials: StreamCredentials,
  guardLibc?: GuardLibc,
): UnixSocketOps<ByteStream> {
  return {
    files,
    bind: async (path, address) => {
      const [read, libc] = await Promise.all([credentials.reader(), guardLibc?.()]);
      return bind(path, address, read, libc);
    },
    adopt: async (fd, address) => {
      const [read, libc] = await Promise.all([credentials.reader(), guardLibc?.()]);
      return bind({ fd }, address, read, libc);
    },
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
}

/** Starts a server on `path`, or on a listening descriptor (`{ fd }`); rejects with the runtime's error. */
function bind(
  path: string | { fd: number },
  address: string,
  read: CredentialsReader | undefined,
  libc: Libc | undefined,
): Promise<BoundSocket<ByteStream>> {
  const accepted = new AcceptQueue<ByteStream>();
  let guarded: GuardedListener | undefined;
  const createServer = (): net.Server =>
    // Wrapped at once, so that an error or close before accept() is seen (and buffering is bounded).
    net.createServer().on("connection", (socket) => {
      guarded?.accepted();
      accepted.push(new NodeSocketStream(socket, unixInfo(socket, { transport: "unix", localAddress: address }, read)));
    });
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) => {
      // libuv reports a missing directory as EACCES; say what really went wrong.
      if (error.code === "EACCES" && typeof path === "string" && !path.startsWith("\0") && !existsSync(dirname(path))) {
        error.code = "ENOENT";
      }
      reject(error);
    });
    const listening = (): void => {
      server.on("error", () => {});
      guarded = guardServer(server, createServer, libc);
      resolve({
        accept: () => accepted.next(),
        close() {
          accepted.end((stream) => void stream.close());
          // Stops accepting at once; the callback would wait for every accepted socket, which the caller closes.
          if (guarded === undefined) server.close();
          else guarded.stop();
        },
      });
    };
    try {
      server.listen(path, listening);
    } catch (error) {
      // Deno throws a permission it was not given (NotCapable) here rather than emitting it.
      reject(error);
    }
  });
}

/**
 * Connects to a Unix stream socket.
 *
 * @param address A path or abstract address.
 * @param credentials How the runtime reads peer credentials.
 * @returns The connection; its `info.credentials` are the server's, where they can be read.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export async function connectNodeUnix(address: SocketAddress, credentials: StreamCredentials): Promise<ByteStream> {
  const shown = formatAddress(address);
  const read = await credentials.reader();
  return await new Promise((resolve, reject) => {
    let socket: net.Socket;
    try {
      socket = net.connect(socketPathOf(address));
    } catch (error) {
      // Deno throws a permission it was not given (NotCapable) here rather than emitting it.
      return reject(connectError(error, shown));
    }
    socket.once("error", (error) => reject(connectError(error, shown)));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(new NodeSocketStream(socket, unixInfo(socket, { transport: "unix", remoteAddress: shown }, read)));
    });
  });
}
