import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { listen, type RpcServer } from "../mod.ts";
import { demoService } from "../cli/demo_service.ts";
import { run, runtimeName, runtimes, scriptCommand, tempDir } from "./_helpers.ts";

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
  for (const runtime of runtimes) {
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
      assert.match(usage.stderr, /Usage:/);
      assert.equal(noServer.code, 1);
      assert.match(noServer.stderr, /\[ERR_CONNECTION_FAILED\]/);
    });
  }
});
