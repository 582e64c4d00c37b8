/**
 * The npm package as users get it: `npm pack` the build, install the tarball
 * into fresh projects, and import `peerlink` by name from Node 22, 24 and 26,
 * Bun and Deno in child processes, each serving and calling `echo` over a
 * stream socket and a seqpacket socket. koffi is an optional peer dependency:
 * one project installs only the tarball (Deno, Bun and `unix:` on Node work;
 * `seqpacket:` on Node says to `npm install koffi`), the other adds koffi.
 * Also `require()`s the package from CommonJS, checks that an older Node
 * refuses it at import, lints it with publint and arethetypeswrong,
 * type-checks a consumer against the published declarations, and dry-runs
 * `deno publish` on the source.
 *
 * npm is the system one (it is only the package manager), run by Node 24
 * with Node 24 first on its PATH, so that neither npm nor the install
 * scripts it runs (koffi's) use the system Node.
 *
 * Under `node --test` (a compiled tree) it packs that build; under `deno
 * test` and `bun test` it first builds into a temporary directory with
 * scripts/build_npm.ts, so it never packs a stale npm/.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, posix, sep } from "node:path";
import process from "node:process";
import { after, describe, it } from "node:test";
import { buildDir, isCompiled, repoRoot, runtimeName, supportedNodes, tempDir } from "./_helpers.ts";

/** Generous: a cold npm cache downloads cborg and koffi. */
const SETUP_TIMEOUT_MS = 180_000;
/** A consumer run takes about a second; a child still alive after this hangs. */
const CHILD_TIMEOUT_MS = 20_000;

const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);
const node24 = supportedNodes.find((node) => node.major === 24)!.path;
const fixture = (name: string): string => join(repoRoot, "test", "fixtures", "npm_package", name);

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface ExecOptions {
  cwd?: string;
  timeoutMs?: number;
  /** Directories put first on the child's PATH. */
  path?: string[];
}

