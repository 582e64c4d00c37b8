/**
 * TCP and TLS failures, in the runtime running the test:
 *
 * - Connects that cannot succeed end in `ERR_CONNECTION_FAILED` with the
 *   runtime's error as `cause`, without hanging: a closed port, a host name
 *   that does not resolve, and two servers that never answer (a TCP listen
 *   queue that is full, so SYNs are dropped; a TCP server that never speaks
 *   TLS), where `connectTimeout` is honoured.
 * - Junk on a TCP or TLS port (random bytes, a 4 GiB length prefix, before
 *   or after the TLS handshake) closes only that connection, makes the
 *   process allocate nothing like what was announced (VmSize in
 *   /proc/self/status), and the server keeps serving its other clients.
 * - A client that stalls its TLS handshake (sends nothing, or half a
 *   ClientHello) is closed once `handshakeTimeout` has passed, on `listen`
 *   and `listenTransport`, and reported as `ERR_TLS_HANDSHAKE`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { connect, generateCertificate, listen, type RpcConnection, type RpcServer, TlsError } from "../mod.ts";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { type InetAddress, parseAddress } from "../src/transport/address.ts";
import type { TcpConnectSettings } from "../src/transport/runtime_adapter.ts";
import type { ByteStream } from "../src/transport/types.ts";
import { encodeFrame } from "../src/wire/frame_encoder.ts";
import { cborCodec, listenTransport, MessageType, methodId } from "../peer.ts";
import { type RunningProcess, scriptCommand, start, waitFor } from "./_helpers.ts";

const runtime = await loadRuntimeAdapter();
const certificate = await generateCertificate();

/** This process's virtual memory size in bytes (`VmSize` in /proc/self/status). */
function virtualMemory(): number {
  const line = readFileSync("/proc/self/status", "utf8").split("\n").find((entry) => entry.startsWith("VmSize:"));
  assert.ok(line, "/proc/self/status has a VmSize line");
  return Number(line.replace(/\D+/g, "")) * 1024;
}

/** A raw byte stream to `address`, through the adapter: what a client that does not speak peerlink sends. */
function rawStream(address: string, tls?: TcpConnectSettings["tls"]): Promise<ByteStream> {
  return runtime.connectTcp(parseAddress(address) as InetAddress, {
    noDelay: true,
    timeout: 5000,
    ...(tls === undefined ? {} : { tls }),
  });
}

/** Reads until the other side closes; the bytes read (a TLS alert, say) are counted, not kept. */
async function readToEnd(stream: ByteStream): Promise<number> {
  let total = 0;
  try {
    for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) total += chunk.length;
  } catch {
    // A reset, or a TLS error after the handshake: the connection is gone either way.
  }
  return total;
}

/** Milliseconds until the other side closes `stream`; fails the test if it has not within `limit` ms. */
async function closedAfter(stream: ByteStream, started: number, limit: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${limit} ms`)), limit);
  });
  try {
    await Promise.race([readToEnd(stream), late]);
    return Date.now() - started;
  } finally {
    clearTimeout(timer);
    await stream.close();
  }
}

/** Rejects with what `promise` rejected with, and how long that took. */
async function timed(promise: Promise<unknown>): Promise<{ error: Error & { code?: string }; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as Error & { code?: string }, ms: Date.now() - started };
  }
  throw new Error("Expected the connect to fail");
}

const pinned = { pin: certificate.fingerprint256 };
const clientTls = { ...pinned, serverName: "127.0.0.1", checkServerName: true };

describe("connects that cannot succeed", () => {
  let silent: RunningProcess | undefined;
  after(async () => void await silent?.stop());

  it("a closed port: ERR_CONNECTION_FAILED at once, with the cause", async () => {
    const server = await listen("tcp://127.0.0.1:0", {});
    const address = server.address;
    await server.close();
    for (const target of [address, address.replace("tcp://", "tls://")]) {
      const { error, ms } = await timed(connect(target, target.startsWith("tls") ? { tls: pinned } : {}));
      assert.equal(error.code, "ERR_CONNECTION_FAILED", error.message);
      assert.match(error.message, /nobody accepts connections there/);
      assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
      assert.ok(ms < 2000, `took ${ms} ms`);
    }
  });

  it("a host name that does not resolve: ERR_CONNECTION_FAILED, with the cause", async () => {
    const { error, ms } = await timed(connect("tcp://does-not-exist.invalid:1", { connectTimeout: 5000 }));
    assert.equal(error.code, "ERR_CONNECTION_FAILED", error.message);
    assert.match(error.message, /does-not-exist\.invalid/);
    assert.ok(error.cause !== undefined);
    assert.ok(ms < 5500, `took ${ms} ms`);
  });

  it("servers that never answer: ERR_CONNECTION_FAILED once connectTimeout has passed, not before", async () => {
    silent = start(scriptCommand("deno", "test/fixtures/tls/silent_listener.ts"));
    await silent.waitFor("}");
    const ports = JSON.parse(silent.stdout()) as { full: number; mute: number };
    // The first connection fills the listen queue of 0; later SYNs are dropped.
    // The filler only takes the one backlog slot; the silent listener would never answer a handshake.
    const filler = await connect(`tcp://127.0.0.1:${ports.full}`, { connectTimeout: 2000, protocol: "fizyr" });
    for (
      const [address, options] of [
        [`tcp://127.0.0.1:${ports.full}`, {}],
        [`tls://127.0.0.1:${ports.full}`, { tls: pinned }],
        [`tls://127.0.0.1:${ports.mute}`, { tls: pinned }],
      ] as const
    ) {
      const { error, ms } = await timed(connect(address, { ...options, connectTimeout: 300 }));
      assert.equal(error.code, "ERR_CONNECTION_FAILED", `${address}: ${error.message}`);
      assert.match(error.message, /within 300 ms/);
      assert.ok(ms >= 290 && ms < 2300, `${address} failed after ${ms} ms`);
    }
    await filler.close();
  });
});

