/**
 * Sessions through `listen` and `connect`, on every transport (unix:,
 * seqpacket:, tcp://, tls://): shared-secret authentication, deadlines that
 * travel with calls and cascade through nested calls, cancellation of a
 * queued request, graceful shutdown, idle and connection limits, bignums,
 * and plain fizyr-rpc interop.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import {
  connect,
  type ConnectOptions,
  createSecretFile,
  generateCertificate,
  type GeneratedCertificate,
  type HandlerContext,
  listen,
  type ListenOptions,
  type RpcServer,
  type Service,
} from "../mod.ts";
import {
  cborCodec,
  connectTransport,
  MessageType,
  methodId,
  Peer,
  STATUS_ERROR,
  type TransportOptions,
} from "../peer.ts";
import { clientHandshake } from "../src/session/client_handshake.ts";
import { encodeCallContext } from "../src/session/call_context.ts";
import { SessionTransport } from "../src/session/session_transport.ts";
import { HANDSHAKE_STATUS_ERROR, PING_STREAM_ID, PONG_STREAM_ID } from "../src/session/session_protocol.ts";
import { delay, run, runtimeName, scriptCommand, tempDir, waitFor } from "./_helpers.ts";
import { connectRawStream } from "./_raw_sockets.ts";

type Kind = "unix" | "seqpacket" | "tcp" | "tls";
const kinds: readonly Kind[] = ["unix", "seqpacket", "tcp", "tls"];

const dir = tempDir();
after(() => dir.cleanup());
let certificate: GeneratedCertificate;
before(async () => {
  certificate = await generateCertificate();
});

let counter = 0;
/** A fresh listen address of `kind`, with the options its server and clients need. */
function endpoint(kind: Kind): { address: string; server: ListenOptions; client: ConnectOptions } {
  const n = counter++;
  switch (kind) {
    case "unix":
      return { address: `unix:${join(dir.path, `s${n}.sock`)}`, server: {}, client: {} };
    case "seqpacket":
      return { address: `seqpacket:${join(dir.path, `p${n}.sock`)}`, server: {}, client: {} };
    case "tcp":
      return { address: "tcp://127.0.0.1:0", server: {}, client: {} };
    case "tls":
      return {
        address: "tls://127.0.0.1:0",
        server: { tls: { cert: certificate.cert, key: certificate.key } },
        client: { tls: { pin: certificate.fingerprint256 } },
      };
  }
}

/** The transport options a raw client of `kind` needs (the TLS pin). */
function endpointClient(kind: Kind): TransportOptions {
  return kind === "tls" ? { tls: { pin: certificate.fingerprint256 } } : {};
}

/** Starts a server of `kind` and returns it with a `dial` for clients. */
async function serve(kind: Kind, options: ListenOptions) {
  const { address, server: serverOptions, client } = endpoint(kind);
  const server = await listen(address, { ...serverOptions, ...options });
  const dial = <R = Service>(extra: ConnectOptions = {}) =>
    connect<R>(server.address, { ...client, keepalive: false, ...extra });
  return { server, dial };
}

const SECRET = "correct horse battery staple";

