/**
 * `spawn(..., { channel: "seqpacket" })` and `serveStdio` on the seqpacket
 * channel, with real child processes of the runtime running the suite:
 * calls both ways with descriptors, the connection's info and credentials,
 * the variable and descriptor as the child finds them (and as its own
 * children find them: neither reaches a grandchild), stdout left free (and
 * kept off a parent's protocol stdout), the child exiting mid-call (also
 * when the socket reports it as ECONNRESET), `close()` ending the child
 * without leaking a descriptor or keeping the parent alive, a variable that
 * names no seqpacket socket, and option, permission and platform checks
 * before anything starts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn as spawnProcess } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, it } from "node:test";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { ChildPacketSocket } from "../src/transport/child_channel.ts";
import { createSeqpacketOperations } from "../adapters/seqpacket/operations.ts";
import { type ChildConnection, ChildExitedError, spawn, type SpawnOptions, UsageError } from "../mod.ts";
import { bindChild } from "../src/api/bind_child.ts";
import { run, runtimeName, scriptCommand, tempDir } from "./_helpers.ts";
import type { Plugin } from "./fixtures/child_seqpacket/plugin.ts";

const PLUGIN = "test/fixtures/child_seqpacket/plugin.ts";

/** Starts the plugin fixture in this suite's runtime, on a seqpacket channel. */
function startPlugin(options: SpawnOptions = {}): Promise<ChildConnection<Plugin>> {
  const [command, args] = scriptCommand(runtimeName, PLUGIN);
  return spawn<Plugin>(command, args, { channel: "seqpacket", ...options });
}

/** The descriptors open in this process, as /proc/self/fd lists them. */
function openFds(): string[] {
  return readdirSync("/proc/self/fd").sort();
}

/** What the plugin prints in `expect-error` mode. */
interface ChildError {
  code?: string;
  message?: string;
  /** The message of a second `serveStdio` in the same process. */
  again?: string;
  /** Whether descriptor 3 was close-on-exec after the refusal (`null`: not open). */
  cloexec?: boolean | null;
}

/** Runs the plugin in `expect-error` mode with `fd3` as its descriptor 3 and the variable set to `variable`. */
async function childError(
  variable: string,
  fd3: number | "pipe" | "ignore",
  extra: string[] = [],
): Promise<ChildError> {
  const [command, args] = scriptCommand(runtimeName, PLUGIN, ["expect-error", ...extra]);
  const child: ChildProcess = spawnProcess(command, args, {
    stdio: ["ignore", "pipe", "inherit", fd3],
    env: { ...process.env, PEERLINK_CHANNEL: variable },
  });
  let stdout = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (stdout += new TextDecoder().decode(chunk)));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, stdout);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

