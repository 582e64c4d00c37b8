/**
 * A server removes its socket file on close only while the file is still
 * the one it created: after the file was replaced and another server took
 * the path, stopping the first server must leave the second one reachable.
 * Servers that start on one path at the same moment, or while another one
 * stops, never both think they own it. Runs in the runtime running the
 * tests, on `unix:` and `seqpacket:`.
 */

import assert from "node:assert/strict";
import { existsSync, lstatSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, listen, type RpcServer } from "../mod.ts";
import { tempDir } from "./_helpers.ts";

const echo = { echo: (value: unknown) => value };

describe("socket file ownership", () => {
  for (const transport of ["unix", "seqpacket"] as const) {
    it(`closing a ${transport} server leaves a newer server's socket file alone`, async () => {
      const dir = tempDir();
      const address = `${transport}:${join(dir.path, "shared.sock")}`;
      const path = join(dir.path, "shared.sock");
      const first = await listen(address, { handlers: { echo: () => "first" } });
      unlinkSync(path);
      const second = await listen(address, { handlers: echo });
      try {
        await first.close();
        assert.ok(existsSync(path) && lstatSync(path).isSocket(), "the second server's socket file survived");
        const client = await connect(address);
        assert.equal(await client.call("echo", "second"), "second");
        await client.close();
      } finally {
        await first.close();
        await second.close();
      }
      assert.equal(existsSync(path), false, "the second server removed its own file");
      dir.cleanup();
    });
  }

  for (const transport of ["unix", "seqpacket"] as const) {
    it(`two ${transport} servers starting on one stale path at once: exactly one wins, and it is reachable`, async () => {
      const dir = tempDir();
      const path = join(dir.path, "contested.sock");
      const address = `${transport}:${path}`;
      try {
        for (let round = 0; round < 15; round++) {
          // A stale file: a server that stopped without removing its file (its file was linked away and back).
          const stale = await listen(address);
          const kept = join(dir.path, `kept-${round}`);
          (await import("node:fs")).linkSync(path, kept);
          await stale.close();
          (await import("node:fs")).renameSync(kept, path);
          const results = await Promise.allSettled(
            ["a", "b"].map((name) => listen(address, { handlers: { who: () => name } })),
          );
          const won = results.filter((result) => result.status === "fulfilled") as PromiseFulfilledResult<RpcServer>[];
          const lost = results.filter((result) => result.status === "rejected") as PromiseRejectedResult[];
          assert.equal(won.length, 1, `round ${round}: ${won.length} servers think they listen on ${path}`);
          assert.equal((lost[0]!.reason as { code?: string }).code, "ERR_ADDRESS_IN_USE");
          const client = await connect(address);
          assert.ok(["a", "b"].includes(await client.call("who") as string), "the winner answers at the path");
          await client.close();
          await won[0]!.value.close();
          assert.equal(existsSync(path), false, "the winner removed its file");
        }
        assert.deepEqual(readdirSync(dir.path).filter((name) => name.startsWith(".pl-")), [], "no staging leftovers");
      } finally {
        dir.cleanup();
      }
    });

    it(`a ${transport} server starting while the previous one stops keeps its file`, async () => {
      const dir = tempDir();
      const path = join(dir.path, "handover.sock");
      const address = `${transport}:${path}`;
      try {
        for (let round = 0; round < 15; round++) {
          const old = await listen(address);
          // Stop the old server and start the new one at the same moment; retry while the old one still holds the path.
          const closing = old.close();
          let next: RpcServer | undefined;
          for (let attempt = 0; next === undefined; attempt++) {
            try {
              next = await listen(address, { handlers: { who: () => "next" } });
            } catch (error) {
              if ((error as { code?: string }).code !== "ERR_ADDRESS_IN_USE" || attempt > 50) throw error;
            }
          }
          await closing;
          assert.ok(existsSync(path), `round ${round}: the new server's file is there after the old one closed`);
          const client = await connect(address);
          assert.equal(await client.call("who"), "next");
          await client.close();
          await next.close();
        }
      } finally {
        dir.cleanup();
      }
    });
  }
});
