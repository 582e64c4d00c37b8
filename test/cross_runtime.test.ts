import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { run, runtimes, scriptCommand, start, tempDir } from "./_helpers.ts";

const dir = tempDir();
after(() => dir.cleanup());

describe("cross-runtime matrix: a server in each runtime, a client in each runtime", () => {
  for (const serverRuntime of runtimes) {
    it(`${serverRuntime} server answers deno, bun and node clients`, async () => {
      const path = join(dir.path, `${serverRuntime}.sock`);
      const address = `unix:${path}`;
      const server = start(scriptCommand(serverRuntime, "cli/main.ts", ["serve", address]));
      try {
        await server.waitFor("serving");
        const results = await Promise.all(
          runtimes.map((clientRuntime) =>
            run(scriptCommand(clientRuntime, "test/fixtures/matrix_client.ts", [address]))
          ),
        );
        results.forEach((result, index) => {
          const clientRuntime = runtimes[index];
          assert.equal(result.code, 0, `${clientRuntime} client failed: ${result.stderr}`);
          const report = JSON.parse(result.stdout.trim().split("\n").pop()!);
          // Sent first, answered last: responses come back out of order.
          assert.equal(report.finished.at(-1), "slow", `completion order ${report.finished}`);
          assert.deepEqual(report, {
            client: clientRuntime,
            server: serverRuntime,
            add: 42,
            slow: 250,
            fast: 10,
            echoed: { bytes: [1, 2, 255], text: "héllo", list: [1, -2.5, null, true] },
            finished: report.finished,
            items: [1, 2, 3, 4, 5],
            timeout: "ERR_TIMEOUT",
          });
        });
      } finally {
        // A graceful shutdown on SIGTERM removes the socket file. (Deno's child_process reports the
        // signal it sent instead of the child's exit code, so the file is the portable evidence.)
        const stopped = await server.stop();
        assert.equal(existsSync(path), false, `server did not shut down cleanly: ${stopped.stderr}`);
      }
    });
  }
});
