/**
 * `spawn` and `serveStdio` with real child processes of the runtime running
 * the suite (each suite spawns only its own runtime's children): calls both
 * ways, streams, the child exiting or killed mid-call, a command that cannot
 * start, garbage on stdout, stderr left to logs, and `close()` ending the
 * child (a stubborn one by SIGKILL) without leaving the parent anything that
 * keeps it alive.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync, realpathSync } from "node:fs";
import { describe, it } from "node:test";
import {
  type ChildConnection,
  ChildExitedError,
  ConnectionClosedError,
  ProtocolError,
  spawn,
  type SpawnOptions,
  UsageError,
} from "../mod.ts";
import { run, runtimeName, scriptCommand, tempDir, waitFor } from "./_helpers.ts";
import type { Plugin } from "./fixtures/child/plugin.ts";

const PLUGIN = "test/fixtures/child/plugin.ts";

/** Starts the plugin fixture in this suite's runtime. */
function startPlugin(mode?: string, options: SpawnOptions = {}): Promise<ChildConnection<Plugin>> {
  const [command, args] = scriptCommand(runtimeName, PLUGIN, mode === undefined ? [] : [mode]);
  return spawn<Plugin>(command, args, { handlers: { double: (n: number) => 2 * n }, ...options });
}

/** Reads a stream to its end, as text. */
async function textOf(stream: ReadableStream<Uint8Array> | undefined): Promise<string> {
  assert.ok(stream, "stderr is piped");
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  return text;
}