/** Runs a command to completion; kills it after `timeoutMs`. Rejects only if it cannot start. */
function exec(file: string, args: string[], options: ExecOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const path = [...options.path ?? [], process.env.PATH ?? ""].join(delimiter);
    const child = spawn(file, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: "1", PATH: path },
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

async function execOk(file: string, args: string[], options: ExecOptions = {}): Promise<Result> {
  const result = await exec(file, args, options);
  assert.equal(result.code, 0, describeResult(`${file} ${args.join(" ")}`, result));
  return result;
}

/** The line of `output` that starts with `prefix`, parsed as JSON after it. */
function reportLine(output: Result, prefix: string, what: string): Record<string, unknown> {
  const line = output.stdout.split("\n").find((text) => text.startsWith(`${prefix} `));
  assert.ok(line, describeResult(what, output));
  return JSON.parse(line.slice(prefix.length + 1));
}

function isExecutable(path: string): boolean {
  try {
    const stat = statSync(path);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Every `name` on PATH outside node_modules (npm puts node_modules/.bin first in `npm test`). */
function onSystemPath(name: string): string[] {
  return (process.env.PATH ?? "").split(delimiter)
    .filter((directory) => directory && !directory.split(sep).includes("node_modules"))
    .map((directory) => join(directory, name))
    .filter(isExecutable);
}

const npmCli = onSystemPath("npm").map((path) => realpathSync(path))[0];

/** Runs npm under Node 24, with Node 24's own directory (it holds only `node`) first on PATH. */
function npm(args: string[], options: { cwd: string; timeoutMs?: number }): Promise<Result> {
  return execOk(node24, [npmCli!, ...args], { ...options, path: [dirname(realpathSync(node24))] });
}

/** The runtimes that import the installed package, and the adapter each must get. */
const consumers = [
  ...supportedNodes.map((node) => ({ ...node, command: node.path, args: [], adapter: "node" })),
  { label: "Bun", major: undefined, command: bin("bun"), args: [], adapter: "bun" },
  { label: "Deno", major: undefined, command: bin("deno"), args: ["run", "-A"], adapter: "deno" },
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

interface Manifest {
  exports: Record<string, unknown>;
  files: string[];
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string>;
  [field: string]: unknown;
}

interface Installed {
  tarball: string;
  /** Files in the tarball, relative to the package root. */
  files: string[];
  /** The package.json inside the tarball. */
  manifest: Manifest;
  /** A project that installed only the tarball, and what npm printed doing it. */
  bare: { path: string; output: string };
  /** A project that installed the tarball and koffi. */
  withKoffi: string;
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
  let packageDir = buildDir;
  if (packageDir === undefined) {
    packageDir = join(work.path, "package");
    await execOk(bin("deno"), ["run", "-A", join(repoRoot, "scripts", "build_npm.ts"), "--out", packageDir], {
      timeoutMs: SETUP_TIMEOUT_MS,
    });
  }
  assert.ok(existsSync(join(packageDir, "package.json")), `${packageDir} holds no build; run scripts/build_npm.ts`);

  const packed = JSON.parse(
    (await npm(["pack", "--json", "--pack-destination", work.path, packageDir], { cwd: work.path })).stdout,
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = join(work.path, packed[0]!.filename);

  // The workspace pins the koffi version its tests use; users get the peer range.
  const workspace = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  const koffi = `koffi@${workspace.devDependencies.koffi}`;
  const bare = await consumerProject("bare", [tarball]);
  const withKoffi = await consumerProject("with-koffi", [tarball, koffi]);
  const manifest = JSON.parse(readFileSync(join(bare.path, "node_modules", "peerlink", "package.json"), "utf8"));
  return { tarball, files: packed[0]!.files.map((file) => file.path), manifest, bare, withKoffi: withKoffi.path };
}

/** A fresh ES module project with the consumer fixtures that `npm install`ed `packages`. */
async function consumerProject(name: string, packages: string[]): Promise<{ path: string; output: string }> {
  const path = join(work.path, name);
  mkdirSync(path);
  writeFileSync(join(path, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  for (const file of ["consumer.mjs", "consumer.cjs"]) copyFileSync(fixture(file), join(path, file));
  const result = await npm(["install", ...packages, "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: path,
    timeoutMs: SETUP_TIMEOUT_MS,
  });
  return { path, output: result.stdout + result.stderr };
}

/** Every file path named in an `exports` value. */
function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

/** The relative link targets of a Markdown text (inline, reference and HTML links; code excluded), without anchors. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  const targets = [
    ...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
    ...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm),
    ...prose.matchAll(/\b(?:href|src)="([^"]+)"/g),
  ].map((match) => match[1]!);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:|^#|^\/\//i.test(target))
    .map((target) => decodeURI(target.replace(/[#?].*$/, "")));
}

/** The first Node on PATH outside node_modules older than 22 (the system Node 20 here), if any. */
async function findOldNode(): Promise<{ path: string; version: string } | undefined> {
  for (const path of onSystemPath("node")) {
    const result = await exec(path, ["--version"]);
    const version = result.stdout.trim();
    if (result.code === 0 && Number(/^v(\d+)\./.exec(version)?.[1]) < 22) return { path, version };
  }
  return undefined;
}

/**
 * The package is built once and tried in every runtime and Node version by
 * child processes, whichever runtime runs this file: the Deno suite (the
 * first `npm test` runs) does it, the others need not repeat it.
 */
const ONCE_HERE = runtimeName === "deno" ? undefined : "the package is checked once, by the Deno suite";

const skipReason = ONCE_HERE ??
  (!npmCli
    ? "npm is not on PATH"
    : !isExecutable(node24)
    ? `${node24} is missing (npm ci installs it)`
    : !isCompiled && !isExecutable(bin("deno"))
    ? "building the package needs node_modules/.bin/deno"
    : undefined);

describe("npm package", { skip: skipReason ?? false }, () => {
  it("ships the library, its declarations and docs, no tests", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { files, manifest } = await installed();
    const tests = files.filter((file) => file.startsWith("esm/test/") || /\.test\.(js|d\.ts)$/.test(file));
    assert.deepEqual(tests, [], "compiled tests must not be published");
    assert.ok(!files.includes(".peerlink-build"), "the build marker must not be published");
    for (const target of exportTargets(manifest.exports)) {
      assert.ok(files.includes(target.replace(/^\.\//, "")), `exports names ${target}, which is not in the tarball`);
    }
    const required = [
      "esm/mod.d.ts",
      "esm/adapters/node/seqpacket_ffi.js",
      "esm/adapters/node/seqpacket_ffi.d.ts",
      "esm/adapters/node/node_version.js",
      "README.md",
      "LICENSE",
      "docs/PROTOCOL.md",
      "docs/FD_PASSING.md",
    ];
    for (const file of required) assert.ok(files.includes(file), `${file} is missing from the tarball`);
  });

  it("declares Node 22+, caret ranges, koffi as an optional peer, and where the project lives", {
    timeout: SETUP_TIMEOUT_MS,
  }, async () => {
    const { manifest, bare } = await installed();
    assert.deepEqual(manifest.engines, { node: ">=22" });
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), [
      "@peculiar/x509",
      "@standard-schema/spec",
      "cborg",
      "reflect-metadata",
    ]);
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      assert.match(range, /^\^\d+\.\d+\.\d+$/, `${name} should have a caret range, not ${range}`);
    }
    assert.deepEqual(Object.keys(manifest.peerDependencies ?? {}), ["koffi"]);
    assert.deepEqual(manifest.peerDependenciesMeta, { koffi: { optional: true } });
    assert.ok(!existsSync(join(bare.path, "node_modules", "koffi")), "npm must not install the optional peer koffi");
    assert.doesNotMatch(bare.output, /koffi|install-scripts/i, "installing peerlink alone must not mention koffi");
    assert.deepEqual(manifest.repository, { type: "git", url: "git+https://github.com/peerlink/peerlink.git" });
    assert.equal(manifest.homepage, "https://github.com/peerlink/peerlink#readme");
    assert.deepEqual(manifest.bugs, { url: "https://github.com/peerlink/peerlink/issues" });
    assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.includes("rpc"), "keywords include rpc");
  });

  it("gives every subpath a types and a default condition, in that order", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { manifest } = await installed();
    assert.deepEqual(Object.keys(manifest.exports), [".", "./deno", "./bun", "./node", "./peer", "./package.json"]);
    assert.deepEqual(Object.keys(manifest.exports["."] as object), ["types", "deno", "bun", "node", "default"]);
    for (const subpath of ["./deno", "./bun", "./node", "./peer"]) {
      assert.deepEqual(Object.keys(manifest.exports[subpath] as object), ["types", "default"], subpath);
    }
  });

  it("ships every file the README links to", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { files, bare } = await installed();
    const readme = readFileSync(join(bare.path, "node_modules", "peerlink", "README.md"), "utf8");
    const links = relativeLinks(readme);
    assert.ok(links.includes("docs/PROTOCOL.md"), `the README should link docs/PROTOCOL.md; found ${links.join(", ")}`);
    const broken = links.filter((link) => {
      const path = posix.normalize(link).replace(/\/$/, "");
      return !files.some((file) => file === path || file.startsWith(`${path}/`));
    });
    assert.deepEqual(broken, [], "README links to files that are not in the tarball");
  });

  for (const consumer of consumers) {
    const missing = isExecutable(consumer.command) ? false : `${consumer.label} is missing (${consumer.command})`;
    const projects = consumer.adapter === "node" ? ["bare", "withKoffi"] as const : ["bare"] as const;
    for (const project of projects) {
      const setup = project === "bare" ? "without koffi" : "with koffi";
      it(`imports peerlink by name from ${consumer.label} ${setup} and gets the ${consumer.adapter} adapter`, {
        skip: missing,
        timeout: SETUP_TIMEOUT_MS,
      }, async () => {
        if (consumer.major !== undefined) {
          const version = (await execOk(consumer.command, ["--version"])).stdout.trim();
          assert.match(
            version,
            new RegExp(`^v${consumer.major}\\.`),
            `${consumer.command} should be ${consumer.label}`,
          );
        }
        const installation = await installed();
        const cwd = project === "bare" ? installation.bare.path : installation.withKoffi;
        const label = `${consumer.label.replace(/\W/g, "").toLowerCase()}-${project}`;
        const result = await exec(consumer.command, [...consumer.args, "consumer.mjs", cwd, label], { cwd });
        const report = reportLine(result, "PEERLINK-REPORT", `${consumer.label} consumer.mjs`);
        assert.equal(
          result.code,
          0,
          describeResult(`${consumer.label} consumer.mjs (should exit once all is closed)`, result),
        );
        const expected = { text: "hello from npm", list: [1, 2, 3], bytes: [7, 8, 9] };
        assert.match(
          String(report.resolved),
          new RegExp(`/node_modules/peerlink/esm/adapters/${consumer.adapter}/mod\\.js$`),
        );
        assert.deepEqual(report.stream, expected, "echo over a stream socket");
        if (consumer.adapter === "node" && project === "bare") {
          const { error } = report.seqpacket as { error?: { code?: string; message?: string } };
          assert.equal(error?.code, "ERR_UNSUPPORTED_PLATFORM", `seqpacket without koffi: ${JSON.stringify(error)}`);
          assert.match(error.message ?? "", /npm install koffi/);
        } else {
          assert.deepEqual(report.seqpacket, expected, "echo over a seqpacket socket");
        }
        assert.deepEqual(
          report.missingExports,
          [],
          `mod.d.ts (the "types" entry) declares exports the ${consumer.adapter} adapter lacks`,
        );
      });
    }
  }

  for (const node of supportedNodes) {
    it(`require()s peerlink and peerlink/peer from CommonJS on ${node.label}`, {
      skip: isExecutable(node.path) ? false : `${node.label} is missing (${node.path})`,
      timeout: SETUP_TIMEOUT_MS,
    }, async () => {
      const { bare } = await installed();
      const result = await execOk(node.path, ["consumer.cjs"], { cwd: bare.path });
      const report = reportLine(result, "PEERLINK-REQUIRE", `${node.label} consumer.cjs`) as Record<
        string,
        { resolved?: string; names?: string[]; error?: string }
      >;
      const root = report.root!;
      const peer = report.peer!;
      assert.match(root.resolved ?? String(root.error), /\/node_modules\/peerlink\/esm\/adapters\/node\/mod\.js$/);
      assert.match(peer.resolved ?? String(peer.error), /\/node_modules\/peerlink\/esm\/peer\.js$/);
      for (const name of ["listen", "connect", "UsageError"]) assert.ok(root.names?.includes(name), `peerlink.${name}`);
      for (const name of ["Peer", "connectTransport"]) assert.ok(peer.names?.includes(name), `peerlink/peer.${name}`);
    });
  }

  it("refuses an older Node at import, naming the version found", { timeout: SETUP_TIMEOUT_MS }, async (t) => {
    const old = await findOldNode();
    if (!old) return t.skip("no Node older than 22 on PATH outside node_modules");
    const { bare } = await installed();
    const result = await exec(old.path, ["--input-type=module", "--eval", 'import "peerlink";'], { cwd: bare.path });
    assert.notEqual(result.code, 0, describeResult(`${old.path} (${old.version}) import "peerlink"`, result));
    const found = old.version.replace(/^v/, "").replaceAll(".", "\\.");
    assert.match(result.stderr, new RegExp(`peerlink needs Node\\.js 22 or newer, found Node\\.js ${found}\\b`));
  });

  it("installs the peerlink command", { timeout: SETUP_TIMEOUT_MS }, async (t) => {
    const { bare, manifest } = await installed();
    if (!manifest.bin) return t.skip("the package has no bin (no cli/main.ts)");
    const command = realpathSync(join(bare.path, "node_modules", ".bin", "peerlink"));
    assert.match(readFileSync(command, "utf8"), /^#!\/usr\/bin\/env node\n/);
    // Its #!/usr/bin/env node line would pick the node on PATH (the system Node 20 here): run it with Node 24.
    const help = await execOk(node24, [command, "--help"], { cwd: bare.path });
    assert.match(help.stdout, /^Usage:/);
  });

  it("passes publint --strict", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { tarball } = await installed();
    const publint = join(repoRoot, "node_modules", "publint", "src", "cli.js");
    const result = await execOk(node24, [publint, tarball, "--strict"], { cwd: work.path, timeoutMs: 60_000 });
    assert.match(result.stdout, /All good!/);
  });

  it("passes arethetypeswrong (esm-only profile)", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { tarball } = await installed();
    const attw = join(repoRoot, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js");
    const args = [attw, tarball, "--profile", "esm-only", "--no-definitely-typed", "--format", "table"];
    const result = await execOk(node24, args, { cwd: work.path, timeoutMs: 60_000 });
    assert.match(result.stdout, /"peerlink\/peer"/);
  });

  it("type-checks a consumer against the published declarations", { timeout: SETUP_TIMEOUT_MS }, async () => {
    const { bare } = await installed();
    writeFileSync(join(bare.path, "consumer.ts"), TYPECHECK_SOURCE);
    writeFileSync(
      join(bare.path, "tsconfig.json"),
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
    await execOk(node24, [tsc, "-p", bare.path], { cwd: bare.path, timeoutMs: 60_000 });
  });
});

describe("deno publish", {
  skip: ONCE_HERE ?? (isExecutable(bin("deno")) ? false : "node_modules/.bin/deno is missing"),
}, () => {
  it("dry run passes: no slow types, every published file type-checks", { timeout: 120_000 }, async () => {
    const result = await exec(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], { timeoutMs: 120_000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, describeResult("deno publish --dry-run --allow-dirty", result));
    assert.match(output, /Dry run complete/);
    // Slow types and type errors are `error[...]` lines (and a non-zero exit).
    assert.doesNotMatch(output, /^error/m);
  });
});
