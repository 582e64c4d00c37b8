/**
 * The architecture, checked: the folders of `src/` are layers whose imports
 * only point down, the core never touches a runtime, adapters do not reach
 * into each other, nothing imports in a circle, and every folder says in a
 * README what it owns. Reads the source tree (also when the compiled suite
 * runs from npm/), with TypeScript's own pre-processor, so imports inside
 * comments and strings do not count.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { repoRoot } from "./_helpers.ts";

/** The layers of the core, lowest first. A file may import its own layer and those below. */
const LAYERS = ["base", "wire", "transport", "peer", "session", "rpc", "api"] as const;
/** npm packages the core may import. */
const CORE_PACKAGES = new Set(["cborg", "@peculiar/x509", "reflect-metadata", "@standard-schema/spec"]);
/** Identifiers that belong to one runtime; the core must not name them. */
const RUNTIME_GLOBALS = new Set(["Deno", "Bun", "process", "require", "__dirname", "__filename", "Buffer"]);

interface SourceFile {
  /** Path relative to the repository root, with `/` separators. */
  path: string;
  /** Relative imports, resolved to repository paths. */
  local: string[];
  /** Bare or scheme imports (`cborg`, `node:fs`, `bun:ffi`). */
  external: string[];
}

function walk(directory: string): string[] {
  return readdirSync(join(repoRoot, directory)).flatMap((name) => {
    const path = posix.join(directory, name);
    return statSync(join(repoRoot, path)).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function folders(directory: string): string[] {
  return readdirSync(join(repoRoot, directory))
    .map((name) => posix.join(directory, name))
    .filter((path) => statSync(join(repoRoot, path)).isDirectory())
    .flatMap((path) => [path, ...folders(path)]);
}

function read(path: string): SourceFile {
  const text = readFileSync(join(repoRoot, path), "utf8");
  const local: string[] = [];
  const external: string[] = [];
  for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
    if (fileName.startsWith(".")) local.push(posix.normalize(posix.join(posix.dirname(path), fileName)));
    else external.push(fileName);
  }
  return { path, local, external };
}

const library = ["mod.ts", "peer.ts", ...walk("src"), ...walk("adapters"), ...walk("cli")].map(read);
const byPath = new Map(library.map((file) => [file.path, file]));

function layerOf(path: string): number {
  const layer = path.split("/")[1] as typeof LAYERS[number];
  const index = LAYERS.indexOf(layer);
  assert.notEqual(index, -1, `${path} is in src/ but in no layer folder (${LAYERS.join(", ")})`);
  return index;
}

/** Identifier tokens of a file, comments and strings excluded. */
function identifiers(path: string): Set<string> {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard);
  scanner.setText(readFileSync(join(repoRoot, path), "utf8"));
  const names = new Set<string>();
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.Identifier) names.add(scanner.getTokenValue());
  }
  return names;
}

describe("architecture", () => {
  it("finds the source tree", () => {
    assert.ok(library.length > 30, `expected the library's files, found ${library.length}`);
    for (const layer of LAYERS) assert.ok(existsSync(join(repoRoot, "src", layer)), `src/${layer}/ exists`);
  });

  it("resolves every relative import to a file of the library", () => {
    const missing = library.flatMap((file) =>
      file.local.filter((target) => !byPath.has(target) && !existsSync(join(repoRoot, target)))
        .map((target) => `${file.path} → ${target}`)
    );
    assert.deepEqual(missing, []);
  });

  it("imports only point down the layers of src/", () => {
    const upward = library.filter((file) => file.path.startsWith("src/")).flatMap((file) =>
      file.local.filter((target) => !target.startsWith("src/") || layerOf(target) > layerOf(file.path))
        .map((target) => `${file.path} → ${target}`)
    );
    assert.deepEqual(upward, []);
  });

  it("keeps the core free of runtimes: no node:, Deno, Bun or process in src/", () => {
    const problems = library.filter((file) => file.path.startsWith("src/")).flatMap((file) => [
      ...file.external.filter((name) => !CORE_PACKAGES.has(name)).map((name) => `${file.path} imports ${name}`),
      ...[...identifiers(file.path)].filter((name) => RUNTIME_GLOBALS.has(name))
        .map((name) => `${file.path} names ${name}`),
    ]);
    assert.deepEqual(problems, []);
  });

  it("keeps each runtime's adapter to itself, and the shared seqpacket core free of any one runtime", () => {
    const runtimes = ["deno", "bun", "node"];
    const problems = library.filter((file) => file.path.startsWith("adapters/")).flatMap((file) => {
      const own = file.path.split("/")[1]!;
      return file.local.filter((target) => {
        if (target.startsWith("src/")) return false;
        if (!target.startsWith("adapters/")) return true; // no cli/, test/ or entry points
        const folder = target.split("/")[1]!;
        if (!runtimes.includes(folder)) return false;
        // Only the runtime picker may name every runtime, and only their runtime objects.
        if (file.path === "adapters/detect.ts") return !target.endsWith("/runtime.ts");
        return folder !== own;
      }).map((target) => `${file.path} → ${target}`);
    });
    assert.deepEqual(problems, []);
  });

  it("has no import cycle anywhere in the library", () => {
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (path: string, trail: string[]): void => {
      if (state.get(path) === "done") return;
      if (state.get(path) === "visiting") {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(" → "));
        return;
      }
      state.set(path, "visiting");
      for (const target of byPath.get(path)?.local ?? []) visit(target, [...trail, path]);
      state.set(path, "done");
    };
    for (const file of library) visit(file.path, []);
    assert.deepEqual(cycles, []);
  });

  it("gives every folder of src/, adapters/ and cli/ a README saying what it owns", () => {
    const missing = ["src", "adapters", "cli", ...folders("src"), ...folders("adapters"), ...folders("cli")]
      .filter((folder) => !existsSync(join(repoRoot, folder, "README.md")));
    assert.deepEqual(missing, []);
  });

  it("gives every library file a module doc", () => {
    const undocumented = library.map((file) => file.path).filter((path) => {
      const text = readFileSync(join(repoRoot, path), "utf8");
      return !/^(#![^\n]*\n)?\/\*\*[\s\S]*?@module[\s\S]*?\*\//.test(text);
    });
    assert.deepEqual(undocumented, []);
  });
});
