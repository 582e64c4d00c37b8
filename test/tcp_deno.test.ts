/**
 * Deno's TCP and TLS adapter (`adapters/deno/`) on real sockets: the native
 * paths (`Deno.listen`, `Deno.connect`, `Deno.startTls`) and the node:tls
 * paths it takes where Deno's own TLS cannot do the job. TCP_NODELAY is
 * read back from the kernel with `getsockopt` (`fixtures/tcp/kernel_socket.ts`:
 * Deno shows no descriptor for its conns, so it is found through `/proc`). A
 * connect timeout is provoked with a listener that never accepts and whose
 * queue is full, so the kernel drops further SYNs. Native TLS success needs
 * the test CA in Deno's root store, which only `DENO_CERT` at start-up puts
 * there: that part runs in a child `deno test` of this file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { denoRuntime } from "../adapters/deno/runtime.ts";
import type { InetAddress } from "../src/transport/address.ts";
import type { TcpConnectSettings, TcpListenSettings } from "../src/transport/runtime_adapter.ts";
import type { ByteStream, Listener } from "../src/transport/types.ts";
import { delay, repoRoot, runtimeName, tempDir } from "./_helpers.ts";
import { exchange, readBytes } from "./fixtures/tcp/byte_streams.ts";
import { makeTestCertificates, type TestCertificates } from "./fixtures/tcp/certificates.ts";
import { neverAcceptingListener, tcpNoDelay } from "./fixtures/tcp/kernel_socket.ts";

const plain: TcpConnectSettings = { noDelay: true, timeout: 5000 };

function inet(text: string): InetAddress {
  const match = /^(tcp|tls):\/\/\[?([^\]]*)\]?:(\d+)$/.exec(text);
  assert.ok(match, `an inet address: ${text}`);
  return { transport: match[1] as "tcp" | "tls", host: match[2]!, port: Number(match[3]) };
}

function listenOn(address: string, settings: TcpListenSettings = { noDelay: true }): Promise<Listener<ByteStream>> {
  return denoRuntime.listenTcp(inet(address), settings);
}

/**
 * Connects to `listener` and accepts that connection, giving both ends.
 * Connections accepted before it are closed: clients refused after their
 * handshake (a wrong pin, or Deno's node:tls refusing a certificate, which it
 * checks once the handshake is done) leave theirs in the queue.
 */
async function pair(
  listener: Listener<ByteStream>,
  settings: TcpConnectSettings = plain,
): Promise<[client: ByteStream, server: ByteStream]> {
  const client = await denoRuntime.connectTcp(inet(listener.address), settings);
  for (;;) {
    const server = await listener.accept();
    assert.ok(server, "accepted a connection");
    if (server.info.remote?.port === client.info.local?.port) return [client, server];
    await server.close();
  }
}

/** Sends `length` patterned bytes from `client`, which `server` echoes back, and checks them. */
async function assertEcho(client: ByteStream, server: ByteStream, length: number): Promise<void> {
  const data = new Uint8Array(length).map((_, i) => (i * 7) & 0xff);
  const echo = (async () => {
    for (let seen = 0; seen < length;) {
      const chunk = await server.read();
      assert.ok(chunk, `the echo ended after ${seen} bytes`);
      await server.write(chunk);
      seen += chunk.length;
    }
  })();
  const [received] = await Promise.all([readBytes(client, length), client.write(data), echo]);
  assert.deepEqual(received, data);
}

async function closeAll(...resources: { close(): Promise<void> }[]): Promise<void> {
  await Promise.all(resources.map((resource) => resource.close()));
}

/**
 * Writes 1 MiB chunks from `writer` while `reader` reads nothing: a write
 * must stay pending before 32 MiB are out, and everything must arrive once
 * `reader` reads.
 */
