import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CancelledError,
  connect,
  ConnectionClosedError,
  type HandlerContext,
  listen,
  type MessageTransport,
  ProtocolError,
  RemoteError,
  type RpcConnection,
  RpcError,
  type RpcServer,
  withFds,
} from "../mod.ts";
import { MessageType } from "../peer.ts";
import { Router } from "../src/rpc/router.ts";
import { delay, tempDir, waitFor } from "./_helpers.ts";

const dir = tempDir();
const address = `unix:${join(dir.path, "rpc.sock")}`;
const handlerAborts: string[] = [];

const service = {
  echo: (value: unknown) => value,
  add: ([a, b]: [number, number]) => a + b,
  sleep: (ms: number, context: HandlerContext) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => resolve(ms), ms);
      context.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        handlerAborts.push(`sleep ${ms}`);
        reject(context.signal.reason);
      });
    }),
  count: async function* (n: number, context: HandlerContext): AsyncGenerator<number, string> {
    try {
      for (let i = 0; i < n; i++) {
        yield i;
        await delay(1);
      }
      return `counted ${n}`;
    } finally {
      if (context.signal.aborted) handlerAborts.push(`count ${n}`);
    }
  },
  sum: async (_: undefined, context: HandlerContext) => {
    let total = 0;
    for await (const item of context.input) total += item as number;
    return total;
  },
  double: async (_: undefined, context: HandlerContext) => {
    for await (const item of context.input) await context.send((item as number) * 2);
    return "done";
  },
  fail: () => {
    throw new RpcError("ERR_QUOTA", "Quota exceeded", { limit: 3 });
  },
  crash: () => {
    throw new TypeError("boom");
  },
  never: () => new Promise(() => {}),
  callback: async (_: undefined, context: HandlerContext) => await context.connection.call("clientSide", 20),
  big: (size: number) => new Uint8Array(size),
  notifyBack: async (text: string, context: HandlerContext) => {
    await context.connection.notify("news", text);
    return true;
  },
};

let server: RpcServer;
let client: RpcConnection<typeof service>;
const notifications: unknown[] = [];

before(async () => {
  server = await listen(address, { handlers: service, maxMessageSize: 1024 * 1024 });
  server.router.onNotify("log", (params) => void notifications.push(params));
  client = await connect<typeof service>(address, {
    handlers: { clientSide: (n: number) => n + 1 },
    maxMessageSize: 1024 * 1024,
  });
});

after(async () => {
  await client.close();
  await server.close();
  dir.cleanup();
});

describe("calls", () => {
  it("returns results", async () => {
    assert.equal(await client.call("add", [2, 3]), 5);
    assert.deepEqual(await client.call("echo", { a: [1, "x", null], b: new Uint8Array([9]) }), {
      a: [1, "x", null],
      b: new Uint8Array([9]),
    });
  });

  it("answers many concurrent calls out of order", async () => {
    const finished: number[] = [];
    const delays = [120, 10, 80, 1, 40];
    const results = await Promise.all(delays.map((ms) => client.call("sleep", ms).then((r) => (finished.push(r), r))));
    assert.deepEqual(results, delays);
    assert.deepEqual(finished, [...delays].sort((a, b) => a - b));
  });

  it("turns handler errors into RemoteError with the code and data", async () => {
    await assert.rejects(client.call("fail"), (error: unknown) => {
      assert.ok(error instanceof RemoteError);
      assert.equal(error.code, "ERR_QUOTA");
      assert.equal(error.message, "Quota exceeded");
      assert.deepEqual(error.data, { limit: 3 });
      return true;
    });
    await assert.rejects(client.call("crash"), { code: "ERR_HANDLER_FAILED", message: "boom" });
  });

  it("answers an unknown method with ERR_METHOD_NOT_FOUND", async () => {
    const untyped = client as unknown as RpcConnection;
    await assert.rejects(untyped.call("missing"), { code: "ERR_METHOD_NOT_FOUND", message: /no method "missing"/ });
  });

  it("lets the server call the client back on the same connection", async () => {
    assert.equal(await client.call("callback"), 21);
  });

  it("refuses descriptors on a stream socket, and the connection keeps working", async () => {
    await assert.rejects(client.call("echo", withFds(1, [0])), { code: "ERR_FDS_NOT_SUPPORTED" });
    assert.equal(await client.call("echo", 2), 2);
  });

  it("refuses an oversize request with nothing sent", async () => {
    await assert.rejects(client.call("echo", new Uint8Array(2 * 1024 * 1024)), { code: "ERR_MESSAGE_TOO_LARGE" });
    assert.equal(await client.call("echo", 3), 3);
  });

  it("tells the caller when the handler's result is too large", async () => {
    await assert.rejects(client.call("big", 2 * 1024 * 1024), { code: "ERR_MESSAGE_TOO_LARGE" });
    assert.equal((await client.call("big", 1000)).length, 1000);
  });
});