for (const kind of kinds) {
  describe(`sessions over ${kind}`, () => {
    it("authenticates with the right secret and refuses a wrong or missing one, serving others meanwhile", async () => {
      const errors: unknown[] = [];
      const { server, dial } = await serve(kind, {
        handlers: { echo: (value: unknown) => value },
        secret: SECRET,
        authFailureDelay: 50,
        onError: (error) => errors.push(error),
      });
      try {
        const good = await dial<{ echo: (v: string) => string }>({ secret: SECRET });
        assert.equal(good.session?.authenticated, true);
        assert.equal(good.session?.version, 1);
        await assert.rejects(dial({ secret: "the wrong secret, long enough" }), { code: "ERR_AUTH_FAILED" });
        await assert.rejects(dial(), { code: "ERR_AUTH_REQUIRED" });
        const plain = await dial({ protocol: "fizyr" });
        // A plain fizyr-rpc client's first request is answered with the refusal, and nothing is served.
        await assert.rejects(plain.call("echo", 1, { timeout: 2000 }), {
          name: "RemoteError",
          code: "ERR_AUTH_REQUIRED",
          message: /requires a peerlink session with a secret/,
        });
        await plain.close();
        assert.equal(await good.call("echo", "still served"), "still served");
        await waitFor(() => server.stats.authFailures >= 2, "two counted auth failures");
        assert.ok(errors.some((error) => (error as { code?: string }).code === "ERR_AUTH_FAILED"));
        await good.close();
      } finally {
        await server.close();
      }
    });

    it("sends the deadline with the call: the handler sees it and is aborted when it passes", async () => {
      let seen: { deadline: number | undefined; reason?: unknown } | undefined;
      const { server, dial } = await serve(kind, {
        handlers: {
          wait: (_: undefined, context: HandlerContext) =>
            new Promise<void>((resolve) => {
              seen = { deadline: context.deadline };
              context.signal.addEventListener("abort", () => {
                seen!.reason = context.signal.reason;
                resolve();
              });
            }),
        },
      });
      try {
        const client = await dial<{ wait: () => Promise<void> }>();
        const before = Date.now();
        await assert.rejects(client.call("wait", undefined, { timeout: 300 }), { code: "ERR_TIMEOUT" });
        await waitFor(() => seen?.reason !== undefined, "the handler aborted");
        assert.ok(seen!.deadline! >= before + 250 && seen!.deadline! <= Date.now() + 100, `deadline ${seen!.deadline}`);
        // The caller's own cancel and the server's deadline race: either ends the handler.
        assert.match((seen!.reason as { code: string }).code, /^ERR_(TIMEOUT|CANCELLED)$/);

        // Without the caller's cancel, the deadline alone ends the handler, and the server answers ERR_TIMEOUT.
        seen = undefined;
        const transport = await connectTransport(server.address, endpointClient(kind));
        const agreed = await clientHandshake(transport, {
          handshakeTimeout: 5000,
          keepalive: false,
          maxMessageSize: transport.maxMessageSize,
        });
        const peer = new Peer(new SessionTransport(transport, agreed, { keepaliveInterval: 0, keepalive: false }));
        const request = await peer.sendRequest(methodId("wait"), encodeCallContext(cborCodec.encode(undefined), 150));
        const response = await request.response;
        assert.equal(response.header.serviceId, STATUS_ERROR);
        assert.equal((cborCodec.decode(response.body) as { code: string }).code, "ERR_TIMEOUT");
        assert.equal((seen!.reason as { code: string }).code, "ERR_TIMEOUT");
        await peer.close();
        await client.close();
      } finally {
        await server.close();
      }
    });

    it("cascades a cancel through a nested call made with { context }", async () => {
      let innerAborted: unknown;
      let innerStarted = false;
      const inner = await serve(kind, {
        handlers: {
          slow: (_: undefined, context: HandlerContext) =>
            new Promise<void>((resolve) => {
              innerStarted = true;
              context.signal.addEventListener("abort", () => {
                innerAborted = context.signal.reason;
                resolve();
              });
            }),
        },
      });
      const onward = await inner.dial();
      const outer = await serve(kind, {
        handlers: {
          relay: (_: undefined, context: HandlerContext) => onward.call("slow", undefined, { context }),
        },
      });
      try {
        const client = await outer.dial<{ relay: () => Promise<void> }>();
        const controller = new AbortController();
        const pending = client.call("relay", undefined, { signal: controller.signal });
        await waitFor(() => innerStarted, "the inner handler to start");
        controller.abort();
        await assert.rejects(pending, { code: "ERR_CANCELLED" });
        await waitFor(() => innerAborted !== undefined, "the inner handler to be cancelled");
        await client.close();
      } finally {
        await onward.close();
        await outer.server.close();
        await inner.server.close();
      }
    });

    it("answers a cancel of a queued request at once and never starts its handler", async () => {
      const started: number[] = [];
      let release!: () => void;
      const blocker = new Promise<void>((resolve) => (release = resolve));
      const { server, dial } = await serve(kind, {
        maxConcurrentRequests: 1,
        handlers: {
          work: async (n: number) => {
            started.push(n);
            if (n === 0) await blocker;
            return n;
          },
        },
      });
      try {
        const client = await dial<{ work: (n: number) => Promise<number> }>();
        const first = client.call("work", 0);
        await waitFor(() => started.length === 1, "the first call to start");
        const controller = new AbortController();
        const queued = client.call("work", 1, { signal: controller.signal });
        const stream = client.open("work", 2);
        await delay(50);
        controller.abort();
        (await stream).cancel();
        await assert.rejects(queued, { code: "ERR_CANCELLED" });
        await assert.rejects((await stream).result, { code: "ERR_CANCELLED" });
        // The server answered both while the first still ran: its slot is still taken.
        await waitFor(() => [...server.connections][0]?.peer.openReceived === 1, "only the first request open");
        release();
        assert.equal(await first, 0);
        assert.deepEqual(started, [0]);
        await client.close();
      } finally {
        release();
        await server.close();
      }
    });

    it("shuts down gracefully: calls in flight finish, new ones see ERR_SERVER_CLOSING", async () => {
      const { server, dial } = await serve(kind, {
        handlers: { sleep: (ms: number) => delay(ms).then(() => ms) },
      });
      const client = await dial<{ sleep: (ms: number) => Promise<number> }>();
      const inFlight = client.call("sleep", 300);
      await delay(50);
      const closing = server.close({ grace: 5000 });
      await waitFor(() => client.goingAway !== undefined, "the client to hear the server is going away");
      assert.equal(client.goingAway?.code, "ERR_SERVER_CLOSING");
      await assert.rejects(client.call("sleep", 1), { code: "ERR_SERVER_CLOSING" });
      assert.equal(await inFlight, 300);
      await closing;
      await client.closed;
    });

    it("aborts what is still running when the grace period ends, and the client sees ERR_SERVER_CLOSING", async () => {
      let aborted: unknown;
      const { server, dial } = await serve(kind, {
        handlers: {
          hang: (_: undefined, context: HandlerContext) =>
            new Promise<void>((resolve) =>
              context.signal.addEventListener("abort", () => {
                aborted = context.signal.reason;
                resolve();
              })
            ),
        },
      });
      const client = await dial<{ hang: () => Promise<void> }>();
      const rejected = assert.rejects(client.call("hang"), { code: "ERR_SERVER_CLOSING" });
      await delay(50);
      await server.close({ grace: 100 });
      await rejected;
      await waitFor(() => aborted !== undefined, "the handler aborted");
      assert.equal((aborted as { code?: string }).code, "ERR_SERVER_CLOSING");
      await client.closed;
    });

    it("closes idle connections (ERR_IDLE_TIMEOUT) but not one with a call open", async () => {
      const { server, dial } = await serve(kind, {
        idleTimeout: 150,
        handlers: { sleep: (ms: number) => delay(ms).then(() => ms) },
      });
      try {
        const idle = await dial();
        const busy = await dial<{ sleep: (ms: number) => Promise<number> }>();
        const call = busy.call("sleep", 600);
        await idle.closed;
        assert.equal((idle.closeError as { code?: string }).code, "ERR_IDLE_TIMEOUT");
        assert.equal(await call, 600);
        assert.equal(server.stats.idleClosed, 1);
        await busy.close();
      } finally {
        await server.close();
      }
    });

    it("refuses connections beyond maxConnections at once, and accepts again once one closes", async () => {
      const { server, dial } = await serve(kind, { maxConnections: 1, handlers: { one: () => 1 } });
      try {
        const first = await dial<{ one: () => number }>();
        await assert.rejects(dial(), { code: "ERR_TOO_MANY_CONNECTIONS" });
        assert.equal(server.stats.refused, 1);
        await first.close();
        await waitFor(() => server.connections.size === 0, "the first connection to go");
        const second = await dial<{ one: () => number }>();
        assert.equal(await second.call("one"), 1);
        await second.close();
      } finally {
        await server.close();
      }
    });

    it("carries bignums both ways", async () => {
      const { server, dial } = await serve(kind, { handlers: { negate: (n: bigint) => -n } });
      try {
        const client = await dial<{ negate: (n: bigint) => bigint }>();
        assert.equal(await client.call("negate", 2n ** 70n), -(2n ** 70n));
        assert.equal(await client.call("negate", -(2n ** 64n) - 1n), 2n ** 64n + 1n);
        await client.close();
      } finally {
        await server.close();
      }
    });
  });
}

