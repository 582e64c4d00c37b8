import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, type HandlerContext, listen, type RpcConnection, RpcError, type RpcServer, withFds } from "../mod.ts";
import { cborCodec, MessageType, methodId } from "../peer.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { delay, tempDir, waitFor } from "./_helpers.ts";
import { connectRawStream, listenRawStream } from "./_raw_sockets.ts";

const dir = tempDir();
const address = `unix:${join(dir.path, "robust.sock")}`;
const calls: string[] = [];
let onSentCalls = 0;
let server: RpcServer;
let client: RpcConnection;

let generatorFinallyRan = false;

const handlers = {
  failBig: () => {
    throw new RpcError("ERR_BIG", "too much detail", new Uint8Array(100_000));
  },
  failLongMessage: () => {
    throw new Error("y".repeat(100_000));
  },
  tooBigItem: async function* () {
    try {
      yield new Uint8Array(100_000);
    } finally {
      generatorFinallyRan = true;
    }
  },
  echo: (value: unknown) => value,
  record: (label: string) => void calls.push(label),
  mapResult: () => new Map<unknown, unknown>([[1, "one"], ["two", 2]]),
  notEncodable: () => () => "a function",
  slowWithFds: async (_: undefined, context: HandlerContext) => {
    await delay(100);
    return withFds(context.signal.aborted, [0], { onSent: () => onSentCalls++ });
  },
};

before(async () => {
  server = await listen(address, {
    handlers,
    maxMessageSize: 64 * 1024,
    serviceIds: { toString: 77 },
    onConnection: () => {
      throw new Error("a throwing onConnection must not crash the process");
    },
    onError: () => {
      throw new Error("a throwing onError must not crash the process");
    },
  });
  server.router.handle("toString", () => "explicit id");
  client = await connect(address, { serviceIds: { toString: 77 }, maxMessageSize: 64 * 1024 });
});

after(async () => {
  await client.close();
  await server.close();
  dir.cleanup();
});

function frame(type: number, requestId: number, serviceId: number, body: Uint8Array): Uint8Array {
  return encodeFrame({ type: type as MessageType, requestId, serviceId }, body);
}

describe("robustness", () => {
  it("handles nothing that arrives after a protocol error closed the connection", async () => {
    const raw = await connectRawStream(address);
    const bad = frame(MessageType.Request, 1, methodId("record"), new Uint8Array([0xff]));
    const good = frame(MessageType.Request, 2, methodId("record"), cborCodec.encode("after the error"));
    const both = new Uint8Array(bad.length + good.length);
    both.set(bad);
    both.set(good, bad.length);
    await raw.write(both);
    while ((await raw.read()) !== null);
    await raw.close();
    await delay(50);
    assert.deepEqual(calls, []);
    assert.equal(await client.call("echo", "server still fine"), "server still fine");
  });

  it("times out a call whose request cannot even be written, and the calls queued behind it", async () => {
    const local = tempDir();
    const stalledAddress = `unix:${join(local.path, "stalled.sock")}`;
    const listener = await listenRawStream(stalledAddress);
    // The raw listener never answers a handshake: a plain fizyr-rpc client.
    const stuck = await connect(stalledAddress, { protocol: "fizyr" });
    const peerSide = (await listener.accept())!;
    const started = Date.now();
    const big = assert.rejects(stuck.call("echo", new Uint8Array(8 * 1024 * 1024), { timeout: 200 }), {
      code: "ERR_TIMEOUT",
    });
    const small = assert.rejects(stuck.call("echo", 1, { timeout: 300 }), { code: "ERR_TIMEOUT" });
    const controller = new AbortController();
    const aborted = assert.rejects(stuck.call("echo", 2, { signal: controller.signal }), { code: "ERR_CANCELLED" });
    controller.abort();
    await Promise.all([big, small, aborted]);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    await stuck.close();
    await peerSide.close();
    await listener.close();
    local.cleanup();
  });

  it("accepts Infinity as no timeout and refuses timeouts timers cannot hold", async () => {
    assert.equal(await client.call("echo", "no limit", { timeout: Infinity }), "no limit");
    await assert.rejects(client.call("echo", 1, { timeout: 2 ** 31 }), { code: "ERR_INVALID_ARGUMENT" });
    await assert.rejects(client.call("echo", 1, { timeout: -1 }), { code: "ERR_INVALID_ARGUMENT" });
  });

  it("round-trips maps with non-string keys, and answers values CBOR cannot carry with ERR_ENCODE", async () => {
    assert.deepEqual(await client.call("mapResult"), new Map<unknown, unknown>([[1, "one"], ["two", 2]]));
    await assert.rejects(client.call("notEncodable"), { name: "RemoteError", code: "ERR_ENCODE" });
    await assert.rejects(client.call("echo", () => 1), { code: "ERR_ENCODE" });
    assert.equal(await client.call("echo", "connection intact"), "connection intact");
  });

  it("still answers when an error is too large to send, and closes a generator whose item was refused", async () => {
    await assert.rejects(client.call("failBig"), { code: "ERR_BIG", message: "too much detail" });
    await assert.rejects(client.call("failLongMessage"), (error: Error) => {
      assert.equal((error as RpcError).code, "ERR_HANDLER_FAILED");
      assert.equal(error.message.length, 1024);
      return true;
    });
    await assert.rejects(
      (async () => {
        for await (const _item of client.stream("tooBigItem")) assert.fail("the item was too large to send");
      })(),
      { code: "ERR_MESSAGE_TOO_LARGE" },
    );
    assert.equal(generatorFinallyRan, true);
  });

  it("calls onSent for a result that is dropped because the call was cancelled", async () => {
    await assert.rejects(client.call("slowWithFds", undefined, { timeout: 20 }), { code: "ERR_TIMEOUT" });
    await waitFor(() => onSentCalls === 1, "onSent ran for the dropped result");
    await delay(100);
    assert.equal(onSentCalls, 1);
  });

  for (const scheme of ["unix", "seqpacket"]) {
    it(`answers every call even when the smallest error body does not fit the limit (${scheme})`, async () => {
      const small = scheme === "unix" ? { maxMessageSize: 48 } : { maxPacketSize: 48 };
      const at = `${scheme}:${join(dir.path, `small-${scheme}.sock`)}`;
      // A session's handshake needs 1 KiB messages: these limits are for plain fizyr-rpc only.
      const tiny = await listen(at, {
        ...small,
        protocol: "fizyr",
        handlers: { fail: () => Promise.reject(new RpcError("ERR_X", "x".repeat(200))) },
      });
      const caller = await connect(at, { protocol: "fizyr" });
      try {
        // Neither answer fits 48 bytes as a structured error: the server falls back to an empty text error.
        await assert.rejects(caller.call("missing", 1, { timeout: 5000 }), { name: "RemoteError", code: "ERR_REMOTE" });
        await assert.rejects(caller.call("fail", 1, { timeout: 5000 }), { name: "RemoteError", code: "ERR_REMOTE" });
      } finally {
        await caller.close();
        await tiny.close();
      }
    });
  }

  it("refuses at listen time a seqpacket maxPacketSize the system cannot send", async () => {
    await assert.rejects(listen(`seqpacket:@peerlink-bigmax-${Date.now()}`, { maxPacketSize: 0x7fffffff - 32 }), {
      code: "ERR_INVALID_ARGUMENT",
      message: /datagram limit of this system/,
    });
  });

  it("maps inherited property names like toString only when given explicitly", async () => {
    assert.equal(await client.call("toString"), "explicit id");
    assert.equal(server.router.idOf("valueOf"), methodId("valueOf"));
  });
});
