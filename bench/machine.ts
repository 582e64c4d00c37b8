/**
 * What the benchmark ran on, for the report: CPU model, cores, kernel,
 * runtime versions, and whether the processes were pinned.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { type Runtime, type RuntimeName, runtimeVersion } from "./runtimes.ts";

/** The machine and the runtimes. */
export interface Machine {
  /** The CPU model (`/proc/cpuinfo`). */
  cpu: string;
  /** Logical CPUs. */
  cores: number;
  /** Kernel release. */
  kernel: string;
  /** Each runtime's version. */
  versions: Partial<Record<RuntimeName, string>>;
  /** How the processes were placed: `taskset -c 0` for both, `server on 0, client on 1`, or `not pinned`. */
  pinning: string;
}

/** Whether `taskset` can be run here. */
export function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((entry) => entry.startsWith("model name"));
    if (line !== undefined) return line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // Not Linux.
  }
  return cpus()[0]?.model ?? "unknown";
}

/** Describes this machine and the given runtimes. */
export function describeMachine(runtimes: readonly Runtime[], pinning: string): Machine {
  const versions: Partial<Record<RuntimeName, string>> = {};
  for (const runtime of runtimes) versions[runtime.name] = runtimeVersion(runtime);
  return { cpu: cpuModel(), cores: cpus().length, kernel: release(), versions, pinning };
}
