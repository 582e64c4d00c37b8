/**
 * TLS refusals, in the runtime running the test (server and client both):
 *
 * - A client refuses a server whose certificate does not match (wrong host
 *   name, untrusted CA, a different pin, expired) with a `TlsError` of a
 *   stable code, and the server never receives a request.
 * - A plaintext client against a TLS server, and a TLS client against a
 *   plaintext server, end in a typed error on the client; the server keeps
 *   serving a well-behaved client, and the plaintext server reports the
 *   ClientHello it could not frame through `onError`.
 * - Mutual TLS: a server with `clientCa` refuses clients without a
 *   certificate or with one from another CA, accepts one signed by its CA,
 *   and shows the client's certificate to the handler.
 *
 * @module
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  connect,
  type ConnectionInfo,
  generateCertificate,
  type GeneratedCertificate,
  type HandlerContext,
  listen,
  type RpcServer,
} from "../mod.ts";
import { waitFor } from "./_helpers.ts";

/** The server names `fresh` hands out, one per connection; the test certificates name them all. */
const FRESH_NAMES = Array.from({ length: 40 }, (_, i) => `s${i}.peerlink.test`);
let names = 0;
/**
 * Gives a connection its own TLS server name (SNI): Deno's node:tls resumes a
 * session with any server of the same process under the same name, and then
 * reports the first server's certificate (docs/ARCHITECTURE.md). A name of
 * its own keeps each test's handshake a full one.
 */
function fresh(options: Parameters<typeof connect>[1] = {}): Parameters<typeof connect>[1] {
  const tls = options?.tls;
  if (tls === undefined || tls.serverName !== undefined) return options;
  const serverName = FRESH_NAMES[names++];
  assert.ok(serverName, "add names to FRESH_NAMES");
  return { ...options, tls: { ...tls, serverName } };
}

const [ca, otherCa, serverCert, namedCert, expiredCert, stranger] = await Promise.all([
  generateCertificate({ ca: true, commonName: "peerlink test CA" }),
  generateCertificate({ ca: true, commonName: "another CA" }),
  // Valid for localhost, 127.0.0.1 and the names `fresh` hands out, self-signed.
  generateCertificate({ hosts: ["localhost", ...FRESH_NAMES], ips: ["127.0.0.1"] }),
  // Valid for localhost only.
  generateCertificate({ hosts: ["localhost"] }),
  generateCertificate({
    hosts: FRESH_NAMES,
    ips: ["127.0.0.1"],
    notBefore: new Date("2020-01-01Z"),
    notAfter: new Date("2020-02-01Z"),
  }),
  generateCertificate(),
]);

/** A TLS server that counts the requests its handler saw and the connections it reported. */
async function countingServer(
  cert: GeneratedCertificate,
  extra: { clientCa?: string } = {},
): Promise<{ server: RpcServer; calls: ConnectionInfo[]; errors: unknown[] }> {
  const calls: ConnectionInfo[] = [];
  const errors: unknown[] = [];
  const server = await listen("tls://127.0.0.1:0", {
    tls: { cert: cert.cert, key: cert.key, ...extra },
    handlers: {
      ping: (_: unknown, context: HandlerContext) => {
        calls.push(context.info);
        return "pong";
      },
    },
    onError: (error) => errors.push(error),
  });
  return { server, calls, errors };
}

