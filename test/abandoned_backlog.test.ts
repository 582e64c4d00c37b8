/**
 * A client that sends thousands of requests, never reads an answer and
 * vanishes: the server drops what it left behind (queued requests never
 * start, running handlers see their signal abort, the connection goes away)
 * and goes on serving a well-behaved client all the while. How long the
 * others wait meanwhile is measured by `bench/abandoned_backlog.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, type HandlerContext, listen, type RpcServer } from "../mod.ts";
import { cborCodec, MessageType, methodId } from "../peer.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { tempDir, waitFor } from "./_helpers.ts";
import { connectRawStream } from "./_raw_sockets.ts";

/** `count` request frames for `method(1)`, request ids from `firstId` on, in one buffer. */
function requestFrames(method: string, count: number, firstId: number): Uint8Array {
  const frames = Array.from(
    { length: count },
    (_, i) =>
      encodeFrame(
        { type: MessageType.Request, requestId: firstId + i, serviceId: methodId(method) },
        cborCodec.encode(1),
      ),
  );
  const bytes = new Uint8Array(frames.reduce((size, frame) => size + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    bytes.set(frame, offset);
    offset += frame.length;
  }
  return bytes;
}

/** The server-side connection that is not `polite`'s: the abuser's. */
function abusersPeer(server: RpcServer, count: number) {
  return () => [...server.connections].find((connection) => connection.peer.openReceived >= count)?.peer;
}

/** Calls `ping` over and over until stopped, failing on the first error. */
function keepCalling(call: () => Promise<unknown>): { calls(): number; stop(): Promise<void> } {
  let stopped = false;
  let calls = 0;
  const loop = (async () => {
    while (!stopped) {
      assert.equal(await call(), "pong");
      calls++;
    }
  })();
  return { calls: () => calls, stop: async () => ((stopped = true), await loop) };
}

describe("a client that leaves a backlog behind", () => {
  it("is dropped whole: queued requests never start, running handlers are aborted, others are served", async () => {
    const RUNNING = 64;
    const QUEUED = 20_000;
    const dir = tempDir();
    const signals: AbortSignal[] = [];
    let echoes = 0;
    const server = await listen(`unix:${join(dir.path, "backlog.sock")}`, {
      maxConcurrentRequests: RUNNING,
      handlers: {
        ping: () => "pong",
        echo: (value: unknown) => {
          echoes++;
          return value;
        },
        hang: (_: unknown, context: HandlerContext) =>
          new Promise((resolve) => {
            signals.push(context.signal);
            context.signal.addEventListener("abort", () => resolve(undefined));
          }),
      },
    });
    const polite = await connect(server.address);
    const calling = keepCalling(() => polite.call("ping"));
    try {
      const abuser = await connectRawStream(server.address);
      // The handlers that take every slot first, then a line of requests that wait behind them.
      await abuser.write(requestFrames("hang", RUNNING, 1));
      await abuser.write(requestFrames("echo", QUEUED, RUNNING + 1));
      const peer = abusersPeer(server, RUNNING + QUEUED);
      await waitFor(() => peer() !== undefined, "the server holds every request", 30_000);
      assert.equal(signals.length, RUNNING);
      assert.equal(echoes, 0);

      await abuser.close();
      await waitFor(() => server.connections.size === 1, "the abuser's connection is gone", 30_000);
      assert.ok(signals.every((signal) => signal.aborted), "every running handler's signal is aborted");
      assert.equal(echoes, 0, "no queued request started once the connection was gone");
      const before = calling.calls();
      await waitFor(() => calling.calls() > before + 10, "the polite client is still served");
    } finally {
      await calling.stop();
      await polite.close();
      await server.close();
      dir.cleanup();
    }
  });

  it("is dropped whole when its answers were flowing into a socket it never read", async () => {
    const REQUESTS = 20_000;
    const dir = tempDir();
    const answer = new Uint8Array(16 * 1024);
    const server = await listen(`unix:${join(dir.path, "unread.sock")}`, {
      handlers: { ping: () => "pong", blob: () => answer },
    });
    const polite = await connect(server.address);
    const calling = keepCalling(() => polite.call("ping"));
    try {
      const abuser = await connectRawStream(server.address);
      await abuser.write(requestFrames("blob", REQUESTS, 1));
      // The answers fill the abuser's socket and stop there; the rest waits in the server.
      const peer = abusersPeer(server, 1000);
      await waitFor(() => peer() !== undefined, "the server holds a backlog", 30_000);
      await abuser.close();
      await waitFor(() => server.connections.size === 1, "the abuser's connection is gone", 30_000);
      const before = calling.calls();
      await waitFor(() => calling.calls() > before + 10, "the polite client is still served");
      assert.equal(await polite.call("ping"), "pong");
    } finally {
      await calling.stop();
      await polite.close();
      await server.close();
      dir.cleanup();
    }
  });
});
