/**
 * What a connection accepts before it reads a message: the receive limit a
 * session sets until the peer is authenticated (`setReceiveLimit`, on Unix
 * stream, TCP and seqpacket transports), and the frame timeout that cuts off
 * a peer that starts a frame and stops.
 *
 * @module
 */

import assert from "node:assert/strict";
import { closeSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectTransport, listenTransport, type MessageTransport, MessageType } from "../peer.ts";
import { ProtocolError, UsageError } from "../src/base/errors.ts";
import { StreamMessageTransport } from "../src/transport/stream_transport.ts";
import type { ByteStream, Listener } from "../src/transport/types.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { delay, tempDir } from "./_helpers.ts";
import { connectRawStream, listenRawStream } from "./_raw_sockets.ts";

const HEADER = 12;
const request = (requestId: number) => ({ type: MessageType.Request, requestId, serviceId: 7 });

/** A connected pair of transports of one kind: the accepted end and the connecting end. */
async function transportPairOf(
  address: string,
  options: Record<string, number> = {},
): Promise<{ server: MessageTransport; client: MessageTransport; close(): Promise<void> }> {
  const listener = await listenTransport(address, options);
  const client = await connectTransport(listener.address);
  const server = (await listener.accept())!;
  return {
    server,
    client,
    async close() {
      await client.close();
      await server.close();
      await listener.close();
    },
  };
}

/** Fails the test instead of hanging it when `promise` does not settle in time. */
async function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Nothing after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const tooLarge = (pattern: RegExp) => (error: unknown): boolean =>
  error instanceof ProtocolError && error.code === "ERR_FRAME_TOO_LARGE" && pattern.test(error.message);

describe("setReceiveLimit", () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const kinds = [
    { kind: "unix", address: () => `unix:${join(dir.path, `limit-${Math.random()}.sock`)}`, what: "Frame" },
    { kind: "tcp", address: () => "tcp://127.0.0.1:0", what: "Frame" },
    {
      kind: "seqpacket",
      address: () => `seqpacket:${join(dir.path, `limit-${Math.random()}.sock`)}`,
      what: "Datagram",
    },
  ];

  for (const { kind, address, what } of kinds) {
    it(`${kind}: accepts a message of exactly the limit and refuses one byte more`, async () => {
      const pair = await transportPairOf(address());
      try {
        pair.server.setReceiveLimit(64);
        await pair.client.send({ header: request(1), body: new Uint8Array(64 - HEADER) });
        const message = await within(pair.server.receive());
        assert.equal(message?.body.length, 64 - HEADER);
        await pair.client.send({ header: request(2), body: new Uint8Array(65 - HEADER) });
        await assert.rejects(
          within(pair.server.receive()),
          tooLarge(new RegExp(`^${what} of 65 bytes exceeds the 64-byte limit before the session is established$`)),
        );
      } finally {
        await pair.close();
      }
    });

    it(`${kind}: a limit above maxMessageSize is maxMessageSize, and raising it again accepts large messages`, async () => {
      const options = kind === "seqpacket" ? { maxPacketSize: 2048 } : { maxMessageSize: 2048 };
      const pair = await transportPairOf(address(), options);
      try {
        pair.server.setReceiveLimit(100);
        pair.server.setReceiveLimit(1_000_000);
        await pair.client.send({ header: request(1), body: new Uint8Array(2048 - HEADER) });
        assert.equal((await within(pair.server.receive()))?.body.length, 2048 - HEADER);
      } finally {
        await pair.close();
      }
    });
  }

  it("unix: refuses from the length prefix alone, without waiting for the announced bytes", async () => {
    const address = `unix:${join(dir.path, "prefix.sock")}`;
    const listener = await listenTransport(address);
    const raw = await connectRawStream(address);
    const server = (await listener.accept())!;
    try {
      server.setReceiveLimit(4096);
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, 1024 * 1024, true);
      await raw.write(prefix);
      await assert.rejects(
        within(server.receive()),
        tooLarge(/^Frame of 1048576 bytes exceeds the 4096-byte limit before the session is established$/),
      );
    } finally {
      await raw.close();
      await server.close();
      await listener.close();
    }
  });

  it("unix: a limit clamped to maxMessageSize is not called a limit before the session", async () => {
    const listener = await listenTransport(`unix:${join(dir.path, "plain.sock")}`, { maxMessageSize: 100 });
    // The client's own limit is the default one, so it sends what the server refuses.
    const client = await connectTransport(listener.address);
    const server = (await listener.accept())!;
    try {
      server.setReceiveLimit(200);
      await client.send({ header: request(1), body: new Uint8Array(101 - HEADER) });
      await assert.rejects(within(server.receive()), tooLarge(/^Frame of 101 bytes exceeds the 100-byte limit$/));
    } finally {
      await client.close();
      await server.close();
      await listener.close();
    }
  });

  it("seqpacket: closes the descriptors that came with a refused datagram", async () => {
    const pair = await transportPairOf(`seqpacket:${join(dir.path, "fds.sock")}`);
    const fd = openSync("/dev/null", "r");
    try {
      pair.server.setReceiveLimit(64);
      const open = readdirSync("/proc/self/fd").length;
      await pair.client.send({ header: request(1), body: new Uint8Array(100), fds: [fd] });
      await assert.rejects(within(pair.server.receive()), tooLarge(/^Datagram of 112 bytes/));
      assert.equal(readdirSync("/proc/self/fd").length, open, "the received copy of the descriptor is closed");
    } finally {
      closeSync(fd);
      await pair.close();
    }
  });
});

