/**
 * The guarantees the cheap paths of a call must keep (issue 9): frames
 * gathered for one write are written on close, a failed write fails what
 * is open instead of leaving it waiting, a stream left early while its
 * `next()` is under way is cancelled, plain calls check their options like
 * the others, and handler contexts hand out the same `input` every time.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect, ConnectionClosedError, type HandlerContext, listen } from "../mod.ts";
import { Peer } from "../src/peer/peer.ts";
import { type Message, MessageType } from "../src/wire/message.ts";
import { StreamMessageTransport } from "../src/transport/stream_transport.ts";
import type { ByteStream, MessageTransport } from "../src/transport/types.ts";
import { delay, tempDir, waitFor } from "./_helpers.ts";

const dir = tempDir();
after(() => dir.cleanup());
let sockets = 0;
const address = (): string => `unix:${join(dir.path, `hot-${sockets++}.sock`)}`;

/** A byte stream whose writes fail and whose reads wait until it is closed, as the contract says. */
function writeFailingStream(): ByteStream & { closed: boolean } {
  let endRead: ((chunk: null) => void) | undefined;
  return {
    info: { transport: "unix" } as ByteStream["info"],
    closed: false,
    read: () => new Promise<Uint8Array | null>((resolve) => (endRead = resolve)),
    write: () => Promise.reject(new Error("EPIPE (made up)")),
    close() {
      this.closed = true;
      endRead?.(null);
      return Promise.resolve();
    },
  };
}