async function assertBackpressure(writer: ByteStream, reader: ByteStream, label: string): Promise<void> {
  const chunk = new Uint8Array(1024 * 1024);
  for (let written = 0; written < 32 * chunk.length; written += chunk.length) {
    const write = writer.write(chunk);
    if (!await Promise.race([write.then(() => true), delay(200).then(() => false)])) {
      const drained = readBytes(reader, written + chunk.length);
      await write;
      await drained;
      return;
    }
  }
  assert.fail(`${label}: 32 MiB were written to a peer that reads nothing, and no write waited`);
}

describe("Deno TCP", { skip: runtimeName !== "deno" ? "Deno's adapter only" : false }, () => {
  it("listens on port 0 and names the bound port; both ends know both addresses", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    const { port } = inet(listener.address);
    assert.ok(port > 0, `a real port in ${listener.address}`);
    assert.equal(listener.address, `tcp://127.0.0.1:${port}`);
    const [client, server] = await pair(listener);
    assert.equal(client.info.transport, "tcp");
    assert.equal(server.info.transport, "tcp");
    assert.deepEqual(client.info.remote, { host: "127.0.0.1", port });
    assert.deepEqual(server.info.local, { host: "127.0.0.1", port });
    assert.deepEqual(server.info.remote, client.info.local);
    assert.equal(client.info.remoteAddress, `tcp://127.0.0.1:${port}`);
    assert.equal(server.info.remoteAddress, `tcp://127.0.0.1:${client.info.local!.port}`);
    assert.equal(client.info.tls, undefined);
    await exchange(client, server);
    await closeAll(client, server, listener);
  });

  it("works over IPv6 and with a host name", async () => {
    const v6 = await listenOn("tcp://[::1]:0");
    assert.match(v6.address, /^tcp:\/\/\[::1\]:\d+$/);
    const [client6, server6] = await pair(v6);
    assert.equal(client6.info.remoteAddress, v6.address);
    assert.equal(server6.info.remote?.host, "::1");
    await exchange(client6, server6);
    await closeAll(client6, server6, v6);

    const named = await listenOn("tcp://localhost:0");
    assert.match(named.address, /^tcp:\/\/localhost:\d+$/, "the host as given");
    const [client, server] = await pair(named);
    assert.equal(client.info.remoteAddress, `tcp://127.0.0.1:${inet(named.address).port}`, "the IP connected to");
    await exchange(client, server);
    await closeAll(client, server, named);
  });

  it("sets TCP_NODELAY on connected and accepted sockets, and only when asked", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    const [client, server] = await pair(listener);
    assert.equal(await tcpNoDelay(client.info), true, "connected socket");
    assert.equal(await tcpNoDelay(server.info), true, "accepted socket");
    await closeAll(client, server, listener);

    const off = await listenOn("tcp://127.0.0.1:0", { noDelay: false });
    const [slowClient, slowServer] = await pair(off, { ...plain, noDelay: false });
    assert.equal(await tcpNoDelay(slowClient.info), false, "connected socket, noDelay false");
    assert.equal(await tcpNoDelay(slowServer.info), false, "accepted socket, noDelay false");
    await closeAll(slowClient, slowServer, off);
  });

  it("echoes 8 MiB", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    const [client, server] = await pair(listener);
    await assertEcho(client, server, 8 * 1024 * 1024);
    await closeAll(client, server, listener);
  });

  it("holds a writer back while the other side does not read", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    const [client, server] = await pair(listener);
    await assertBackpressure(client, server, "client to server");
    await assertBackpressure(server, client, "server to client");
    await closeAll(client, server, listener);
  });

  it("close: a pending read resolves null, a pending accept resolves null, the port is free again", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    const [client, server] = await pair(listener);
    const pendingRead = server.read();
    await server.close();
    assert.equal(await pendingRead, null);
    assert.equal(await client.read(), null, "the other side sees the end");
    await client.close();
    const pendingAccept = listener.accept();
    await listener.close();
    assert.equal(await pendingAccept, null);
    assert.equal(await listener.accept(), null);
    const again = await listenOn(listener.address);
    assert.equal(again.address, listener.address);
    await again.close();
  });

  it("refuses a port in use, an address of no local interface and a host that does not resolve", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    await assert.rejects(listenOn(listener.address), { code: "ERR_ADDRESS_IN_USE" });
    await listener.close();
    await assert.rejects(listenOn("tcp://203.0.113.7:0"), { code: "ERR_INVALID_ADDRESS" });
    await assert.rejects(listenOn("tcp://no-such-host.invalid:0"), { code: "ERR_INVALID_ADDRESS" });
  });

  it("fails a connect refused, to an unknown host, or past its timeout with ERR_CONNECTION_FAILED", async () => {
    const listener = await listenOn("tcp://127.0.0.1:0");
    const closed = inet(listener.address);
    await listener.close();
    await assert.rejects(denoRuntime.connectTcp(closed, plain), { code: "ERR_CONNECTION_FAILED" });
    await assert.rejects(
      denoRuntime.connectTcp({ transport: "tcp", host: "no-such-host.invalid", port: 80 }, plain),
      { code: "ERR_CONNECTION_FAILED" },
    );

    const free = await listenOn("tcp://127.0.0.1:0");
    await free.close();
    const target = inet(free.address);
    const full = await neverAcceptingListener(target.port);
    const queued = await denoRuntime.connectTcp(target, plain);
    const started = performance.now();
    await assert.rejects(denoRuntime.connectTcp(target, { ...plain, timeout: 300 }), (error: Error) => {
      assert.equal((error as { code?: string }).code, "ERR_CONNECTION_FAILED");
      assert.match(error.message, /within 300 ms/);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 2000, `timed out after ${elapsed} ms`);
    await queued.close();
    full.close();
  });
});