describe("sessions and plain fizyr-rpc", () => {
  it("serves a plain fizyr-rpc client in auto mode, and a fizyr-mode client talks to it", async () => {
    const { server, dial } = await serve("unix", { handlers: { echo: (value: unknown) => value } });
    try {
      const plain = await dial<{ echo: (v: number) => number }>({ protocol: "fizyr" });
      assert.equal(plain.session, undefined);
      assert.equal(await plain.call("echo", 7), 7);
      await plain.close();
    } finally {
      await server.close();
    }
  });

  it("reports a plain fizyr-rpc server as ERR_NOT_PEERLINK", async () => {
    const { server, dial } = await serve("unix", { protocol: "fizyr", handlers: { echo: (value: unknown) => value } });
    try {
      await assert.rejects(dial({ handshakeTimeout: 2000 }), { code: "ERR_NOT_PEERLINK" });
    } finally {
      await server.close();
    }
  });

  it("refuses a reserved service id", async () => {
    await assert.rejects(
      listen(`unix:${join(dir.path, "reserved.sock")}`, { serviceIds: { echo: -0x80000000 } }),
      { code: "ERR_INVALID_ARGUMENT" },
    );
  });
});

describe("reconnect", () => {
  it("waits for the server to come back; calls in flight at the loss reject and are not sent again", async () => {
    const address = `unix:${join(dir.path, "restart.sock")}`;
    const calls: number[] = [];
    const handlers = {
      record: (n: number) => {
        calls.push(n);
        return n;
      },
      hang: () => new Promise(() => {}),
    };
    let server: RpcServer = await listen(address, { handlers });
    const reconnects: unknown[] = [];
    const client = await connect<typeof handlers>(address, {
      keepalive: false,
      reconnect: { initialDelay: 20, maxDelay: 100, onReconnect: (c) => reconnects.push(c) },
    });
    try {
      assert.equal(await client.call("record", 1), 1);
      const inFlight = client.call("hang");
      await delay(20);
      await server.close();
      await assert.rejects(inFlight, (error: { code?: string }) => error.code !== undefined);
      const waiting = client.call("record", 2, { timeout: 5000 });
      await delay(150);
      server = await listen(address, { handlers });
      assert.equal(await waiting, 2);
      assert.deepEqual(calls, [1, 2]);
      assert.equal(reconnects.length, 1);
      await server.close();
      const failFast = await connect<typeof handlers>(address.replace("restart", "gone"), {
        keepalive: false,
        reconnect: { whileDisconnected: "fail" },
      }).catch((error) => error);
      assert.equal((failFast as { code?: string }).code, "ERR_CONNECTION_FAILED");
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe("secret files and the allow policy", () => {
  it("reads secretFile on both sides, never overwrites one, and refuses one open to others", async () => {
    const path = join(dir.path, "daemon.secret");
    await createSecretFile(path);
    await assert.rejects(createSecretFile(path), { code: "ERR_FILE_EXISTS" });
    const { server, dial } = await serve("unix", { secretFile: path, handlers: { one: () => 1 } });
    try {
      const client = await dial<{ one: () => number }>({ secretFile: path });
      assert.equal(client.session?.authenticated, true);
      assert.equal(await client.call("one"), 1);
      await client.close();
      chmodSync(path, 0o640);
      await assert.rejects(dial({ secretFile: path }), { code: "ERR_INVALID_ARGUMENT", message: /chmod 600/ });
      await assert.rejects(listen(`unix:${join(dir.path, "open.sock")}`, { secretFile: path }), {
        code: "ERR_INVALID_ARGUMENT",
      });
      await assert.rejects(dial({ secret: "too short" }), { code: "ERR_INVALID_ARGUMENT", message: /16 bytes/ });
    } finally {
      await server.close();
    }
  });

  for (const kind of ["unix", "seqpacket"] as const) {
    it(`admits peers by uid with allow, and refuses others with ERR_PEER_REFUSED (${kind})`, async () => {
      const uid = process.getuid!();
      const mine = await serve(kind, {
        allow: { uid: "self" },
        handlers: { who: (_: undefined, c: HandlerContext) => c.info.credentials },
      });
      const others = await serve(kind, { allow: { uid: [uid + 1, uid + 2] }, handlers: { who: () => null } });
      try {
        const client = await mine.dial<{ who: () => { pid: number; uid: number } }>();
        const seen = await client.call("who");
        assert.equal(seen.uid, uid);
        assert.equal(seen.pid, process.pid);
        await client.close();
        await assert.rejects(others.dial(), { code: "ERR_PEER_REFUSED" });
        assert.equal(others.server.stats.refused, 1);
      } finally {
        await mine.server.close();
        await others.server.close();
      }
    });
  }

  it("refuses allow on tcp:// (no peer credentials there)", async () => {
    await assert.rejects(listen("tcp://127.0.0.1:0", { allow: { uid: "self" } }), { code: "ERR_INVALID_ARGUMENT" });
  });

  it("uses the same error status in the handshake as the RPC layer", () => {
    assert.equal(HANDSHAKE_STATUS_ERROR, STATUS_ERROR);
  });
});

describe("sessions under stress", () => {
  it("exits on its own after a failed connect hook and a reconnect closed mid back-off", async () => {
    const result = await run(scriptCommand(runtimeName, "test/fixtures/session/rpc_exit.ts"), 20_000);
    assert.equal(result.signal, null, `killed: ${result.stderr}`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "refused by the hook | 1 | done");
  });

  it("answers a flood of pings from a client that does not read with at most one pong in flight", async () => {
    const { server } = await serve("unix", { keepalive: false, handlers: { one: () => 1 } });
    const transport = await connectTransport(server.address);
    try {
      const agreed = await clientHandshake(transport, {
        handshakeTimeout: 5000,
        keepalive: { interval: 60_000, timeout: 60_000 },
        maxMessageSize: transport.maxMessageSize,
      });
      assert.ok(agreed.capabilities.includes("keepalive"));
      const ping = {
        header: { type: MessageType.Stream, requestId: 0, serviceId: PING_STREAM_ID },
        body: new Uint8Array(0),
      };
      // 1.6 MB of pings: far more pongs than the two socket buffers between the sides hold (under 30 000).
      const PINGS = 100_000;
      await Promise.all(Array.from({ length: PINGS }, () => transport.send(ping)));
      // Then one call, whose answer comes after every pong the server queued.
      await transport.send({
        header: { type: MessageType.Request, requestId: 1, serviceId: methodId("one") },
        body: encodeCallContext(cborCodec.encode(undefined), undefined),
      });
      let pongs = 0;
      for (;;) {
        const message = await transport.receive();
        assert.ok(message !== null, "the server closed the connection");
        if (message.header.type === MessageType.Response) break;
        if (message.header.serviceId === PONG_STREAM_ID) pongs++;
      }
      // Pongs are only written while the previous one was taken: once the buffers are full, pings get none.
      assert.ok(pongs >= 1 && pongs < PINGS / 2, `${pongs} pongs for ${PINGS} pings`);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("does not declare a peer dead because this side's event loop was blocked", async () => {
    const keepalive = { interval: 100, timeout: 400 };
    const { server, dial } = await serve("unix", { keepalive, handlers: { one: () => 1 } });
    try {
      const clients = await Promise.all([1, 2, 3].map(() => dial<{ one: () => number }>({ keepalive })));
      for (let round = 0; round < 2; round++) {
        await delay(110);
        const until = Date.now() + 600;
        while (Date.now() < until) {
          // Busy: no timer and no I/O runs for longer than the keepalive timeout.
        }
        assert.deepEqual(await Promise.all(clients.map((client) => client.call("one"))), [1, 1, 1]);
      }
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      await server.close();
    }
  });

  it("serves calls that cross an idle GOAWAY, and reconnects an idle client only when it calls again", async () => {
    const { server, dial } = await serve("unix", { idleTimeout: 40, handlers: { one: () => 1 } });
    try {
      let reconnects = 0;
      const client = await dial<{ one: () => number }>({
        reconnect: { initialDelay: 0, onReconnect: () => reconnects++ },
      });
      const failures: string[] = [];
      for (let i = 0; i < 40; i++) {
        await delay(30 + (i % 4) * 10);
        await client.call("one", undefined, { timeout: 5000 }).catch((error) => failures.push(error.code));
      }
      assert.deepEqual(failures, []);
      const before = reconnects;
      await delay(500);
      assert.equal(reconnects, before, "an idle client is not dialled again while it makes no call");
      assert.equal(await client.call("one"), 1);
      assert.equal(reconnects, before + 1);
      await client.close();
    } finally {
      await server.close();
    }
  });

  it("sends the time really left after waiting for a reconnect", async () => {
    const address = `unix:${join(dir.path, "stale.sock")}`;
    const handlers = { deadline: (_: undefined, context: HandlerContext) => context.deadline };
    let server = await listen(address, { handlers });
    const client = await connect<typeof handlers>(address, { keepalive: false, reconnect: { initialDelay: 20 } });
    try {
      await server.close();
      await waitFor(() => client.isReconnecting, "the client to notice");
      const asked = Date.now();
      const pending = client.call("deadline", undefined, { timeout: 5000 });
      await delay(400);
      server = await listen(address, { handlers });
      const deadline = await pending;
      assert.ok(
        deadline !== undefined && deadline <= asked + 5000 + 50,
        `deadline ${deadline! - asked} ms after the call`,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe("what a server reports", () => {
  it("says nothing of a client that connects and closes, but reports one that breaks off its hello", async () => {
    const errors: unknown[] = [];
    const { server } = await serve("unix", { onError: (error) => errors.push(error), handlers: {} });
    try {
      const quiet = await connectTransport(server.address);
      await quiet.close();
      const raw = await connectRawStream(server.address);
      await raw.write(new Uint8Array([40, 0, 0, 0, 0, 0])); // the start of a 40-byte frame, then nothing
      await raw.close();
      await waitFor(() => errors.length === 1, "the broken hello to be reported");
      await delay(50);
      assert.equal(errors.length, 1);
      assert.equal(server.stats.handshakeFailures, 1);
      assert.equal(server.stats.accepted, 2);
    } finally {
      await server.close();
    }
  });
});
