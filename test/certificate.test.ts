/**
 * Generated certificates: `generateCertificate` makes certificates that a
 * real TLS connection accepts (pinned, trusted as `ca`, or issued by a
 * generated CA), with the subjectAltNames OpenSSL shows; it is loaded only
 * when called; and `peerlink cert` in every runtime writes the key with mode
 * 0600, never overwrites a file without `--force`, and prints the
 * fingerprint OpenSSL computes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect, generateCertificate, listen } from "../mod.ts";
import { run, runtimes, scriptCommand, tempDir } from "./_helpers.ts";

const dir = tempDir();
after(() => dir.cleanup());

const handlers = { ping: () => "pong" };

/** What `openssl x509` says about a PEM certificate: its text form and SHA-256 fingerprint. */
function openssl(pem: string): { text: string; fingerprint: string } {
  const path = join(dir.path, `inspect-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(path, pem);
  const text = execFileSync("openssl", ["x509", "-in", path, "-noout", "-text"], { encoding: "utf8" });
  const line = execFileSync("openssl", ["x509", "-in", path, "-noout", "-fingerprint", "-sha256"], {
    encoding: "utf8",
  });
  return { text, fingerprint: line.trim().replace(/^.*=/, "").replaceAll(":", "").toLowerCase() };
}

describe("generateCertificate", () => {
  it("makes a P-256 certificate with every host and IP as subjectAltName, and the fingerprint OpenSSL computes", async () => {
    const generated = await generateCertificate({ hosts: ["daemon.example", "localhost"], ips: ["127.0.0.1", "::1"] });
    const { text, fingerprint } = openssl(generated.cert);
    assert.match(text, /DNS:daemon\.example, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(text, /Subject: CN ?= ?daemon\.example/);
    assert.match(text, /ecdsa-with-SHA256/);
    assert.match(text, /prime256v1|P-256/);
    assert.doesNotMatch(text, /CA:TRUE/);
    assert.equal(generated.fingerprint256, fingerprint);
    assert.match(generated.key, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const validity = /Not Before: (.*)\n\s*Not After : (.*)\n/.exec(text)!;
    const days = (Date.parse(validity[2]!) - Date.parse(validity[1]!)) / 86_400_000;
    assert.equal(Math.round(days), 365);
  });

  it("defaults to localhost, 127.0.0.1 and ::1, and takes days, notBefore and notAfter", async () => {
    const { text } = openssl((await generateCertificate()).cert);
    assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    const week = openssl((await generateCertificate({ ips: ["10.1.2.3"], days: 7 })).cert).text;
    assert.match(week, /Subject: CN ?= ?10\.1\.2\.3/);
    assert.match(week, /X509v3 Subject Alternative Name: \n\s*IP Address:10\.1\.2\.3\n/);
    const expired = openssl(
      (await generateCertificate({ notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2020-02-01Z") }))
        .cert,
    ).text;
    assert.match(expired, /Not Before: Jan {2}1 00:00:00 2020 GMT\n\s*Not After : Feb {2}1 00:00:00 2020 GMT/);
  });

  it("refuses bad options with ERR_INVALID_ARGUMENT", async () => {
    const cases: [unknown, RegExp][] = [
      [
        { hosts: ["not a host"] },
        /Expected hosts in the options of generateCertificate\(\) to be an array of host names/,
      ],
      [{ ips: ["localhost"] }, /ips .* an array of IP addresses/],
      [{ days: 0 }, /days .* an integer from 1 to 36500, found 0/],
      [{ notBefore: new Date("x") }, /notBefore .* a valid Date/],
      [{ notBefore: new Date(2000, 1), notAfter: new Date(1999, 1) }, /notAfter .* to be after notBefore/],
      [{ hots: ["x"] }, /Unknown option "hots" .* did you mean "hosts"/],
      [{ issuer: { cert: "x" } }, /issuer .* an object with cert and key/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(generateCertificate(options as never), { code: "ERR_INVALID_ARGUMENT", message });
    }
    const leaf = await generateCertificate();
    await assert.rejects(generateCertificate({ issuer: leaf }), {
      code: "ERR_INVALID_ARGUMENT",
      message: /issuer of generateCertificate\(\) to be a CA certificate .* found CN=localhost without CA:true/,
    });
  });

  it("loads @peculiar/x509 only when called, in every runtime", async () => {
    const results = await Promise.all(
      runtimes.map((runtime) => run(scriptCommand(runtime, "test/fixtures/tls/lazy_x509.ts"))),
    );
    for (const [index, result] of results.entries()) {
      assert.equal(result.code, 0, `${runtimes[index]}: ${result.stderr}`);
      const report = JSON.parse(result.stdout);
      assert.deepEqual([report.before, report.after], [false, true], runtimes[index]);
      assert.match(report.fingerprint256, /^[0-9a-f]{64}$/);
    }
  });
});

describe("generated certificates on a real TLS connection", () => {
  it("pinned by fingerprint, and trusted as ca", async () => {
    const { cert, key, fingerprint256 } = await generateCertificate();
    await using server = await listen("tls://127.0.0.1:0", { tls: { cert, key }, handlers });
    const pinned = await connect(server.address, { tls: { pin: fingerprint256 } });
    assert.equal(await pinned.call("ping"), "pong");
    assert.equal(pinned.info.tls?.peerCertificate?.fingerprint256, fingerprint256);
    await pinned.close();
    const trusted = await connect(server.address, { tls: { ca: cert } });
    assert.equal(await trusted.call("ping"), "pong");
    await trusted.close();
  });

  it("issued by a generated CA, trusted through the CA", async () => {
    const ca = await generateCertificate({ ca: true, commonName: "peerlink test CA" });
    assert.match(openssl(ca.cert).text, /CA:TRUE/);
    const leaf = await generateCertificate({ hosts: ["localhost"], issuer: ca });
    const { text } = openssl(leaf.cert);
    assert.match(text, /Issuer: CN ?= ?peerlink test CA/);
    await using server = await listen("tls://127.0.0.1:0", { tls: { cert: leaf.cert, key: leaf.key }, handlers });
    const client = await connect(server.address, { tls: { ca: ca.cert, serverName: "localhost" } });
    assert.equal(await client.call("ping"), "pong");
    await client.close();
  });
});

describe("peerlink cert", () => {
  for (const runtime of runtimes) {
    it(`writes a certificate and a 0600 key from ${runtime}, refuses to overwrite without --force`, async () => {
      const cli = (...args: string[]) => run(scriptCommand(runtime, "cli/main.ts", args));
      const out = join(dir.path, `cli-${runtime}`);
      const written = await cli("cert", "--out", out, "--host", "localhost", "--host", "daemon.example", "--ip", "::1");
      assert.equal(written.code, 0, written.stderr);
      const certPath = join(out, "cert.pem");
      const keyPath = join(out, "key.pem");
      assert.equal(statSync(keyPath).mode & 0o777, 0o600);
      const cert = readFileSync(certPath, "utf8");
      const { text, fingerprint } = openssl(cert);
      assert.match(text, /DNS:localhost, DNS:daemon\.example, IP Address:0:0:0:0:0:0:0:1/);
      assert.equal(written.stdout, `${fingerprint}\n`);

      const again = await cli("cert", "--out", out);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Refusing to overwrite .*key\.pem: it exists \(pass --force/);
      assert.equal(readFileSync(certPath, "utf8"), cert);

      const separate = join(dir.path, `separate-${runtime}.pem`);
      writeFileSync(separate, "keep me");
      const certOnly = await cli("cert", "--cert", separate, "--key", join(dir.path, `separate-${runtime}.key`));
      assert.equal(certOnly.code, 1);
      assert.match(certOnly.stderr, new RegExp(`Refusing to overwrite .*separate-${runtime}\\.pem`));
      assert.equal(readFileSync(separate, "utf8"), "keep me");

      const forced = await cli("cert", "--out", out, "--force", "--days", "2");
      assert.equal(forced.code, 0, forced.stderr);
      assert.notEqual(readFileSync(certPath, "utf8"), cert);
      assert.equal(statSync(keyPath).mode & 0o777, 0o600);
      assert.equal(forced.stdout, `${openssl(readFileSync(certPath, "utf8")).fingerprint}\n`);

      const usage = await cli("cert", "--host", "x");
      assert.equal(usage.code, 1);
      assert.match(usage.stderr, /Expected either --out DIR or both --cert FILE and --key FILE/);
    });
  }
});