const onDeno = runtimeName !== "deno" ? "Deno's adapter only" : false;
/** Set (to the certificate directory) in the child that runs the native client with the test CA in Deno's root store. */
const rootStoreDir = runtimeName === "deno" ? Deno.env.get("PEERLINK_TEST_ROOT_STORE_DIR") : undefined;

/** Reads the certificates the parent made (in the child), or makes them. */
function certificates(dir: string, made: boolean): TestCertificates {
  if (made) return makeTestCertificates(dir);
  const read = (name: string): TestCertificates["ca"] => ({
    cert: Deno.readTextFileSync(`${dir}/${name}.pem`),
    key: Deno.readTextFileSync(`${dir}/${name}.key`),
    fingerprint256: "",
  });
  return {
    ca: read("ca"),
    server: read("server"),
    otherName: read("other-name"),
    expired: read("expired"),
    selfSigned: read("self-signed"),
    clientCa: read("client-ca"),
    client: read("client"),
    stranger: read("stranger"),
  };
}

function tlsOn(host: string, cert: { cert: string; key: string }, clientCa?: string[]): Promise<Listener<ByteStream>> {
  const tls = { cert: cert.cert, key: cert.key, ...(clientCa === undefined ? {} : { clientCa }) };
  return listenOn(`tls://${host}:0`, { noDelay: true, tls });
}

let names = 0;
/**
 * A server name of its own (the test certificates are valid for
 * `*.peerlink.test`): Deno's node:tls resumes sessions between the servers of
 * one process that share a name, and would then show an earlier server's
 * certificate.
 */
function uniqueName(zone = "peerlink.test"): string {
  return `c${++names}.${zone}`;
}

function tlsTo(tls: Partial<NonNullable<TcpConnectSettings["tls"]>>): TcpConnectSettings {
  return { ...plain, tls: { serverName: uniqueName(), checkServerName: true, ...tls } };
}

/**
 * Connects as a client the server refuses after the client's side of the
 * handshake (TLS 1.3 client certificates): the refusal comes from the
 * connect or from the first read.
 *
 * @returns What was thrown, or `null` if the stream just ended.
 */
