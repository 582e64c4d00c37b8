/**
 * SessionTransport over real sockets and real processes: pings keep an
 * idle session up, a peer process stopped with SIGSTOP is declared dead
 * with ERR_PEER_UNRESPONSIVE (by a client, by a server, and by a child
 * process watching another), reading held back by flow control is not
 * counted as silence, pings are answered whoever asked for keepalive, the
 * session's own messages never reach the application, and a GOAWAY turns
 * the end of the connection into its error.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { after, describe, it } from "node:test";
import { connectTransport, listenTransport, type Message, MessageType } from "../peer.ts";
import type { SessionError } from "../src/base/errors.ts";
import type { MessageTransport } from "../src/transport/types.ts";
import type { OutgoingMessage } from "../src/wire/message.ts";
import { clientHandshake } from "../src/session/client_handshake.ts";
import { serverHandshake } from "../src/session/server_handshake.ts";
import { SessionTransport } from "../src/session/session_transport.ts";
import {
  CAPABILITIES,
  GOAWAY_STREAM_ID,
  HANDSHAKE_SERVICE_ID,
  PING_STREAM_ID,
  PONG_STREAM_ID,
} from "../src/session/session_protocol.ts";
import { delay, type RunningProcess, runtimeName, scriptCommand, start, tempDir } from "./_helpers.ts";
import { connectedPair } from "./fixtures/session/connected_pair.ts";

const SESSION = { version: 1, capabilities: [...CAPABILITIES], authenticated: false } as const;
const dir = tempDir();
after(() => dir.cleanup());

/** A real transport that counts what it received, by stream kind: a window on the session's own messages. */
class CountingTransport implements MessageTransport {
  readonly counts = new Map<number, number>();
  readonly inner: MessageTransport;
  constructor(inner: MessageTransport) {
    this.inner = inner;
  }
  get info() {
    return this.inner.info;
  }
  get maxMessageSize(): number {
    return this.inner.maxMessageSize;
  }
  get maxFds(): number {
    return this.inner.maxFds;
  }
  send(message: OutgoingMessage): Promise<void> {
    return this.inner.send(message);
  }
  async receive(): Promise<Message | null> {
    const message = await this.inner.receive();
    if (message?.header.type === MessageType.Stream) {
      const kind = message.header.serviceId;
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    }
    return message;
  }
  setReceiveLimit(bytes: number): void {
    this.inner.setReceiveLimit(bytes);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Reads until the session ends; resolves with how it ended and the application messages seen. */
function readAll(session: SessionTransport): Promise<{ end: unknown; messages: Message[] }> {
  const messages: Message[] = [];
  return (async () => {
    try {
      for (let m = await session.receive(); m !== null; m = await session.receive()) messages.push(m);
      return { end: null, messages };
    } catch (error) {
      return { end: error, messages };
    }
  })();
}

/** Whether `promise` is still pending. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol();
  return (await Promise.race([promise, Promise.resolve(marker)])) === marker;
}

/** `promise`, or a failure after `ms`: a session that is never declared dead must fail the test, not hang it. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const stream = (serviceId: number, body = new Uint8Array(0)): OutgoingMessage => ({
  header: { type: MessageType.Stream, requestId: 0, serviceId },
  body,
});

describe("keepalive between two sessions", () => {
  it("exchanges pings and pongs and stays up through 600 ms of idle, more than its 250 ms timeout", async () => {
    const pair = await connectedPair("tcp");
    const keepalive = { interval: 50, timeout: 250 };
    const a = new CountingTransport(pair.client);
    const b = new CountingTransport(pair.server);
    const sessionA = new SessionTransport(a, SESSION, { keepaliveInterval: 50, keepalive });
    const sessionB = new SessionTransport(b, SESSION, { keepaliveInterval: 50, keepalive });
    const readingA = readAll(sessionA);
    const readingB = readAll(sessionB);
    try {
      await delay(600);
      assert.ok(await pending(readingA) && await pending(readingB), "both sessions are still up");
      for (const side of [a, b]) {
        assert.ok((side.counts.get(PING_STREAM_ID) ?? 0) >= 3, `pings arrived: ${[...side.counts]}`);
        assert.ok((side.counts.get(PONG_STREAM_ID) ?? 0) >= 3, `pongs arrived: ${[...side.counts]}`);
      }
      await sessionA.send(stream(7, new Uint8Array([1])));
      await sessionA.close();
      const { end, messages } = await readingB;
      assert.equal(end, null, "a clean end without a GOAWAY");
      assert.deepEqual(messages.map((m) => m.header.serviceId), [7], "only the application's message came through");
      assert.equal((await readingA).end, null);
    } finally {
      await sessionB.close();
      await pair.close();
    }
  });

  it("pings at the agreed interval even on a side that asked for no keepalive, which never declares death", async () => {
    const pair = await connectedPair("unix");
    const a = new CountingTransport(pair.client);
    const watcher = new SessionTransport(a, SESSION, {
      keepaliveInterval: 50,
      keepalive: { interval: 50, timeout: 250 },
    });
    const relaxed = new SessionTransport(pair.server, SESSION, { keepaliveInterval: 50, keepalive: false });
    const reading = readAll(watcher);
    try {
      // The relaxed side never reads, so it answers no ping: only its own pings keep the watcher's session up.
      await delay(600);
      assert.ok(await pending(reading), "the watcher's session is still up");
      assert.ok((a.counts.get(PING_STREAM_ID) ?? 0) >= 3, "the relaxed side pinged");
      assert.equal(a.counts.get(PONG_STREAM_ID) ?? 0, 0, "and answered nothing, since it did not read");
    } finally {
      await relaxed.close();
      await watcher.close();
      await pair.close();
    }
  });

  it("counts silence only while reading, then declares the peer dead and closes the connection", async () => {
    const pair = await connectedPair("unix");
    const timeout = 150;
    const session = new SessionTransport(pair.client, SESSION, {
      keepaliveInterval: 50,
      keepalive: { interval: 50, timeout },
    });
    try {
      // The other end is a bare transport that never says anything. Not reading for 400 ms is not silence.
      await delay(400);
      const started = Date.now();
      await assert.rejects(
        within(session.receive(), 3000, "keepalive to give up"),
        (error: Error & { code?: string }) => {
          assert.equal(error.name, "SessionError");
          assert.equal(error.code, "ERR_PEER_UNRESPONSIVE");
          assert.equal(error.message, `Nothing arrived from the peer for ${timeout} ms (keepalive)`);
          return true;
        },
      );
      const waited = Date.now() - started;
      assert.ok(waited >= timeout * 0.8, `declared dead ${waited} ms after reading started, before the ${timeout} ms`);
      await assert.rejects(session.receive(), { code: "ERR_PEER_UNRESPONSIVE" }, "and stays dead");
      // Our pings arrived, then the connection was closed.
      let pings = 0;
      for (let m = await pair.server.receive(); m !== null; m = await pair.server.receive()) {
        if (m.header.serviceId === PING_STREAM_ID) pings++;
      }
      assert.ok(pings >= 3, `${pings} pings`);
    } finally {
      await session.close();
      await pair.close();
    }
  });
});

describe("the session's own messages", () => {
  it("answers a ping with a pong without keepalive of its own, and passes everything else on", async () => {
    const pair = await connectedPair("seqpacket");
    const session = new SessionTransport(pair.client, SESSION, { keepaliveInterval: 0, keepalive: false });
    try {
      const reading = session.receive();
      await pair.server.send(stream(PING_STREAM_ID));
      const pong = await pair.server.receive();
      assert.deepEqual(pong?.header, { type: MessageType.Stream, requestId: 0, serviceId: PONG_STREAM_ID });
      assert.equal(pong?.body.length, 0);
      await pair.server.send(stream(PONG_STREAM_ID));
      await pair.server.send(stream(HANDSHAKE_SERVICE_ID + 200, new Uint8Array([9]))); // a later version's kind
      await pair.server.send({
        header: { type: MessageType.Request, requestId: 3, serviceId: PING_STREAM_ID },
        body: new Uint8Array(0),
      });
      const request = await reading;
      assert.deepEqual(request?.header, { type: MessageType.Request, requestId: 3, serviceId: PING_STREAM_ID });
      await pair.server.send(stream(-1));
      assert.deepEqual((await session.receive())?.header, { type: MessageType.Stream, requestId: 0, serviceId: -1 });
    } finally {
      await session.close();
      await pair.close();
    }
  });

  it("remembers a GOAWAY, tells onGoAway once, and reports the end of the connection as its error", async () => {
    const pair = await connectedPair("unix");
    const server = new SessionTransport(pair.server, SESSION, { keepaliveInterval: 0, keepalive: false });
    const client = new SessionTransport(pair.client, SESSION, { keepaliveInterval: 0, keepalive: false });
    const told: Error[] = [];
    client.onGoAway = (error) => {
      told.push(error);
      throw new Error("a failing callback is ignored");
    };
    try {
      assert.equal(client.goingAway, undefined);
      await server.sendGoAway("ERR_SERVER_CLOSING", "Restarting", 500);
      await server.sendGoAway("ERR_IDLE_TIMEOUT", "A second one changes nothing");
      await server.send(stream(5));
      assert.equal((await client.receive())?.header.serviceId, 5, "calls in flight may still finish");
      assert.equal(told.length, 1);
      // Read again: the assertion above narrowed the getter's type to undefined.
      const goingAway = (client as { goingAway: SessionError | undefined }).goingAway;
      assert.equal(goingAway, told[0]);
      assert.equal(goingAway?.code, "ERR_SERVER_CLOSING");
      assert.match(goingAway!.message, /Restarting/);
      assert.deepEqual(goingAway?.data, { grace: 500 });
      await server.close();
      await assert.rejects(client.receive(), (error) => {
        assert.equal(error, told[0]);
        return true;
      });
    } finally {
      await client.close();
      await pair.close();
    }
  });

  it("reads a GOAWAY of another shape as the other side going away", async () => {
    const pair = await connectedPair("unix");
    const client = new SessionTransport(pair.client, SESSION, { keepaliveInterval: 0, keepalive: false });
    try {
      await pair.server.send(stream(GOAWAY_STREAM_ID, new Uint8Array([0xff])));
      await pair.server.close();
      await assert.rejects(client.receive(), { name: "SessionError", code: "ERR_SERVER_CLOSING" });
    } finally {
      await client.close();
      await pair.close();
    }
  });
});

describe("keepalive against a stopped process", () => {
  const timeout = 300;
  const keepalive = { interval: 50, timeout };
  const fixture = "test/fixtures/session/keepalive_peer.ts";
  let counter = 0;
  const address = (): string => `unix:${join(dir.path, `peer-${counter++}.sock`)}`;

  /** Sends a signal by pid: Deno's `ChildProcess.kill` sends nothing more once it sent one signal. */
  function signal(child: RunningProcess, name: "SIGSTOP" | "SIGCONT"): void {
    process.kill(child.child.pid!, name);
  }

  /** Stops `child`, then waits for `detected`; resumes and ends the child whatever happens. */
  async function stopAndTime(child: RunningProcess, detected: () => Promise<unknown>): Promise<number> {
    try {
      await delay(300); // alive across the process boundary for a while first
      signal(child, "SIGSTOP");
      const stopped = Date.now();
      await detected();
      return Date.now() - stopped;
    } finally {
      signal(child, "SIGCONT");
      await child.stop();
    }
  }

  function assertInTime(waited: number): void {
    // The last pong may have left the child up to one interval before it stopped.
    assert.ok(waited >= timeout - 50 - 20, `declared dead after ${waited} ms, before the ${timeout} ms timeout`);
    assert.ok(waited <= timeout + 2000, `declared dead only after ${waited} ms`);
  }

  it("a client declares a stopped server process dead", async () => {
    const where = address();
    const server = start(scriptCommand(runtimeName, fixture, ["serve", where, "50", "150"]));
    await server.waitFor("listening");
    const transport = await connectTransport(where);
    const info = await clientHandshake(transport, {
      handshakeTimeout: 5000,
      keepalive,
      maxMessageSize: transport.maxMessageSize,
    });
    const session = new SessionTransport(transport, info, { keepaliveInterval: info.keepaliveInterval, keepalive });
    const reading = readAll(session);
    try {
      const waited = await stopAndTime(server, async () => {
        const { end } = await within(reading, 5000, "the session to end");
        assert.equal((end as { code?: string }).code, "ERR_PEER_UNRESPONSIVE", String(end));
      });
      assertInTime(waited);
    } finally {
      await session.close();
    }
  });

  it("a server declares a stopped client process dead", async () => {
    const where = address();
    const listener = await listenTransport(where);
    const client = start(scriptCommand(runtimeName, fixture, ["connect", where, "50", "150"]));
    const transport = (await listener.accept())!;
    await listener.close();
    const result = await serverHandshake(transport, {
      protocol: "peerlink",
      handshakeTimeout: 5000,
      keepalive,
      maxMessageSize: transport.maxMessageSize,
      authFailureDelay: 0,
    });
    assert.equal(result.kind, "session");
    if (result.kind !== "session") return;
    const session = new SessionTransport(transport, result.session, {
      keepaliveInterval: result.keepaliveInterval,
      keepalive,
    });
    const reading = readAll(session);
    try {
      await client.waitFor("session");
      const waited = await stopAndTime(client, async () => {
        const { end } = await within(reading, 5000, "the session to end");
        assert.equal((end as { code?: string }).code, "ERR_PEER_UNRESPONSIVE", String(end));
      });
      assertInTime(waited);
    } finally {
      await session.close();
    }
  });

  it("a client process declares a stopped server process dead, and says so", async () => {
    const where = address();
    const server = start(scriptCommand(runtimeName, fixture, ["serve", where, "50", "150"]));
    let client: RunningProcess | undefined;
    try {
      await server.waitFor("listening");
      client = start(scriptCommand(runtimeName, fixture, ["connect", where, "50", String(timeout)]));
      await client.waitFor("session");
      await server.waitFor("session");
      const watching = client;
      const waited = await stopAndTime(server, () => watching.waitFor("ended ", 5000));
      assert.match(client.stdout(), /ended ERR_PEER_UNRESPONSIVE/);
      assertInTime(waited);
      const exited = await client.exited;
      assert.equal(exited.code, 0, exited.stderr);
    } finally {
      await client?.stop();
      await server.stop();
    }
  });
});
