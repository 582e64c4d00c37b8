/**
 * Shared test utilities: runtime detection, temp socket paths, and child
 * processes of every runtime. Works from the source tree (deno test, bun
 * test) and from the compiled tree that scripts/build_npm.ts writes (node
 * --test), in npm/ or in any `--out` directory.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The runtime running the tests. */
export const runtimeName: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** Every runtime, for matrices. */
export const runtimes = ["deno", "bun", "node"] as const;

/** A runtime name. */
export type Runtime = typeof runtimes[number];

const testDir = dirname(fileURLToPath(import.meta.url));
/** True when running the tsc output of scripts/build_npm.ts rather than the TypeScript source. */
export const isCompiled: boolean = import.meta.url.endsWith(".js");
/** The package directory of the build being tested (npm/ by default, which holds esm/test/); undefined from source. */
export const buildDir: string | undefined = isCompiled ? resolve(testDir, "..", "..") : undefined;
/** The repository root. */
export const repoRoot: string = buildDir === undefined ? resolve(testDir, "..") : sourceOfBuild(buildDir);
const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);

/** The repository a build came from: its build marker says (a build in npm/ also sits right inside it). */
function sourceOfBuild(directory: string): string {
  try {
    const marker = JSON.parse(readFileSync(join(directory, ".peerlink-build"), "utf8")) as { source?: unknown };
    if (typeof marker.source === "string") return marker.source;
  } catch {
    // A marker of an older build is plain text.
  }
  return resolve(directory, "..");
}

/**
 * The Node.js releases the tests run and are run on, oldest first: dev
 * dependencies of the workspace. Node 24 is `node_modules/.bin/node`; the
 * system `node` is never used.
 */
export const supportedNodes: readonly { label: string; major: number; path: string }[] = [
  { label: "Node 22", major: 22, path: join(repoRoot, "node_modules", "node22", "bin", "node") },
  { label: "Node 24", major: 24, path: bin("node") },
  { label: "Node 26", major: 26, path: join(repoRoot, "node_modules", "node26", "bin", "node") },
];

/** A fresh temporary directory, removed by `cleanup`. */
export function tempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), "peerlink-test-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

let abstractCounter = 0;
/** A unique Linux abstract socket name. */
export function abstractName(label: string): string {
  return `peerlink-test-${label}-${process.pid}-${Date.now()}-${abstractCounter++}`;
}

/**
 * The command that runs a script of this repository in `runtime`.
 *
 * @param runtime Which runtime.
 * @param script Path relative to the repo root, with `.ts` (e.g. `cli.ts`, `test/fixtures/x.ts`).
 * @param args Script arguments.
 */
export function scriptCommand(runtime: Runtime, script: string, args: string[] = []): [string, string[]] {
  const source = join(repoRoot, script);
  switch (runtime) {
    case "deno":
      return [bin("deno"), ["run", "-A", "--no-check", source, ...args]];
    case "bun":
      return [bin("bun"), [source, ...args]];
    case "node":
      // Node runs the tsc output with the Node running the tests; elsewhere Node 24 runs the source.
      if (buildDir !== undefined && runtimeName === "node") {
        return [process.execPath, [join(buildDir, "esm", script.replace(/\.ts$/, ".js")), ...args]];
      }
      return [bin("node"), ["--no-warnings", source, ...args]];
  }
}

/** Output of a finished child process. */
export interface ProcessResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A running child process. */
export interface RunningProcess {
  child: ChildProcess;
  /** Everything printed to stdout so far. */
  stdout(): string;
  /** Resolves when stdout contains `text`; rejects if the process exits first or after `ms`. */
  waitFor(text: string, ms?: number): Promise<void>;
  /** Resolves when the process exits. */
  exited: Promise<ProcessResult>;
  /** Sends SIGTERM (then SIGKILL after 3 s) and waits for exit. */
  stop(): Promise<ProcessResult>;
}

/**
 * Starts a child process.
 *
 * @param command Executable and arguments.
 */
export function start([file, args]: [string, string[]]): RunningProcess {
  const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk: Uint8Array) => {
    stdout += new TextDecoder().decode(chunk);
    for (const listener of listeners) listener();
  });
  child.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
  const exited = new Promise<ProcessResult>((resolve) =>
    child.on("close", (code, signal) => {
      resolve({ code, signal, stdout, stderr });
      for (const listener of listeners) listener();
    })
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => stdout,
    exited,
    waitFor(text, ms = 15000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `Timed out waiting for "${text}" from ${file} ${args.join(" ")}\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          );
        }, ms);
        const check = (): void => {
          if (stdout.includes(text)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (done) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(
                `${file} ${args.join(" ")} exited before printing "${text}"\nstdout: ${stdout}\nstderr: ${stderr}`,
              ),
            );
          }
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!done) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}

/**
 * Runs a child process to completion.
 *
 * @param command Executable and arguments.
 * @param ms Kill it after this long.
 */
export async function run(command: [string, string[]], ms = 30000): Promise<ProcessResult> {
  const running = start(command);
  running.child.stdin!.end();
  const timer = setTimeout(() => running.child.kill("SIGKILL"), ms);
  const result = await running.exited;
  clearTimeout(timer);
  return result;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` until it holds, failing after `ms` milliseconds. For
 * effects that happen "soon" (a handler noticing a cancel, a listener being
 * told): waiting a fixed time would make the test depend on machine speed.
 */
export async function waitFor(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting until ${what}`);
    await delay(5);
  }
}
