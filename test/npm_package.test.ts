/**
 * The npm package as users get it: `npm pack` the build, install the tarball
 * into a fresh project, and import `peerlink` by name from Node 20, Node 24,
 * Bun and Deno in child processes, each serving and calling `echo` over a
 * stream socket and a seqpacket socket. Also type-checks a consumer against
 * the published declarations, and dry-runs `deno publish` on the source.
 *
 * Under `node --test` (the compiled tree in npm/) it packs that build; under
 * `deno test` and `bun test` it first builds into a temporary directory with
 * scripts/build_npm.ts, so it never packs a stale npm/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join, sep } from "node:path";
import process from "node:process";
import { after, describe, it } from "node:test";
import { isCompiled, repoRoot, tempDir } from "./_helpers.ts";

/** Generous: a cold npm cache downloads cborg and koffi. */
const SETUP_TIMEOUT_MS = 180_000;
/** A consumer run takes about a second; a child still alive after this hangs. */
const CHILD_TIMEOUT_MS = 20_000;

const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; kills it after `timeoutMs`. Rejects only if it cannot start. */
function exec(file: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? CHILD_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function describeResult(command: string, result: Result): string {
  const status = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  return `${command} ${status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

async function execOk(
  file: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await exec(file, args, options);
  assert.equal(result.code, 0, describeResult(`${file} ${args.join(" ")}`, result));
  return result.stdout;
}

function isExecutable(path: string): boolean {
  try {
    const stat = statSync(path);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The first `name` on PATH outside node_modules/.bin directories. */
function onSystemPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (!directory || directory.split(sep).includes("node_modules")) continue;
    if (isExecutable(join(directory, name))) return join(directory, name);
  }
  return undefined;
}

/** The system Node 20: the first on PATH outside node_modules (npm's own may be Node 24 in a nested run). */
const systemNode = onSystemPath("node") ?? process.env.npm_node_execpath;
const npm = onSystemPath("npm");

/** The runtimes that import the installed package, and the adapter each must get. */
const consumers = [
  { label: "Node 20", command: systemNode, args: [], adapter: "node", major: 20 },
  { label: "Node 24", command: bin("node"), args: [], adapter: "node", major: 24 },
  { label: "Bun", command: bin("bun"), args: [], adapter: "bun" },
  { label: "Deno", command: bin("deno"), args: ["run", "-A"], adapter: "deno" },
] as const;

/** Type-checks a consumer against the published declarations, through the `types` conditions. */
const TYPECHECK_SOURCE = `
import { connect, listen, type RpcServer } from "peerlink";
import { listen as listenOnBun } from "peerlink/bun";
import { listen as listenOnDeno } from "peerlink/deno";
import { listen as listenOnNode } from "peerlink/node";
import { Peer } from "peerlink/peer";

export const entryPoints: unknown[] = [listenOnBun, listenOnDeno, listenOnNode, Peer];

export async function roundTrip(path: string): Promise<unknown> {
  const server: RpcServer = await listen("unix:" + path, { handlers: { echo: (value: unknown) => value } });
  const client = await connect("unix:" + path);
  const result = await client.call("echo", { hello: "types" });
  await client.close();
  await server.close();
  return result;
}
`;

interface Installed {
  /** Files in the tarball, relative to the package root. */
  files: string[];
  /** The package.json inside the tarball. */
  manifest: { exports: Record<string, unknown>; files: string[]; dependencies: Record<string, string> };
  /** The project the tarball was installed into. */
  consumer: string;
}

const work = tempDir();
after(() => work.cleanup());

let installing: Promise<Installed> | undefined;
/** Builds (from source runs), packs and installs the package once per test file. */
function installed(): Promise<Installed> {
  installing ??= install();
  return installing;
}

async function install(): Promise<Installed> {
  let packageDir = join(repoRoot, "npm");
  if (!isCompiled) {
    packageDir = join(work.path, "package");
    await execOk(bin("deno"), ["run", "-A", join(repoRoot, "scripts", "build_npm.ts"), "--out", packageDir], {
      timeoutMs: SETUP_TIMEOUT_MS,
    });
  }
  assert.ok(existsSync(join(packageDir, "package.json")), `${packageDir} holds no build; run scripts/build_npm.ts`);

  const packed = JSON.parse(
    await execOk(npm!, ["pack", "--json", "--pack-destination", work.path, packageDir], { cwd: work.path }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = join(work.path, packed[0]!.filename);

  const consumer = join(work.path, "consumer");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  copyFileSync(join(repoRoot, "test", "fixtures", "npm_package", "consumer.mjs"), join(consumer, "consumer.mjs"));
  await execOk(npm!, [
    "install",
    tarball,
    "--omit=dev",
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    "--loglevel=error",
  ], {
    cwd: consumer,
    timeoutMs: SETUP_TIMEOUT_MS,
  });
  const manifest = JSON.parse(readFileSync(join(consumer, "node_modules", "peerlink", "package.json"), "utf8"));
  return { files: packed[0]!.files.map((file) => file.path), manifest, consumer };
}

/** Every file path named in an `exports` value. */
function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

const skipReason = !npm
  ? "npm is not on PATH"
  : !isCompiled && !isExecutable(bin("deno"))
  ? "building the package needs node_modules/.bin/deno"
  : undefined;

describe("npm package", { skip: skipReason ?? false }, () => {
  it("ships the library and its declarations, no tests", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { files, manifest } = await installed();
    const tests = files.filter((file) => file.startsWith("esm/test/") || /\.test\.(js|d\.ts)$/.test(file));
    assert.deepEqual(tests, [], "compiled tests must not be published");
    assert.ok(!files.includes(".peerlink-build"), "the build marker must not be published");
    for (const target of exportTargets(manifest.exports)) {
      assert.ok(files.includes(target.replace(/^\.\//, "")), `exports names ${target}, which is not in the tarball`);
    }
    for (const file of ["esm/mod.d.ts", "esm/adapters/node/seqpacket_ffi.js", "esm/adapters/node/seqpacket_ffi.d.ts"]) {
      assert.ok(files.includes(file), `${file} is missing from the tarball`);
    }
    assert.deepEqual(Object.keys(manifest.exports["."] as object), ["types", "deno", "bun", "node", "default"]);
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), ["cborg", "koffi"]);
  });

  for (const consumer of consumers) {
    const missing = !consumer.command || !isExecutable(consumer.command)
      ? `${consumer.label} is not installed (${consumer.command ?? "no system node on PATH"})`
      : undefined;
    it(`imports peerlink by name from ${consumer.label} and gets the ${consumer.adapter} adapter`, {
      skip: missing ?? false,
      timeout: SETUP_TIMEOUT_MS,
    }, async () => {
      const command = consumer.command!;
      if ("major" in consumer) {
        const version = (await execOk(command, ["--version"])).trim();
        assert.match(version, new RegExp(`^v${consumer.major}\\.`), `${command} should be Node ${consumer.major}`);
      }
      const { consumer: project } = await installed();
      const label = consumer.label.replace(/\W/g, "").toLowerCase();
      const result = await exec(command, [...consumer.args, "consumer.mjs", project, label], { cwd: project });
      const line = result.stdout.split("\n").find((text) => text.startsWith("PEERLINK-REPORT "));
      assert.ok(line, describeResult(`${consumer.label} consumer.mjs`, result));
      assert.equal(
        result.code,
        0,
        describeResult(`${consumer.label} consumer.mjs (should exit once everything is closed)`, result),
      );
      const report = JSON.parse(line.slice("PEERLINK-REPORT ".length));
      const expected = { text: "hello from npm", list: [1, 2, 3], bytes: [7, 8, 9] };
      assert.match(report.resolved, new RegExp(`/node_modules/peerlink/esm/adapters/${consumer.adapter}/mod\\.js$`));
      assert.deepEqual(report.stream, expected, "echo over a stream socket");
      assert.deepEqual(report.seqpacket, expected, "echo over a seqpacket socket");
      assert.deepEqual(
        report.missingExports,
        [],
        `mod.d.ts (the "types" entry) declares exports the ${consumer.adapter} adapter lacks`,
      );
    });
  }

  it("installs the peerlink command", { timeout: SETUP_TIMEOUT_MS }, async (t) => {
    const { consumer, manifest } = await installed();
    if (!("bin" in manifest)) return t.skip("the package has no bin (no cli.ts)");
    // The bin runs under whichever node is on PATH, through its #!/usr/bin/env node line.
    const help = await execOk(join(consumer, "node_modules", ".bin", "peerlink"), ["--help"], { cwd: consumer });
    assert.match(help, /^Usage:/);
  });

  it("type-checks a consumer against the published declarations", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { consumer } = await installed();
    writeFileSync(join(consumer, "consumer.ts"), TYPECHECK_SOURCE);
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ESNext"],
          module: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(repoRoot, "node_modules", "@types")],
          types: ["node"],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    await execOk(bin("node"), [tsc, "-p", consumer], { cwd: consumer, timeoutMs: 60_000 });
  });
});

describe("deno publish", { skip: isExecutable(bin("deno")) ? false : "node_modules/.bin/deno is missing" }, () => {
  it("dry run passes: no slow types, every published file type-checks", { timeout: 120_000 }, async () => {
    const result = await exec(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], { timeoutMs: 120_000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, describeResult("deno publish --dry-run --allow-dirty", result));
    assert.match(output, /Dry run complete/);
    // Slow types and type errors are `error[...]` lines (and a non-zero exit).
    assert.doesNotMatch(output, /^error/m);
  });
});