async function refusalOf(listener: Listener<ByteStream>, settings: TcpConnectSettings): Promise<unknown> {
  let stream: ByteStream;
  try {
    stream = await denoRuntime.connectTcp(inet(listener.address), settings);
  } catch (error) {
    return error;
  }
  try {
    return await stream.read();
  } catch (error) {
    return error;
  } finally {
    await stream.close();
  }
}

/** Connects with `settings`; expects the connection to be refused with `code` while the listener goes on. */
async function refused(listener: Listener<ByteStream>, settings: TcpConnectSettings, code: string): Promise<void> {
  await assert.rejects(denoRuntime.connectTcp(inet(listener.address), settings), { code });
}

describe("Deno TLS, native client with the test CA in Deno's root store", {
  skip: onDeno ||
    (rootStoreDir === undefined ? "runs in a child process started by the test below, with DENO_CERT" : false),
}, () => {
  let certs: TestCertificates;
  before(() => (certs = certificates(rootStoreDir!, false)));

  it("verifies the chain and the name natively, keeps TCP_NODELAY, and reads TLS errors after the handshake", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server);
    const [client, server] = await pair(listener, tlsTo({}));
    assert.equal(client.info.transport, "tls");
    assert.deepEqual(client.info.tls, {}, "Deno's TlsConn shows no protocol, cipher or certificate");
    assert.equal(client.info.remoteAddress, listener.address);
    assert.equal(await tcpNoDelay(client.info), true, "native TLS client");
    assert.equal(await tcpNoDelay(server.info), true, "node:tls server");
    await exchange(client, server);
    await server.close();
    assert.equal(await client.read(), null, "a peer closing without close_notify ends the stream");
    await closeAll(client, listener);
  });

  it("holds a native TLS writer back, and the node:tls server's writes to it", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server);
    const [client, server] = await pair(listener, tlsTo({}));
    await assertBackpressure(client, server, "native client to node:tls server");
    await assertBackpressure(server, client, "node:tls server to native client");
    await closeAll(client, server, listener);
  });

  it("echoes 8 MiB from the native TLS client", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server);
    const [client, server] = await pair(listener, tlsTo({}));
    await assertEcho(client, server, 8 * 1024 * 1024);
    await closeAll(client, server, listener);
  });

  it("refuses a name mismatch and an expired certificate natively", async () => {
    const otherName = await tlsOn("127.0.0.1", certs.otherName);
    await refused(otherName, tlsTo({}), "ERR_TLS_CERT_NAME");
    const expired = await tlsOn("127.0.0.1", certs.expired);
    await refused(expired, tlsTo({}), "ERR_TLS_CERT_EXPIRED");
    await closeAll(otherName, expired);
  });

  it("trusts only `ca` when it is given, not the root store as well (why `ca` takes node:tls)", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server);
    await refused(listener, tlsTo({ ca: [certs.clientCa.cert] }), "ERR_TLS_CERT_UNTRUSTED");
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: inet(listener.address).port });
    const native = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [certs.clientCa.cert] });
    await native.handshake();
    native.close();
    await listener.close();
  });

  it("refuses a server that requires a client certificate (startTls presents none)", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server, [certs.clientCa.cert]);
    const outcome = await refusalOf(listener, tlsTo({}));
    assert.ok(outcome === null || (outcome as { code?: string }).code === "ERR_TLS_CLIENT_CERT", String(outcome));
    await listener.close();
  });
});

