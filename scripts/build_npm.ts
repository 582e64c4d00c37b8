/**
 * Builds the npm package with tsc (the job dnt does for Deno-first code):
 *
 * - `npm/esm/` mirrors the source tree (`mod.ts`, `cli.ts`, `src/`,
 *   `adapters/`, `test/`) as ES2022 modules; the library also gets `.d.ts`
 *   files. Relative `.ts` imports become `.js`.
 * - `npm/package.json` points the `deno`, `bun` and `node` export conditions
 *   at the matching adapter and ships everything but the compiled tests.
 *
 * With `--test`, the compiled tests then run under Node 20 (the system node)
 * and Node 24 (`node_modules/.bin/node`); the exit code is non-zero if either
 * run fails.
 *
 * ```sh
 * deno run -A scripts/build_npm.ts             # build into npm/
 * deno run -A scripts/build_npm.ts --test      # build, then node --test under Node 20 and 24
 * deno run -A scripts/build_npm.ts --out DIR   # build into DIR (the packaging test does this)
 * ```
 *
 * @module
 */

import { existsSync } from "node:fs";
import { delimiter, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
/** Where the `Deno` namespace extracted from `deno types` goes (a typeRoot of tsconfig.json). */
const DENO_TYPES = join(ROOT, "node_modules", ".cache", "peerlink", "types", "deno", "index.d.ts");
/** Node majors the compiled tests must pass on: the oldest supported and the newest. */
const NODE_MAJORS = { system: 20, bundled: 24 } as const;
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
  await Deno.writeTextFile(
    join(outDir, BUILD_MARKER),
    "Written by scripts/build_npm.ts, which deletes this directory on every build.\n",
  );
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
  const node = existsSync(join(BIN, "node")) ? join(BIN, "node") : "node";
  const command = new Deno.Command(node, {
    args: [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--pretty", "false", ...args],
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

/** The `dependencies` of the package: every `npm:` entry of deno.json's import map. */
function npmDependencies(config: DenoConfig): Record<string, string> {
  const dependencies: Record<string, string> = {};
  for (const [name, target] of Object.entries(config.imports ?? {})) {
    const match = /^npm:(@?[^@]+)@(.+)$/.exec(target);
    if (match?.[1] === name && match[2]) dependencies[name] = match[2];
  }
  return dependencies;
}

async function writePackageJson(outDir: string, config: DenoConfig): Promise<void> {
  const file = (entry: string, extension: ".js" | ".d.ts"): string => `./${ESM}/${entry}${extension}`;
  const subpath = (entry: string): { types: string; import: string } => ({
    types: file(entry, ".d.ts"),
    import: file(entry, ".js"),
  });
  const hasCli = existsSync(join(outDir, ESM, "cli", "main.js"));
  const packageJson = {
    name: "peerlink",
    version: config.version,
    description: "Process-to-process RPC over Unix sockets for Deno, Bun and Node, wire-compatible with fizyr-rpc",
    license: config.license ?? "MIT",
    type: "module",
    engines: { node: ">=20" },
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
    ],
    dependencies: npmDependencies(config),
  };
  await Deno.writeTextFile(join(outDir, "package.json"), JSON.stringify(packageJson, null, 2) + "\n");
}

async function copyDocs(outDir: string): Promise<void> {
  for (const name of ["README.md", "LICENSE"]) {
    if (existsSync(join(ROOT, name))) await Deno.copyFile(join(ROOT, name), join(outDir, name));
  }
}

/** Runs the compiled tests under Node 20 and Node 24, one after the other. */
async function runTests(testDir: string): Promise<number> {
  const files = [];
  for await (const file of walk(testDir)) {
    if (file.endsWith(".test.js") && !relative(testDir, file).split(sep).includes("fixtures")) files.push(file);
  }
  if (files.length === 0) throw new BuildError(`No compiled tests (*.test.js) under ${testDir}`);
  files.sort();

  const nodes = [
    { path: systemNode(), major: NODE_MAJORS.system },
    { path: join(BIN, "node"), major: NODE_MAJORS.bundled },
  ];
  const versions = await Promise.all(nodes.map((node) => nodeVersion(node.path)));
  nodes.forEach((node, index) => {
    if (Number(/^v(\d+)\./.exec(versions[index]!)?.[1]) !== node.major) {
      throw new BuildError(`Expected Node ${node.major} at ${node.path}, found ${versions[index]}`);
    }
  });
  const runs = [];
  for (const [index, node] of nodes.entries()) {
    const version = versions[index]!;
    console.log(`\n=== node --test: Node ${version} (${node.path}), ${files.length} files ===\n`);
    runs.push(await nodeTest(node.path, version, files));
  }
  console.log(`\n${runs.map((run) => run.summary).join("\n")}`);
  return runs.every((run) => run.passed) ? 0 : 1;
}

/**
 * One `node --test` run: streams the spec reporter's output and summarises
 * the totals it prints at the end.
 *
 * Files run one at a time (`--test-concurrency=1`): on a 2-core machine that
 * is Node's default anyway, and socket tests that spawn runtimes time out
 * less when they do not compete for the CPU. `--test-force-exit` ends each
 * file's process once its tests are done: a test that timed out usually
 * leaves a socket open, and without it that file would never exit and block
 * every file after it. The timed-out test still fails the run; that a
 * process exits by itself is asserted by tests that spawn one.
 */
async function nodeTest(
  node: string,
  version: string,
  files: string[],
): Promise<{ passed: boolean; summary: string }> {
  const started = performance.now();
  const child = new Deno.Command(node, {
    args: [
      "--test",
      "--test-concurrency=1",
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      "--test-force-exit",
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
  };
}

/** "12 passed, 0 failed, 1 skipped" from the `ℹ pass 12` lines that end the spec reporter's output. */
function specTotals(output: string): string {
  // deno-lint-ignore no-control-regex
  const text = output.replace(/\x1b\[[0-9;]*m/g, "");
  if (!/^ℹ tests \d+$/m.test(text)) return "no totals (the run did not finish)";
  const count = (key: string): number => Number(new RegExp(`^ℹ ${key} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  const parts = [`${count("pass")} passed`, `${count("fail")} failed`];
  for (const key of ["cancelled", "skipped", "todo"]) if (count(key) > 0) parts.push(`${count(key)} ${key}`);
  return parts.join(", ");
}

/**
 * The system Node: the one npm runs under (`npm run test:node`), else the
 * first `node` on PATH outside a node_modules/.bin directory.
 */
function systemNode(): string {
  // PATH first: a nested `npm run` may itself run under the Node 24 in node_modules/.bin.
  for (const directory of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    if (!directory || directory.split(sep).includes("node_modules")) continue;
    const candidate = join(directory, "node");
    if (isExecutableFile(candidate)) return candidate;
  }
  const fromNpm = Deno.env.get("npm_node_execpath");
  if (fromNpm) return fromNpm;
  throw new BuildError("No system node on PATH (outside node_modules/.bin)");
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

async function nodeVersion(node: string): Promise<string> {
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
