/**
 * The cross-runtime matrix, as real processes: a demo server (`cli/main.ts
 * serve`) in each runtime on `unix:`, `tcp://` and `tls://` (a pinned
 * self-signed certificate), and a client (`test/fixtures/matrix_client.ts`)
 * in each runtime against all three: calls, out-of-order answers, server and
 * client streaming, a timeout and an 8 MiB byte string echoed and compared.
 * The three servers of a runtime run at once and each client process takes
 * all three addresses, so the 3 × 3 × 3 matrix costs 9 server and 9 client
 * processes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { generateCertificate } from "../mod.ts";
import { run, type RunningProcess, runtimeName, runtimes, scriptCommand, start, tempDir } from "./_helpers.ts";

const dir = tempDir();
const certPath = join(dir.path, "cert.pem");
const keyPath = join(dir.path, "key.pem");
const { cert, key, fingerprint256: pin } = await generateCertificate();
writeFileSync(certPath, cert);
writeFileSync(keyPath, key);
after(() => dir.cleanup());

/** The address a server prints in its "serving" line (the real port when it was given port 0). */
async function servingAddress(server: RunningProcess): Promise<string> {
  await server.waitFor(" on ");
  return /serving (\S+) on/.exec(server.stdout())![1]!;
}

describe("cross-runtime matrix: a server in each runtime, a client in each runtime, on unix:, tcp:// and tls://", () => {
  // Each suite runs the servers of its own runtime (and Node version); the three suites together make all nine pairs.
  for (const serverRuntime of [runtimeName]) {
    it(`${serverRuntime} servers answer deno, bun and node clients`, async () => {
      const path = join(dir.path, `${serverRuntime}.sock`);
      const servers = [
        start(scriptCommand(serverRuntime, "cli/main.ts", ["serve", `unix:${path}`])),
        start(scriptCommand(serverRuntime, "cli/main.ts", ["serve", "tcp://127.0.0.1:0"])),
        start(
          scriptCommand(serverRuntime, "cli/main.ts", [
            "serve",
            "tls://127.0.0.1:0",
            "--cert",
            certPath,
            "--key",
            keyPath,
          ]),
        ),
      ];
      try {
        const addresses = await Promise.all(servers.map(servingAddress));
        assert.match(addresses[1]!, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
        assert.match(addresses[2]!, /^tls:\/\/127\.0\.0\.1:[1-9]\d*$/);
        const results = await Promise.all(
          runtimes.map((clientRuntime) =>
            run(scriptCommand(clientRuntime, "test/fixtures/matrix_client.ts", ["--pin", pin, ...addresses]), 60_000)
          ),
        );
        results.forEach((result, index) => {
          const clientRuntime = runtimes[index];
          assert.equal(result.code, 0, `${clientRuntime} client failed: ${result.stderr}`);
          const reports = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
          assert.equal(reports.length, 3, result.stdout);
          reports.forEach((report, i) => {
            const kind = addresses[i]!.replace(/:.*/, "");
            // Sent first, answered last: responses come back out of order.
            assert.equal(report.finished.at(-1), "slow", `completion order ${report.finished}`);
            assert.deepEqual(report, {
              address: addresses[i],
              client: clientRuntime,
              server: serverRuntime,
              add: 42,
              slow: 250,
              fast: 10,
              echoed: { bytes: [1, 2, 255], text: "héllo", list: [1, -2.5, null, true] },
              finished: report.finished,
              items: [1, 2, 3, 4, 5],
              sum: 10,
              timeout: "ERR_TIMEOUT",
              bigEchoed: true,
              transport: { client: kind, server: kind, tls: kind === "tls" },
            });
          });
        });
      } finally {
        // A graceful shutdown on SIGTERM removes the socket file. (Deno's child_process reports the
        // signal it sent instead of the child's exit code, so the file is the portable evidence.)
        const stopped = await Promise.all(servers.map((server) => server.stop()));
        assert.equal(existsSync(path), false, `server did not shut down cleanly: ${stopped[0]!.stderr}`);
      }
    });
  }
});