/** Whether a process with this pid still runs: it has a /proc entry, and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    // The state follows the command name in parentheses, which may itself hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe(`spawn and serveStdio (${runtimeName})`, () => {
  it("calls, streams and is called back, with logs on stderr only, and ends the child cleanly on close", async () => {
    // Listeners given to spawn() hear what the child sends the moment the handshake is done.
    let announce!: (pid: unknown) => void;
    const ready = new Promise<unknown>((resolve) => (announce = resolve));
    const plugin = await startPlugin(undefined, { stderr: "pipe", notifications: { ready: announce } });
    const stderr = textOf(plugin.child.stderr);
    assert.equal(await ready, plugin.child.pid);
    assert.equal(plugin.info.transport, "stdio");
    assert.match(plugin.info.remoteAddress ?? "", /^exec:.*plugin\.(ts|js)$/);
    assert.deepEqual(plugin.session?.capabilities.includes("call-context"), true);

    assert.equal(await plugin.call("add", [2, 3]), 5);
    assert.equal(await plugin.call("callParent", 21), 42);
    assert.equal(await plugin.call("log", "hello"), "logged");
    const items: number[] = [];
    for await (const item of plugin.stream("count", 3)) items.push(item);
    assert.deepEqual(items, [1, 2, 3]);
    const upload = await plugin.open("sum");
    for (const n of [1, 2, 3]) await upload.send(n);
    await upload.end();
    assert.equal(await upload.result, 6);
    assert.equal(await plugin.call("sleep", 10_000, { timeout: 50 }).catch((error) => error.code), "ERR_TIMEOUT");
    // Larger than any pipe buffer, both ways at once: writes wait for the other side to read.
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const echoes = await Promise.all([plugin.call("echo", big), plugin.call("echo", big.subarray(7))]);
    assert.deepEqual(echoes.map((echo) => echo.length), [big.length, big.length - 7]);
    assert.ok(echoes[0]!.every((byte, i) => byte === i % 251), "the bytes came back unchanged");

    await plugin.close();
    assert.deepEqual(await plugin.child.exited, { code: 0, signal: null }, "it exited by itself once stdin ended");
    assert.equal(alive(plugin.child.pid), false);
    const logs = await stderr;
    for (const line of ["log: hello", "info: hello", "error: hello", "stderr: hello", "served until stdin ended"]) {
      assert.ok(logs.includes(line), `stderr has "${line}": ${logs}`);
    }
  });

  it("rejects pending calls with ChildExitedError carrying the exit code, or the signal", async () => {
    const exiting = await startPlugin();
    const pending = exiting.call("sleep", 10_000).catch((error: unknown) => error);
    assert.equal(await exiting.call("exitSoon", 3), "exiting");
    const error = await pending;
    assert.ok(error instanceof ChildExitedError, String(error));
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.code, "ERR_CHILD_EXITED");
    assert.equal(error.exitCode, 3);
    assert.equal(error.signal, null);
    assert.match(error.message, /exited with code 3/);
    assert.equal(exiting.closeError, error);
    await exiting.closed;
    await assert.rejects(exiting.call("add", [1, 1]), { code: "ERR_CHILD_EXITED" });
    await exiting.close();

    const killed = await startPlugin();
    const waiting = killed.call("sleep", 10_000).catch((error: unknown) => error);
    await killed.call("add", [0, 0]);
    killed.child.kill("SIGKILL");
    const killError = await waiting;
    assert.ok(killError instanceof ChildExitedError, String(killError));
    assert.deepEqual([killError.exitCode, killError.signal], [null, "SIGKILL"]);
    assert.match(killError.message, /was killed by SIGKILL/);
    await killed.close();
  });

  it("rejects spawn() with ERR_SPAWN_FAILED for a command or directory that does not exist", async () => {
    await assert.rejects(spawn("peerlink-no-such-command"), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.code, "ERR_SPAWN_FAILED");
      assert.match(error.message, /Cannot start "peerlink-no-such-command": no such command/);
      return true;
    });
    const [command, args] = scriptCommand(runtimeName, PLUGIN);
    await assert.rejects(spawn(command, args, { cwd: "/peerlink-no-such-directory" }), {
      code: "ERR_SPAWN_FAILED",
      message: /no directory \/peerlink-no-such-directory/,
    });
  });

  it("checks its arguments and options before starting anything", async () => {
    await assert.rejects(spawn(""), { code: "ERR_INVALID_ARGUMENT", message: /expected a command/ });
    await assert.rejects(spawn("true", ["a", 1 as unknown as string]), { code: "ERR_INVALID_ARGUMENT" });
    await assert.rejects(spawn("true", [], { killGrace: -1 }), { code: "ERR_INVALID_ARGUMENT", message: /killGrace/ });
    await assert.rejects(spawn("true", [], { stderr: "file" as "pipe" }), { code: "ERR_INVALID_ARGUMENT" });
    await assert.rejects(
      spawn("true", [], { secret: "x".repeat(16) } as SpawnOptions),
      { code: "ERR_INVALID_ARGUMENT", message: /secret/ },
    );
  });

  it("passes env and cwd, and ends on the child's garbage on stdout with a ProtocolError", async () => {
    const dir = tempDir();
    try {
      const plugin = await startPlugin("raw-console", { env: { PEERLINK_TEST_VALUE: "42" }, cwd: dir.path });
      assert.equal(await plugin.call("env", "PEERLINK_TEST_VALUE"), "42");
      assert.equal(realpathSync(await plugin.call("cwd")), realpathSync(dir.path));
      const error = await plugin.call("corrupt").catch((error: unknown) => error);
      assert.ok(error instanceof ConnectionClosedError, String(error));
      assert.ok(plugin.closeError instanceof ProtocolError, String(plugin.closeError));
      assert.equal(plugin.closeError.code, "ERR_FRAME_TOO_LARGE");
      // The connection's end ended the child's stdin; it exits by itself.
      assert.deepEqual(await plugin.child.exited, { code: 0, signal: null });
      await plugin.close();
    } finally {
      dir.cleanup();
    }
  });

  it("refuses a child that is not a peerlink server, and ends it", async () => {
    const started = Date.now();
    await assert.rejects(
      spawn("sh", ["-c", "echo not a peerlink server; exec sleep 30"], { killGrace: 100 }),
      (error: unknown) => {
        assert.ok(error instanceof ProtocolError, String(error));
        assert.match(error.message, /not a peerlink message/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, "sleep was ended by SIGTERM after the grace");
  });

  it("kills a child that ignores stdin's end and SIGTERM once the grace has passed twice", async () => {
    const plugin = await startPlugin("stubborn", { killGrace: 200, stderr: "pipe" });
    const stderr = textOf(plugin.child.stderr);
    assert.equal(await plugin.call("add", [1, 1]), 2);
    const started = Date.now();
    await plugin.close();
    const took = Date.now() - started;
    assert.deepEqual(await plugin.child.exited, { code: null, signal: "SIGKILL" });
    assert.ok(took >= 380, `close() took ${took} ms: stdin's end, 200 ms, SIGTERM, 200 ms, SIGKILL`);
    assert.equal(alive(plugin.child.pid), false);
    assert.match(await stderr, /ignoring SIGTERM/);
  });

  it("leaves nothing that keeps the parent alive after close(), and no child behind", async () => {
    const parent = await run(
      scriptCommand(runtimeName, "test/fixtures/child/parent_exits.ts", [
        JSON.stringify(scriptCommand(runtimeName, PLUGIN)),
      ]),
      15_000,
    );
    assert.equal(parent.code, 0, parent.stderr);
    const match = /^5 (\d+) done$/.exec(parent.stdout.trim());
    assert.ok(match, parent.stdout);
    assert.equal(alive(Number(match[1])), false);
  });

  it("lets the child exit by itself when the parent exits without closing", async () => {
    const parent = await run(
      scriptCommand(runtimeName, "test/fixtures/child/parent_exits.ts", [
        JSON.stringify(scriptCommand(runtimeName, PLUGIN)),
        "abandon",
      ]),
      15_000,
    );
    assert.equal(parent.code, 0, parent.stderr);
    const match = /^5 (\d+) done$/.exec(parent.stdout.trim());
    assert.ok(match, parent.stdout);
    await waitFor(() => !alive(Number(match[1])), "the orphaned plugin exited", 3000);
  });
});