describe("Deno TLS", { skip: onDeno }, () => {
  let dir: { path: string; cleanup: () => void };
  let certs: TestCertificates;
  before(() => {
    dir = tempDir();
    certs = certificates(dir.path, true);
  });
  after(() => dir.cleanup());

  it("passes the native client with the CA in Deno's root store (DENO_CERT), in a child process", async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", "--filter", "native client", `${repoRoot}/test/tcp_deno.test.ts`],
      env: { DENO_CERT: `${dir.path}/ca.pem`, PEERLINK_TEST_ROOT_STORE_DIR: dir.path, NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /1 passed \(6 steps\) \| 0 failed/, text);
  });

  it("fails the native client (default roots) against a certificate of a private CA", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server);
    await refused(listener, tlsTo({}), "ERR_TLS_CERT_UNTRUSTED");
    await listener.close();
  });

  it("serves TLS through node:tls with TCP_NODELAY and full info; a client with `ca` verifies through node:tls", async () => {
    for (const host of ["127.0.0.1", "[::1]", "localhost"]) {
      const listener = await tlsOn(host, certs.server);
      assert.match(listener.address, new RegExp(`^tls://${host.replace(/[[\].]/g, "\\$&")}:\\d+$`));
      const [client, server] = await pair(listener, tlsTo({ ca: [certs.ca.cert] }));
      for (const end of [client, server]) {
        assert.equal(end.info.transport, "tls");
        assert.match(end.info.tls?.protocol ?? "", /^TLSv1\.[23]$/);
        assert.ok(end.info.tls?.cipher, "a cipher suite");
        assert.equal(await tcpNoDelay(end.info), true, `TCP_NODELAY on ${host}`);
      }
      assert.equal(client.info.tls?.peerCertificate?.fingerprint256, certs.server.fingerprint256);
      assert.match(client.info.tls?.peerCertificate?.subject ?? "", /CN=localhost/);
      assert.equal(server.info.tls?.peerCertificate, undefined, "the client presented none");
      assert.deepEqual(server.info.remote, client.info.local);
      await exchange(client, server);
      await closeAll(client, server, listener);
    }
  });

  it("refuses, through node:tls with `ca`, an untrusted, misnamed or expired certificate", async () => {
    const good = await tlsOn("127.0.0.1", certs.server);
    await refused(good, tlsTo({ ca: [certs.clientCa.cert] }), "ERR_TLS_CERT_UNTRUSTED");
    await refused(good, tlsTo({ ca: [certs.ca.cert], serverName: "other.example" }), "ERR_TLS_CERT_NAME");
    const expired = await tlsOn("127.0.0.1", certs.expired);
    // Deno's node:tls reports an expired leaf as UNABLE_TO_VERIFY_LEAF_SIGNATURE; node_net looks at its dates.
    await assert.rejects(denoRuntime.connectTcp(inet(expired.address), tlsTo({ ca: [certs.ca.cert] })), {
      code: "ERR_TLS_CERT_EXPIRED",
    });
    const [client, server] = await pair(good, tlsTo({ ca: [certs.ca.cert] }));
    await exchange(client, server);
    await closeAll(client, server, good, expired);
  });

  it("accepts exactly the pinned certificate (node:tls), checking the name unless told not to", async () => {
    const listener = await tlsOn("127.0.0.1", certs.selfSigned);
    const [client, server] = await pair(listener, tlsTo({ pin: certs.selfSigned.fingerprint256 }));
    assert.equal(client.info.tls?.peerCertificate?.fingerprint256, certs.selfSigned.fingerprint256);
    assert.equal(await tcpNoDelay(client.info), true, "pinned client");
    await exchange(client, server);
    await closeAll(client, server);
    await refused(listener, tlsTo({ pin: certs.server.fingerprint256 }), "ERR_TLS_PIN_MISMATCH");
    await refused(
      listener,
      tlsTo({ pin: certs.selfSigned.fingerprint256, serverName: uniqueName("example") }),
      "ERR_TLS_CERT_NAME",
    );
    const unnamed = tlsTo({
      pin: certs.selfSigned.fingerprint256,
      serverName: uniqueName("example"),
      checkServerName: false,
    });
    const [lax, laxServer] = await pair(listener, unnamed);
    await exchange(lax, laxServer);
    await closeAll(lax, laxServer, listener);
  });

  it("requires client certificates from `clientCa`, and goes on accepting after refusing one", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server, [certs.clientCa.cert]);
    const withCa = { ca: [certs.ca.cert] };
    const [client, server] = await pair(listener, tlsTo({ ...withCa, cert: certs.client.cert, key: certs.client.key }));
    assert.equal(server.info.tls?.peerCertificate?.fingerprint256, certs.client.fingerprint256);
    assert.match(server.info.tls?.peerCertificate?.subject ?? "", /CN=client\.example/);
    assert.equal(await tcpNoDelay(client.info), true, "client presenting a certificate");
    await exchange(client, server);
    await closeAll(client, server);
    for (const refusedClient of [withCa, { ...withCa, cert: certs.stranger.cert, key: certs.stranger.key }]) {
      const outcome = await refusalOf(listener, tlsTo(refusedClient));
      assert.ok(outcome === null || (outcome as { code?: string }).code === "ERR_TLS_CLIENT_CERT", String(outcome));
    }
    const [again, againServer] = await pair(
      listener,
      tlsTo({ ...withCa, cert: certs.client.cert, key: certs.client.key }),
    );
    await exchange(again, againServer);
    await closeAll(again, againServer, listener);
  });

  it("closes a plaintext client of a TLS server without reporting it, and keeps serving", async () => {
    const listener = await tlsOn("127.0.0.1", certs.server);
    const accepted = listener.accept();
    const junk = await Deno.connect({ hostname: "127.0.0.1", port: inet(listener.address).port });
    await junk.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    const answer = new Uint8Array(64);
    while ((await junk.read(answer).catch(() => null)) !== null);
    junk.close();
    const client = await denoRuntime.connectTcp(inet(listener.address), tlsTo({ ca: [certs.ca.cert] }));
    const server = await accepted;
    assert.ok(server, "the next client is accepted");
    await exchange(client, server);
    await closeAll(client, server, listener);
  });

  it("times out a TLS handshake the server never answers", async () => {
    const silent = await listenOn("tcp://127.0.0.1:0");
    const accepted = silent.accept();
    const target = { ...inet(silent.address), transport: "tls" as const };
    for (const tls of [{}, { ca: [certs.ca.cert] }]) {
      const started = performance.now();
      await assert.rejects(denoRuntime.connectTcp(target, { ...tlsTo(tls), timeout: 300 }), {
        code: "ERR_CONNECTION_FAILED",
      });
      assert.ok(performance.now() - started < 2000);
    }
    await (await accepted)?.close();
    await silent.close();
  });

  it("holds writers back both ways between a node:tls client and server", async () => {
    const listener = await tlsOn("127.0.0.1", certs.selfSigned);
    const [client, server] = await pair(listener, tlsTo({ pin: certs.selfSigned.fingerprint256 }));
    await assertBackpressure(client, server, "node:tls client to node:tls server");
    await assertBackpressure(server, client, "node:tls server to node:tls client");
    await closeAll(client, server, listener);
  });

  it("echoes 8 MiB over TLS (node:tls client)", async () => {
    const listener = await tlsOn("127.0.0.1", certs.selfSigned);
    const [client, server] = await pair(listener, tlsTo({ pin: certs.selfSigned.fingerprint256 }));
    await assertEcho(client, server, 8 * 1024 * 1024);
    await closeAll(client, server, listener);
  });
});