describe("junk on a TCP or TLS port", () => {
  const handlers = { echo: (value: unknown) => value };

  async function serve(
    transport: "tcp" | "tls",
  ): Promise<{ server: RpcServer; errors: unknown[]; good: RpcConnection }> {
    const errors: unknown[] = [];
    const server = await listen(`${transport}://127.0.0.1:0`, {
      handlers,
      onError: (error) => errors.push(error),
      ...(transport === "tls" ? { tls: { cert: certificate.cert, key: certificate.key } } : {}),
    });
    const good = await connect(server.address, transport === "tls" ? { tls: pinned } : {});
    assert.equal(await good.call("echo", "before"), "before");
    return { server, errors, good };
  }

  /** Random bytes whose first four, read as a frame length, announce at least 2 GiB. */
  function randomJunk(): Uint8Array {
    const bytes = crypto.getRandomValues(new Uint8Array(4096));
    bytes[3]! |= 0x80;
    return bytes;
  }

  /** A length prefix of 2^32 − 1 and a few body bytes. */
  function hugePrefix(): Uint8Array {
    return new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
  }

  for (const transport of ["tcp", "tls"] as const) {
    it(`${transport}://: random bytes and a 4 GiB prefix close only that connection and allocate nothing large`, async () => {
      const { server, errors, good } = await serve(transport);
      try {
        const before = virtualMemory();
        const kinds = transport === "tls"
          ? [
            // Plaintext junk where a ClientHello belongs: the handshake fails.
            { label: "random bytes before the handshake", junk: randomJunk, tls: undefined },
            { label: "a 4 GiB prefix before the handshake", junk: hugePrefix, tls: undefined },
            // After a good handshake, the frame decoder refuses the length.
            { label: "random bytes inside TLS", junk: randomJunk, tls: clientTls },
            { label: "a 4 GiB prefix inside TLS", junk: hugePrefix, tls: clientTls },
          ]
          : [
            { label: "random bytes", junk: randomJunk, tls: undefined },
            { label: "a 4 GiB prefix", junk: hugePrefix, tls: undefined },
          ];
        for (const kind of kinds) {
          const target = kind.tls === undefined ? server.address.replace("tls://", "tcp://") : server.address;
          const raw = await rawStream(target, kind.tls);
          await raw.write(kind.junk());
          // The server closes the connection: reading ends without our closing it.
          await readToEnd(raw);
          await raw.close();
        }
        const grown = virtualMemory() - before;
        assert.ok(grown < 256 * 2 ** 20, `virtual memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
        // Junk inside the protocol is a protocol error of that connection; junk where a ClientHello belongs is a
        // refused handshake. The server reports each through onError.
        await waitFor(() => errors.length === kinds.length, `the server reported ${kinds.length} bad connections`);
        const expected = kinds.map((kind) =>
          transport === "tcp" || kind.tls !== undefined ? "ERR_FRAME_TOO_LARGE" : "ERR_TLS_HANDSHAKE"
        );
        assert.deepEqual(errors.map((error) => (error as { code?: string }).code).sort(), expected.sort());
        assert.equal(await good.call("echo", "after"), "after");
        const late = await connect(server.address, transport === "tls" ? { tls: pinned } : {});
        assert.equal(await late.call("echo", "new"), "new");
        await late.close();
        await waitFor(() => server.connections.size === 1, "the server dropped every connection but the good one");
      } finally {
        await good.close();
        await server.close();
      }
    });
  }

  /** A TLS record header announcing a 16 KiB handshake record (a ClientHello), and none of the record. */
  const HALF_CLIENT_HELLO = new Uint8Array([0x16, 0x03, 0x01, 0x40, 0x00]);

  /** Opens a silent client and one that sent half a ClientHello; both must be closed between 250 ms and 5 s. */
  async function stallHandshakes(address: string): Promise<void> {
    const plain = address.replace("tls://", "tcp://");
    const started = Date.now();
    const silent = await rawStream(plain);
    const half = await rawStream(plain);
    await half.write(HALF_CLIENT_HELLO);
    const times = await Promise.all([closedAfter(silent, started, 5000), closedAfter(half, started, 5000)]);
    for (const ms of times) assert.ok(ms >= 250, `closed after ${ms} ms, before the 300 ms had passed`);
  }

  /** A `tls://` server with `handshakeTimeout`, whose `onError` adds to `errors`. */
  function tlsServer(handshakeTimeout: number, errors: unknown[]): Promise<RpcServer> {
    return listen("tls://127.0.0.1:0", {
      handlers,
      handshakeTimeout,
      onError: (error) => errors.push(error),
      tls: { cert: certificate.cert, key: certificate.key },
    });
  }

  it("tls://: a client that stalls its TLS handshake is closed once handshakeTimeout has passed, and reported", async () => {
    const errors: unknown[] = [];
    const server = await tlsServer(300, errors);
    const good = await connect(server.address, { tls: pinned });
    try {
      await stallHandshakes(server.address);
      await waitFor(() => errors.length === 2, "the server reported both stalled handshakes");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(errors.length, 2, "each stalled handshake is reported once");
      for (const error of errors as (Error & { code?: string })[]) {
        assert.ok(error instanceof TlsError, String(error));
        assert.equal(error.code, "ERR_TLS_HANDSHAKE", error.message);
        assert.match(error.message, /did not finish the TLS handshake within 300 ms/);
      }
      assert.equal(await good.call("echo", "still served"), "still served");
      assert.equal(server.connections.size, 1);
    } finally {
      await good.close();
      await server.close();
    }
  });

  it("tls://: closing the server closes a connection still in its TLS handshake, and reports nothing of it", async () => {
    const errors: unknown[] = [];
    const server = await tlsServer(1500, errors);
    const started = Date.now();
    const half = await rawStream(server.address.replace("tls://", "tcp://"));
    await half.write(HALF_CLIENT_HELLO);
    // Long enough for the server to have taken the connection.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = Date.now();
    await server.close();
    const ms = await closedAfter(half, closing, 5000);
    assert.ok(ms < 1000, `closed ${ms} ms after the server, whose handshakeTimeout would have closed it at 1500 ms`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 1800 - Date.now())));
    assert.deepEqual(errors, []);
  });

  it("listenTransport takes handshakeTimeout with tls:// only", async () => {
    await assert.rejects(
      listenTransport("tcp://127.0.0.1:0", { handshakeTimeout: 300 }),
      (error: Error & { code?: string }) =>
        error.code === "ERR_INVALID_ARGUMENT" && /applies to tls:\/\/ addresses only/.test(error.message),
    );
  });

  it("tls://: listenTransport closes a stalled TLS handshake once its handshakeTimeout has passed", async () => {
    const listener = await listenTransport("tls://127.0.0.1:0", {
      handshakeTimeout: 300,
      tls: { cert: certificate.cert, key: certificate.key },
    });
    try {
      await stallHandshakes(listener.address);
    } finally {
      await listener.close();
    }
  });

  for (const transport of ["tcp", "tls"] as const) {
    it(`${transport}://: 64 connections announcing 16 MiB each make the server buffer what arrived, not 1 GiB`, async () => {
      const { server, good } = await serve(transport);
      const raw: ByteStream[] = [];
      try {
        const echo = encodeFrame(
          { type: MessageType.Request, requestId: 1, serviceId: methodId("echo") },
          cborCodec.encode(0),
        );
        // An echo, then a frame announcing 16 MiB (the largest allowed) with one byte of it, in one write: the
        // echo's answer shows the server has read the announcement too.
        const bytes = new Uint8Array(echo.length + 5);
        bytes.set(echo);
        new DataView(bytes.buffer).setUint32(echo.length, 16 * 2 ** 20, true);
        const before = virtualMemory();
        for (let i = 0; i < 64; i++) {
          raw.push(await rawStream(server.address, transport === "tls" ? clientTls : undefined));
        }
        await Promise.all(raw.map((stream) => stream.write(bytes)));
        await Promise.all(raw.map((stream) => stream.read()));
        const grown = virtualMemory() - before;
        assert.ok(grown < 256 * 2 ** 20, `virtual memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
        assert.equal(await good.call("echo", "still served"), "still served");
      } finally {
        await Promise.all(raw.map((stream) => stream.close()));
        await good.close();
        await server.close();
      }
    });
  }
});