describe("a TLS client refuses a server whose certificate does not match", () => {
  const refusals: [string, () => Parameters<typeof connect>[1], string, string][] = [
    ["a certificate for another host name", () => ({ tls: { ca: namedCert.cert } }), "ERR_TLS_CERT_NAME", "named"],
    [
      "a serverName the certificate does not name",
      () => ({ tls: { ca: serverCert.cert, serverName: "daemon.example" } }),
      "ERR_TLS_CERT_NAME",
      "server",
    ],
    ["a certificate no trusted CA signed", () => ({ tls: { ca: stranger.cert } }), "ERR_TLS_CERT_UNTRUSTED", "server"],
    ["a self-signed certificate against the system roots", () => ({ tls: {} }), "ERR_TLS_CERT_UNTRUSTED", "server"],
    [
      "a certificate other than the pinned one",
      () => ({ tls: { pin: stranger.fingerprint256 } }),
      "ERR_TLS_PIN_MISMATCH",
      "server",
    ],
    [
      "the pinned certificate, for another name",
      () => ({ tls: { pin: namedCert.fingerprint256 } }),
      "ERR_TLS_CERT_NAME",
      "named",
    ],
    ["an expired certificate", () => ({ tls: { ca: expiredCert.cert } }), "ERR_TLS_CERT_EXPIRED", "expired"],
  ];
  for (const [what, options, code, which] of refusals) {
    it(`${what}: ${code}, and the server gets no request`, async () => {
      const cert = { named: namedCert, server: serverCert, expired: expiredCert }[which]!;
      const { server, calls } = await countingServer(cert);
      try {
        let connected = false;
        await assert.rejects(
          (async () => {
            const client = await connect(server.address, fresh(options()));
            connected = true;
            await client.call("ping").finally(() => client.close());
          })(),
          (error: Error & { code?: string }) => {
            assert.equal(error.name, "TlsError", `${error.name}: ${error.message}`);
            assert.equal(error.code, code, error.message);
            assert.match(error.message, new RegExp(`Cannot connect to ${server.address.replaceAll(".", "\\.")}`));
            assert.ok(error.cause !== undefined || code === "ERR_TLS_PIN_MISMATCH", "the runtime's error is the cause");
            return true;
          },
        );
        assert.equal(connected, false, "connect must not resolve before every check passed");
        assert.equal(calls.length, 0);
      } finally {
        await server.close();
      }
    });
  }

  it("accepts the pinned certificate for another name when asked not to check names, and each pin spelling", async () => {
    const { server, calls } = await countingServer(namedCert);
    try {
      const colons = namedCert.fingerprint256.toUpperCase().match(/../g)!.join(":");
      for (const pin of [namedCert.fingerprint256, colons, namedCert.cert]) {
        const client = await connect(server.address, fresh({ tls: { pin, checkServerName: false } }));
        assert.equal(await client.call("ping"), "pong");
        assert.equal(client.info.transport, "tls");
        await client.close();
      }
      assert.equal(calls.length, 3);
    } finally {
      await server.close();
    }
  });
});

describe("protocol mismatch", () => {
  it("a plaintext client against a TLS server: ERR_CONNECTION_CLOSED, reported by the server, which keeps serving", async () => {
    const { server, calls, errors } = await countingServer(serverCert);
    try {
      // The server answers the peerlink hello with a TLS alert, or closes: the connect itself fails, typed.
      await assert.rejects(connect(server.address.replace("tls://", "tcp://")), (error: Error & { code?: string }) => {
        assert.match(error.code ?? "", /^ERR_(FRAME_TOO_LARGE|FRAME_TOO_SMALL|CONNECTION_CLOSED)$/, error.message);
        if (error.code !== "ERR_CONNECTION_CLOSED") assert.match(error.message, /is it a TLS server/);
        return true;
      });
      // A plain fizyr-rpc client, which sends nothing first, sees it on its first call.
      const plain = await connect(server.address.replace("tls://", "tcp://"), { protocol: "fizyr" });
      await assert.rejects(plain.call("ping"), { code: "ERR_CONNECTION_CLOSED" });
      await plain.close();
      assert.equal(calls.length, 0);
      await waitFor(() => errors.length === 2, "the server reported both refused handshakes through onError");
      assert.equal((errors[0] as { code?: string }).code, "ERR_TLS_HANDSHAKE");
      assert.match(
        (errors[0] as Error).message,
        /^Refused a connection on tls:\/\/127\.0\.0\.1:\d+: the TLS handshake failed/,
      );
      const client = await connect(server.address, fresh({ tls: { pin: serverCert.fingerprint256 } }));
      assert.equal(await client.call("ping"), "pong");
      await client.close();
    } finally {
      await server.close();
    }
  });

  it("a TLS client against a plaintext server: a typed error within connectTimeout, reported by the server", async () => {
    const errors: unknown[] = [];
    const server = await listen("tcp://127.0.0.1:0", {
      handlers: { ping: () => "pong" },
      onError: (e) => errors.push(e),
    });
    try {
      const started = Date.now();
      // The server cannot frame a ClientHello: one that announces more than maxMessageSize is a protocol error at
      // once; a short one (Deno's) leaves both sides waiting for bytes, until connectTimeout ends the handshake.
      await assert.rejects(
        connect(server.address.replace("tcp://", "tls://"), {
          tls: { pin: serverCert.fingerprint256 },
          connectTimeout: 1000,
        }),
        (error: Error & { code?: string }) => {
          assert.ok(
            ["ERR_TLS_HANDSHAKE", "ERR_CONNECTION_FAILED"].includes(error.code!),
            `${error.code}: ${error.message}`,
          );
          return true;
        },
      );
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      await waitFor(() => errors.length === 1, "the server reported the connection it could not read");
      assert.match(String((errors[0] as { code?: string }).code), /^ERR_(FRAME_TOO_LARGE|CONNECTION_CLOSED)$/);
      const client = await connect(server.address);
      assert.equal(await client.call("ping"), "pong");
      await client.close();
    } finally {
      await server.close();
    }
  });
});

