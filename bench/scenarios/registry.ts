/**
 * Which module implements each scenario, loaded on demand: a runtime only
 * imports the modules of the scenario it runs (Node never loads the Deno or
 * Bun socket code, nor peerlink for a raw floor).
 *
 * @module
 */

import type { Scenario, ScenarioName } from "./types.ts";

/**
 * The scenario of a name, for the runtime this process runs in.
 *
 * @throws Error for `raw-native` on Node, which has no socket API of its own besides `node:net`.
 */
export async function loadScenario(name: ScenarioName): Promise<Scenario> {
  switch (name) {
    case "raw-net":
      return (await import("./raw_net.ts")).scenario;
    case "raw-native":
      if ("Deno" in globalThis) return (await import("./raw_deno.ts")).scenario;
      if ("Bun" in globalThis) return (await import("./raw_bun.ts")).scenario;
      throw new Error("Node has no native socket API besides node:net");
    case "jsonrpc":
      return (await import("./jsonrpc.ts")).scenario;
    default: {
      const { peerlinkScenario } = await import("./peerlink.ts");
      return peerlinkScenario(name.slice("peerlink-".length) as "unix" | "seqpacket" | "tcp" | "tls");
    }
  }
}
