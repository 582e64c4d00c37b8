import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateCertificate, listen, type RpcServer } from "../mod.ts";
import { demoService } from "../cli/demo_service.ts";
import { run, runtimeName, scriptCommand, start, tempDir } from "./_helpers.ts";

const dir = tempDir();
const address = `unix:${join(dir.path, "cli.sock")}`;
let server: RpcServer;

before(async () => {
  server = await listen(address, { handlers: demoService(runtimeName) });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe("peerlink CLI", () => {
  // Each suite runs the CLI in its own runtime (the compiled one in each Node version).
  for (const runtime of [runtimeName]) {
    it(`calls and streams from ${runtime}, with errors on stderr and a non-zero exit`, async () => {
      const cli = (...args: string[]) => run(scriptCommand(runtime, "cli/main.ts", args));
      const [added, streamed, echoed, missing, badJson, usage, noServer] = await Promise.all([
        cli("call", address, "add", "[1, 2, 3.5]"),
        cli("stream", address, "count", "3"),
        cli("call", address, "echo", '{"a":[1,"b",null]}'),
        cli("call", address, "nope"),
        cli("call", address, "echo", "{oops"),
        cli("frobnicate"),
        cli("call", `unix:${join(dir.path, "none.sock")}`, "echo"),
      ]);
      assert.deepEqual([added.code, added.stdout], [0, "6.5\n"], added.stderr);
      assert.deepEqual([streamed.code, streamed.stdout], [0, "1\n2\n3\n"], streamed.stderr);
      assert.deepEqual([echoed.code, JSON.parse(echoed.stdout)], [0, { a: [1, "b", null] }], echoed.stderr);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no method "nope".*\[ERR_METHOD_NOT_FOUND\]/);
      assert.equal(missing.stdout, "");
      assert.equal(badJson.code, 1);
      assert.match(badJson.stderr, /not valid JSON.*\[ERR_INVALID_ARGUMENT\]/);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /Usage:/);
      assert.equal(noServer.code, 1);
      assert.match(noServer.stderr, /\[ERR_CONNECTION_FAILED\]/);
    });
  }
});

