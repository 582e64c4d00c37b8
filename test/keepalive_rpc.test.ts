/**
 * Keepalive through `listen` and `connect`, against a real process that is
 * frozen with SIGSTOP: the side still running declares the other dead,
 * closes the connection and fails what was pending with
 * `ERR_PEER_UNRESPONSIVE` — as a client whose server froze, and as a server
 * whose client froze. The other process is the `peerlink` CLI run by the
 * runtime running this file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { after, describe, it } from "node:test";
import { connect, type HandlerContext, listen } from "../mod.ts";
import { runtimeName, scriptCommand, start, tempDir, waitFor } from "./_helpers.ts";

const dir = tempDir();
after(() => dir.cleanup());

const KEEPALIVE = { interval: 100, timeout: 500 };

describe("keepalive against a stopped process", () => {
  it("a client whose server was stopped rejects its pending call with ERR_PEER_UNRESPONSIVE", async () => {
    const address = `unix:${join(dir.path, "frozen-server.sock")}`;
    const server = start(scriptCommand(runtimeName, "cli/main.ts", ["serve", address]));
    try {
      await server.waitFor("serving", 20_000);
      const client = await connect<{ sleep: (ms: number) => Promise<number> }>(address, { keepalive: KEEPALIVE });
      assert.equal(await client.call("sleep", 1), 1);
      const pending = client.call("sleep", 60_000);
      process.kill(server.child.pid!, "SIGSTOP");
      const stoppedAt = Date.now();
      await assert.rejects(pending, { code: "ERR_PEER_UNRESPONSIVE" });
      const waited = Date.now() - stoppedAt;
      assert.ok(waited >= KEEPALIVE.timeout - KEEPALIVE.interval, `declared dead after ${waited} ms`);
      await client.closed;
      assert.equal((client.closeError as { code?: string }).code, "ERR_PEER_UNRESPONSIVE");
    } finally {
      process.kill(server.child.pid!, "SIGCONT");
      await server.stop();
    }
  });

  it("a server whose client was stopped aborts the client's handler with ERR_PEER_UNRESPONSIVE", async () => {
    const address = `unix:${join(dir.path, "frozen-client.sock")}`;
    let aborted: unknown;
    let started = false;
    const errors: unknown[] = [];
    const server = await listen(address, {
      keepalive: KEEPALIVE,
      onError: (error) => errors.push(error),
      handlers: {
        sleep: (_: number, context: HandlerContext) =>
          new Promise<void>((resolve) => {
            started = true;
            context.signal.addEventListener("abort", () => {
              aborted = context.signal.reason;
              resolve();
            });
          }),
      },
    });
    const client = start(scriptCommand(runtimeName, "cli/main.ts", ["call", address, "sleep", "60000"]));
    try {
      await waitFor(() => started, "the client's call to arrive", 20_000);
      process.kill(client.child.pid!, "SIGSTOP");
      await waitFor(() => aborted !== undefined, "the handler to be aborted", 5_000);
      assert.equal((aborted as { code?: string }).code, "ERR_PEER_UNRESPONSIVE");
      await waitFor(() => server.connections.size === 0, "the connection to be closed");
      assert.ok(errors.some((error) => (error as { code?: string }).code === "ERR_PEER_UNRESPONSIVE"));
    } finally {
      process.kill(client.child.pid!, "SIGCONT");
      await client.stop();
      await server.close();
    }
  });
});