describe(`spawn with channel: "seqpacket" (${runtimeName})`, () => {
  it("calls the child and passes descriptors both ways, with the child's pid as the peer's", async () => {
    const dir = tempDir();
    const plugin = await startPlugin();
    try {
      assert.equal(await plugin.call("add", [2, 3]), 5);
      assert.equal(plugin.info.transport, "seqpacket");
      assert.match(plugin.info.remoteAddress ?? "", /^exec:.*plugin\.(ts|js)$/);
      assert.equal(plugin.info.credentials?.pid, plugin.child.pid);
      assert.equal(plugin.info.credentials?.uid, process.getuid?.());
      assert.deepEqual(await plugin.call("whoAmI"), {
        pid: plugin.child.pid,
        ppid: process.pid,
        peerPid: process.pid,
        transport: "seqpacket",
      });
      assert.deepEqual(await plugin.call("channelState"), {
        variable: null,
        denoExtra: null,
        cloexec: true,
        nonblocking: true,
        nonblockingAtStart: false,
        copies: ["3"],
      });

      const file = join(dir.path, "to-child.txt");
      writeFileSync(file, "read by the child");
      const fd = openSync(file, "r");
      try {
        assert.equal(await plugin.call("readPassed", undefined, { fds: [fd] }), "read by the child");
      } finally {
        closeSync(fd);
      }

      const { value, fds: [handle] } = await plugin.callWithFds("writeBack", {
        path: join(dir.path, "from-child.txt"),
        text: "written by the child",
      });
      assert.deepEqual(value, { written: 20 });
      assert.ok(handle, "a descriptor came back");
      using back = handle;
      assert.equal(readFileSync(`/proc/self/fd/${back.fd}`, "utf8"), "written by the child");
    } finally {
      await plugin.close();
      dir.cleanup();
    }
    assert.deepEqual(
      await plugin.child.exited,
      { code: 0, signal: null },
      "it exited by itself once the channel ended",
    );
  });

  it("leaves stdout to the child's logs, and nothing that keeps the parent alive after close()", async () => {
    const parent = await run(
      scriptCommand(runtimeName, "test/fixtures/child_seqpacket/parent.ts", [
        JSON.stringify(scriptCommand(runtimeName, PLUGIN)),
      ]),
      15_000,
    );
    assert.equal(parent.code, 0, parent.stderr);
    assert.match(parent.stdout, /^stdout: hello$/m);
    assert.match(parent.stdout, /^console: hello$/m, "console.log is not redirected on a seqpacket channel");
    assert.match(parent.stdout, /^5 \d+ done$/m);
  });

  it("rejects pending calls with ChildExitedError carrying the exit code", async () => {
    const plugin = await startPlugin();
    const pending = plugin.call("sleep", 10_000).catch((error: unknown) => error);
    assert.equal(await plugin.call("exitSoon", 3), "exiting");
    const error = await pending;
    assert.ok(error instanceof ChildExitedError, String(error));
    assert.equal(error.code, "ERR_CHILD_EXITED");
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /exited with code 3/);
    assert.equal(plugin.closeError, error);
    await assert.rejects(plugin.call("add", [1, 1]), { code: "ERR_CHILD_EXITED" });
    await plugin.close();
  });

  it("ends the child on close() and leaks no descriptor", async () => {
    // A first child loads the seqpacket layer (its epoll set, its watcher), which stays for the process.
    await (await startPlugin()).close();
    const before = openFds();
    const plugin = await startPlugin({ killGrace: 5000 });
    assert.equal(await plugin.call("add", [1, 2]), 3);
    const pending = plugin.call("sleep", 10_000).catch((error: unknown) => error);
    const started = Date.now();
    await plugin.close();
    assert.ok(Date.now() - started < 4000, "the child exited once its channel closed, before any signal");
    assert.deepEqual(await plugin.child.exited, { code: 0, signal: null });
    assert.equal((await pending as { code?: string }).code, "ERR_CONNECTION_CLOSED");
    assert.deepEqual(openFds(), before);
    // A child that cannot start leaves no end of the pair open either.
    await assert.rejects(spawn("peerlink-no-such-command", [], { channel: "seqpacket" }), {
      code: "ERR_SPAWN_FAILED",
      message: /no such command/,
    });
    assert.deepEqual(openFds(), before);
  });

  it("refuses a channel variable that names no seqpacket socket with ERR_INVALID_ADDRESS", async () => {
    const dir = tempDir();
    const file = join(dir.path, "not-a-socket");
    writeFileSync(file, "");
    const fd = openSync(file, "r");
    try {
      const notSocket = await childError("seqpacket:3", fd);
      assert.equal(notSocket.code, "ERR_INVALID_ADDRESS");
      assert.match(notSocket.message ?? "", /PEERLINK_CHANNEL=seqpacket:3: descriptor 3 is not a socket/);
      assert.equal(notSocket.cloexec, true, "a refused descriptor is not passed on to the child's children");
      assert.equal(notSocket.again, notSocket.message, "the refusal gave stdio back");
    } finally {
      closeSync(fd);
      dir.cleanup();
    }
    // A "pipe" beyond stdio is a Unix stream socket in every runtime's node:child_process.
    const stream = await childError("seqpacket:3", "pipe");
    assert.equal(stream.code, "ERR_INVALID_ADDRESS");
    assert.match(stream.message ?? "", /descriptor 3 is a Unix socket of type 1/);
    const closed = await childError("seqpacket:987", "ignore");
    assert.equal(closed.code, "ERR_INVALID_ADDRESS");
    assert.match(closed.message ?? "", /descriptor 987 is not open/);
    const malformed = await childError("unix:3", "ignore");
    assert.equal(malformed.code, "ERR_INVALID_ADDRESS");
    assert.match(malformed.message ?? "", /PEERLINK_CHANNEL/);
  });

  it("gives stdio back when the server cannot start on the channel", async () => {
    // Through spawn's channel: the plugin prints on its stdout, which is the parent fixture's.
    const parent = await run(
      scriptCommand(runtimeName, "test/fixtures/child_seqpacket/parent.ts", [
        JSON.stringify(scriptCommand(runtimeName, PLUGIN, ["expect-error", "collide"])),
        "expect-failure",
      ]),
      15_000,
    );
    assert.equal(parent.code, 0, parent.stderr);
    const result = JSON.parse(parent.stdout.trim().split("\n").find((line) => line.startsWith("{"))!) as ChildError;
    assert.equal(result.code, "ERR_INVALID_ARGUMENT");
    assert.match(result.message ?? "", /service id/);
    // Not "called before": the failed call gave stdio back (and closed the channel it had taken).
    assert.match(result.again ?? "", /PEERLINK_CHANNEL=seqpacket:3: descriptor 3 is not open/);
    assert.match(parent.stdout, /^spawn failed: ERR_CHILD_EXITED$/m);
  });

  it("checks channel like every other option, before anything starts", async () => {
    await assert.rejects(
      spawn("true", [], { channel: "socket" as "stdio" }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.code, "ERR_INVALID_ARGUMENT");
        assert.match(error.message, /channel/);
        assert.match(error.message, /"stdio" or "seqpacket"/);
        return true;
      },
    );
    // The limits of one channel are refused on the other, where they would be ignored.
    await assert.rejects(spawn("true", [], { maxFds: 4 }), {
      code: "ERR_INVALID_ARGUMENT",
      message: /"maxFds" of spawn\(\) applies to channel: "seqpacket" only, found it with channel: "stdio"/,
    });
    await assert.rejects(spawn("true", [], { channel: "stdio", maxPacketSize: 4096 }), { message: /maxPacketSize/ });
    await assert.rejects(spawn("true", [], { channel: "seqpacket", frameTimeout: 100 }), {
      code: "ERR_INVALID_ARGUMENT",
      message: /"frameTimeout" of spawn\(\) applies to channel: "stdio" only/,
    });
    await assert.rejects(spawn("true", [], { channel: "seqpacket", maxMessageSize: 4096 }), {
      message: /maxMessageSize/,
    });
  });

  for (const when of ["early", "late"] as const) {
    it(`keeps the channel from the child's own sub-plugin (started ${when === "early" ? "before" : "after"} serving)`, async () => {
      const sub = scriptCommand(runtimeName, PLUGIN, ["report"]);
      const [command, args] = scriptCommand(runtimeName, PLUGIN, [`nested-${when}`, JSON.stringify(sub)]);
      const nested = await spawn<Plugin>(command, args, { channel: "seqpacket" });
      try {
        const { channel, sub: report } = await nested.call("subReport");
        assert.match(channel ?? "", /^socket:/);
        assert.equal(report.variable, null, "the sub-plugin does not see PEERLINK_CHANNEL");
        assert.equal(report.denoExtra, null);
        assert.deepEqual(report.fds.filter((entry) => entry.endsWith(`=${channel}`)), [], "nor the channel");
        assert.equal(await nested.call("add", [1, 2]), 3, "and the plugin still serves its own parent");
      } finally {
        await nested.close();
      }
    });
  }

  it("keeps a seqpacket child's stdout off a stdout that carries a connection", async () => {
    // top (this process) -> middle, over stdio -> leaf, over seqpacket, which writes to its stdout.
    const leaf = scriptCommand(runtimeName, PLUGIN);
    const [command, args] = scriptCommand(runtimeName, PLUGIN, ["middle", JSON.stringify(leaf)]);
    const middle = await spawn<Plugin>(command, args, { stderr: "pipe" });
    const stderr = (async () => {
      let text = "";
      for await (const chunk of middle.child.stderr as unknown as AsyncIterable<Uint8Array>) {
        text += new TextDecoder().decode(chunk);
      }
      return text;
    })();
    try {
      assert.equal(await middle.call("viaLeaf", "from the leaf"), "shouted");
      assert.equal(await middle.call("viaLeaf", "again"), "shouted", "the connection to the middle survived");
    } finally {
      await middle.close();
    }
    const logs = await stderr;
    assert.match(logs, /^stdout: from the leaf$/m, "the leaf's stdout went to the middle's stderr");
    assert.match(logs, /^console: again$/m);
  });

  it("reports the child's exit when the socket says ECONNRESET to poll", async () => {
    const runtime = await loadRuntimeAdapter();
    const child = await runtime.spawnChild("true", { args: [], stderr: "ignore" });
    await child.stdio?.close();
    await child.exited;
    const [own, other] = await runtime.seqpacketPair({});
    // A peer that closes with a datagram unread makes this end's next recvmsg fail with ECONNRESET.
    await own.send(new Uint8Array(16), []);
    await other.send(new Uint8Array(16), []);
    await other.close();
    const socket = new ChildPacketSocket(own, child, "true");
    try {
      assert.ok(socket.poll, "the socket has a poll");
      assert.equal(socket.poll(), undefined, "poll keeps the error for receive");
      await assert.rejects(socket.receive(), (error: unknown) => {
        assert.ok(error instanceof ChildExitedError, String(error));
        assert.equal(error.exitCode, 0);
        assert.match(String((error.cause as Error | undefined)?.message), /ECONNRESET/);
        return true;
      });
    } finally {
      await socket.close();
    }
  });

  it("names the permission a Deno parent lacks", { skip: runtimeName !== "deno" }, async () => {
    const [deno, [, ...rest]] = scriptCommand("deno", "test/fixtures/child_seqpacket/parent.ts", ["[]", "permission"]);
    // Without --allow-env, which node:child_process needs to pass the environment on.
    const args = [
      "run",
      "--no-check",
      "--allow-read",
      "--allow-ffi",
      "--allow-run",
      ...rest.filter((arg) => arg !== "-A" && arg !== "--no-check"),
    ];
    const parent = await run([deno, args], 15_000);
    assert.equal(parent.code, 0, parent.stderr);
    assert.match(parent.stdout, /^spawn failed: ERR_PERMISSION_DENIED .*--allow-env/m);
  });

  it("is ERR_UNSUPPORTED_PLATFORM off Linux, before any process is spawned", async () => {
    const runtime = await loadRuntimeAdapter();
    let spawned = false;
    const offLinux = createSeqpacketOperations({
      os: () => "darwin",
      arch: () => "arm64",
      loadBackend: () => Promise.reject(new Error("must not be loaded")),
    });
    const { spawn: spawnOffLinux } = bindChild(() =>
      Promise.resolve({
        ...runtime,
        ...offLinux,
        spawnChild: (command, settings) => {
          spawned = true;
          return runtime.spawnChild(command, settings);
        },
      })
    );
    await assert.rejects(spawnOffLinux("true", [], { channel: "seqpacket" }), {
      code: "ERR_UNSUPPORTED_PLATFORM",
      message: /found darwin on arm64/,
    });
    assert.equal(spawned, false);
  });
});
