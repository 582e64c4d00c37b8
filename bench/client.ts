/**
 * The benchmark's client process: `client.ts '<ClientConfig as JSON>'`.
 * Connects to the server the runner started, measures one metric, and
 * prints its result line. See `./protocol.ts`.
 *
 * @module
 */

import process from "node:process";
import { printLine, runChild, StdinLines } from "./child_io.ts";
import { measureMetric } from "./metrics.ts";
import type { ClientConfig, ServerAnswer, ServerCommand } from "./protocol.ts";
import { loadScenario } from "./scenarios/registry.ts";

async function main(): Promise<void> {
  const config = JSON.parse(process.argv.at(-1)!) as ClientConfig;
  const answers = new StdinLines();
  try {
    const scenario = await loadScenario(config.scenario);
    const bulk = config.metric === "bulk";
    const ask = async (command: ServerCommand): Promise<ServerAnswer> => {
      printLine({ ask: command });
      const line = await answers.next();
      if (line === null) throw new Error("The runner closed the client's stdin");
      return JSON.parse(line) as ServerAnswer;
    };
    const result = await measureMetric(config.metric, config.params, {
      open: () => scenario.open(config.server, { bulk }),
      ask,
    });
    printLine({ result });
  } finally {
    answers.stop();
  }
}

await runChild(main);
