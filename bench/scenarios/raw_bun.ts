/**
 * `raw-native` on Bun: the raw framing over `Bun.listen` / `Bun.connect`
 * with `unix:`. Every frame is its own `socket.write`; what the socket does
 * not take at once waits for `drain`, in order. Received chunks are copied
 * (Bun may reuse the buffer it hands to `data`), as peerlink's Bun adapter
 * does.
 *
 * @module
 */

import { join } from "node:path";
import { bunGlobal, type BunSocket } from "../../adapters/bun/bun_api.ts";
import { ByteQueue } from "./byte_queue.ts";
import { RawClientConnection } from "./raw_client.ts";
import { answerRawFrame } from "./raw_echo_server.ts";
import { RawFrameReader } from "./raw_frames.ts";
import type { BenchConnection, BenchServer, Scenario, ServeOptions, ServerAddress } from "./types.ts";

/** Writes frames to a Bun socket in order, one `write` per frame, the rest after `drain`. */
class BunFrameWriter {
  readonly #queue = new ByteQueue();
  #socket: BunSocket<State> | undefined;

  attach(socket: BunSocket<State>): void {
    this.#socket = socket;
  }

  write(bytes: Uint8Array): void {
    if (this.#queue.size > 0) {
      this.#queue.push(bytes);
      return;
    }
    const written = this.#socket!.write(bytes);
    if (written >= 0 && written < bytes.length) this.#queue.push(bytes.subarray(written));
  }

  /** Flushes and closes the write side. */
  end(): void {
    this.#socket!.end();
  }

  drain(): void {
    for (let bytes = this.#queue.peek(); bytes !== undefined; bytes = this.#queue.peek()) {
      const written = this.#socket!.write(bytes);
      if (written < 0) return;
      if (written < bytes.length) {
        this.#queue.replaceHead(bytes.subarray(written));
        return;
      }
      this.#queue.shift();
    }
  }
}

/** One side's state of a connection. */
interface State {
  writer: BunFrameWriter;
  onChunk(chunk: Uint8Array): void;
  onClose(): void;
}

const handlers = {
  data: (socket: BunSocket<State>, chunk: Uint8Array) => socket.data.onChunk(chunk.slice()),
  drain: (socket: BunSocket<State>) => socket.data.writer.drain(),
  close: (socket: BunSocket<State>) => socket.data.onClose(),
  error: () => {},
  binaryType: "uint8array" as const,
};

async function serve(options: ServeOptions): Promise<BenchServer> {
  const path = join(options.dir, "raw-bun.sock");
  const sockets = new Set<BunSocket<State>>();
  const listener = bunGlobal().listen<State>({
    unix: path,
    socket: {
      ...handlers,
      open(socket) {
        sockets.add(socket);
        const writer = new BunFrameWriter();
        writer.attach(socket);
        const write = (bytes: Uint8Array): void => writer.write(bytes);
        const reader = new RawFrameReader();
        socket.data = {
          writer,
          onChunk: (chunk) => reader.push(chunk, (frame) => answerRawFrame(frame, write)),
          onClose: () => sockets.delete(socket),
        };
      },
    },
  });
  return {
    address: path,
    close: async () => {
      for (const socket of sockets) socket.terminate();
      listener.stop(true);
    },
  };
}

async function open(server: ServerAddress): Promise<BenchConnection> {
  const writer = new BunFrameWriter();
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));
  const connection = new RawClientConnection({
    write: (bytes) => writer.write(bytes),
    close: () => {
      writer.end();
      return whenClosed;
    },
  });
  const state: State = {
    writer,
    onChunk: (chunk) => connection.receive(chunk),
    onClose: () => {
      connection.closed(new Error("The raw connection closed"));
      closed();
    },
  };
  writer.attach(await bunGlobal().connect<State>({ unix: server.address, data: state, socket: handlers }));
  return connection;
}

/** The `raw-native` scenario on Bun. */
export const scenario: Scenario = { serve, open };
