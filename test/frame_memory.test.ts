import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, listen, type PeerlinkError } from "../mod.ts";
import { cborCodec, MessageType, methodId } from "../peer.ts";
import type { ByteStream } from "../src/transport/types.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { tempDir, waitFor } from "./_helpers.ts";
import { connectRawStream } from "./_raw_sockets.ts";

const CONNECTIONS = 256;
const ANNOUNCED = 16 * 1024 * 1024;

/** This process's virtual memory size in bytes (`VmSize` in /proc/self/status). */
function virtualMemory(): number {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((entry) => entry.startsWith("VmSize:"));
  assert.ok(line, "/proc/self/status has a VmSize line");
  return Number(line.replace(/\D+/g, "")) * 1024;
}

/**
 * An echo request followed by a 16 MiB length prefix and one body byte, in
 * one write. Its answer tells that the server has read the prefix too: the
 * bytes arrive together, and the server decodes the next frame before this
 * process handles the socket event that delivers the answer.
 */
function echoThenAnnounce(index: number): Uint8Array {
  const echo = encodeFrame(
    { type: MessageType.Request, requestId: 1, serviceId: methodId("echo") },
    cborCodec.encode(index),
  );
  const bytes = new Uint8Array(echo.length + 5);
  bytes.set(echo);
  new DataView(bytes.buffer).setUint32(echo.length, ANNOUNCED, true);
  return bytes;
}

async function readAtLeast(stream: ByteStream, count: number): Promise<number> {
  let received = 0;
  while (received < count) {
    const chunk = await stream.read();
    if (chunk === null) throw new Error(`The server closed the connection after ${received} bytes`);
    received += chunk.length;
  }
  return received;
}

describe("frame memory", () => {
  it(`buffers what arrived, not what ${CONNECTIONS} connections announce`, async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "memory.sock")}`;
    const errors: unknown[] = [];
    const server = await listen(address, {
      handlers: { echo: (value: unknown) => value },
      onError: (error) => errors.push(error),
    });
    const client = await connect(address);
    const raw: ByteStream[] = [];
    try {
      assert.equal(await client.call("echo", "warm up"), "warm up");
      const before = virtualMemory();
      for (let i = 0; i < CONNECTIONS; i++) raw.push(await connectRawStream(address));
      await Promise.all(raw.map((stream, i) => stream.write(echoThenAnnounce(i))));
      const answerLength =
        encodeFrame({ type: MessageType.Response, requestId: 1, serviceId: 0 }, cborCodec.encode(0)).length;
      await Promise.all(raw.map((stream) => readAtLeast(stream, answerLength)));
      const grown = virtualMemory() - before;

      assert.equal(await client.call("echo", "still served"), "still served");
      // Allocating each announced frame grows it by CONNECTIONS x 16 MiB (4 GiB); buffering what arrived, by far less.
      const limit = (CONNECTIONS * ANNOUNCED) / 8;
      assert.ok(
        grown < limit,
        `virtual memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB, limit ${limit / 2 ** 20} MiB`,
      );
      assert.equal(server.connections.size, CONNECTIONS + 1);

      await Promise.all(raw.splice(0).map((stream) => stream.close()));
      await waitFor(() => server.connections.size === 1, "the server dropped the closed connections", 10000);
      await waitFor(() => errors.length === CONNECTIONS, "the server reported every cut-off frame", 10000);
      assert.deepEqual(
        new Set(errors.map((error) => (error as PeerlinkError).code)),
        new Set(["ERR_CONNECTION_CLOSED"]),
      );
      assert.equal(await client.call("echo", "after"), "after");
    } finally {
      await Promise.all(raw.map((stream) => stream.close()));
      await client.close();
      await server.close();
      dir.cleanup();
    }
  });
});
