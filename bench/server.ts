/**
 * The benchmark's server process: `server.ts '<ServerConfig as JSON>'`.
 * Serves one scenario, prints its ready line, answers the runner's
 * commands (memory, release) and closes when its stdin ends. See
 * `./protocol.ts`.
 *
 * @module
 */

import process from "node:process";
import { printLine, runChild, StdinLines } from "./child_io.ts";
import { sampleMemory } from "./memory.ts";
import type { ServerAnswer, ServerCommand, ServerConfig } from "./protocol.ts";
import { loadScenario } from "./scenarios/registry.ts";
import type { BenchServer } from "./scenarios/types.ts";

async function answer(server: BenchServer, command: ServerCommand): Promise<ServerAnswer> {
  if (command.command === "memory") {
    if (command.afterArrived) {
      if (server.arrived === undefined) throw new Error("This scenario has no arrived notification");
      await server.arrived();
    }
    return { memory: sampleMemory() };
  }
  if (server.release === undefined) throw new Error("This scenario holds no calls");
  return { released: { mostRunning: server.release() } };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv.at(-1)!) as ServerConfig;
  const commands = new StdinLines();
  try {
    const scenario = await loadScenario(config.scenario);
    const server = await scenario.serve({ dir: config.dir, bulk: config.bulk });
    printLine({ ready: { address: server.address, ...(server.pin === undefined ? {} : { pin: server.pin }) } });
    for (let line = await commands.next(); line !== null; line = await commands.next()) {
      printLine(await answer(server, JSON.parse(line) as ServerCommand));
    }
    await server.close();
  } finally {
    commands.stop();
  }
}

await runChild(main);
