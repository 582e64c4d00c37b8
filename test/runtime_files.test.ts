/**
 * The file operations of the runtime adapter, on real files: `createFile`
 * creates only what does not exist yet (anything at the path, a dangling
 * symbolic link too, is `ERR_FILE_EXISTS` and stays as it was), with
 * exactly the mode asked for whatever the umask, and `fileStatus` reports
 * the mode bits and owner (symbolic links followed). Also `processIds`,
 * and Deno's refusals without the permissions these need.
 */

import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import type { RuntimeAdapter } from "../src/transport/runtime_adapter.ts";
import { repoRoot, run, runtimes, scriptCommand, tempDir } from "./_helpers.ts";

const runtime: RuntimeAdapter = await loadRuntimeAdapter();
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => existsSync(path));

describe("createFile and fileStatus", () => {
  let dir: { path: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  it("creates a new file with its text and exactly the mode asked for, whatever the umask", async () => {
    // 0o666 and 0o775 have bits the usual umask (0o022) takes away; 0o600 and 0o400 are narrower than it.
    for (const mode of [0o600, 0o640, 0o666, 0o775, 0o400]) {
      const path = join(dir.path, `mode-${mode.toString(8)}`);
      await runtime.createFile(path, `secret ${mode}\n`, mode);
      assert.equal(statSync(path).mode & 0o7777, mode, `mode ${mode.toString(8)}`);
      assert.equal(readFileSync(path, "utf8"), `secret ${mode}\n`);
      assert.deepEqual(await runtime.fileStatus(path), { mode, uid: statSync(path).uid });
    }
  });

  for (const child of runtimes) {
    it(`gives the exact mode in a ${child} process whose umask is 077`, { timeout: 60_000 }, async () => {
      const path = join(dir.path, `umask-${child}`);
      const [file, args] = scriptCommand(child, "test/fixtures/adapters/create_file.ts", [path, "664"]);
      const result = await run(["/bin/sh", ["-c", 'umask 077 && exec "$0" "$@"', file, ...args]]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout), "created", result.stdout);
      assert.equal((statSync(path).mode & 0o7777).toString(8), "664");
      assert.equal(readFileSync(path, "utf8"), "created under umask 077\n");
    });
  }

  it("writes non-ASCII text as UTF-8", async () => {
    const path = join(dir.path, "utf8");
    await runtime.createFile(path, "Grüße, 世界\n", 0o600);
    assert.equal(readFileSync(path, "utf8"), "Grüße, 世界\n");
  });

  it("refuses a path where a file exists, and leaves its content and mode alone", async () => {
    const path = join(dir.path, "existing");
    writeFileSync(path, "original");
    chmodSync(path, 0o644);
    await assert.rejects(runtime.createFile(path, "replacement", 0o600), (error: Error & { code?: string }) => {
      assert.equal(error.code, "ERR_FILE_EXISTS");
      assert.match(error.message, new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      assert.ok(error.cause, "the runtime's error is the cause");
      return true;
    });
    assert.equal(readFileSync(path, "utf8"), "original");
    assert.equal(statSync(path).mode & 0o7777, 0o644);
  });

  it("refuses a dangling symbolic link, and creates nothing where it points", async () => {
    const target = join(dir.path, "nowhere");
    const link = join(dir.path, "dangling");
    symlinkSync(target, link);
    await assert.rejects(runtime.createFile(link, "secret", 0o600), { code: "ERR_FILE_EXISTS" });
    assert.equal(existsSync(target), false, "nothing was created through the link");
    assert.ok(lstatSync(link).isSymbolicLink(), "the link is still there");
  });

  it("refuses a symbolic link to a file and a directory, leaving both alone", async () => {
    const target = join(dir.path, "target");
    writeFileSync(target, "kept");
    const link = join(dir.path, "link");
    symlinkSync(target, link);
    await assert.rejects(runtime.createFile(link, "secret", 0o600), { code: "ERR_FILE_EXISTS" });
    assert.equal(readFileSync(target, "utf8"), "kept");
    const directory = join(dir.path, "directory");
    mkdirSync(directory);
    await assert.rejects(runtime.createFile(directory, "secret", 0o600), { code: "ERR_FILE_EXISTS" });
    assert.ok(statSync(directory).isDirectory());
  });

  it("names the file when its directory does not exist, with the cause", async () => {
    const path = join(dir.path, "missing", "file");
    await assert.rejects(runtime.createFile(path, "secret", 0o600), (error: Error & { code?: string }) => {
      assert.equal(error.code, "ERR_INVALID_ARGUMENT");
      assert.ok(error.message.includes(path), error.message);
      assert.ok(error.cause, "the runtime's error is the cause");
      return true;
    });
  });

  it("refuses a directory it may not write to with ERR_PERMISSION_DENIED", {
    skip: process.getuid?.() === 0 && SETPRIV === undefined ? "root without setpriv, to try as another user" : false,
    timeout: 60_000,
  }, async () => {
    const locked = join(dir.path, "locked");
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    if (process.getuid?.() !== 0) {
      await assert.rejects(runtime.createFile(join(locked, "file"), "secret", 0o600), {
        code: "ERR_PERMISSION_DENIED",
      });
      return;
    }
    // Root may write anywhere: children of every runtime try as nobody instead.
    chmodSync(dir.path, 0o755);
    for (const child of runtimes) {
      const [file, args] = scriptCommand(child, "test/fixtures/adapters/create_file.ts", [join(locked, child), "600"]);
      const nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
      const result = await run([SETPRIV!, [...nobody, file, ...args]]);
      assert.equal(result.code, 0, result.stderr);
      const outcome = JSON.parse(result.stdout) as { code?: string; message?: string };
      assert.equal(outcome.code, "ERR_PERMISSION_DENIED", `${child}: ${result.stdout}`);
      assert.ok(outcome.message?.includes(join(locked, child)), `${child} names the file: ${outcome.message}`);
    }
  });

  it("reports the mode and owner through symbolic links, and names a missing file", async () => {
    const path = join(dir.path, "status");
    writeFileSync(path, "x");
    chmodSync(path, 0o4750);
    const link = join(dir.path, "status-link");
    symlinkSync(path, link);
    const expected = { mode: 0o4750, uid: statSync(path).uid };
    assert.deepEqual(await runtime.fileStatus(path), expected, "setuid and the permission bits, not the file type");
    assert.deepEqual(await runtime.fileStatus(link), expected, "the link is followed");
    const missing = join(dir.path, "absent");
    await assert.rejects(runtime.fileStatus(missing), (error: Error & { code?: string }) => {
      assert.equal(error.code, "ERR_INVALID_ARGUMENT");
      assert.ok(error.message.includes(missing), error.message);
      assert.ok(error.cause, "the runtime's error is the cause");
      return true;
    });
  });
});

describe("processIds", () => {
  it("are this process's pid and effective uid and gid", () => {
    assert.deepEqual(runtime.processIds(), { pid: process.pid, uid: process.geteuid!(), gid: process.getegid!() });
  });
});

describe("Deno without the permissions", () => {
  it(
    "refuses createFile (--allow-write), fileStatus (--allow-read) and processIds (--allow-sys) with ERR_PERMISSION_DENIED",
    {
      timeout: 60_000,
    },
    async () => {
      const dir = tempDir();
      try {
        writeFileSync(join(dir.path, "existing"), "x");
        const deno = join(repoRoot, "node_modules", ".bin", "deno");
        const fixture = join(repoRoot, "test/fixtures/adapters/file_permissions.ts");
        const result = await run([deno, ["run", "--no-check", fixture, dir.path]]);
        assert.equal(result.code, 0, result.stderr);
        const outcome = JSON.parse(result.stdout) as Record<string, { code?: string; message?: string }>;
        assert.equal(outcome.createFile?.code, "ERR_PERMISSION_DENIED", JSON.stringify(outcome.createFile));
        assert.match(outcome.createFile?.message ?? "", /--allow-write/);
        assert.equal(outcome.fileStatus?.code, "ERR_PERMISSION_DENIED", JSON.stringify(outcome.fileStatus));
        assert.equal(outcome.processIds?.code, "ERR_PERMISSION_DENIED", JSON.stringify(outcome.processIds));
        assert.match(outcome.processIds?.message ?? "", /--allow-sys/);
        assert.equal(existsSync(join(dir.path, "new.secret")), false);
      } finally {
        dir.cleanup();
      }
    },
  );
});