describe("cancellation", () => {
  it("cancels through an AbortSignal and aborts the handler", async () => {
    const controller = new AbortController();
    const pending = client.call("sleep", 5000, { signal: controller.signal });
    await delay(30);
    controller.abort(new Error("user gave up"));
    await assert.rejects(pending, (error: unknown) => {
      assert.equal((error as CancelledError).code, "ERR_CANCELLED");
      assert.equal(((error as CancelledError).cause as Error).message, "user gave up");
      return true;
    });
    await waitFor(() => handlerAborts.includes("sleep 5000"), "the handler saw the cancel");
  });

  it("times out with ERR_TIMEOUT", async () => {
    const started = Date.now();
    await assert.rejects(client.call("sleep", 4000, { timeout: 50 }), { code: "ERR_TIMEOUT" });
    assert.ok(Date.now() - started < 2000);
    await waitFor(() => handlerAborts.includes("sleep 4000"), "the handler saw the timeout's cancel");
  });

  it("rejects at once with an already aborted signal", async () => {
    await assert.rejects(client.call("echo", 1, { signal: AbortSignal.abort() }), { code: "ERR_CANCELLED" });
  });

  it("keeps the connection usable after cancelled calls", async () => {
    assert.equal(await client.call("add", [1, 1]), 2);
  });
});

describe("streams", () => {
  it("iterates over streamed items", async () => {
    const items: number[] = [];
    for await (const item of client.stream("count", 5)) items.push(item);
    assert.deepEqual(items, [0, 1, 2, 3, 4]);
  });

  it("returns a streaming handler's return value from call()", async () => {
    assert.equal(await client.call("count", 3), "counted 3");
  });

  it("cancels the call when the loop exits early", async () => {
    const items: number[] = [];
    for await (const item of client.stream("count", 10000)) {
      items.push(item);
      if (item === 2) break;
    }
    assert.deepEqual(items, [0, 1, 2]);
    await waitFor(() => handlerAborts.includes("count 10000"), "the handler saw the stream's cancel");
  });

  it("carries client streams and bidirectional streams", async () => {
    const sum = await client.open("sum");
    for (const n of [1, 2, 3, 4]) await sum.send(n);
    await sum.end();
    assert.equal(await sum.result, 10);

    const double = await client.open("double");
    const doubled: number[] = [];
    const reading = (async () => {
      for await (const item of double) doubled.push(item as number);
    })();
    for (const n of [5, 6, 7]) await double.send(n);
    await double.end();
    assert.equal(await double.result, "done");
    await reading;
    assert.deepEqual(doubled, [10, 12, 14]);
  });
});

describe("notifications", () => {
  it("delivers one-way messages in both directions", async () => {
    await client.notify("log", { level: "info" });
    const news: unknown[] = [];
    client.onNotify("news", (params) => void news.push(params));
    assert.equal(await client.call("notifyBack", "hello"), true);
    await waitFor(() => notifications.length > 0 && news.length > 0, "both notifications arrived");
    assert.deepEqual(notifications, [{ level: "info" }]);
    assert.deepEqual(news, ["hello"]);
  });
});

