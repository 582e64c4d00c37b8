import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, listen, type PeerlinkError, type RpcConnection, type RpcServer } from "../mod.ts";
import { cborCodec, MessageType, methodId } from "../peer.ts";
import type { ByteStream } from "../src/transport/types.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { delay, tempDir, waitFor } from "./_helpers.ts";
import { connectRawStream, listenRawStream } from "./_raw_sockets.ts";

const dir = tempDir();
const address = `unix:${join(dir.path, "bad.sock")}`;
const serverErrors: unknown[] = [];
let server: RpcServer;
let goodClient: RpcConnection;

function frame(type: number, requestId: number, serviceId: number, body: Uint8Array): Uint8Array {
  return encodeFrame({ type: type as MessageType, requestId, serviceId }, body);
}

function lengthPrefix(length: number): Uint8Array {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setUint32(0, length, true);
  return bytes;
}

function rawConnect(): Promise<ByteStream> {
  return connectRawStream(address);
}

/** Reads until the server closes the connection; returns everything received. */
async function readUntilClosed(stream: ByteStream, ms = 5000): Promise<number> {
  let received = 0;
  const deadline = Date.now() + ms;
  for (;;) {
    const chunk = await Promise.race([
      stream.read(),
      delay(Math.max(0, deadline - Date.now())).then(() => "timeout" as const),
    ]);
    if (chunk === "timeout") throw new Error("The server did not close the offending connection");
    if (chunk === null) return received;
    received += chunk.length;
  }
}

before(async () => {
  server = await listen(address, {
    handlers: { echo: (value: unknown) => value, slow: () => delay(300).then(() => "slow done") },
    onError: (error) => serverErrors.push(error),
  });
  goodClient = await connect(address);
});

after(async () => {
  await goodClient.close();
  await server.close();
  dir.cleanup();
});

const cases: [string, () => Uint8Array, string][] = [
  ["garbage bytes", () => new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "ERR_FRAME_TOO_LARGE"],
  ["a length of 0", () => lengthPrefix(0), "ERR_FRAME_TOO_SMALL"],
  ["a length of 11", () => lengthPrefix(11), "ERR_FRAME_TOO_SMALL"],
  ["a length of 4 GiB", () => lengthPrefix(0xffffffff), "ERR_FRAME_TOO_LARGE"],
  [
    "invalid CBOR",
    () => frame(MessageType.Request, 1, methodId("echo"), new Uint8Array([0xff, 0xfe, 0x1c])),
    "ERR_DECODE",
  ],
  [
    "truncated CBOR",
    () => frame(MessageType.Request, 1, methodId("echo"), new Uint8Array([0x78, 0x10, 0x41])),
    "ERR_DECODE",
  ],
  ["an unknown message type", () => frame(7, 1, 0, new Uint8Array(0)), "ERR_INVALID_MESSAGE_TYPE"],
  [
    "a response to an id never sent",
    () => frame(MessageType.Response, 77, 0, cborCodec.encode(1)),
    "ERR_UNKNOWN_REQUEST",
  ],
  [
    "an update to an id never sent",
    () => frame(MessageType.ResponderUpdate, 78, 0, cborCodec.encode(1)),
    "ERR_UNKNOWN_REQUEST",
  ],
  [
    "a duplicate request id",
    () => {
      const request = frame(MessageType.Request, 5, methodId("slow"), cborCodec.encode(null));
      const both = new Uint8Array(request.length * 2);
      both.set(request);
      both.set(request, request.length);
      return both;
    },
    "ERR_DUPLICATE_REQUEST",
  ],
];

describe("bad input over a real socket", () => {
  for (const [name, bytes, code] of cases) {
    it(`closes the connection on ${name} with ${code}, and keeps serving others`, async () => {
      const before = serverErrors.length;
      const pendingGoodCall = goodClient.call("slow");
      const bad = await rawConnect();
      await bad.write(bytes());
      await readUntilClosed(bad);
      await bad.close();
      await waitFor(() => serverErrors.length > before, "the server reported the error");
      const errors = serverErrors.slice(before) as PeerlinkError[];
      assert.equal(errors.length, 1, `expected one error, got ${errors.map((e) => e.code)}`);
      const error = errors[0]!;
      assert.equal(error.name, "ProtocolError");
      assert.equal(error.code, code);
      assert.equal(await pendingGoodCall, "slow done");
      assert.equal(await goodClient.call("echo", name), name);
    });
  }

  it("reports a connection that closes mid-frame", async () => {
    const before = serverErrors.length;
    const bad = await rawConnect();
    await bad.write(frame(MessageType.Request, 1, methodId("echo"), cborCodec.encode("x")).subarray(0, 10));
    await delay(20);
    await bad.close();
    await waitFor(() => serverErrors.length > before, "the server reported the error");
    assert.deepEqual((serverErrors.slice(before) as PeerlinkError[]).map((e) => e.code), ["ERR_CONNECTION_CLOSED"]);
    assert.equal(await goodClient.call("echo", 1), 1);
  });

  it("rejects a client's pending calls with a typed error when the server sends garbage", async () => {
    const local = tempDir();
    const path = join(local.path, "evil.sock");
    const evil = await listenRawStream(`unix:${path}`);
    const serving = (async () => {
      const stream = (await evil.accept())!;
      await stream.read();
      await stream.write(lengthPrefix(3));
      await stream.read();
      await stream.close();
    })();
    // A plain fizyr-rpc client, so the garbage answers a call (garbage during a handshake: session_handshake.test.ts).
    const client = await connect(`unix:${path}`, { protocol: "fizyr" });
    await assert.rejects(client.call("echo", 1), (error: unknown) => {
      assert.equal((error as PeerlinkError).code, "ERR_CONNECTION_CLOSED");
      assert.equal(((error as PeerlinkError).cause as PeerlinkError).code, "ERR_FRAME_TOO_SMALL");
      return true;
    });
    assert.equal((client.closeError as PeerlinkError).code, "ERR_FRAME_TOO_SMALL");
    await client.close();
    await serving;
    await evil.close();
    local.cleanup();
  });

  it("closes the client connection when a response body is not valid CBOR", async () => {
    const local = tempDir();
    const path = join(local.path, "evil2.sock");
    const evil = await listenRawStream(`unix:${path}`);
    const serving = (async () => {
      const stream = (await evil.accept())!;
      const request = (await stream.read())!;
      const requestId = new DataView(request.buffer, request.byteOffset).getUint32(8, true);
      await stream.write(frame(MessageType.Response, requestId, 0, new Uint8Array([0xff])));
      await stream.read();
      await stream.close();
    })();
    const client = await connect(`unix:${path}`, { protocol: "fizyr" });
    await assert.rejects(client.call("echo", 1), { code: "ERR_DECODE" });
    await client.closed;
    assert.equal((client.closeError as PeerlinkError).code, "ERR_DECODE");
    await serving;
    await evil.close();
    local.cleanup();
  });
});
