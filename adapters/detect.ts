/**
 * Picks the adapter of the runtime this code runs in (Deno, Bun or Node)
 * and loads it on first use. The entry points that work in every runtime
 * (`mod.ts`, `peer.ts`) use this; the npm package's conditional exports
 * point each runtime straight at its adapter instead.
 *
 * @module
 */

import type { RuntimeAdapter } from "../src/transport/runtime_adapter.ts";

/** The runtime this code runs in. */
export type RuntimeName = "deno" | "bun" | "node";

/**
 * Names the runtime this code runs in.
 *
 * @returns `"deno"`, `"bun"` or `"node"` (anything else is treated as Node).
 */
export function currentRuntime(): RuntimeName {
  return "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
}

let loading: Promise<RuntimeAdapter> | undefined;

/**
 * Loads (once) the adapter of the runtime this code runs in.
 *
 * @returns The adapter.
 */
export function loadRuntimeAdapter(): Promise<RuntimeAdapter> {
  loading ??= importAdapter(currentRuntime());
  return loading;
}

async function importAdapter(name: RuntimeName): Promise<RuntimeAdapter> {
  switch (name) {
    case "deno":
      return (await import("./deno/runtime.ts")).denoRuntime;
    case "bun":
      return (await import("./bun/runtime.ts")).bunRuntime;
    case "node":
      return (await import("./node/runtime.ts")).nodeRuntime;
  }
}
