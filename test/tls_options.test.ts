/**
 * The TCP and TLS options through the public API: each is checked where it
 * enters (`listen`, `connect`, `listenTransport`, `connectTransport`), with
 * `ERR_INVALID_ARGUMENT` naming the option, before any socket exists;
 * options that do not apply to an address are refused with it; and what the
 * adapters are handed (`TcpListenSettings`, `TcpConnectSettings`) holds the
 * defaults, the texts of files given as paths, and every spelling of a pin
 * reduced to one fingerprint.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect, generateCertificate, listen } from "../mod.ts";
import { connectTransport, listenTransport } from "../peer.ts";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { tcpConnectSettings, tcpListenSettings } from "../src/api/tcp_settings.ts";
import { parseAddress } from "../src/transport/address.ts";
import type { InetAddress } from "../src/transport/address.ts";
import { tempDir } from "./_helpers.ts";

const dir = tempDir();
const paths = { cert: join(dir.path, "cert.pem"), key: join(dir.path, "key.pem"), missing: join(dir.path, "none.pem") };
const material = await generateCertificate({ hosts: ["localhost"], ips: ["127.0.0.1"] });
writeFileSync(paths.cert, material.cert);
writeFileSync(paths.key, material.key);
after(() => dir.cleanup());

const invalid = (message: RegExp) => ({ code: "ERR_INVALID_ARGUMENT", message });
const inet = (text: string): InetAddress => parseAddress(text) as InetAddress;

describe("TCP and TLS options are checked where they enter", () => {
  it("refuses TCP options with unix: and seqpacket: addresses", async () => {
    const unix = `unix:${join(dir.path, "x.sock")}`;
    await assert.rejects(
      listen(unix, { tls: { cert: "c", key: "k" } }),
      invalid(/Option "tls" of listen\(\) applies to tcp:\/\/ and tls:\/\/ addresses only, found it with "unix:/),
    );
    await assert.rejects(connect(unix, { noDelay: true }), invalid(/Option "noDelay" of connect\(\) applies to tcp/));
    await assert.rejects(
      connectTransport("seqpacket:@x", { connectTimeout: 5 }),
      invalid(/Option "connectTimeout" of connectTransport\(\)/),
    );
    await assert.rejects(listenTransport("unix:@x", { noDelay: false }), invalid(/"noDelay" of listenTransport\(\)/));
  });

  it("refuses tls with tcp://, and a tls:// listener without it", async () => {
    await assert.rejects(
      listen("tcp://127.0.0.1:0", { tls: { cert: "c", key: "k" } }),
      invalid(/Option "tls" of listen\(\) applies to tls:\/\/ addresses only.*write tls:\/\/127\.0\.0\.1:0 to use TLS/),
    );
    await assert.rejects(connect("tcp://127.0.0.1:1", { tls: {} }), invalid(/"tls" of connect\(\) applies to tls/));
    await assert.rejects(
      listen("tls://127.0.0.1:0"),
      invalid(/Expected tls in the options of listen\(\) to be \{ cert, key \} for "tls:\/\/127.0.0.1:0", found none/),
    );
    await assert.rejects(listenTransport("tls://127.0.0.1:0", {}), invalid(/tls in the options of listenTransport/));
  });

  it("checks the shape of a server's tls", async () => {
    const cases: [unknown, RegExp][] = [
      [
        "cert.pem",
        /Expected tls in the options of listen\(\) to be an object with cert, key, clientCa\?, found "cert.pem"/,
      ],
      [{ key: "k" }, /Expected tls.cert in the options of listen\(\) to be PEM text or a file path, found undefined/],
      [{ cert: "c" }, /Expected tls.key .* found undefined/],
      [{ cert: "", key: "k" }, /Expected tls.cert .* to be PEM text or a file path, found ""/],
      [{ cert: "c", key: 7 }, /tls.key .* found 7/],
      [{ cert: "c", key: "k", clientCa: [] }, /tls.clientCa .* or a non-empty array of them, found an array/],
      [{ cert: "c", key: "k", clientCa: ["a", 1] }, /tls.clientCa\[1\] .* found 1/],
      [
        { cert: "c", key: "k", ca: "a" },
        /Expected tls.ca in the options of listen\(\) to be absent \(tls is an object/,
      ],
    ];
    for (const [tls, message] of cases) {
      await assert.rejects(listen("tls://127.0.0.1:0", { tls: tls as never }), invalid(message), String(message));
    }
  });

  it("checks the shape of a client's tls", async () => {
    const cases: [unknown, RegExp][] = [
      [{ pin: "" }, /tls.pin .* to be a non-empty string, found ""/],
      [{ ca: [] }, /tls.ca .* non-empty array/],
      [{ serverName: "not a name" }, /tls.serverName .* to be a host name or an IP address, found "not a name"/],
      [{ checkServerName: "no" }, /tls.checkServerName .* to be true or false, found "no"/],
      [{ checkServerName: false }, /tls.checkServerName .* true or absent unless tls.pin is set/],
      [{ cert: "c" }, /Expected tls.key .* since tls.cert is set, found undefined/],
      [{ key: "k" }, /Expected tls.cert .* since tls.key is set/],
      [{ clientCa: "x" }, /Expected tls.clientCa in the options of connect\(\) to be absent/],
      [{ pin: "ab:cd" }, /tls.pin in the options of connect\(\) to be a SHA-256 fingerprint .* found "ab:cd"/],
      [{ pin: "ab".repeat(33) }, /SHA-256 fingerprint \(64 hex digits/],
    ];
    for (const [tls, message] of cases) {
      await assert.rejects(connect("tls://127.0.0.1:1", { tls: tls as never }), invalid(message), String(message));
    }
  });

  it("checks noDelay and connectTimeout, and names the entry points that take a misplaced option", async () => {
    await assert.rejects(connect("tcp://127.0.0.1:1", { noDelay: 1 as never }), invalid(/noDelay .* true or false/));
    for (const connectTimeout of [0, 0x80000000, 1.5, -1]) {
      await assert.rejects(
        connect("tcp://127.0.0.1:1", { connectTimeout }),
        invalid(/Expected connectTimeout in the options of connect\(\) to be an integer from 1 to 2147483647/),
      );
    }
    await assert.rejects(
      listen("tcp://127.0.0.1:0", { connectTimeout: 5 } as never),
      invalid(/Option "connectTimeout" is not an option of listen\(\); connect\(\), connectTransport\(\) take it/),
    );
  });

  it("refuses files that cannot be read or hold the wrong PEM, naming the option and the file", async () => {
    await assert.rejects(
      listen("tls://127.0.0.1:0", { tls: { cert: paths.missing, key: paths.key } }),
      invalid(/Expected tls.cert in the options of listen\(\) to be PEM text or a readable file, found ".*none.pem"/),
    );
    await assert.rejects(
      listen("tls://127.0.0.1:0", { tls: { cert: paths.key, key: paths.key } }),
      invalid(
        /tls.cert .* to be a PEM certificate or the path of one, found the file ".*key.pem" holding no -----BEGIN CERT/,
      ),
    );
    await assert.rejects(
      listen("tls://127.0.0.1:0", { tls: { cert: paths.cert, key: material.cert } }),
      invalid(/tls.key .* to be a PEM key or the path of one, found PEM text holding no -----BEGIN PRIVATE KEY-----/),
    );
    await assert.rejects(
      connect("tls://127.0.0.1:1", { tls: { ca: [paths.cert, paths.missing] } }),
      invalid(/tls.ca\[1\] .* readable file, found ".*none.pem"/),
    );
    await assert.rejects(connect("tls://127.0.0.1:1", { tls: { pin: paths.missing } }), invalid(/tls.pin .*none.pem/));
  });
});

describe("TCP and TLS options become adapter settings", () => {
  it("fills in the defaults", async () => {
    const runtime = await loadRuntimeAdapter();
    assert.deepEqual(await tcpListenSettings(runtime, {}, "listen()"), { noDelay: true });
    assert.deepEqual(await tcpConnectSettings(runtime, inet("tcp://127.0.0.1:1"), {}, "connect()"), {
      noDelay: true,
      timeout: 10_000,
    });
    assert.deepEqual(await tcpConnectSettings(runtime, inet("tls://[::1]:1"), {}, "connect()"), {
      noDelay: true,
      timeout: 10_000,
      tls: { serverName: "::1", checkServerName: true },
    });
    assert.deepEqual(
      await tcpConnectSettings(runtime, inet("tcp://a.example:1"), { noDelay: false, connectTimeout: 5 }, "connect()"),
      { noDelay: false, timeout: 5 },
    );
  });

  it("reads paths and keeps PEM texts, for every certificate and key option", async () => {
    const runtime = await loadRuntimeAdapter();
    const server = await tcpListenSettings(
      runtime,
      { tls: { cert: paths.cert, key: material.key, clientCa: paths.cert } },
      "listen()",
    );
    assert.deepEqual(server, {
      noDelay: true,
      handshakeTimeout: 10_000,
      tls: { cert: material.cert, key: material.key, clientCa: [material.cert] },
    });
    const stricter = await tcpListenSettings(
      runtime,
      { tls: { cert: material.cert, key: material.key }, handshakeTimeout: 250 },
      "listenTransport()",
    );
    assert.equal(stricter.handshakeTimeout, 250);
    const client = await tcpConnectSettings(
      runtime,
      inet("tls://localhost:1"),
      { tls: { ca: [material.cert, paths.cert], serverName: "daemon.example", cert: paths.cert, key: paths.key } },
      "connect()",
    );
    assert.deepEqual(client.tls, {
      ca: [material.cert, material.cert],
      serverName: "daemon.example",
      checkServerName: true,
      cert: material.cert,
      key: material.key,
    });
  });

  it("reduces every spelling of a pin to 64 lowercase hex digits, and drops ca when pinning", async () => {
    const runtime = await loadRuntimeAdapter();
    const expected = material.fingerprint256;
    assert.match(expected, /^[0-9a-f]{64}$/);
    const colons = expected.toUpperCase().match(/../g)!.join(":");
    for (const pin of [expected, expected.toUpperCase(), colons, ` ${colons}\n`, material.cert, paths.cert]) {
      const settings = await tcpConnectSettings(
        runtime,
        inet("tls://127.0.0.1:1"),
        { tls: { pin, ca: paths.cert, checkServerName: false } },
        "connect()",
      );
      assert.deepEqual(settings.tls, { pin: expected, serverName: "127.0.0.1", checkServerName: false }, pin);
    }
  });
});
