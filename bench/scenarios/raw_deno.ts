/**
 * `raw-native` on Deno: the raw framing over `Deno.listen` /
 * `Deno.connect` with `transport: "unix"`. Every frame is its own
 * `conn.write` (a partial write is finished before the next frame starts);
 * reads go into one buffer and are copied out, since frames may wait for
 * the writer.
 *
 * @module
 */

import { join } from "node:path";
import { ByteQueue } from "./byte_queue.ts";
import { RawClientConnection } from "./raw_client.ts";
import { answerRawFrame } from "./raw_echo_server.ts";
import { RawFrameReader } from "./raw_frames.ts";
import type { BenchConnection, BenchServer, Scenario, ServeOptions, ServerAddress } from "./types.ts";

const READ_SIZE = 64 * 1024;

/** Writes frames to a `Deno.Conn` in order, one `write` per frame. */
class DenoFrameWriter {
  readonly #conn: Deno.Conn;
  readonly #queue = new ByteQueue();
  #writing = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    if (!this.#writing) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      for (let bytes = this.#queue.peek(); bytes !== undefined; bytes = this.#queue.peek()) {
        const written = await this.#conn.write(bytes);
        if (written < bytes.length) this.#queue.replaceHead(bytes.subarray(written));
        else this.#queue.shift();
      }
    } catch {
      // The connection closed; its reader ends it.
    } finally {
      this.#writing = false;
    }
  }
}

/** Reads a connection until it ends, handing each chunk to `onChunk`. */
async function readAll(conn: Deno.Conn, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const buffer = new Uint8Array(READ_SIZE);
  try {
    for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) {
      onChunk(buffer.slice(0, count));
    }
  } catch {
    // Closed while reading.
  }
}

async function serve(options: ServeOptions): Promise<BenchServer> {
  const path = join(options.dir, "raw-deno.sock");
  const listener = Deno.listen({ transport: "unix", path });
  const conns = new Set<Deno.Conn>();
  void (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const writer = new DenoFrameWriter(conn);
        const write = (bytes: Uint8Array): void => writer.write(bytes);
        const reader = new RawFrameReader();
        void readAll(conn, (chunk) => reader.push(chunk, (frame) => answerRawFrame(frame, write))).finally(() => {
          conns.delete(conn);
          closeQuietly(conn);
        });
      }
    } catch {
      // The listener closed.
    }
  })();
  return {
    address: path,
    close: async () => {
      closeQuietly(listener);
      for (const conn of conns) closeQuietly(conn);
    },
  };
}

async function open(server: ServerAddress): Promise<BenchConnection> {
  const conn = await Deno.connect({ transport: "unix", path: server.address });
  const writer = new DenoFrameWriter(conn);
  let reading: Promise<void> = Promise.resolve();
  const connection = new RawClientConnection({
    write: (bytes) => writer.write(bytes),
    close: async () => {
      closeQuietly(conn);
      await reading;
    },
  });
  reading = readAll(conn, (chunk) => connection.receive(chunk)).then(() =>
    connection.closed(new Error("The raw connection closed"))
  );
  return connection;
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Closed already.
  }
}

/** The `raw-native` scenario on Deno. */
export const scenario: Scenario = { serve, open };
