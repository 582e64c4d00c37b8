/**
 * Node's socket operations: `node:net` for Unix stream sockets and koffi
 * (loaded on first use) for seqpacket sockets.
 *
 * @module
 */

import { existsSync } from "node:fs";
import * as net from "node:net";
import { dirname } from "node:path";
import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import { ChunkQueue } from "../../src/transport/chunk_queue.ts";
import type { RuntimeAdapter, StreamListenOptions } from "../../src/transport/runtime_adapter.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { connectError, isConnectionRefused, listenError } from "../../src/transport/socket_errors.ts";
import { claimSocketPath, DEFAULT_SOCKET_MODE } from "../../src/transport/socket_file.ts";
import type { ByteStream, ConnectionInfo, Listener } from "../../src/transport/types.ts";
import { nodeFsSocketFileOps, setSocketMode } from "../node_fs.ts";

/** A `node:net` socket as a {@link ByteStream}. */
class NodeSocketStream implements ByteStream {
  readonly info: ConnectionInfo;
  readonly #socket: net.Socket;
  readonly #chunks: ChunkQueue;
  readonly #closed: Promise<void>;
  #error: unknown = undefined;

  constructor(socket: net.Socket, info: ConnectionInfo) {
    this.info = info;
    this.#socket = socket;
    this.#chunks = new ChunkQueue({ pause: () => socket.pause(), resume: () => socket.resume() });
    socket.on("data", (chunk: Uint8Array) => this.#chunks.push(chunk));
    socket.on("end", () => this.#chunks.end());
    socket.on("error", (error) => {
      this.#error = error;
      this.#chunks.end();
    });
    this.#closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.#chunks.end();
        resolve();
      })
    );
  }

  read(): Promise<Uint8Array | null> {
    return this.#chunks.read();
  }

  write(chunk: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return Promise.reject(this.#error ?? new Error("The socket is closed"));
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        socket.off("drain", onDrain);
        reject(this.#error ?? new Error("The socket closed while writing"));
      };
      const onDrain = (): void => {
        socket.off("close", onClose);
        resolve();
      };
      if (socket.write(chunk)) return resolve();
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
  }

  async close(): Promise<void> {
    if (!this.#socket.destroyed) this.#socket.destroy();
    await this.#closed;
  }
}

const socketFileOps = nodeFsSocketFileOps((path) =>
  new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error) => resolve(isConnectionRefused(error)));
  })
);

async function listenStream(address: SocketAddress, options: StreamListenOptions): Promise<Listener<ByteStream>> {
  const text = formatAddress(address);
  if (!address.abstract) await claimSocketPath(address.path, socketFileOps);
  const server = net.createServer();
  const accepted = new AcceptQueue<net.Socket>();
  server.on("connection", (socket) => accepted.push(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) => {
      // libuv reports a missing directory as EACCES; say what really went wrong.
      if (error.code === "EACCES" && !address.abstract && !existsSync(dirname(address.path))) error.code = "ENOENT";
      reject(listenError(error, text));
    });
    server.listen(socketPathOf(address), () => resolve());
  });
  server.on("error", () => {});
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      accepted.end((socket) => socket.destroy());
      // Stops accepting at once; the callback would wait for every accepted socket, which the caller closes.
      server.close();
      if (!address.abstract) await socketFileOps.remove(address.path);
    })();
    return closing;
  };
  if (!address.abstract) {
    await setSocketMode(address.path, options.mode ?? DEFAULT_SOCKET_MODE).catch(async (error) => {
      await close();
      throw error;
    });
  }
  return {
    address: text,
    async accept() {
      const socket = await accepted.next();
      return socket === null ? null : new NodeSocketStream(socket, { transport: "unix", localAddress: text });
    },
    close,
  };
}

function connectStream(address: SocketAddress): Promise<ByteStream> {
  const text = formatAddress(address);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPathOf(address));
    socket.once("error", (error) => reject(connectError(error, text)));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(new NodeSocketStream(socket, { transport: "unix", remoteAddress: text }));
    });
  });
}

/** Node's socket operations. */
export const nodeRuntime: RuntimeAdapter = {
  name: "node",
  listenStream,
  connectStream,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
};
