/**
 * A server removes its socket file on close only while the file is still
 * the one it created: after the file was replaced and another server took
 * the path, stopping the first server must leave the second one reachable.
 * Runs in the runtime running the tests, on `unix:` and `seqpacket:`.
 */

import assert from "node:assert/strict";
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, listen } from "../mod.ts";
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
});
