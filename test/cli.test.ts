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

describe("peerlink call and stream with exec: addresses", () => {
  /** A command line that the exec: splitter turns back into these words. */
  const quoted = ([command, args]: [string, string[]]): string =>
    [command, ...args].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");

  // Each suite runs the CLI, and the child it spawns, in its own runtime.
  for (const runtime of [runtimeName]) {
    it(`spawns 'peerlink serve stdio' and calls it, with spawn errors on stderr (${runtime})`, async () => {
      const cli = (...args: string[]) => run(scriptCommand(runtime, "cli/main.ts", args));
      const child = `exec:${quoted(scriptCommand(runtime, "cli/main.ts", ["serve", "stdio"]))}`;
      const [added, streamed, named, missing, unquoted, withSecret] = await Promise.all([
        cli("call", child, "add", "[1, 2]"),
        cli("stream", child, "count", "3"),
        cli("call", child, "runtime"),
        cli("call", "exec:peerlink-no-such-command --flag", "add", "[1]"),
        cli("call", "exec:sh -c 'echo", "add", "[1]"),
        cli("call", child, "add", "[1]", "--secret-file", join(dir.path, "none")),
      ]);
      assert.deepEqual([added.code, added.stdout], [0, "3\n"], added.stderr);
      assert.deepEqual([streamed.code, streamed.stdout], [0, "1\n2\n3\n"], streamed.stderr);
      assert.deepEqual([named.code, named.stdout], [0, `"${runtime}"\n`], named.stderr);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Cannot start "peerlink-no-such-command": no such command.*\[ERR_SPAWN_FAILED\]/);
      assert.equal(unquoted.code, 1);
      assert.match(unquoted.stderr, /a single quote is not closed.*\[ERR_INVALID_ARGUMENT\]/);
      assert.equal(withSecret.code, 1);
      assert.match(withSecret.stderr, /do not apply to exec:.*\[ERR_INVALID_ARGUMENT\]/);
    });
  }

  it("lists every command in --help", async () => {
    const help = await run(scriptCommand(runtimeName, "cli/main.ts", ["--help"]));
    assert.equal(help.code, 0);
    const commands = [
      "serve ADDRESS",
      "serve stdio",
      "call ADDRESS",
      "stream ADDRESS",
      "describe ADDRESS",
      "secret FILE",
    ];
    for (const command of [...commands, "cert"]) {
      assert.ok(help.stdout.includes(`peerlink ${command}`), `--help names "peerlink ${command}"`);
    }
    assert.match(help.stdout, /exec:COMMAND/);
  });
});

describe("peerlink describe", () => {
  // Each suite runs the CLI in its own runtime (the compiled one in each Node version).
  for (const runtime of [runtimeName]) {
    it(`prints the demo service as JSON when piped, as a table with --table (${runtime})`, async () => {
      const cli = (...args: string[]) => run(scriptCommand(runtime, "cli/main.ts", args));
      const hidden = `unix:${join(dir.path, `hidden-${runtime}.sock`)}`;
      const closed = await listen(hidden, { handlers: demoService(runtime), describe: false });
      try {
        const [command, args] = scriptCommand(runtime, "cli/main.ts", ["serve", "stdio"]);
        const child = `exec:${[command, ...args].map((word) => `'${word}'`).join(" ")}`;
        const [piped, table, both, off, spawned] = await Promise.all([
          cli("describe", address, "--timeout", "5000"),
          cli("describe", address, "--table"),
          cli("describe", address, "--json", "--table"),
          cli("describe", hidden),
          cli("describe", child, "--json"),
        ]);
        assert.equal(piped.code, 0, piped.stderr);
        assert.equal(piped.stdout.split("\n").length, 2, "one line of JSON");
        const described = JSON.parse(piped.stdout);
        assert.deepEqual(Object.keys(described), ["version", "capabilities", "methods", "notifications"]);
        const count = described.methods.find((entry: { name: string }) => entry.name === "count");
        assert.deepEqual(count, {
          name: "count",
          serviceId: 967958004,
          kind: "server-stream",
          description: "Streams 1..n, then returns n",
          params: { type: "integer" },
          items: { type: "integer" },
          result: { type: "integer" },
        });
        assert.deepEqual(
          described.methods.map((entry: { name: string; kind: string }) => `${entry.name} ${entry.kind}`),
          [
            "add unary",
            "connection unary",
            "count server-stream",
            "echo unary",
            "runtime unary",
            "sleep unary",
            "sum client-stream",
          ],
        );

        assert.equal(table.code, 0, table.stderr);
        const lines = table.stdout.split("\n");
        assert.equal(lines[0], `${address}: peerlink protocol 1, capabilities: call-context, keepalive, goaway`);
        assert.match(lines[2]!, /^METHOD +KIND +SERVICE ID +PARAMS +ITEMS +RESULT +DESCRIPTION$/);
        assert.ok(
          lines.some((line) => /^add +unary +993596020 +number\[\] +- +number +Adds a list of numbers$/.test(line)),
          table.stdout,
        );
        assert.ok(lines.includes("NOTIFICATION: none"), table.stdout);

        assert.equal(both.code, 1);
        assert.match(both.stderr, /Expected --json or --table, found both \[ERR_INVALID_ARGUMENT\]/);
        assert.equal(off.code, 1);
        assert.match(off.stderr, /does not answer describe requests.*\[ERR_METHOD_NOT_FOUND\]/);
        assert.equal(spawned.code, 0, spawned.stderr);
        assert.deepEqual(JSON.parse(spawned.stdout), described, "a child on stdio describes the same service");
      } finally {
        await closed.close();
      }
    });
  }
});