describe("the cheap paths of a call", () => {
  it("writes every frame gathered for one write before close() closes the socket", async () => {
    let received = 0;
    const server = await listen(address(), { notifications: { tick: () => void received++ } });
    const client = await connect(server.address);
    for (let i = 0; i < 20_000; i++) void client.notify("tick", i);
    await client.close();
    await waitFor(() => received === 20_000, `all 20,000 notifications (got ${received})`, 5000);
    await server.close();
  });

  it("fails the open requests with ERR_CONNECTION_CLOSED when a write fails, as the first send was accepted", async () => {
    const stream = writeFailingStream();
    const peer = new Peer(new StreamMessageTransport(stream));
    const responses = [0, 1, 2].map(async () => (await peer.sendRequest(1, new Uint8Array(8))).response);
    const plain = peer.request(1, new Uint8Array(8));
    for (const response of [...responses, plain]) {
      await assert.rejects(response, (error: unknown) => error instanceof ConnectionClosedError);
    }
    assert.equal(stream.closed, true);
    assert.equal(peer.openSent, 0);
    await peer.closed;
  });

  it("hands a Peer no message before its constructor returned, even one already received", async () => {
    const waiting: Message[] = [{
      header: { type: MessageType.Request, requestId: 1, serviceId: 5 },
      body: new Uint8Array(0),
      fds: [],
    }];
    const transport: MessageTransport = {
      info: { transport: "unix" } as MessageTransport["info"],
      maxMessageSize: 1024,
      maxFds: 0,
      poll: () => waiting.shift(),
      receive: () => new Promise<never>(() => {}),
      send: () => Promise.resolve(),
      setReceiveLimit: () => {},
      close: () => Promise.resolve(),
    };
    const seen: number[] = [];
    // The callback names the peer: it must not run while `peer` is still being made.
    const peer: Peer = new Peer(transport, { onRequest: () => void seen.push(peer.openReceived) });
    await waitFor(() => seen.length === 1, "the request");
    assert.deepEqual(seen, [1]);
    assert.equal(peer.isClosed, false);
    await peer.close();
  });

  it("cancels a stream left while its first next() is still starting the call, as a generator would", async () => {
    let started = 0;
    let aborted = 0;
    const server = await listen(address(), {
      handlers: {
        async *ticks(_: undefined, context: HandlerContext) {
          started++;
          try {
            for (let i = 0; !context.signal.aborted; i++) {
              yield i;
              await delay(5);
            }
          } finally {
            if (context.signal.aborted) aborted++;
          }
        },
      },
    });
    const client = await connect<{ ticks: () => AsyncGenerator<number> }>(server.address);
    const items = client.stream("ticks")[Symbol.asyncIterator]();
    const first = items.next();
    const returned = items.return!();
    assert.deepEqual(await first, { done: false, value: 0 });
    assert.deepEqual(await returned, { done: true, value: undefined });
    await waitFor(() => aborted === 1, "the handler to see the cancel");
    assert.equal(started, 1);
    await waitFor(() => client.peer.openSent === 0, "the request to end");
    await client.close();
    await server.close();
  });

  it("settles a next() that waits for an item when the stream is left meanwhile", async () => {
    const server = await listen(address(), {
      handlers: {
        async *slow() {
          await delay(100);
          yield 1;
          await delay(10_000);
        },
      },
    });
    const client = await connect<{ slow: () => AsyncGenerator<number> }>(server.address);
    const items = client.stream("slow")[Symbol.asyncIterator]();
    const first = items.next();
    await delay(20);
    const returned = items.return!();
    assert.deepEqual(await first, { done: false, value: 1 });
    assert.deepEqual(await returned, { done: true, value: undefined });
    assert.deepEqual(await items.next(), { done: true, value: undefined });
    await client.close();
    await server.close();
  });

  it("echoes 1 MiB byte strings intact, plain and with a deadline, with the decoded bytes not shared with other values", async () => {
    const server = await listen(address(), { handlers: { echo: (value: unknown) => value } });
    const client = await connect(server.address);
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
    const [plain, timed] = await Promise.all([
      client.call("echo", big) as Promise<Uint8Array>,
      client.call("echo", { big, tag: "x" }, { timeout: 10_000 }) as Promise<{ big: Uint8Array; tag: string }>,
    ]);
    assert.deepEqual(plain, big);
    assert.deepEqual(timed, { big, tag: "x" });
    assert.notEqual(plain.buffer, timed.big.buffer);
    await client.close();
    await server.close();
  });

  it("checks the options of a plain call as any other: rejections, never a throw", async () => {
    const server = await listen(address(), { handlers: { echo: (value: unknown) => value } });
    const client = await connect(server.address);
    const call = (options: unknown): Promise<unknown> => client.call("echo", 1, options as never);
    assert.equal(await call(undefined), 1);
    assert.equal(await call({}), 1);
    assert.equal(await call({ fds: [] }), 1);
    let returned: Promise<unknown> | undefined;
    assert.doesNotThrow(() => (returned = call(null)));
    await assert.rejects(returned!);
    await assert.rejects(call({ fds: 3 }));
    await assert.rejects(call({ timeout: -1 }), { code: "ERR_INVALID_ARGUMENT" });
    await client.close();
    await server.close();
  });

  it("hands a handler the same input every time it reads context.input, and a signal made late still aborts", async () => {
    const seen: boolean[] = [];
    const server = await listen(address(), {
      handlers: {
        same: (_: undefined, context: HandlerContext) => {
          seen.push(context.input === context.input, context.inputWithFds === context.inputWithFds);
          return true;
        },
        late: async (_: undefined, context: HandlerContext) => {
          await delay(100);
          // The cancel arrived before the signal was made: it is made aborted.
          seen.push(context.signal.aborted);
          return "late";
        },
      },
    });
    const client = await connect(server.address);
    assert.equal(await client.call("same"), true);
    const cancel = new AbortController();
    const late = client.call("late", undefined, { signal: cancel.signal });
    const cancelled = assert.rejects(late, { code: "ERR_CANCELLED" });
    await delay(20);
    cancel.abort();
    await cancelled;
    await waitFor(() => seen.length === 3, "the late handler to finish");
    assert.deepEqual(seen, [true, true, true]);
    await client.close();
    await server.close();
  });
});
