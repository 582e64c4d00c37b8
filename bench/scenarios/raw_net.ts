/**
 * `raw-net`, the floor every ratio is taken against: the raw framing
 * (`./raw_frames.ts`) over a Unix stream socket of the runtime's `node:net`.
 * Every frame is its own `socket.write`, on both sides.
 *
 * @module
 */

import { once } from "node:events";
import { createConnection } from "node:net";
import { join } from "node:path";
import { serveNet } from "./net_server.ts";
import { RawClientConnection } from "./raw_client.ts";
import { answerRawFrame } from "./raw_echo_server.ts";
import { RawFrameReader } from "./raw_frames.ts";
import type { BenchConnection, BenchServer, Scenario, ServeOptions, ServerAddress } from "./types.ts";

/** Starts a `node:net` echo server on a socket file in `options.dir`. */
async function serve(options: ServeOptions): Promise<BenchServer> {
  const path = join(options.dir, "raw-net.sock");
  const server = await serveNet(path, (socket) => {
    const reader = new RawFrameReader();
    const write = (bytes: Uint8Array): void => void socket.write(bytes);
    socket.on("data", (chunk: Uint8Array) => reader.push(chunk, (frame) => answerRawFrame(frame, write)));
  });
  return { address: path, close: () => server.close() };
}

/** Connects a raw client with `node:net`. */
async function open(server: ServerAddress): Promise<BenchConnection> {
  const socket = createConnection(server.address);
  const closed = once(socket, "close").then(() => {});
  await once(socket, "connect");
  const connection = new RawClientConnection({
    write: (bytes) => void socket.write(bytes),
    close: () => {
      socket.end();
      return closed;
    },
  });
  socket.on("data", (chunk: Uint8Array) => connection.receive(chunk));
  socket.on("error", (error) => connection.closed(error));
  socket.on("close", () => connection.closed(new Error("The raw socket closed")));
  return connection;
}

/** The `raw-net` scenario. */
export const scenario: Scenario = { serve, open };
