/**
 * Bun's TCP and TLS adapter (`adapters/bun/tcp_*.ts`, `tls_session.ts`) on
 * real sockets, below the message layer: the `listenTcp` / `connectTcp` /
 * `readTextFile` contract of `src/transport/runtime_adapter.ts`, and what
 * is particular to Bun (a refused client certificate seen on the client's
 * first read, handshakes under way when a listener closes, the lookup that
 * explains a listen on an unknown host). Bun only. TCP_NODELAY is read back
 * with getsockopt and the never-accepting listener comes from
 * `fixtures/tcp/kernel_socket.ts`; certificates from `openssl`
 * (`fixtures/tcp/certificates.ts`).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { bunRuntime } from "../adapters/bun/runtime.ts";
import type { PeerlinkError } from "../src/base/errors.ts";
import type { InetAddress } from "../src/transport/address.ts";
import type { ClientTlsSettings, TcpConnectSettings, TcpListenSettings } from "../src/transport/runtime_adapter.ts";
import type { ByteStream, Listener } from "../src/transport/types.ts";
import { delay, repoRoot, run, runtimeName, tempDir } from "./_helpers.ts";
import { makeTestCertificates, type TestCertificate, type TestCertificates } from "./fixtures/tcp/certificates.ts";
import { neverAcceptingListener, tcpNoDelay } from "./fixtures/tcp/kernel_socket.ts";

const skip = runtimeName !== "bun" ? "Bun's adapter, run by Bun only" : false;

const dir = tempDir();
const pki: TestCertificates = skip ? ({} as TestCertificates) : makeTestCertificates(dir.path);
const listeners: Listener<ByteStream>[] = [];

/** A certificate and its key, as both settings take them. */
const keyPair = ({ cert, key }: TestCertificate): { cert: string; key: string } => ({ cert, key });

const inet = (transport: "tcp" | "tls", host: string, port: number): InetAddress => ({ transport, host, port });

/** The port a listener's address names. */
function portOf(listener: Listener<ByteStream>): number {
  return Number(listener.address.slice(listener.address.lastIndexOf(":") + 1));
}

/** Listens (closed after the file) and echoes every accepted stream back, collecting them. */
async function echoServer(
  address: InetAddress,
  settings: TcpListenSettings = { noDelay: true },
): Promise<{ listener: Listener<ByteStream>; accepted: ByteStream[] }> {
  const listener = await bunRuntime.listenTcp(address, settings);
  listeners.push(listener);
  const accepted: ByteStream[] = [];
  void (async () => {
    for (let stream = await listener.accept(); stream !== null; stream = await listener.accept()) {
      accepted.push(stream);
      void echo(stream);
    }
  })();
  return { listener, accepted };
}

/** An echo server speaking TLS with `certificate` on a free port of `host`, and the address to connect to. */
async function tlsEchoServer(
  certificate: TestCertificate,
  { host = "127.0.0.1", clientCa }: { host?: string; clientCa?: TestCertificate } = {},
): Promise<{ listener: Listener<ByteStream>; accepted: ByteStream[]; address: InetAddress }> {
  const served = await echoServer(inet("tls", host, 0), {
    noDelay: true,
    tls: { ...keyPair(certificate), ...(clientCa !== undefined && { clientCa: [clientCa.cert] }) },
  });
  return { ...served, address: inet("tls", host, portOf(served.listener)) };
}

async function echo(stream: ByteStream): Promise<void> {
  try {
    for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) await stream.write(chunk);
  } catch {
    // The client went away while its echo was being written.
  }
  await stream.close();
}

const connectSettings = (tls?: ClientTlsSettings, timeout = 5000): TcpConnectSettings => ({
  noDelay: true,
  timeout,
  ...(tls !== undefined && { tls }),
});

/** TLS client settings trusting the test CA for `localhost`. */
const trustingCa = (extra: Partial<ClientTlsSettings> = {}): ClientTlsSettings => ({
  ca: [pki.ca.cert],
  serverName: "localhost",
  checkServerName: true,
  ...extra,
});

