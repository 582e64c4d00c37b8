import assert from "node:assert/strict";
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { generateCertificate, type HandlerContext, listen, type RpcServer } from "../mod.ts";
import { listenTransport, Peer } from "../peer.ts";
import { demoService } from "../cli/demo_service.ts";
import {
  abstractName,
  buildDir,
  type ProcessResult,
  repoRoot,
  run,
  type RunningProcess,
  runtimeName,
  scriptCommand,
  start,
  tempDir,
  waitFor,
} from "./_helpers.ts";

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
      assert.match(usage.stderr, /Unknown command "frobnicate"/);
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
        const [pinned, trusted, streamed, noClientCert, wrongPin, shown] = await Promise.all([
          cli("call", address, "connection", "--pin", serverMade.fingerprint256, ...clientCert),
          cli("call", address, "add", "[1, 2]", "--ca", server.cert, "--server-name", "localhost", ...clientCert),
          cli("stream", address, "count", "2", "--pin", server.cert, ...clientCert),
          cli("call", address, "add", "[1]", "--pin", serverMade.fingerprint256),
          cli("call", address, "add", "[1]", "--pin", ca.fingerprint256, ...clientCert),
          cli("info", address, "--pin", serverMade.fingerprint256, ...clientCert),
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
        assert.equal(shown.code, 0, shown.stderr);
        const report = JSON.parse(shown.stdout);
        assert.equal(report.transport, "tls");
        assert.equal(
          report.tls.peerCertificate.fingerprint256,
          serverMade.fingerprint256,
          "info shows the server's certificate",
        );
        assert.equal(report.remote.host, "127.0.0.1");
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
      "call ADDRESS --raw SERVICE_ID",
      "stream ADDRESS",
      "describe ADDRESS",
      "info ADDRESS",
      "secret FILE",
      "--version",
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

/** Runs the CLI of this suite's runtime with `input` on its stdin. */
async function cliWithInput(input: string, ...args: string[]): Promise<ProcessResult> {
  const running = start(scriptCommand(runtimeName, "cli/main.ts", args));
  running.child.stdin!.end(input);
  return await running.exited;
}

/** The CLI of this suite's runtime. */
const cli = (...args: string[]) => run(scriptCommand(runtimeName, "cli/main.ts", args));

describe("peerlink --version and argument errors", () => {
  it(`prints the package version, and says what is wrong with a command line (${runtimeName})`, async () => {
    const manifest = buildDir === undefined ? join(repoRoot, "deno.json") : join(buildDir, "package.json");
    const version = JSON.parse(readFileSync(manifest, "utf8")).version;
    const [printed, unknown, none, noMethod, noAddress, extra, rawStream, badOption] = await Promise.all([
      cli("--version"),
      cli("frobnicate"),
      cli(),
      cli("call", address),
      cli("info"),
      cli("call", address, "add", "[1]", "surplus"),
      cli("stream", address, "--raw", "21"),
      cli("describe", address, "--frob"),
    ]);
    assert.deepEqual([printed.code, printed.stdout], [0, `peerlink ${version}\n`], printed.stderr);
    for (const failed of [unknown, none, noMethod, noAddress, extra, rawStream, badOption]) {
      assert.equal(failed.code, 2, failed.stderr);
      assert.equal(failed.stdout, "");
      assert.match(failed.stderr, /Run peerlink --help for every command and option\.\n$/);
    }
    assert.match(
      unknown.stderr,
      /^peerlink: Unknown command "frobnicate"\nCommands: serve, call, stream, describe, info,/,
    );
    assert.match(none.stderr, /^peerlink: Expected a command\n/);
    assert.match(
      noMethod.stderr,
      /^peerlink: call needs a METHOD after the ADDRESS\nUsage:\n {2}peerlink call ADDRESS/,
    );
    assert.match(noAddress.stderr, /^peerlink: info needs an ADDRESS\nUsage:\n {2}peerlink info ADDRESS/);
    assert.doesNotMatch(noAddress.stderr, /peerlink call/, "only the usage of the command at fault");
    assert.match(extra.stderr, /^peerlink: call got more arguments than it takes: "surplus"\n/);
    assert.match(rawStream.stderr, /^peerlink: --raw sends one request: use it with peerlink call\n/);
    assert.match(badOption.stderr, /^peerlink: Unknown option '--frob'.*\nUsage:\n {2}peerlink describe ADDRESS/);
  });
});

describe("peerlink call with params on stdin", () => {
  it(`reads JSON params from stdin for "-" (${runtimeName})`, async () => {
    const [added, streamed, bad] = await Promise.all([
      cliWithInput("[1, 2,\n 3]\n", "call", address, "add", "-"),
      cliWithInput("2", "stream", address, "count", "-"),
      cliWithInput("{oops", "call", address, "echo", "-"),
    ]);
    assert.deepEqual([added.code, added.stdout], [0, "6\n"], added.stderr);
    assert.deepEqual([streamed.code, streamed.stdout], [0, "1\n2\n"], streamed.stderr);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Parameters \(read from stdin\) are not valid JSON.*\[ERR_INVALID_ARGUMENT\]/);
  });
});

describe("peerlink info", () => {
  it(`shows the session, transport, addresses and the server's credentials (${runtimeName})`, async () => {
    const [command, args] = scriptCommand(runtimeName, "cli/main.ts", ["serve", "stdio"]);
    const child = `exec:${[command, ...args].map((word) => `'${word}'`).join(" ")}`;
    const [piped, table, fizyr, spawned, missing] = await Promise.all([
      cli("info", address),
      cli("info", address, "--table"),
      cli("info", address, "--fizyr", "--json"),
      cli("info", child),
      cli("info", `unix:${join(dir.path, "none.sock")}`),
    ]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout.split("\n").length, 2, "one line of JSON");
    const report = JSON.parse(piped.stdout);
    assert.equal(report.address, address);
    assert.equal(report.transport, "unix");
    assert.equal(report.remoteAddress, address);
    assert.deepEqual(report.credentials, { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    assert.equal(report.session.version, 1);
    assert.deepEqual(report.session.capabilities, ["call-context", "keepalive", "goaway"]);
    assert.equal(report.session.authenticated, false);

    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split("\n");
    assert.ok(lines.includes(`ADDRESS        ${address}`), table.stdout);
    assert.ok(lines.includes("TRANSPORT      unix"), table.stdout);
    assert.ok(lines.includes("PROTOCOL       peerlink 1"), table.stdout);
    assert.ok(lines.includes("CAPABILITIES   call-context, keepalive, goaway"), table.stdout);
    assert.ok(lines.includes("AUTHENTICATED  no"), table.stdout);
    assert.ok(lines.includes(`PEER PID       ${process.pid}`), table.stdout);

    assert.equal(fizyr.code, 0, fizyr.stderr);
    assert.equal(JSON.parse(fizyr.stdout).session, null, "plain fizyr-rpc has no session");
    assert.equal(spawned.code, 0, spawned.stderr);
    assert.equal(JSON.parse(spawned.stdout).session.version, 1, "a child on stdio has a session too");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[ERR_CONNECTION_FAILED\]/);
  });
});

describe("peerlink call --raw", () => {
  const fizyrAddress = `unix:${join(dir.path, `fizyr-${runtimeName}.sock`)}`;
  const peers: Peer[] = [];
  let listener: Awaited<ReturnType<typeof listenTransport>>;

  before(async () => {
    // A plain fizyr-rpc peer: answers each request with its service id as the status and the body reversed.
    listener = await listenTransport(fizyrAddress);
    void (async () => {
      for (let transport = await listener.accept(); transport; transport = await listener.accept()) {
        peers.push(
          new Peer(transport, {
            onRequest: (request) =>
              void request.respond(request.serviceId === 21 ? 0 : 7, request.body.slice().reverse()),
          }),
        );
      }
    })();
  });

  after(async () => {
    await listener.close();
    await Promise.all(peers.map((peer) => peer.close()));
  });

  it(`sends raw bodies in hex, base64 or text and prints the response (${runtimeName})`, async () => {
    const [hex, base64, text, failed, toPeerlink, badHex, badEncoding, withSecret] = await Promise.all([
      cli("call", fizyrAddress, "--raw", "21", "01 02 ff"),
      cli("call", fizyrAddress, "--raw", "21", "AQL/", "--encoding", "base64"),
      cliWithInput("olleH", "call", fizyrAddress, "--raw", "21", "-", "--encoding", "text"),
      cli("call", fizyrAddress, "--raw", "0x16", "00"),
      cli("call", address, "--raw", "add", "820102"),
      cli("call", fizyrAddress, "--raw", "21", "0g"),
      cli("call", fizyrAddress, "--raw", "21", "--encoding", "utf16"),
      cli("call", fizyrAddress, "--raw", "21", "--secret-file", join(dir.path, "none")),
    ]);
    assert.deepEqual(
      [hex.code, JSON.parse(hex.stdout)],
      [0, { status: 0, encoding: "hex", body: "ff0201" }],
      hex.stderr,
    );
    assert.deepEqual([base64.code, JSON.parse(base64.stdout)], [0, { status: 0, encoding: "base64", body: "/wIB" }]);
    assert.deepEqual([text.code, JSON.parse(text.stdout)], [0, { status: 0, encoding: "text", body: "Hello" }]);
    assert.deepEqual([failed.code, JSON.parse(failed.stdout)], [1, { status: 7, encoding: "hex", body: "00" }]);
    assert.deepEqual([toPeerlink.code, JSON.parse(toPeerlink.stdout)], [0, { status: 0, encoding: "hex", body: "03" }]);
    assert.equal(badHex.code, 1);
    assert.match(badHex.stderr, /not valid hex \(two digits per byte\): "0g" \[ERR_INVALID_ARGUMENT\]/);
    assert.equal(badEncoding.code, 1);
    assert.match(badEncoding.stderr, /Expected --encoding to be hex, base64, text, found "utf16"/);
    assert.equal(withSecret.code, 1);
    assert.match(withSecret.stderr, /--raw speaks plain fizyr-rpc.*--secret-file/);
  });
});

describe("peerlink call --fd", () => {
  it(`passes an open file with the call on seqpacket, and refuses other transports (${runtimeName})`, async () => {
    const seqpacket = `seqpacket:@${abstractName("cli-fd")}`;
    const file = join(dir.path, `passed-${runtimeName}.txt`);
    writeFileSync(file, "passed along\n");
    const fdServer = await listen(seqpacket, {
      handlers: {
        /** Where each descriptor points and what the first one holds (read through /proc). */
        readFds: (_: unknown, context: HandlerContext) => {
          try {
            const paths = context.fds.map((handle) => readlinkSync(`/proc/self/fd/${handle.fd}`));
            const text = context.fds.length === 0 ? null : readFileSync(`/proc/self/fd/${context.fds[0]!.fd}`, "utf8");
            return { paths, text };
          } finally {
            for (const handle of context.fds) handle.close();
          }
        },
      },
    });
    try {
      const [passed, two, none, onUnix, missing] = await Promise.all([
        cli("call", seqpacket, "readFds", "--fd", file),
        cli("call", seqpacket, "readFds", "--fd", file, "--fd", "/dev/null"),
        cli("call", seqpacket, "readFds"),
        cli("call", address, "echo", "1", "--fd", file),
        cli("call", seqpacket, "readFds", "--fd", join(dir.path, "no-such-file")),
      ]);
      assert.deepEqual([passed.code, JSON.parse(passed.stdout)], [0, { paths: [file], text: "passed along\n" }]);
      assert.deepEqual(JSON.parse(two.stdout), { paths: [file, "/dev/null"], text: "passed along\n" }, two.stderr);
      assert.deepEqual(JSON.parse(none.stdout), { paths: [], text: null }, none.stderr);
      assert.equal(onUnix.code, 1);
      assert.match(onUnix.stderr, /--fd needs a seqpacket: address.*found unix:.*\[ERR_INVALID_ARGUMENT\]/);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Cannot open --fd .*no-such-file.*\[ERR_INVALID_ARGUMENT\]/);
    } finally {
      await fdServer.close();
    }
  });
});

/**
 * Starts the CLI under sh, which writes its pid to a file and its exit status
 * on stderr once it ends: Deno's node:child_process reports the signal it
 * sent to a child rather than the status the child exited with. (sh starts
 * it with SIGINT ignored, as for any background job: only the CLI's own
 * handler makes it react to SIGINT at all.) `stop` kills the CLI too.
 */
function startReporting(
  label: string,
  args: string[],
): { running: RunningProcess; pid(): Promise<number>; stop(): Promise<unknown> } {
  const pidFile = join(dir.path, `${label}-${runtimeName}.pid`);
  const [command, commandArgs] = scriptCommand(runtimeName, "cli/main.ts", args);
  const script = 'pidfile=$1; shift; "$@" & echo $! > "$pidfile"; wait $!; echo "exit $?" >&2';
  const running = start(["sh", ["-c", script, "sh", pidFile, command, ...commandArgs]]);
  const pid = async (): Promise<number> => {
    let text = "";
    await waitFor(() => {
      text = existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "";
      return text.endsWith("\n");
    }, `sh writes the pid of ${label}`);
    return Number(text);
  };
  let ended = false;
  void running.exited.then(() => (ended = true));
  const stop = async (): Promise<unknown> => {
    try {
      if (!ended && existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // It had ended already.
    }
    return await running.stop();
  };
  return { running, pid, stop };
}

describe("peerlink stream and call on Ctrl-C", () => {
  it(`cancels the call on the server, prints nothing more and exits 130 (${runtimeName})`, async () => {
    const interruptible = `unix:${join(dir.path, `interrupt-${runtimeName}.sock`)}`;
    const seen = { ticking: false, tickAborted: false, waiting: false, waitAborted: false };
    const server = await listen(interruptible, {
      handlers: {
        /** Yields 1, 2, 3… every 20 ms until the caller cancels. */
        ticks: async function* (_: unknown, context: HandlerContext) {
          context.signal.addEventListener("abort", () => (seen.tickAborted = true));
          seen.ticking = true;
          for (let i = 1; !context.signal.aborted; i++) {
            yield i;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        },
        /** Answers only when cancelled. */
        wait: (_: unknown, context: HandlerContext) => {
          seen.waiting = true;
          return new Promise((_resolve, reject) =>
            context.signal.addEventListener("abort", () => {
              seen.waitAborted = true;
              reject(context.signal.reason);
            })
          );
        },
      },
    });
    const streaming = startReporting("stream", ["stream", interruptible, "ticks"]);
    const calling = startReporting("call", ["call", interruptible, "wait"]);
    try {
      await streaming.running.waitFor("3\n");
      process.kill(await streaming.pid(), "SIGINT");
      await waitFor(() => seen.waiting, "the call reaches the server", 15_000);
      process.kill(await calling.pid(), "SIGINT");
      const [streamed, called] = await Promise.all([streaming.running.exited, calling.running.exited]);
      assert.equal(streamed.stderr, "exit 130\n", "exits 130 with nothing on stderr");
      assert.match(streamed.stdout, /^1\n2\n3\n(\d+\n)*$/, "items only, nothing after them");
      assert.deepEqual([called.stdout, called.stderr], ["", "exit 130\n"]);
      await waitFor(() => seen.tickAborted && seen.waitAborted, "the server sees both cancels");
    } finally {
      await Promise.all([streaming.stop(), calling.stop()]);
      await server.close();
    }
  });
});

describe("peerlink on a terminal", () => {
  const hasScript = existsSync("/usr/bin/script");
  it(
    `prints indented results and tables when stdout is a terminal (${runtimeName})`,
    { skip: !hasScript },
    async () => {
      /** Runs the CLI with a pseudo-terminal as stdout (util-linux `script`); the terminal turns \n into \r\n. */
      const onTerminal = async (...args: string[]): Promise<string> => {
        const [command, commandArgs] = scriptCommand(runtimeName, "cli/main.ts", args);
        const line = [command, ...commandArgs].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(" ");
        const result = await run(["/usr/bin/script", ["-qec", line, "/dev/null"]]);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        return result.stdout.replaceAll("\r\n", "\n");
      };
      const [called, info, raw] = await Promise.all([
        onTerminal("call", address, "echo", '{"a":[1]}'),
        onTerminal("info", address),
        onTerminal("call", address, "--raw", "add", "820102"),
      ]);
      assert.equal(called, '{\n  "a": [\n    1\n  ]\n}\n');
      assert.match(info, /^ADDRESS +unix:.*\nTRANSPORT +unix\n/);
      assert.match(info, /\nPROTOCOL +peerlink 1\n/);
      assert.equal(raw, "STATUS  0\nBODY    03\n");
    },
  );
});
