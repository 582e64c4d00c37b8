/**
 * The `listenTcp`/`connectTcp` contract of `src/transport/runtime_adapter.ts`
 * on real sockets, in whatever runtime runs this file, for (a) the running
 * runtime's adapter (`loadRuntimeAdapter()`) and (b) the shared
 * `node:net`/`node:tls` functions of `adapters/node_net/` (which Deno's
 * adapter uses for part of its TLS), so that those run under Deno and Bun
 * too. On Node both are the same functions and run once.
 *
 * TCP_NODELAY is read back from the kernel with getsockopt
 * (`fixtures/tcp/kernel_socket.ts`). Certificates come from `openssl`
 * (`fixtures/tcp/certificates.ts`). A connect timeout is provoked with a
 * listener whose accept queue is full, whose further SYNs the kernel drops.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { connectNodeTcp, listenNodeTcp } from "../adapters/node_net/mod.ts";
import type { InetAddress } from "../src/transport/address.ts";
import type {
  ClientTlsSettings,
  ServerTlsSettings,
  TcpConnectSettings,
  TcpListenSettings,
} from "../src/transport/runtime_adapter.ts";
import type { ByteStream, Listener } from "../src/transport/types.ts";
import { repoRoot, runtimeName, scriptCommand, tempDir } from "./_helpers.ts";
import { drain, exchange, readBytes } from "./fixtures/tcp/byte_streams.ts";
import { makeTestCertificates, type TestCertificate } from "./fixtures/tcp/certificates.ts";
import { neverAcceptingListener, tcpNoDelay } from "./fixtures/tcp/kernel_socket.ts";

interface Implementation {
  label: string;
  /** Passed to the exit fixture. */
  fixtureName: "adapter" | "node_net";
  listenTcp(address: InetAddress, settings: TcpListenSettings): Promise<Listener<ByteStream>>;
  connectTcp(address: InetAddress, settings: TcpConnectSettings): Promise<ByteStream>;
}

const adapter = await loadRuntimeAdapter();
const nodeNet: Implementation = {
  label: "adapters/node_net",
  fixtureName: "node_net",
  listenTcp: listenNodeTcp,
  connectTcp: connectNodeTcp,
};
const implementations: { implementation: Implementation; skip: string | false }[] = [
  {
    implementation: { label: `the ${adapter.name} runtime adapter`, fixtureName: "adapter", ...bound(adapter) },
    skip: typeof adapter.listenTcp === "function" ? false : `the ${adapter.name} adapter has no listenTcp yet`,
  },
  ...(adapter.listenTcp === listenNodeTcp ? [] : [{ implementation: nodeNet, skip: false as const }]),
];

function bound(runtime: typeof adapter): Pick<Implementation, "listenTcp" | "connectTcp"> {
  return {
    listenTcp: (address, settings) => runtime.listenTcp(address, settings),
    connectTcp: (address, settings) => runtime.connectTcp(address, settings),
  };
}

const certificateDir = tempDir();
const certs = makeTestCertificates(certificateDir.path);
after(() => certificateDir.cleanup());

const encoder = new TextEncoder();

/** The parts of an address a listener reports, such as `tls://[::1]:40123`. */
function parseInet(text: string): InetAddress {
  const match = /^(tcp|tls):\/\/(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  assert.ok(match, `an inet address: ${text}`);
  return { transport: match[1] as InetAddress["transport"], host: match[2] ?? match[3]!, port: Number(match[4]) };
}

function serverTls(certificate: TestCertificate, clientCa?: TestCertificate): ServerTlsSettings {
  return { cert: certificate.cert, key: certificate.key, ...(clientCa ? { clientCa: [clientCa.cert] } : {}) };
}

let nameCounter = 0;

/**
 * A server name of its own for each connection, valid for the local test
 * certificates: Deno's node:tls would otherwise resume, within this
 * process, a session of another server with the same name, and show that
 * server's certificate (see adapters/node_net/README.md).
 */
function uniqueServerName(): string {
  return `c${++nameCounter}.peerlink.test`;
}

function clientTls(settings: Partial<ClientTlsSettings> = {}): ClientTlsSettings {
  return { ca: [certs.ca.cert], serverName: uniqueServerName(), checkServerName: true, ...settings };
}

function connectSettings(tls?: ClientTlsSettings, timeout = 5000): TcpConnectSettings {
  return { noDelay: true, timeout, ...(tls ? { tls } : {}) };
}

/** Settles within `ms`, or says it did not. */
function within<T>(promise: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ settled: false }>((
    resolve,
  ) => (timer = setTimeout(() => resolve({ settled: false }), ms)));
  return Promise.race([promise.then((value) => ({ settled: true as const, value })), timeout]).finally(() =>
    clearTimeout(timer)
  );
}