/**
 * The child of the exit test: every path of the adapter once (plain TCP;
 * the native TLS client, trusted through DENO_CERT; node:tls with a pin;
 * a refused, a timed-out and a handshake-timed-out connect; pending reads
 * and accepts), then everything closed; it must then exit by itself.
 */
const EXIT_CHILD = `
import { denoRuntime as rt } from ${JSON.stringify(new URL("../adapters/deno/runtime.ts", import.meta.url).href)};
const [dir, pin] = Deno.args;
const file = (name) => Deno.readTextFileSync(dir + "/" + name);
const at = (listener) => ({ transport: "tls", host: "127.0.0.1", port: Number(listener.address.split(":").pop()) });
let names = 0;
const tls = (extra) => ({ noDelay: true, timeout: 5000, tls: { serverName: "c" + ++names + ".peerlink.test", checkServerName: true, ...extra } });
const plain = await rt.listenTcp({ transport: "tcp", host: "127.0.0.1", port: 0 }, { noDelay: true });
const server = await rt.listenTcp({ transport: "tls", host: "127.0.0.1", port: 0 }, { noDelay: true, tls: { cert: file("server.pem"), key: file("server.key") } });
const pinned = await rt.listenTcp({ transport: "tls", host: "127.0.0.1", port: 0 }, { noDelay: true, tls: { cert: file("self-signed.pem"), key: file("self-signed.key") } });
const streams = [];
for (const [listener, settings] of [[plain, { noDelay: true, timeout: 5000 }], [server, tls({})], [pinned, tls({ pin })]]) {
  const accepted = listener.accept();
  const client = await rt.connectTcp({ ...at(listener), transport: settings.tls ? "tls" : "tcp" }, settings);
  const other = await accepted;
  await client.write(new Uint8Array([7]));
  if ((await other.read())[0] !== 7) throw new Error("lost the byte");
  streams.push(client, other);
}
const silent = await rt.listenTcp({ transport: "tcp", host: "127.0.0.1", port: 0 }, { noDelay: true });
const failures = await Promise.all([
  rt.connectTcp({ transport: "tcp", host: "127.0.0.1", port: 1 }, { noDelay: true, timeout: 5000 }),
  rt.connectTcp(at(silent), { ...tls({}), timeout: 200 }),
  rt.connectTcp(at(silent), { ...tls({ pin }), timeout: 200 }),
].map((attempt) => attempt.then(() => "connected", (error) => error.code)));
const pending = [streams[0].read(), streams[2].read(), streams[4].read(), plain.accept(), server.accept()];
await Promise.all([...streams, plain, server, pinned, silent].map((resource) => resource.close()));
console.log(failures.join(" "), JSON.stringify(await Promise.all(pending)), "closed");
`;