describe("mutual TLS", () => {
  it("refuses clients without a certificate or with one from another CA, and keeps serving", async () => {
    const { server, calls } = await countingServer(serverCert, { clientCa: ca.cert });
    try {
      const outsider = await generateCertificate({ hosts: ["client"], issuer: otherCa });
      for (
        const extra of [{}, { cert: outsider.cert, key: outsider.key }, { cert: stranger.cert, key: stranger.key }]
      ) {
        // TLS 1.3 completes the client's side of the handshake before the server checks its certificate, so
        // the refusal arrives as the connection closing: connect may resolve, the first call never succeeds.
        await assert.rejects(
          (async () => {
            const client = await connect(server.address, fresh({ tls: { pin: serverCert.fingerprint256, ...extra } }));
            await client.call("ping").finally(() => client.close());
          })(),
          (error: Error & { code?: string }) => {
            assert.ok(
              ["ERR_CONNECTION_CLOSED", "ERR_TLS_CLIENT_CERT", "ERR_TLS_HANDSHAKE"].includes(error.code!),
              `${error.code}: ${error.message}`,
            );
            return true;
          },
        );
      }
      assert.equal(calls.length, 0);
      const member = await generateCertificate({ hosts: ["client"], commonName: "client.example", issuer: ca });
      const client = await connect(
        server.address,
        fresh({ tls: { pin: serverCert.fingerprint256, cert: member.cert, key: member.key } }),
      );
      assert.equal(await client.call("ping"), "pong");
      await client.close();
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.transport, "tls");
      assert.deepEqual(calls[0]!.tls?.peerCertificate, {
        fingerprint256: member.fingerprint256,
        subject: "CN=client.example",
      });
      assert.match(calls[0]!.tls?.protocol ?? "", /^TLSv1\.[23]$/);
      assert.match(calls[0]!.tls?.cipher ?? "", /^TLS_/);
    } finally {
      await server.close();
    }
  });

  it("shows the server's certificate to the client, and no peer certificate to a server without clientCa", async () => {
    const { server, calls } = await countingServer(serverCert);
    try {
      const client = await connect(server.address, fresh({ tls: { pin: serverCert.fingerprint256 } }));
      assert.equal(await client.call("ping"), "pong");
      assert.equal(client.info.tls?.peerCertificate?.fingerprint256, serverCert.fingerprint256);
      await client.close();
      assert.equal(calls[0]!.tls?.peerCertificate, undefined);
    } finally {
      await server.close();
    }
  });
});
