import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, type HandlerContext, listen } from "../mod.ts";
import { delay, tempDir } from "./_helpers.ts";

describe("receive-side flow control", () => {
  it("handles at most maxConcurrentRequests at once and queues the rest in the socket", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "limit.sock")}`;
    let started = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await listen(address, {
      maxConcurrentRequests: 8,
      handlers: {
        wait: async (n: number) => {
          started++;
          await released;
          return n;
        },
      },
    });
    const client = await connect(address);
    const results = Promise.all(Array.from({ length: 100 }, (_, i) => client.call("wait", i)));
    await delay(200);
    assert.equal(started, 8);
    release();
    assert.deepEqual(await results, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(started, 100);
    await client.close();
    await server.close();
    dir.cleanup();
  });

  it("stops reading while a slow consumer leaves more than maxBufferedBytes unread", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "slow-consumer.sock")}`;
    const itemSize = 64 * 1024;
    const total = 2000; // 125 MiB if nothing held the producer back
    let produced = 0;
    const server = await listen(address, {
      handlers: {
        flood: async function* (_: undefined, context: HandlerContext) {
          for (let i = 0; i < total && !context.signal.aborted; i++) {
            produced++;
            yield new Uint8Array(itemSize);
          }
        },
      },
    });
    const client = await connect(address, { maxBufferedBytes: 1024 * 1024 });
    let consumed = 0;
    for await (const item of client.stream("flood")) {
      assert.equal((item as Uint8Array).length, itemSize);
      consumed++;
      if (consumed === 10) {
        await delay(300);
        assert.ok(produced < 200, `the server produced ${produced} items while the client read 10`);
      }
    }
    assert.equal(consumed, total);
    await client.close();
    await server.close();
    dir.cleanup();
  });

  it("holds back a client that streams items faster than the handler reads them", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "slow-handler.sock")}`;
    let read = 0;
    const server = await listen(address, {
      maxBufferedBytes: 1024 * 1024,
      handlers: {
        slowSum: async (_: undefined, context: HandlerContext) => {
          let total = 0;
          for await (const item of context.input) {
            if (read++ === 0) await delay(300);
            total += (item as Uint8Array).length;
          }
          return total;
        },
      },
    });
    const client = await connect(address);
    const call = await client.open("slowSum");
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < 1000; i++) {
        await call.send(new Uint8Array(64 * 1024));
        sent++;
      }
      await call.end();
    })();
    await delay(200);
    assert.ok(sent < 200, `the client sent ${sent} items while the handler read ${read}`);
    await sending;
    assert.equal(await call.result, 1000 * 64 * 1024);
    await client.close();
    await server.close();
    dir.cleanup();
  });
});
