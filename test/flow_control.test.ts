import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, type HandlerContext, listen } from "../mod.ts";
import { delay, tempDir, waitFor } from "./_helpers.ts";

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
    await waitFor(() => started === 8, "8 handlers started");
    await delay(200);
    assert.equal(started, 8, "no more than 8 handlers run at once");
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

  it("keeps reading while requests wait for a handler slot: client items, callbacks and cancels still arrive", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "one-slot.sock")}`;
    let aborted = false;
    const server = await listen(address, {
      maxConcurrentRequests: 1,
      handlers: {
        sum: async (_: undefined, context: HandlerContext) => {
          let total = 0;
          for await (const item of context.input) total += item as number;
          return total;
        },
        askBack: (_: undefined, context: HandlerContext) => context.connection.call("whoami"),
        forever: (_: undefined, context: HandlerContext) =>
          new Promise((_resolve, reject) =>
            context.signal.addEventListener("abort", () => {
              aborted = true;
              reject(context.signal.reason);
            })
          ),
        echo: (value: unknown) => value,
      },
    });
    const client = await connect(address, { handlers: { whoami: () => "client" } });
    const sum = await client.open("sum");
    for (const n of [1, 2, 3]) await sum.send(n);
    await sum.end();
    assert.equal(await sum.result, 6);
    assert.equal(await client.call("askBack"), "client");
    const controller = new AbortController();
    const forever = assert.rejects(client.call("forever", undefined, { signal: controller.signal }), {
      code: "ERR_CANCELLED",
    });
    const queued = client.call("echo", "waited for the slot");
    await delay(50);
    controller.abort();
    await forever;
    assert.equal(await queued, "waited for the slot");
    await waitFor(() => aborted, "the handler saw the cancel");
    await client.close();
    await server.close();
    dir.cleanup();
  });

  it("sees a cancel queued behind many unread client items", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "behind.sock")}`;
    let aborted = false;
    const server = await listen(address, {
      handlers: {
        ignoreInput: (_: undefined, context: HandlerContext) =>
          new Promise((_resolve, reject) =>
            context.signal.addEventListener("abort", () => {
              aborted = true;
              reject(context.signal.reason);
            })
          ),
      },
    });
    const client = await connect(address);
    const call = await client.open("ignoreInput");
    for (let i = 0; i < 100; i++) await call.send(i);
    call.cancel();
    await assert.rejects(call.result, { code: "ERR_CANCELLED" });
    await waitFor(() => aborted, "the handler saw the cancel behind 100 unread items");
    await client.close();
    await server.close();
    dir.cleanup();
  });

  it("releases what finished calls left unread, so the connection never stalls on them", async () => {
    const dir = tempDir();
    const address = `unix:${join(dir.path, "leftovers.sock")}`;
    const server = await listen(address, {
      handlers: {
        five: async function* () {
          for (let i = 0; i < 5; i++) yield new Uint8Array(4 * 1024);
          return "done";
        },
        echo: (value: unknown) => value,
      },
    });
    const client = await connect(address, { maxBufferedBytes: 64 * 1024 });
    for (let i = 0; i < 20; i++) {
      for await (const _item of client.stream("five")) {
        await delay(5);
        break;
      }
      assert.equal(await (await client.open("five")).result, "done");
    }
    assert.equal(await client.call("echo", "still reading"), "still reading");
    assert.equal(client.peer.flow.bufferedBytes, 0);
    await client.close();
    await server.close();
    dir.cleanup();
  });
});