describe("frameTimeout", () => {
  const dir = tempDir();
  let listener: Listener<ByteStream>;
  let address: string;
  before(async () => {
    address = `unix:${join(dir.path, "frames.sock")}`;
    listener = await listenRawStream(address);
  });
  after(async () => {
    await listener.close();
    dir.cleanup();
  });

  /** A raw client and the accepted end as a transport with the given frame timeout. */
  async function rawPair(frameTimeout: number): Promise<{ raw: ByteStream; transport: StreamMessageTransport }> {
    const raw = await connectRawStream(address);
    const transport = new StreamMessageTransport((await listener.accept())!, { frameTimeout });
    return { raw, transport };
  }

  const frame = (requestId: number, bodySize = 8): Uint8Array =>
    encodeFrame(request(requestId), new Uint8Array(bodySize).fill(requestId));

  it("fails a receive with ERR_FRAME_TIMEOUT when half a frame came and then nothing", async () => {
    const { raw, transport } = await rawPair(100);
    try {
      await raw.write(frame(1).subarray(0, 10));
      const timedOut = (error: unknown): boolean =>
        error instanceof ProtocolError && error.code === "ERR_FRAME_TIMEOUT" &&
        /^A frame was started \d+ ms ago and is still incomplete \(got 10 of 24 bytes\)$/.test(error.message);
      await assert.rejects(within(transport.receive()), timedOut);
      // The connection is unusable now, and says so again.
      await assert.rejects(within(transport.receive()), timedOut);
    } finally {
      await raw.close();
      await transport.close();
    }
  });

  it("counts a frame whose length prefix is incomplete too", async () => {
    const { raw, transport } = await rawPair(100);
    try {
      await raw.write(frame(1).subarray(0, 2));
      await assert.rejects(
        within(transport.receive()),
        (error: unknown) =>
          error instanceof ProtocolError && error.code === "ERR_FRAME_TIMEOUT" &&
          /got 2 of at least 16 bytes/.test(error.message),
      );
    } finally {
      await raw.close();
      await transport.close();
    }
  });

  it("does not cut off a peer that is slow but steady, nor count idle time or time nobody was reading", async () => {
    const { raw, transport } = await rawPair(300);
    try {
      // One frame in three pieces, each well within the timeout.
      const first = frame(1);
      const received = transport.receive();
      for (const [from, to] of [[0, 5], [5, 15], [15, first.length]]) {
        await raw.write(first.subarray(from, to));
        await delay(40);
      }
      assert.equal((await within(received))?.header.requestId, 1);
      // Idle between frames, longer than the timeout: nothing is under way, nothing is counted.
      const idle = transport.receive();
      await delay(500);
      await raw.write(frame(2));
      assert.equal((await within(idle))?.header.requestId, 2);
      // A frame that arrived with the one before it and waits while nobody calls receive.
      const third = frame(3);
      const both = new Uint8Array(frame(4).length + 10);
      both.set(frame(4));
      both.set(third.subarray(0, 10), frame(4).length);
      await raw.write(both);
      assert.equal((await within(transport.receive()))?.header.requestId, 4);
      await delay(500);
      const late = transport.receive();
      await delay(40);
      await raw.write(third.subarray(10));
      assert.equal((await within(late))?.header.requestId, 3);
    } finally {
      await raw.close();
      await transport.close();
    }
  });

  it("stops the timer when the transport closes during a partial frame (the process exits)", async () => {
    const { raw, transport } = await rawPair(60_000);
    try {
      await raw.write(frame(1).subarray(0, 10));
      const pending = transport.receive();
      await delay(20);
      await transport.close();
      // A timer left running would keep this process alive for a minute after the tests.
      assert.equal(await within(pending), null);
    } finally {
      await raw.close();
    }
  });

  it("refuses a frameTimeout that is not an integer from 1 to 2^31 - 1", async () => {
    for (const frameTimeout of [0, -1, 1.5, 2 ** 31, Number.NaN]) {
      const raw = await connectRawStream(address);
      const accepted = (await listener.accept())!;
      try {
        assert.throws(
          () => new StreamMessageTransport(accepted, { frameTimeout }),
          (error: unknown) => error instanceof UsageError && error.code === "ERR_INVALID_ARGUMENT",
        );
      } finally {
        await accepted.close();
        await raw.close();
      }
    }
  });
});