describe("connection lifecycle", () => {
  it("rejects pending calls with ERR_SERVER_CLOSING when the server goes away, and removes the socket file", async () => {
    const local = tempDir();
    const path = join(local.path, "s.sock");
    const other = await listen(`unix:${path}`, { handlers: service });
    const conn = await connect<typeof service>(`unix:${path}`);
    const pending = conn.call("never");
    await delay(20);
    await other.close();
    // The server said it was going away before it closed: a ConnectionClosedError with the precise code.
    await assert.rejects(
      pending,
      (error) => error instanceof ConnectionClosedError && error.code === "ERR_SERVER_CLOSING",
    );
    await assert.rejects(conn.call("echo", 1), { code: "ERR_SERVER_CLOSING" });
    assert.equal(existsSync(path), false);
    await conn.close();
    local.cleanup();
  });

  it("refuses two method names that map to one service id", () => {
    const router = new Router({ first: 5, second: 5 });
    router.handle("first", service.echo);
    router.handle("first", service.add);
    assert.throws(() => router.handle("second", service.echo), {
      code: "ERR_INVALID_ARGUMENT",
      message: /"first" and "second"/,
    });
  });

  it("supports explicit service ids for fizyr interop", async () => {
    const local = tempDir();
    const path = `unix:${join(local.path, "ids.sock")}`;
    const other = await listen(path, { handlers: { echo: service.echo }, serviceIds: { echo: 0 } });
    const conn = await connect(path, { serviceIds: { echo: 0 } });
    assert.equal(await conn.call("echo", "x"), "x");
    assert.deepEqual(other.router.method(0)?.name, "echo");
    await conn.close();
    await other.close();
    local.cleanup();
  });

  it("runs a handshake before the RPC layer starts, and refuses a peer that fails it", async () => {
    const local = tempDir();
    const path = `unix:${join(local.path, "handshake.sock")}`;
    const secret = new TextEncoder().encode("open sesame");
    const errors: unknown[] = [];
    const header = { type: MessageType.Stream, requestId: 0, serviceId: 0 };
    const other = await listen(path, {
      handlers: service,
      onError: (error) => errors.push(error),
      handshake: async (transport) => {
        const hello = await transport.receive();
        if (hello === null || new TextDecoder().decode(hello.body) !== "open sesame") {
          throw new ProtocolError("ERR_HANDSHAKE", "Wrong secret");
        }
        await transport.send({ header, body: new TextEncoder().encode("v1") });
      },
    });
    const clientHandshake = (password: Uint8Array) => async (transport: MessageTransport) => {
      await transport.send({ header, body: password });
      const reply = await transport.receive();
      if (reply === null) throw new ProtocolError("ERR_HANDSHAKE", "The server refused the handshake");
    };
    const good = await connect(path, { handshake: clientHandshake(secret) });
    assert.equal(await good.call("add", [20, 22]), 42);
    await assert.rejects(connect(path, { handshake: clientHandshake(new Uint8Array([1])) }), { code: "ERR_HANDSHAKE" });
    assert.deepEqual(errors.map((e) => (e as ProtocolError).code), ["ERR_HANDSHAKE"]);
    assert.equal(await good.call("echo", "still fine"), "still fine");
    await good.close();
    await other.close();
    local.cleanup();
  });

  it("supports Symbol.asyncDispose", async () => {
    const local = tempDir();
    const path = `unix:${join(local.path, "d.sock")}`;
    const other = await listen(path, { handlers: service });
    const conn = await connect(path);
    await conn[Symbol.asyncDispose]();
    assert.equal(conn.isClosed, true);
    await other[Symbol.asyncDispose]();
    assert.equal(existsSync(path.slice(5)), false);
    local.cleanup();
  });
});