describe("peerlink CLI over tcp:// and tls://", () => {
  const files = (name: string) => ({ cert: join(dir.path, `${name}.pem`), key: join(dir.path, `${name}.key`) });
  const write = (name: string, made: { cert: string; key: string }) => {
    const paths = files(name);
    writeFileSync(paths.cert, made.cert);
    writeFileSync(paths.key, made.key);
    return paths;
  };

  // Each suite runs the CLI in its own runtime (the compiled one in each Node version).
  for (const runtime of [runtimeName]) {
    it(`serves and calls tls:// with --pin, --ca and client certificates, and warns about exposed tcp:// (${runtime})`, async () => {
      const cli = (...args: string[]) => run(scriptCommand(runtime, "cli/main.ts", args));
      const serverMade = await generateCertificate();
      const ca = await generateCertificate({ ca: true, commonName: "cli CA" });
      const server = write(`server-${runtime}`, serverMade);
      const caPaths = write(`ca-${runtime}`, ca);
      const member = await generateCertificate({ hosts: ["client"], commonName: "cli client", issuer: ca });
      const client = write(`client-${runtime}`, member);
      const tlsServer = start(scriptCommand(runtime, "cli/main.ts", [
        "serve",
        "tls://127.0.0.1:0",
        "--cert",
        server.cert,
        "--key",
        server.key,
        "--client-ca",
        caPaths.cert,
      ]));
      const exposed = start(scriptCommand(runtime, "cli/main.ts", ["serve", "tcp://0.0.0.0:0"]));
      try {
        await tlsServer.waitFor(" on ");
        const address = /serving (tls:\/\/127\.0\.0\.1:[1-9]\d*) on/.exec(tlsServer.stdout())?.[1];
        assert.ok(address, tlsServer.stdout());
        const clientCert = ["--client-cert", client.cert, "--client-key", client.key];
        const [pinned, trusted, streamed, noClientCert, wrongPin] = await Promise.all([
          cli("call", address, "connection", "--pin", serverMade.fingerprint256, ...clientCert),
          cli("call", address, "add", "[1, 2]", "--ca", server.cert, "--server-name", "localhost", ...clientCert),
          cli("stream", address, "count", "2", "--pin", server.cert, ...clientCert),
          cli("call", address, "add", "[1]", "--pin", serverMade.fingerprint256),
          cli("call", address, "add", "[1]", "--pin", ca.fingerprint256, ...clientCert),
        ]);
        assert.equal(pinned.code, 0, pinned.stderr);
        const info = JSON.parse(pinned.stdout);
        assert.equal(info.transport, "tls");
        assert.deepEqual(info.tls.peerCertificate, { fingerprint256: member.fingerprint256, subject: "CN=cli client" });
        assert.deepEqual([trusted.code, trusted.stdout], [0, "3\n"], trusted.stderr);
        assert.deepEqual([streamed.code, streamed.stdout], [0, "1\n2\n"], streamed.stderr);
        assert.equal(noClientCert.code, 1);
        assert.match(noClientCert.stderr, /\[ERR_CONNECTION_CLOSED\]|\[ERR_TLS_/);
        assert.equal(wrongPin.code, 1);
        assert.match(wrongPin.stderr, /\[ERR_TLS_PIN_MISMATCH\]/);
        assert.doesNotMatch(pinned.stderr + tlsServer.stdout(), /warning/);

        await exposed.waitFor(" on ");
        const port = /serving tcp:\/\/0\.0\.0\.0:([1-9]\d*) on/.exec(exposed.stdout())?.[1];
        assert.ok(port, exposed.stdout());
        const [local, remote] = await Promise.all([
          cli("call", `tcp://127.0.0.1:${port}`, "runtime"),
          cli("call", `tcp://0.0.0.0:${port}`, "runtime"),
        ]);
        assert.deepEqual([local.code, local.stdout, local.stderr], [0, `"${runtime}"\n`, ""]);
        assert.equal(remote.code, 0, remote.stderr);
        assert.match(remote.stderr, /warning: tcp:\/\/0\.0\.0\.0:\d+ is plain TCP: nothing is encrypted/);
      } finally {
        const stopped = await Promise.all([tlsServer.stop(), exposed.stop()]);
        assert.match(stopped[1].stderr, /warning: tcp:\/\/0\.0\.0\.0:0 is plain TCP: anyone who can reach it can call/);
      }
    });
  }
});

describe("peerlink secret and --secret-file", () => {
  // The secret file is written through the runtime adapter: each suite checks its own runtime's.
  for (const runtime of [runtimeName]) {
    it(`creates a secret file once, and serves and calls with it (${runtime})`, async () => {
      const cli = (...args: string[]) => run(scriptCommand(runtime, "cli/main.ts", args));
      const secretPath = join(dir.path, `secret-${runtime}`);
      const made = await cli("secret", secretPath);
      assert.equal(made.code, 0, made.stderr);
      assert.equal(statSync(secretPath).mode & 0o777, 0o600);
      const text = readFileSync(secretPath, "utf8");
      assert.match(text, /^[0-9a-f]{64}\n$/);
      const again = await cli("secret", secretPath);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /\[ERR_FILE_EXISTS\]/);
      assert.equal(readFileSync(secretPath, "utf8"), text, "an existing secret file is never replaced");

      const guarded = `unix:${join(dir.path, `guarded-${runtime}.sock`)}`;
      const serving = start(scriptCommand(runtime, "cli/main.ts", ["serve", guarded, "--secret-file", secretPath]));
      try {
        await serving.waitFor("secret required", 20_000);
        const otherSecret = join(dir.path, `other-${runtime}`);
        assert.equal((await cli("secret", otherSecret)).code, 0);
        const [good, wrong, none] = await Promise.all([
          cli("call", guarded, "add", "[2, 3]", "--secret-file", secretPath, "--timeout", "5000"),
          cli("call", guarded, "add", "[2, 3]", "--secret-file", otherSecret),
          cli("call", guarded, "add", "[2, 3]"),
        ]);
        assert.deepEqual([good.code, good.stdout], [0, "5\n"], good.stderr);
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, /\[ERR_AUTH_FAILED\]/);
        assert.equal(none.code, 1);
        assert.match(none.stderr, /\[ERR_AUTH_REQUIRED\]/);
      } finally {
        await serving.stop();
      }
    });
  }
});
