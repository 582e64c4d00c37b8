/**
 * koffi is an optional peer dependency: a Node process that uses a
 * `seqpacket:` socket without it gets a typed error saying what to install.
 * Runs a real Node child process under every runtime.
 */

import assert from "node:assert/strict";
import { it } from "node:test";
import { run, scriptCommand } from "./_helpers.ts";

it("seqpacket on Node without koffi throws ERR_UNSUPPORTED_PLATFORM naming `npm install koffi`", async () => {
  const result = await run(scriptCommand("node", "test/fixtures/seqpacket/without_koffi.ts"));
  assert.equal(result.code, 0, result.stderr);
  const outcome = JSON.parse(result.stdout) as { code?: string; message?: string; causeCode?: string };
  assert.equal(outcome.code, "ERR_UNSUPPORTED_PLATFORM", result.stdout);
  assert.match(outcome.message ?? "", /Seqpacket sockets on Node need the koffi package.*npm install koffi/);
  assert.equal(outcome.causeCode, "ERR_MODULE_NOT_FOUND", "the import error is the cause");
});
