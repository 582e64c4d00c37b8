/**
 * Bun's socket operations: `Bun.listen` / `Bun.connect` for Unix stream
 * sockets and `bun:ffi` (loaded on first use) for seqpacket sockets.
 *
 * @module
 */

import { formatAddress, type SocketAddress, socketPathOf } from "../../src/transport/address.ts";
import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import { ChunkQueue } from "../../src/transport/chunk_queue.ts";
import type { RuntimeAdapter, StreamListenOptions } from "../../src/transport/runtime_adapter.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { connectError, isConnectionRefused, listenError } from "../../src/transport/socket_errors.ts";
import { claimSocketPath, DEFAULT_SOCKET_MODE } from "../../src/transport/socket_file.ts";
import type { ByteStream, ConnectionInfo, Listener } from "../../src/transport/types.ts";
import { type BunSocket, type BunSocketHandler, bunGlobal } from "./bun_api.ts";
import { isListeningOnLinux, nodeFsSocketFileOps, setSocketMode } from "../node_fs.ts";

/** Per-socket state: the stream object once the socket opened. */
interface SocketState {
  stream?: BunSocketStream;
}

/**
 * A Bun socket as a {@link ByteStream}. Bun's `write` takes what the kernel
 * accepts and returns the count; the rest waits for `drain`, so nothing is
 * buffered beyond the chunk being written.
 */
class BunSocketStream implements ByteStream {
  readonly info: ConnectionInfo;
  readonly #socket: BunSocket<SocketState>;
  readonly #chunks: ChunkQueue;
  #drained: (() => void) | undefined;
  #isClosed = false;
  #closed!: () => void;
  readonly #closedPromise: Promise<void>;

  constructor(socket: BunSocket<SocketState>, info: ConnectionInfo) {
    this.info = info;
    this.#socket = socket;
    this.#chunks = new ChunkQueue({ pause: () => socket.pause(), resume: () => socket.resume() });
    this.#closedPromise = new Promise((resolve) => (this.#closed = resolve));
  }

  onData(data: Uint8Array): void {
    // Copy: the runtime may reuse the buffer it handed to the callback.
    this.#chunks.push(data.slice());
  }

  onDrain(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }

  onEnd(): void {
    this.#chunks.end();
  }

  onClose(): void {
    this.#isClosed = true;
    this.#chunks.end();
    this.onDrain();
    this.#closed();
  }

  read(): Promise<Uint8Array | null> {
    return this.#chunks.read();
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#isClosed) throw new Error("The socket is closed");
      const written = this.#socket.write(chunk, offset, chunk.length - offset);
      if (written < 0) throw new Error("The socket is closed");
      offset += written;
      if (offset < chunk.length) await new Promise<void>((resolve) => (this.#drained = resolve));
    }
  }

  async close(): Promise<void> {
    if (!this.#isClosed) this.#socket.terminate();
    await this.#closedPromise;
  }
}

function handlers(onOpen: (socket: BunSocket<SocketState>) => void): BunSocketHandler<SocketState> {
  return {
    binaryType: "uint8array",
    open: onOpen,
    data: (socket, data) => socket.data.stream?.onData(data),
    drain: (socket) => socket.data.stream?.onDrain(),
    end: (socket) => socket.data.stream?.onEnd(),
    close: (socket) => socket.data.stream?.onClose(),
    error: () => {},
  };
}

const socketFileOps = nodeFsSocketFileOps(async (path) => {
  try {
    const socket = await bunGlobal().connect<SocketState>({ unix: path, data: {}, socket: { data: () => {}, error: () => {} } });
    socket.terminate();
    return false;
  } catch (error) {
    // Bun reports every failed Unix connect as ECONNREFUSED, even EPROTOTYPE
    // from a live socket of another type, so ask the kernel's table as well.
    return isConnectionRefused(error) && !(await isListeningOnLinux(path));
  }
});

async function listenStream(address: SocketAddress, options: StreamListenOptions): Promise<Listener<ByteStream>> {
  const text = formatAddress(address);
  if (!address.abstract) await claimSocketPath(address.path, socketFileOps);
  const accepted = new AcceptQueue<BunSocketStream>();
  let server;
  try {
    server = bunGlobal().listen<SocketState>({
      unix: socketPathOf(address),
      socket: handlers((socket) => {
        socket.data = { stream: new BunSocketStream(socket, { transport: "unix", localAddress: text }) };
        accepted.push(socket.data.stream!);
      }),
    });
  } catch (error) {
    throw listenError(error, text);
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      accepted.end((stream) => void stream.close());
      server.stop(false);
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
  return { address: text, accept: () => accepted.next(), close };
}

async function connectStream(address: SocketAddress): Promise<ByteStream> {
  const text = formatAddress(address);
  const state: SocketState = {};
  try {
    await bunGlobal().connect<SocketState>({
      unix: socketPathOf(address),
      data: state,
      socket: handlers((socket) => {
        state.stream = new BunSocketStream(socket, { transport: "unix", remoteAddress: text });
      }),
    });
    return state.stream!;
  } catch (error) {
    throw connectError(error, text);
  }
}

/** Bun's socket operations. */
export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  listenStream,
  connectStream,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
};
