import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PeerlinkError } from "../src/base/errors.ts";
import { assertSupportedNode, MINIMUM_NODE_MAJOR } from "../adapters/node/node_version.ts";
import { run, runtimes, scriptCommand } from "./_helpers.ts";

/** Asserts that `assertSupportedNode(version)` throws a PeerlinkError with `code` and a message matching `message`. */
function assertRefused(version: string, code: string, message: RegExp): void {
  assert.throws(
    () => assertSupportedNode(version),
    (error: unknown) => {
      assert.ok(error instanceof PeerlinkError, `expected a PeerlinkError, got ${String(error)}`);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe("assertSupportedNode", () => {
  it("accepts Node 22 and newer, with or without the leading v", () => {
    assert.equal(MINIMUM_NODE_MAJOR, 22);
    for (const version of ["22.0.0", "v22.23.5", "24.22.3", "v26.12.1", "27.0.0-pre", "100.1.2"]) {
      assert.doesNotThrow(() => assertSupportedNode(version), `Node ${version} should be supported`);
    }
  });

  it("refuses older Nodes with a message naming the version found", () => {
    assertRefused(
      "20.20.2",
      "ERR_UNSUPPORTED_PLATFORM",
      /^peerlink needs Node\.js 22 or newer, found Node\.js 20\.20\.2$/,
    );
    assertRefused("v21.7.3", "ERR_UNSUPPORTED_PLATFORM", /found Node\.js 21\.7\.3$/);
    assertRefused("v18.0.0", "ERR_UNSUPPORTED_PLATFORM", /found Node\.js 18\.0\.0$/);
  });

  it("refuses strings that are not versions", () => {
    for (const version of ["", "22", "latest", "v22.x", "node 22.1.0"]) {
      assertRefused(version, "ERR_INVALID_ARGUMENT", /^Expected a Node\.js version such as "22\.12\.0", found "/);
    }
  });
});

describe("importing the Node version check", () => {
  const refusal = {
    imported: false,
    code: "ERR_UNSUPPORTED_PLATFORM",
    message: "peerlink needs Node.js 22 or newer, found Node.js 20.20.2",
  };
  for (const runtime of runtimes) {
    // Deno and Bun set process.versions.node as well; only Node may be refused.
    const cases = [
      { claimed: "20.20.2", expected: runtime === "node" ? refusal : { imported: true } },
      { claimed: "22.0.0", expected: { imported: true } },
    ];
    for (const { claimed, expected } of cases) {
      const outcome = expected.imported ? "succeeds" : "fails";
      it(`in ${runtime} with process.versions.node = "${claimed}" ${outcome}`, async () => {
        const result = await run(scriptCommand(runtime, "test/fixtures/node_version/import_claiming.ts", [claimed]));
        const line = result.stdout.split("\n").find((text) => text.startsWith("NODE-VERSION-REPORT "));
        assert.ok(line, `no report from ${runtime}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
        assert.deepEqual(JSON.parse(line.slice("NODE-VERSION-REPORT ".length)), expected);
      });
    }
  }
});