for (const { implementation: impl, skip } of implementations) {
  /** Listens on `host` port 0. */
  const listen = (
    transport: InetAddress["transport"],
    settings: Partial<TcpListenSettings> = {},
    host = "127.0.0.1",
  ): Promise<Listener<ByteStream>> =>
    impl.listenTcp({ transport, host, port: 0 }, {
      noDelay: true,
      ...(transport === "tls" ? { tls: serverTls(certs.server) } : {}),
      ...settings,
    });

  /** Connects to what `listener` reports (on `host` if given). */
  const connectTo = (
    listener: Listener<ByteStream>,
    settings: TcpConnectSettings,
    host?: string,
  ): Promise<ByteStream> => {
    const target = parseInet(listener.address);
    return impl.connectTcp({ ...target, host: host ?? target.host }, settings);
  };

  /** Connects and accepts, giving both ends. */
  const pair = async (
    listener: Listener<ByteStream>,
    settings: TcpConnectSettings,
    host?: string,
  ): Promise<[client: ByteStream, server: ByteStream]> => {
    const accepted = listener.accept();
    const client = await connectTo(listener, settings, host);
    const server = await accepted;
    assert.ok(server, "accepted the connection");
    return [client, server];
  };

  /**
   * Connects with `tls` to a TLS server of `certificate`: the connect's
   * outcome, and after a failure what the server's accept() saw of the
   * failed client: `null` when it never returned it (a probe client that
   * pins the certificate came first), or the bytes the client wrote to it
   * (a pinned client completes the handshake, then must close unwritten).
   */
  const tryTls = async (
    certificate: TestCertificate,
    tls: ClientTlsSettings,
  ): Promise<{ client?: ByteStream; error?: unknown; serverReceived: number | null }> => {
    const listener = await listen("tls", { tls: serverTls(certificate) });
    const accepted = listener.accept();
    try {
      const client = await connectTo(listener, connectSettings(tls));
      const server = await accepted;
      assert.ok(server);
      await exchange(client, server);
      await Promise.all([client.close(), server.close()]);
      return { client, serverReceived: null };
    } catch (error) {
      const probe = await connectTo(
        listener,
        connectSettings({ pin: certificate.fingerprint256, serverName: uniqueServerName(), checkServerName: false }),
      );
      const first = await accepted;
      assert.ok(first);
      const failedClient = first.info.remote?.port !== probe.info.local?.port;
      const serverReceived = failedClient ? await drain(first) : null;
      await Promise.all([probe.close(), first.close()]);
      if (failedClient) await (await listener.accept())?.close();
      return { error, serverReceived };
    } finally {
      await listener.close();
    }
  };

  describe(`TCP through ${impl.label}`, { skip }, () => {
    it("listens on port 0 and reports the bound port, on IPv4, IPv6 and localhost", async () => {
      for (const [host, shown] of [["127.0.0.1", "127.0.0.1"], ["::1", "[::1]"], ["localhost", "localhost"]]) {
        const listener = await listen("tcp", {}, host);
        const match = new RegExp(`^tcp://${shown!.replace(/[[\].]/g, "\\$&")}:(\\d+)$`).exec(listener.address);
        assert.ok(match, `${listener.address} names ${shown} and a port`);
        const port = Number(match[1]);
        assert.ok(port > 0 && port < 65536, `a real port: ${port}`);
        const [client, server] = await pair(listener, connectSettings());
        assert.equal(client.info.remote?.port, port, "the client reached the reported port");
        assert.equal(server.info.local?.port, port);
        await exchange(client, server);
        await Promise.all([client.close(), server.close(), listener.close()]);
      }
    });

    it("describes both ends in info", async () => {
      const listener = await listen("tcp", {}, "::1");
      const [client, server] = await pair(listener, connectSettings());
      assert.equal(client.info.transport, "tcp");
      assert.equal(server.info.transport, "tcp");
      assert.equal(client.info.remote?.host, "::1");
      assert.equal(server.info.local?.host, "::1");
      assert.deepEqual(client.info.local, server.info.remote);
      assert.deepEqual(client.info.remote, server.info.local);
      assert.equal(client.info.localAddress, `tcp://[::1]:${client.info.local?.port}`);
      assert.equal(client.info.remoteAddress, listener.address);
      assert.equal(server.info.remoteAddress, `tcp://[::1]:${client.info.local?.port}`);
      assert.equal(client.info.tls, undefined);
      await Promise.all([client.close(), server.close(), listener.close()]);
    });

    it("sets TCP_NODELAY on accepted and connected sockets, plain and TLS, and leaves it off when asked", async () => {
      for (const transport of ["tcp", "tls"] as const) {
        for (const noDelay of [true, false]) {
          const listener = await listen(transport, { noDelay });
          const tls = transport === "tls" ? clientTls() : undefined;
          const [client, server] = await pair(listener, { ...connectSettings(tls), noDelay });
          await exchange(client, server);
          assert.equal(await tcpNoDelay(client.info), noDelay, `${transport} client TCP_NODELAY`);
          assert.equal(await tcpNoDelay(server.info), noDelay, `${transport} server TCP_NODELAY`);
          await Promise.all([client.close(), server.close(), listener.close()]);
        }
      }
    });

    it("echoes 8 MiB, plain and TLS", async () => {
      const payload = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < payload.length; i += 4096) payload[i] = (i / 4096) & 0xff;
      payload[payload.length - 1] = 0x5a;
      for (const transport of ["tcp", "tls"] as const) {
        const listener = await listen(transport);
        const [client, server] = await pair(listener, connectSettings(transport === "tls" ? clientTls() : undefined));
        const echoing = (async () => {
          let echoed = 0;
          while (echoed < payload.length) {
            const chunk = await server.read();
            assert.ok(chunk, "the server read until the end");
            await server.write(chunk);
            echoed += chunk.length;
          }
        })();
        const [, received] = await Promise.all([client.write(payload), readBytes(client, payload.length), echoing]);
        assert.ok(Buffer.from(received).equals(Buffer.from(payload)), `${transport}: the echo is the payload`);
        await Promise.all([client.close(), server.close(), listener.close()]);
      }
    });

    for (const transport of ["tcp", "tls"] as const) {
      it(`holds a writer back while the peer does not read (${transport})`, async () => {
        const chunk = new Uint8Array(1024 * 1024);
        const listener = await listen(transport);
        const [client, server] = await pair(listener, connectSettings(transport === "tls" ? clientTls() : undefined));
        let written = 0;
        let pending: Promise<void> | undefined;
        while (written < 64 * chunk.length) {
          const write = client.write(chunk);
          if (!(await within(write, 300)).settled) {
            pending = write;
            break;
          }
          written += chunk.length;
        }
        assert.ok(pending, `a write waited once ${written} bytes were unread`);
        const reading = drain(server);
        await pending;
        await client.close();
        assert.equal(await reading, written + chunk.length, "every byte arrived once the peer read");
        await Promise.all([server.close(), listener.close()]);
      });
    }

    it("closes both directions: pending reads end, the peer sees the end, writes fail", async () => {
      const listener = await listen("tcp");
      const [client, server] = await pair(listener, connectSettings());
      const pendingRead = client.read();
      await client.close();
      assert.equal(await pendingRead, null, "a pending read resolves null");
      assert.equal(await client.read(), null);
      assert.equal(await server.read(), null, "the peer reads the end");
      await assert.rejects(client.write(encoder.encode("late")));
      await client.close();
      await Promise.all([server.close(), listener.close()]);
    });

    it("stops accepting at once on close and frees the port", async () => {
      const listener = await listen("tcp");
      const { port } = parseInet(listener.address);
      const pendingAccept = listener.accept();
      await listener.close();
      assert.equal(await pendingAccept, null, "a pending accept resolves null");
      assert.equal(await listener.accept(), null);
      await assert.rejects(impl.connectTcp({ transport: "tcp", host: "127.0.0.1", port }, connectSettings()), {
        code: "ERR_CONNECTION_FAILED",
      });
      const again = await impl.listenTcp({ transport: "tcp", host: "127.0.0.1", port }, { noDelay: true });
      assert.equal(again.address, `tcp://127.0.0.1:${port}`, "the same port can be bound again");
      await again.close();
    });

    it("refuses a port in use, an address of no local interface and a host name that does not resolve", async () => {
      const listener = await listen("tcp");
      const { port } = parseInet(listener.address);
      const listenOn = (host: string, port: number): Promise<unknown> =>
        impl.listenTcp({ transport: "tcp", host, port }, { noDelay: true }).then(
          async (unexpected) => {
            await unexpected.close();
            return undefined;
          },
          (error) => error,
        );
      const inUse = await listenOn("127.0.0.1", port) as { code?: string; cause?: unknown };
      assert.equal(inUse?.code, "ERR_ADDRESS_IN_USE");
      assert.ok(inUse.cause, "the runtime's error is the cause");
      // 203.0.113.0/24 is TEST-NET-3, never the address of a local interface.
      assert.equal((await listenOn("203.0.113.7", 0) as { code?: string })?.code, "ERR_INVALID_ADDRESS");
      assert.equal((await listenOn("does-not-exist.invalid", 0) as { code?: string })?.code, "ERR_INVALID_ADDRESS");
      await listener.close();
    });

    it("fails to connect to a closed port, an unknown host, and within the timeout, without hanging", async () => {
      const closed = await listen("tcp");
      const { port } = parseInet(closed.address);
      await closed.close();
      const refused = await impl.connectTcp({ transport: "tcp", host: "127.0.0.1", port }, connectSettings())
        .catch((error) => error);
      assert.equal(refused.code, "ERR_CONNECTION_FAILED");
      assert.ok(refused.cause, "the runtime's error is the cause");

      const started = Date.now();
      const unknown = await impl.connectTcp(
        { transport: "tcp", host: "does-not-exist.invalid", port: 1 },
        connectSettings(undefined, 5000),
      ).catch((error) => error);
      assert.equal(unknown.code, "ERR_CONNECTION_FAILED");
      assert.ok(unknown.cause, "the resolver's error is the cause");
      assert.ok(Date.now() - started < 4000, "the unknown host failed before the timeout");

      // One connection fills the queue of a listener with backlog 0 that never accepts; the next waits.
      const full = await neverAcceptingListener(port);
      const filler = await impl.connectTcp({ transport: "tcp", host: "127.0.0.1", port }, connectSettings());
      for (const tls of [undefined, clientTls()]) {
        const begun = Date.now();
        const timedOut = await impl.connectTcp(
          { transport: tls ? "tls" : "tcp", host: "127.0.0.1", port },
          connectSettings(tls, 300),
        ).catch((error) => error);
        const elapsed = Date.now() - begun;
        assert.equal(timedOut.code, "ERR_CONNECTION_FAILED", String(timedOut));
        assert.match(timedOut.message, /within 300 ms/);
        assert.ok(elapsed >= 290 && elapsed < 3000, `failed after the timeout, in ${elapsed} ms`);
      }
      await filler.close();
      full.close();
    });

    it("times out a TLS handshake the server never answers", async () => {
      const silent = await listen("tcp");
      const accepted = silent.accept();
      const begun = Date.now();
      const error = await connectTo(silent, connectSettings(clientTls(), 300)).catch((error) => error);
      assert.equal(error.code, "ERR_CONNECTION_FAILED", String(error));
      assert.ok(Date.now() - begun >= 290, "waited for the timeout");
      const server = await accepted;
      assert.ok(server);
      assert.ok((await within(drain(server), 2000)).settled, "the client's socket was destroyed");
      await Promise.all([server.close(), silent.close()]);
    });

    it("lets the process exit by itself once everything is closed", { timeout: 20_000 }, async () => {
      const [file, args] = scriptCommand(runtimeName, "test/fixtures/tcp/exit_after_close.ts", [
        certificateDir.path,
        impl.fixtureName,
      ]);
      const child = spawn(file, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const result = await within(exited, 8000);
      if (!result.settled) child.kill("SIGKILL");
      assert.ok(result.settled, `the child exited within 8 s; output: ${output}`);
      assert.equal(result.value, 0, output);
      assert.match(output, /tcp 7 closed null null\ntls 7 closed null null\n/);
    });
  });

  describe(`TLS through ${impl.label}`, { skip }, () => {
    it("verifies the server against a CA and describes the session on both ends", async () => {
      const listener = await listen("tls");
      const [client, server] = await pair(listener, connectSettings(clientTls({ serverName: "localhost" })));
      await exchange(client, server);
      for (const [end, info] of [["client", client.info], ["server", server.info]] as const) {
        assert.equal(info.transport, "tls");
        assert.match(info.tls?.protocol ?? "", /^TLSv1\.[23]$/, `${end} protocol`);
        assert.match(info.tls?.cipher ?? "", /^TLS_|ECDHE/, `${end} cipher`);
        assert.match(info.localAddress ?? "", /^tls:\/\/127\.0\.0\.1:\d+$/);
      }
      assert.deepEqual(client.info.tls?.peerCertificate, {
        fingerprint256: certs.server.fingerprint256,
        subject: "CN=localhost",
      });
      assert.equal(server.info.tls?.peerCertificate, undefined, "the client presented no certificate");
      assert.deepEqual(client.info.local, server.info.remote);
      await Promise.all([client.close(), server.close(), listener.close()]);
    });

    it("verifies the name of an IPv6 server by its address", async () => {
      const listener = await listen("tls", {}, "::1");
      assert.match(listener.address, /^tls:\/\/\[::1\]:\d+$/);
      const [client, server] = await pair(listener, connectSettings(clientTls({ serverName: "::1" })));
      await exchange(client, server);
      assert.equal(client.info.remoteAddress, listener.address);
      assert.equal(server.info.local?.host, "::1");
      await Promise.all([client.close(), server.close(), listener.close()]);
      const otherName = await tryTls(certs.otherName, clientTls({ serverName: "::1" }));
      assert.equal((otherName.error as { code?: string })?.code, "ERR_TLS_CERT_NAME", String(otherName.error));
    });

    it("accepts exactly the pinned certificate, self-signed or not", async () => {
      const pinned = await tryTls(certs.selfSigned, clientTls({ pin: certs.selfSigned.fingerprint256 }));
      assert.equal(pinned.error, undefined, String(pinned.error));
      assert.equal(pinned.client?.info.tls?.peerCertificate?.fingerprint256, certs.selfSigned.fingerprint256);

      const other = await tryTls(certs.server, clientTls({ pin: certs.selfSigned.fingerprint256 }));
      assert.equal((other.error as { code?: string })?.code, "ERR_TLS_PIN_MISMATCH", String(other.error));
      assert.equal(other.error?.constructor.name, "TlsError");
      assert.match(String(other.error), new RegExp(certs.server.fingerprint256));
      assert.ok(other.serverReceived === null || other.serverReceived === 0, "nothing was written to the server");
    });

    it("checks the name of a pinned certificate unless told not to", async () => {
      const named = await tryTls(certs.otherName, clientTls({ pin: certs.otherName.fingerprint256 }));
      assert.equal((named.error as { code?: string })?.code, "ERR_TLS_CERT_NAME", String(named.error));
      assert.ok(named.serverReceived === null || named.serverReceived === 0, "nothing was written to the server");
      const unnamed = await tryTls(
        certs.otherName,
        clientTls({ pin: certs.otherName.fingerprint256, checkServerName: false }),
      );
      assert.equal(unnamed.error, undefined, String(unnamed.error));
    });

    it("refuses a wrong name, an untrusted chain and an expired certificate with their codes", async () => {
      const cases: [string, TestCertificate, ClientTlsSettings, string][] = [
        ["wrong name", certs.otherName, clientTls(), "ERR_TLS_CERT_NAME"],
        ["another name asked for", certs.server, clientTls({ serverName: "other.example" }), "ERR_TLS_CERT_NAME"],
        ["self-signed", certs.selfSigned, clientTls(), "ERR_TLS_CERT_UNTRUSTED"],
        [
          "system roots",
          certs.server,
          { serverName: uniqueServerName(), checkServerName: true },
          "ERR_TLS_CERT_UNTRUSTED",
        ],
        // Deno's node:tls reports an expired certificate as UNABLE_TO_VERIFY_LEAF_SIGNATURE; node_net looks at the dates.
        ["expired", certs.expired, clientTls(), "ERR_TLS_CERT_EXPIRED"],
      ];
      for (const [label, certificate, tls, code] of cases) {
        const { error, serverReceived } = await tryTls(certificate, tls);
        assert.equal((error as { code?: string })?.code, code, `${label}: ${error}`);
        assert.equal(error?.constructor.name, "TlsError", label);
        assert.ok((error as Error).cause, `${label}: the runtime's error is the cause`);
        // Node's and Bun's clients refuse during the handshake; Deno's node:tls checks after it, so there the
        // server may accept the connection, which then closes unwritten.
        assert.ok(serverReceived === null || serverReceived === 0, `${label}: nothing reached the server`);
      }
    });

    it("requires client certificates from clientCa and keeps serving after refusing some", async () => {
      const listener = await listen("tls", { tls: serverTls(certs.server, certs.clientCa) });
      for (const [label, presented] of [["no certificate", undefined], ["another CA", certs.stranger]] as const) {
        const tls = clientTls(presented ? { cert: presented.cert, key: presented.key } : {});
        const outcome = await connectTo(listener, connectSettings(tls)).then(
          // TLS 1.3: the client's handshake is done before the server judges its certificate.
          async (client) => {
            const read = await client.read().then((chunk) => chunk, (error) => error);
            await client.close();
            return read;
          },
          (error) => error,
        );
        assert.ok(
          outcome === null || outcome?.constructor.name === "TlsError",
          `${label}: refused with a TlsError or closed, got ${outcome}`,
        );
        if (presented === undefined && outcome !== null) assert.equal(outcome.code, "ERR_TLS_CLIENT_CERT");
      }
      const accepted = listener.accept();
      const client = await connectTo(
        listener,
        connectSettings(clientTls({ cert: certs.client.cert, key: certs.client.key })),
      );
      const server = await accepted;
      assert.ok(server, "the first connection accept() returns is the good client's");
      await exchange(client, server);
      assert.deepEqual(server.info.tls?.peerCertificate, {
        fingerprint256: certs.client.fingerprint256,
        subject: "CN=client.example",
      });
      await Promise.all([client.close(), server.close(), listener.close()]);
    });

    it("closes a plaintext client of a TLS server, fails a TLS client of a plaintext server, and goes on", async () => {
      const listener = await listen("tls");
      const plaintext = await impl.connectTcp({ ...parseInet(listener.address), transport: "tcp" }, connectSettings());
      await plaintext.write(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
      assert.ok((await within(drain(plaintext), 3000)).settled, "the TLS server closed the plaintext client");
      await plaintext.close();
      const [client, server] = await pair(listener, connectSettings(clientTls()));
      await exchange(client, server);
      await Promise.all([client.close(), server.close(), listener.close()]);

      const plainServer = await listen("tcp");
      const accepted = plainServer.accept().then(async (stream) => {
        assert.ok(stream);
        await stream.read();
        await stream.write(encoder.encode("hello, this is not TLS\n"));
        return stream;
      });
      const error = await connectTo(plainServer, connectSettings(clientTls())).catch((error) => error);
      assert.equal(error?.code, "ERR_TLS_HANDSHAKE", String(error));
      await (await accepted).close();
      await plainServer.close();
    });
  });
}

describe(`readTextFile of the ${adapter.name} runtime adapter`, {
  skip: typeof adapter.readTextFile === "function" ? false : `the ${adapter.name} adapter has no readTextFile yet`,
}, () => {
  it("reads a PEM file and names a file it cannot read", async () => {
    const path = join(certificateDir.path, "server.pem");
    assert.equal(await adapter.readTextFile(path), certs.server.cert);
    for (const unreadable of [join(certificateDir.path, "missing.pem"), certificateDir.path]) {
      const error = await adapter.readTextFile(unreadable).catch((error) => error);
      assert.equal(error?.code, "ERR_INVALID_ARGUMENT", String(error));
      assert.ok(error.message.includes(`Cannot read ${unreadable}`), error.message);
      assert.ok(error.cause, "the runtime's error is the cause");
    }
  });
});