describe("Deno adapter: files and exit", { skip: onDeno }, () => {
  it("exits by itself once everything is closed, on every path", { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const certs = makeTestCertificates(dir.path);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=js", EXIT_CHILD, dir.path, certs.selfSigned.fingerprint256],
      env: { DENO_CERT: `${dir.path}/ca.pem`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const started = performance.now();
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const output = await child.output();
    const elapsed = performance.now() - started;
    clearTimeout(killer);
    dir.cleanup();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.signal, null, `the child had to be killed; output: ${text}`);
    assert.equal(output.code, 0, text);
    // Every connect's timeout is 5 s: a timer or socket left behind would keep the child longer.
    assert.ok(elapsed < 4000, `the child took ${Math.round(elapsed)} ms to exit`);
    assert.equal(
      text.trim(),
      "ERR_CONNECTION_FAILED ERR_CONNECTION_FAILED ERR_CONNECTION_FAILED [null,null,null,null,null] closed",
      "the failures, then pending reads and accepts settled with null",
    );
  });

  it("reads a text file, and names a missing one in ERR_INVALID_ARGUMENT", async () => {
    const dir = tempDir();
    Deno.writeTextFileSync(`${dir.path}/a.pem`, "text\n");
    assert.equal(await denoRuntime.readTextFile(`${dir.path}/a.pem`), "text\n");
    await assert.rejects(denoRuntime.readTextFile(`${dir.path}/missing.pem`), (error: Error) => {
      assert.equal((error as { code?: string }).code, "ERR_INVALID_ARGUMENT");
      assert.match(error.message, /^Cannot read .*missing\.pem: /);
      assert.ok(error.cause instanceof Deno.errors.NotFound);
      return true;
    });
    dir.cleanup();
  });
});
