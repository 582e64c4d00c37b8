/**
 * What the adapters load only when it is used: TCP and TLS, child
 * processes and the seqpacket layer come in through dynamic imports, so
 * that a program that talks over `unix:` does not carry `node:tls`,
 * `node:crypto` and the rest in its heap (`adapters/lazy_import.ts` says
 * what that costs). Checked two ways: the static import graph of every
 * entry point (TypeScript's parser, on every runtime), and the built-in
 * modules a Node process really loaded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { repoRoot, run, scriptCommand, tempDir } from "./_helpers.ts";

/** Entry points a program imports. */
const ENTRY_POINTS = [
  "mod.ts",
  "peer.ts",
  "adapters/node/mod.ts",
  "adapters/bun/mod.ts",
  "adapters/deno/mod.ts",
  "adapters/node/runtime.ts",
  "adapters/bun/runtime.ts",
  "adapters/deno/runtime.ts",
];

/** Modules no entry point may import statically. */
const LOADED_ON_USE = [
  "node:tls",
  "node:crypto",
  "node:child_process",
  "node:dns/promises",
  "bun:ffi",
  "koffi",
  "@peculiar/x509",
];

/** The local files behind these, by name. */
const LOCAL_LOADED_ON_USE =
  /\/(tcp_connect|tcp_listener|tcp_socket|tls_session|child_process|seqpacket_ffi|node_spawn)\.ts$/;

/** The modules `path` imports statically (type-only imports left out). */
function staticImports(path: string): string[] {
  const text = readFileSync(join(repoRoot, path), "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  for (const statement of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly) {
      specifier = statement.moduleSpecifier;
    } else if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) specifier = statement.moduleSpecifier;
    if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
    const name = specifier.text;
    found.push(name.startsWith(".") ? posix.normalize(posix.join(posix.dirname(path), name)) : name);
  }
  return found;
}

/** Every module reachable from `entry` through static imports, with the chain that reaches it. */
function staticClosure(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const path = queue.shift()!;
    for (const imported of staticImports(path)) {
      if (reached.has(imported)) continue;
      reached.set(imported, [...reached.get(path)!, imported]);
      if (imported.endsWith(".ts")) queue.push(imported);
    }
  }
  return reached;
}

describe("loading on use", () => {
  it("no entry point imports TCP, TLS, children or the seqpacket layer statically", () => {
    const offenders: string[] = [];
    for (const entry of ENTRY_POINTS) {
      for (const [module, chain] of staticClosure(entry)) {
        if (LOADED_ON_USE.includes(module) || LOCAL_LOADED_ON_USE.test(`/${module}`)) {
          offenders.push(chain.join(" → "));
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it("the check sees a static import of node:tls behind a TCP module", () => {
    const chains = [...staticClosure("adapters/node_net/tcp_connect.ts").keys()];
    assert.ok(chains.includes("node:tls"), `tcp_connect.ts reaches ${chains.join(", ")}`);
  });

  it("a Node process that serves and calls over unix: loads no TLS, crypto or DNS", async () => {
    const dir = tempDir();
    try {
      const unix = await run(scriptCommand("node", "test/fixtures/loaded_builtins.ts", [`unix:${dir.path}/s.sock`]));
      assert.equal(unix.code, 0, unix.stderr);
      const loaded = JSON.parse(unix.stdout) as string[];
      assert.ok(loaded.includes("net"), "node:net is loaded");
      for (const module of ["tls", "crypto", "dns/promises"]) {
        assert.ok(!loaded.includes(module), `node:${module} was loaded`);
      }
      // The same program over TCP loads node:tls when its listener is made: the list tells the two apart.
      const tcp = await run(scriptCommand("node", "test/fixtures/loaded_builtins.ts", ["tcp://127.0.0.1:0"]));
      assert.equal(tcp.code, 0, tcp.stderr);
      assert.ok((JSON.parse(tcp.stdout) as string[]).includes("tls"), "a TCP listener loads node:tls");
    } finally {
      dir.cleanup();
    }
  });
});