/** Reads until `length` bytes arrived. */
async function readBytes(stream: ByteStream, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let offset = 0;
  while (offset < length) {
    const chunk = await stream.read();
    assert.ok(chunk !== null, `the stream ended after ${offset} of ${length} bytes`);
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Writes `data` and reads the echo back. */
async function roundTrip(stream: ByteStream, data: Uint8Array): Promise<Uint8Array> {
  const [, back] = await Promise.all([stream.write(data), readBytes(stream, data.length)]);
  return back;
}

/** The error `operation` rejects with. */
async function failure(operation: Promise<unknown>): Promise<PeerlinkError> {
  const outcome = await operation.then(
    async (value) => {
      await (value as ByteStream).close();
      return undefined;
    },
    (error: unknown) => error as PeerlinkError,
  );
  assert.ok(outcome !== undefined, "the operation succeeded");
  return outcome;
}

function patterned(length: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + (i >>> 13)) & 0xff;
  return data;
}

describe("Bun TCP and TLS adapter", { skip }, () => {
  after(async () => {
    for (const listener of listeners) await listener.close();
    dir.cleanup();
  });

  describe("plain TCP", () => {
    it("binds a free port for port 0 and names it; both ends see each other's address", async () => {
      const { listener, accepted } = await echoServer(inet("tcp", "127.0.0.1", 0));
      const port = portOf(listener);
      assert.ok(port > 0);
      assert.equal(listener.address, `tcp://127.0.0.1:${port}`);
      const client = await bunRuntime.connectTcp(inet("tcp", "127.0.0.1", port), connectSettings());
      assert.deepEqual(await roundTrip(client, new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]));
      const server = accepted[0]!;
      const clientPort = client.info.local!.port;
      assert.deepEqual(client.info, {
        transport: "tcp",
        localAddress: `tcp://127.0.0.1:${clientPort}`,
        remoteAddress: `tcp://127.0.0.1:${port}`,
        local: { host: "127.0.0.1", port: clientPort },
        remote: { host: "127.0.0.1", port },
      });
      assert.deepEqual(server.info, {
        transport: "tcp",
        localAddress: `tcp://127.0.0.1:${port}`,
        remoteAddress: `tcp://127.0.0.1:${clientPort}`,
        local: { host: "127.0.0.1", port },
        remote: { host: "127.0.0.1", port: clientPort },
      });
      await client.close();
    });

    it("listens and connects on IPv6 [::1] and on localhost", async () => {
      const v6 = await echoServer(inet("tcp", "::1", 0));
      assert.match(v6.listener.address, /^tcp:\/\/\[::1\]:\d+$/);
      const client = await bunRuntime.connectTcp(inet("tcp", "::1", portOf(v6.listener)), connectSettings());
      assert.deepEqual(await roundTrip(client, new Uint8Array([6])), new Uint8Array([6]));
      assert.equal(client.info.remote?.host, "::1");
      assert.match(client.info.localAddress!, /^tcp:\/\/\[::1\]:\d+$/);
      await client.close();

      const named = await echoServer(inet("tcp", "localhost", 0));
      assert.match(named.listener.address, /^tcp:\/\/localhost:\d+$/);
      const byName = await bunRuntime.connectTcp(inet("tcp", "localhost", portOf(named.listener)), connectSettings());
      assert.deepEqual(await roundTrip(byName, new Uint8Array([7])), new Uint8Array([7]));
      await byName.close();
    });

    it("sets TCP_NODELAY on both ends as asked, on and off", async () => {
      for (const noDelay of [true, false]) {
        for (const transport of ["tcp", "tls"] as const) {
          const tls = transport === "tls" ? keyPair(pki.server) : undefined;
          const { listener, accepted } = await echoServer(inet(transport, "127.0.0.1", 0), {
            noDelay,
            ...(tls !== undefined && { tls }),
          });
          const client = await bunRuntime.connectTcp(inet(transport, "127.0.0.1", portOf(listener)), {
            ...connectSettings(transport === "tls" ? trustingCa() : undefined),
            noDelay,
          });
          await roundTrip(client, new Uint8Array([1]));
          assert.equal(await tcpNoDelay(client.info), noDelay, `${transport} client, noDelay ${noDelay}`);
          assert.equal(await tcpNoDelay(accepted[0]!.info), noDelay, `${transport} server, noDelay ${noDelay}`);
          await client.close();
          await listener.close();
        }
      }
    });

    it("echoes 8 MiB intact", async () => {
      const { listener } = await echoServer(inet("tcp", "127.0.0.1", 0));
      const client = await bunRuntime.connectTcp(inet("tcp", "127.0.0.1", portOf(listener)), connectSettings());
      const data = patterned(8 * 1024 * 1024);
      assert.ok(Buffer.from(await roundTrip(client, data)).equals(data));
      await client.close();
    });

    it("holds a write back while the peer does not read, and resumes when it does", async () => {
      for (const transport of ["tcp", "tls"] as const) {
        const tls = transport === "tls" ? keyPair(pki.server) : undefined;
        const listener = await bunRuntime.listenTcp(inet(transport, "127.0.0.1", 0), {
          noDelay: true,
          ...(tls !== undefined && { tls }),
        });
        listeners.push(listener);
        const accepting = listener.accept();
        const client = await bunRuntime.connectTcp(
          inet(transport, "127.0.0.1", portOf(listener)),
          connectSettings(transport === "tls" ? trustingCa() : undefined),
        );
        const server = (await accepting)!;
        const data = patterned(64 * 1024 * 1024);
        let written = false;
        const writing = client.write(data).then(() => (written = true));
        await delay(300);
        assert.equal(written, false, `${transport}: 64 MiB were taken although nobody reads`);
        const received = await readBytes(server, data.length);
        await writing;
        assert.ok(Buffer.from(received).equals(data));
        await client.close();
        await server.close();
        await listener.close();
      }
    });

    it("close() ends a pending read with null, and a closed listener frees its port", async () => {
      const listener = await bunRuntime.listenTcp(inet("tcp", "127.0.0.1", 0), { noDelay: true });
      const port = portOf(listener);
      const accepting = listener.accept();
      const client = await bunRuntime.connectTcp(inet("tcp", "127.0.0.1", port), connectSettings());
      const server = (await accepting)!;
      const pending = client.read();
      const peerSees = server.read();
      await client.close();
      assert.equal(await pending, null);
      assert.equal(await peerSees, null);
      await server.close();
      const waiting = listener.accept();
      await listener.close();
      assert.equal(await waiting, null);
      const again = await bunRuntime.listenTcp(inet("tcp", "127.0.0.1", port), { noDelay: true });
      assert.equal(portOf(again), port);
      await again.close();
    });
  });

  describe("TLS", () => {
    it("verifies the server against a CA and shows the session on both ends", async () => {
      const { listener, accepted, address } = await tlsEchoServer(pki.server);
      const port = address.port;
      assert.equal(listener.address, `tls://127.0.0.1:${port}`);
      const client = await bunRuntime.connectTcp(inet("tls", "127.0.0.1", port), connectSettings(trustingCa()));
      const data = patterned(8 * 1024 * 1024);
      assert.ok(Buffer.from(await roundTrip(client, data)).equals(data));
      const clientPort = client.info.local!.port;
      assert.equal(client.info.transport, "tls");
      assert.equal(client.info.remoteAddress, `tls://127.0.0.1:${port}`);
      assert.equal(client.info.tls?.protocol, "TLSv1.3");
      assert.match(client.info.tls?.cipher ?? "", /^TLS_/);
      assert.equal(client.info.tls?.peerCertificate?.fingerprint256, pki.server.fingerprint256);
      assert.equal(client.info.tls?.peerCertificate?.subject, "CN=localhost");
      const server = accepted[0]!;
      assert.equal(server.info.transport, "tls");
      assert.deepEqual(server.info.remote, { host: "127.0.0.1", port: clientPort });
      assert.equal(server.info.localAddress, `tls://127.0.0.1:${port}`);
      assert.equal(server.info.tls?.protocol, "TLSv1.3");
      assert.equal(server.info.tls?.cipher, client.info.tls?.cipher);
      assert.equal(server.info.tls?.peerCertificate, undefined, "the client presented no certificate");
      await client.close();
    });

    it("checks serverName, not the host connected to, and over IPv6", async () => {
      const { address } = await tlsEchoServer(pki.server, { host: "::1" });
      for (const serverName of ["localhost", "::1"]) {
        const client = await bunRuntime.connectTcp(address, connectSettings(trustingCa({ serverName })));
        assert.deepEqual(await roundTrip(client, new Uint8Array([9])), new Uint8Array([9]));
        await client.close();
      }
      const error = await failure(
        bunRuntime.connectTcp(address, connectSettings(trustingCa({ serverName: "other.example" }))),
      );
      assert.equal(error.code, "ERR_TLS_CERT_NAME");
    });

    it("refuses a certificate for another name, an untrusted one and an expired one, before anything is read", async () => {
      const cases = [
        { cert: pki.otherName, tls: trustingCa(), code: "ERR_TLS_CERT_NAME" },
        { cert: pki.server, tls: { serverName: "localhost", checkServerName: true }, code: "ERR_TLS_CERT_UNTRUSTED" },
        { cert: pki.selfSigned, tls: trustingCa(), code: "ERR_TLS_CERT_UNTRUSTED" },
        { cert: pki.expired, tls: trustingCa(), code: "ERR_TLS_CERT_EXPIRED" },
      ];
      for (const { cert, tls, code } of cases) {
        const { listener, accepted, address } = await tlsEchoServer(cert);
        const error = await failure(bunRuntime.connectTcp(address, connectSettings(tls)));
        assert.equal(error.code, code, error.message);
        assert.equal(error.name, "TlsError");
        assert.ok(error.cause !== undefined);
        await delay(50);
        assert.equal(accepted.length, 0, "the server accepted a connection the client refused");
        await listener.close();
      }
    });

    it("accepts exactly the pinned certificate, with or without a name check", async () => {
      const { address } = await tlsEchoServer(pki.selfSigned);
      const pinned = (extra: Partial<ClientTlsSettings>): TcpConnectSettings =>
        connectSettings({
          pin: pki.selfSigned.fingerprint256,
          serverName: "localhost",
          checkServerName: true,
          ...extra,
        });

      const client = await bunRuntime.connectTcp(address, pinned({}));
      assert.deepEqual(await roundTrip(client, new Uint8Array([5])), new Uint8Array([5]));
      assert.equal(client.info.tls?.peerCertificate?.fingerprint256, pki.selfSigned.fingerprint256);
      await client.close();

      // A pin replaces the CA: a `ca` that does not sign the certificate does not matter.
      const ignoringCa = await bunRuntime.connectTcp(address, pinned({ ca: [pki.ca.cert] }));
      await ignoringCa.close();

      const wrongName = await failure(bunRuntime.connectTcp(address, pinned({ serverName: "other.example" })));
      assert.equal(wrongName.code, "ERR_TLS_CERT_NAME");
      const unchecked = await bunRuntime.connectTcp(
        address,
        pinned({ serverName: "other.example", checkServerName: false }),
      );
      await unchecked.close();

      const otherPin = await failure(bunRuntime.connectTcp(address, pinned({ pin: pki.server.fingerprint256 })));
      assert.equal(otherPin.code, "ERR_TLS_PIN_MISMATCH");
      assert.match(otherPin.message, new RegExp(pki.selfSigned.fingerprint256));
    });

    it("refuses a pinned certificate presented by another server", async () => {
      const { address } = await tlsEchoServer(pki.server);
      const error = await failure(bunRuntime.connectTcp(
        address,
        connectSettings({ pin: pki.selfSigned.fingerprint256, serverName: "localhost", checkServerName: false }),
      ));
      assert.equal(error.code, "ERR_TLS_PIN_MISMATCH");
    });

    it("with clientCa, accepts a client signed by it and shows its certificate; refuses others and keeps serving", async () => {
      const { accepted, address } = await tlsEchoServer(pki.server, { clientCa: pki.clientCa });

      const anonymous = await bunRuntime.connectTcp(address, connectSettings(trustingCa()));
      // TLS 1.3: the server checks the client after the client's handshake; its alert fails the first read.
      await anonymous.write(new Uint8Array([1])).catch(() => {});
      const refused = await anonymous.read().then(() => undefined, (error: PeerlinkError) => error);
      assert.equal(refused?.code, "ERR_TLS_CLIENT_CERT");
      await anonymous.close();

      const stranger = await bunRuntime.connectTcp(address, connectSettings(trustingCa(keyPair(pki.stranger))));
      await stranger.write(new Uint8Array([1])).catch(() => {});
      assert.equal(await stranger.read().catch(() => null), null, "a client from another CA got an answer");
      await stranger.close();
      assert.equal(accepted.length, 0, "the server accepted a refused client");

      const client = await bunRuntime.connectTcp(address, connectSettings(trustingCa(keyPair(pki.client))));
      assert.deepEqual(await roundTrip(client, new Uint8Array([4, 2])), new Uint8Array([4, 2]));
      assert.equal(accepted.length, 1);
      assert.deepEqual(accepted[0]!.info.tls?.peerCertificate, {
        fingerprint256: pki.client.fingerprint256,
        subject: "CN=client.example",
      });
      await client.close();
    });

    it("a plaintext client closes only its own connection; a TLS client of a plaintext server fails the handshake", async () => {
      const { accepted, address } = await tlsEchoServer(pki.server);
      const port = address.port;
      const plain = await bunRuntime.connectTcp(inet("tcp", "127.0.0.1", port), connectSettings());
      await plain.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      for (let chunk = await plain.read(); chunk !== null; chunk = await plain.read()) {
        assert.equal(chunk[0], 0x15, "the server answers with a TLS alert record, if anything");
      }
      await plain.close();
      assert.equal(accepted.length, 0);
      const client = await bunRuntime.connectTcp(inet("tls", "127.0.0.1", port), connectSettings(trustingCa()));
      assert.deepEqual(await roundTrip(client, new Uint8Array([3])), new Uint8Array([3]));
      await client.close();

      const plainServer = await echoServer(inet("tcp", "127.0.0.1", 0));
      const error = await failure(
        bunRuntime.connectTcp(inet("tls", "127.0.0.1", portOf(plainServer.listener)), connectSettings(trustingCa())),
      );
      assert.equal(error.code, "ERR_TLS_HANDSHAKE");
    });
  });

  describe("failures", () => {
    it("a refused connect and an unknown host are ERR_CONNECTION_FAILED with the cause", async () => {
      const closed = await bunRuntime.listenTcp(inet("tcp", "127.0.0.1", 0), { noDelay: true });
      const port = portOf(closed);
      await closed.close();
      for (const transport of ["tcp", "tls"] as const) {
        const tls = transport === "tls" ? trustingCa() : undefined;
        const refused = await failure(bunRuntime.connectTcp(inet(transport, "127.0.0.1", port), connectSettings(tls)));
        assert.equal(refused.code, "ERR_CONNECTION_FAILED");
        assert.equal((refused.cause as { code?: string }).code, "ECONNREFUSED");
        const unknown = await failure(
          bunRuntime.connectTcp(inet(transport, "does-not-exist.invalid", 1), connectSettings(tls)),
        );
        assert.equal(unknown.code, "ERR_CONNECTION_FAILED");
        assert.equal((unknown.cause as { code?: string }).code, "ENOTFOUND");
      }
    });

    it("honours the timeout for a connect that gets no answer and for a handshake that never ends", async () => {
      const free = await bunRuntime.listenTcp(inet("tcp", "127.0.0.1", 0), { noDelay: true });
      await free.close();
      const backlog = await neverAcceptingListener(portOf(free));
      try {
        const queued = await bunRuntime.connectTcp(inet("tcp", "127.0.0.1", portOf(free)), connectSettings());
        let started = Date.now();
        const error = await failure(
          bunRuntime.connectTcp(inet("tcp", "127.0.0.1", portOf(free)), connectSettings(undefined, 300)),
        );
        const elapsed = Date.now() - started;
        assert.equal(error.code, "ERR_CONNECTION_FAILED");
        assert.match(error.message, /300 ms/);
        assert.ok(elapsed >= 290 && elapsed < 2000, `timed out after ${elapsed} ms`);
        await queued.close();

        // A TCP server that never speaks: the handshake cannot finish.
        const silent = await bunRuntime.listenTcp(inet("tcp", "127.0.0.1", 0), { noDelay: true });
        listeners.push(silent);
        const accepting = silent.accept();
        started = Date.now();
        const handshake = await failure(
          bunRuntime.connectTcp(inet("tls", "127.0.0.1", portOf(silent)), connectSettings(trustingCa(), 300)),
        );
        assert.equal(handshake.code, "ERR_CONNECTION_FAILED");
        assert.ok(Date.now() - started < 2000);
        const server = (await accepting)!;
        assert.equal((await server.read())?.[0], 0x16, "the client sent its ClientHello");
        // The client's socket was destroyed: the server sees the end.
        for (let chunk = await server.read(); chunk !== null; chunk = await server.read());
        await server.close();
      } finally {
        backlog.close();
      }
    });

    it("listen errors: address in use, an address not of this host, an unknown host", async () => {
      const taken = await bunRuntime.listenTcp(inet("tcp", "127.0.0.1", 0), { noDelay: true });
      listeners.push(taken);
      const inUse = await failure(bunRuntime.listenTcp(inet("tcp", "127.0.0.1", portOf(taken)), { noDelay: true }));
      assert.equal(inUse.code, "ERR_ADDRESS_IN_USE");
      const foreign = await failure(bunRuntime.listenTcp(inet("tcp", "192.0.2.1", 0), { noDelay: true }));
      assert.equal(foreign.code, "ERR_INVALID_ADDRESS", foreign.message);
      assert.equal((foreign.cause as { code?: string }).code, "EADDRNOTAVAIL");
      const unknown = await failure(bunRuntime.listenTcp(inet("tcp", "does-not-exist.invalid", 0), { noDelay: true }));
      assert.equal(unknown.code, "ERR_INVALID_ADDRESS", unknown.message);
      assert.equal((unknown.cause as { code?: string }).code, "ENOTFOUND");
    });

    it("readTextFile reads a file and names one it cannot read", async () => {
      assert.equal(await bunRuntime.readTextFile(join(dir.path, "ca.pem")), pki.ca.cert);
      const missing = join(dir.path, "missing.pem");
      const error = await failure(bunRuntime.readTextFile(missing));
      assert.equal(error.code, "ERR_INVALID_ARGUMENT");
      assert.ok(error.message.startsWith(`Cannot read ${missing}: `), error.message);
      assert.equal((error.cause as { code?: string }).code, "ENOENT");
    });
  });

  it("a process that used TCP and TLS exits by itself once everything is closed", async () => {
    const runtimeUrl = new URL("../adapters/bun/runtime.ts", `file://${repoRoot}/test/`).href;
    const script = `
      import { bunRuntime } from ${JSON.stringify(runtimeUrl)};
      const tls = ${JSON.stringify(keyPair(pki.server))};
      for (const transport of ["tcp", "tls"]) {
        const listener = await bunRuntime.listenTcp({ transport, host: "127.0.0.1", port: 0 },
          { noDelay: true, ...(transport === "tls" && { tls }) });
        const port = Number(listener.address.split(":").pop());
        const accepting = listener.accept();
        const client = await bunRuntime.connectTcp({ transport, host: "127.0.0.1", port }, { noDelay: true,
          timeout: 10000, ...(transport === "tls" && { tls: { ca: [${
      JSON.stringify(pki.ca.cert)
    }], serverName: "localhost",
          checkServerName: true } }) });
        const server = await accepting;
        await client.write(new Uint8Array([1]));
        await server.read();
        // A connection nobody accepts (on tls://, one whose handshake never starts): the listener closes it.
        await bunRuntime.connectTcp({ transport: "tcp", host: "127.0.0.1", port }, { noDelay: true, timeout: 1000 });
        await client.close();
        await server.close();
        await listener.close();
      }
      console.log("closed");
    `;
    const started = Date.now();
    const result = await run([join(repoRoot, "node_modules", ".bin", "bun"), ["--eval", script]], 4000);
    assert.equal(result.signal, null, `the process did not exit by itself: ${result.stderr}`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /closed/);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });
});
