import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, listen } from "../mod.ts";
import { parseAddress } from "../src/transport/address.ts";
import { abstractName, run, scriptCommand, start, tempDir } from "./_helpers.ts";

const echo = { echo: (value: unknown) => value };

/**
 * Serves on a socket file (with `mode`, or the default), checks the file,
 * makes a call, closes, and checks that the file is gone.
 */
async function servePath(path: string, mode: number | undefined, whileServing: () => void = () => {}): Promise<void> {
  const server = await listen(`unix:${path}`, mode === undefined ? { handlers: echo } : { handlers: echo, mode });
  assert.ok(statSync(path).isSocket());
  assert.equal(statSync(path).mode & 0o777, mode ?? 0o600);
  whileServing();
  const client = await connect(`unix:${path}`);
  assert.equal(await client.call("echo", path), path);
  await client.close();
  await server.close();
  assert.equal(existsSync(path), false, "close removed the socket file");
}

describe("unix socket addresses", () => {
  it("parses every documented form", () => {
    assert.deepEqual(parseAddress("unix:/run/app.sock"), { transport: "unix", path: "/run/app.sock", abstract: false });
    assert.deepEqual(parseAddress("unix:./app.sock"), { transport: "unix", path: "./app.sock", abstract: false });
    assert.deepEqual(parseAddress("/run/app.sock"), { transport: "unix", path: "/run/app.sock", abstract: false });
    assert.deepEqual(parseAddress("unix:@app"), { transport: "unix", path: "app", abstract: true });
    assert.deepEqual(parseAddress("seqpacket:@app"), { transport: "seqpacket", path: "app", abstract: true });
    for (const bad of ["", "tcp:1.2.3.4:5", "unix:", "unix:@", "app.sock", "unix:/a\0b"]) {
      assert.throws(() => parseAddress(bad), { code: "ERR_INVALID_ADDRESS" }, bad);
    }
  });

  it("serves on a filesystem path with mode 0600 and removes the file on close", async () => {
    const dir = tempDir();
    const path = join(dir.path, "app.sock");
    await servePath(path, undefined, () => {
      assert.deepEqual(readdirSync(dir.path), ["app.sock"], "the temporary name it was bound to is gone");
    });
    dir.cleanup();
  });

  it("applies a configured mode", async () => {
    const dir = tempDir();
    const path = join(dir.path, "shared.sock");
    const server = await listen(`unix:${path}`, { handlers: echo, mode: 0o660 });
    assert.equal(statSync(path).mode & 0o777, 0o660);
    await server.close();
    dir.cleanup();
  });

  it("serves on a 107-byte path, which leaves no room for a temporary name next to it", async () => {
    const dir = tempDir();
    const parent = join(dir.path, "d".repeat(107 - dir.path.length - "/a.sock".length - 1));
    mkdirSync(parent);
    const path = join(parent, "a.sock");
    assert.equal(new TextEncoder().encode(path).length, 107);
    await servePath(path, 0o640);
    dir.cleanup();
  });

  it("serves on a Linux abstract name", async () => {
    const address = `unix:@${abstractName("abstract")}`;
    const server = await listen(address, { handlers: echo });
    assert.equal(server.address, address);
    const client = await connect(address);
    assert.equal(await client.call("echo", "abstract"), "abstract");
    await client.close();
    await server.close();
    await assert.rejects(connect(address), { code: "ERR_CONNECTION_FAILED" });
  });

  it("refuses a second server on a live abstract name", async () => {
    const address = `unix:@${abstractName("busy")}`;
    const server = await listen(address, { handlers: echo });
    await assert.rejects(listen(address), { code: "ERR_ADDRESS_IN_USE" });
    await server.close();
  });

  it("refuses a live socket file with ERR_ADDRESS_IN_USE and leaves it working", async () => {
    const dir = tempDir();
    const path = join(dir.path, "live.sock");
    const server = await listen(`unix:${path}`, { handlers: echo });
    await assert.rejects(listen(`unix:${path}`), { code: "ERR_ADDRESS_IN_USE", message: /another server/ });
    const client = await connect(`unix:${path}`);
    assert.equal(await client.call("echo", 1), 1);
    await client.close();
    await server.close();
    dir.cleanup();
  });

  it("refuses a path held by a live server of another socket type", async () => {
    const dir = tempDir();
    const path = join(dir.path, "seq.sock");
    const seqpacketServer = await listen(`seqpacket:${path}`, { handlers: echo });
    await assert.rejects(listen(`unix:${path}`), { code: "ERR_ADDRESS_IN_USE" });
    const client = await connect(`seqpacket:${path}`);
    assert.equal(await client.call("echo", "still mine"), "still mine");
    await client.close();
    await seqpacketServer.close();
    dir.cleanup();
  });

  it("refuses a path taken by a regular file", async () => {
    const dir = tempDir();
    const path = join(dir.path, "file.sock");
    writeFileSync(path, "not a socket");
    await assert.rejects(listen(`unix:${path}`), { code: "ERR_ADDRESS_IN_USE", message: /not a socket/ });
    assert.ok(existsSync(path));
    dir.cleanup();
  });

  it("replaces a stale socket file left by a killed server", async () => {
    const dir = tempDir();
    const path = join(dir.path, "stale.sock");
    const crashed = start(scriptCommand("node", "cli/main.ts", ["serve", `unix:${path}`]));
    await crashed.waitFor("serving");
    crashed.child.kill("SIGKILL");
    await crashed.exited;
    assert.ok(statSync(path).isSocket(), "the killed server left its socket file");
    const server = await listen(`unix:${path}`, { handlers: echo });
    const client = await connect(`unix:${path}`);
    assert.equal(await client.call("echo", "fresh"), "fresh");
    await client.close();
    await server.close();
    dir.cleanup();
  });

  it("names the sun_path limit for a long path", async () => {
    const path = `/tmp/${"x".repeat(120)}.sock`;
    await assert.rejects(listen(`unix:${path}`), { code: "ERR_PATH_TOO_LONG", message: /107-byte sun_path limit/ });
    await assert.rejects(connect(`unix:${path}`), { code: "ERR_PATH_TOO_LONG" });
  });

  it("reports a missing server with ERR_CONNECTION_FAILED and a missing directory with ERR_INVALID_ADDRESS", async () => {
    const dir = tempDir();
    await assert.rejects(connect(`unix:${join(dir.path, "none.sock")}`), {
      code: "ERR_CONNECTION_FAILED",
      message: /no socket exists there/,
    });
    await assert.rejects(listen(`unix:${join(dir.path, "missing-dir", "x.sock")}`), {
      code: "ERR_INVALID_ADDRESS",
      message: /the directory does not exist/,
    });
    dir.cleanup();
  });

  for (const runtime of ["deno", "bun", "node"] as const) {
    it(`lets a ${runtime} process exit on its own after close`, async () => {
      const dir = tempDir();
      const result = await run(
        scriptCommand(runtime, "test/fixtures/serve_once.ts", [`unix:${join(dir.path, "once.sock")}`]),
        15000,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "3");
      dir.cleanup();
    });
  }
});
