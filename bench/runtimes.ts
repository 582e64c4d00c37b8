/**
 * The runtimes the benchmark runs in, with the command line that starts a
 * benchmark script in each (with a forced garbage collection available:
 * `./memory.ts`). Node runs the TypeScript sources directly (type
 * stripping, on by default from Node 22.18 on).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository's root: children run there, so that `deno.json` and `node_modules` resolve. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** The runtime names, in the order the report shows them. */
export const RUNTIME_NAMES = ["deno", "bun", "node22", "node24", "node26"] as const;

/** One runtime's name. */
export type RuntimeName = typeof RUNTIME_NAMES[number];

/** How to start a script in a runtime. */
export interface Runtime {
  /** Its name. */
  name: RuntimeName;
  /** The executable. */
  executable: string;
  /** The arguments that run `script` (an absolute path), before the script's own. */
  argsFor(script: string): string[];
  /** Whether it has a native socket API of its own besides `node:net` (`raw-native`). */
  native: boolean;
  /** Environment variables it gets besides the runner's, given a directory for caches. */
  envFor(cacheDir: string): Record<string, string>;
}

function node(name: RuntimeName, executable: string): Runtime {
  return {
    name,
    executable: `${ROOT}${executable}`,
    argsFor: (script) => ["--expose-gc", "--no-warnings", script],
    native: false,
    // Node strips the types of every source file at each start; its compile cache keeps the result.
    envFor: (cacheDir) => ({ NODE_COMPILE_CACHE: cacheDir }),
  };
}

/** Every runtime, by name. */
export const RUNTIMES: Readonly<Record<RuntimeName, Runtime>> = {
  deno: {
    name: "deno",
    executable: `${ROOT}node_modules/.bin/deno`,
    argsFor: (script) => ["run", "-A", "--v8-flags=--expose-gc", script],
    native: true,
    envFor: () => ({}),
  },
  bun: {
    name: "bun",
    executable: `${ROOT}node_modules/.bin/bun`,
    argsFor: (script) => [script],
    native: true,
    envFor: () => ({}),
  },
  node22: node("node22", "node_modules/node22/bin/node"),
  node24: node("node24", "node_modules/.bin/node"),
  node26: node("node26", "node_modules/node26/bin/node"),
};

/** The version a runtime reports (`--version`, first line). */
export function runtimeVersion(runtime: Runtime): string {
  const output = execFileSync(runtime.executable, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return output.split("\n")[0]!.trim();
}
