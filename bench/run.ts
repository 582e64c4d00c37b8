/**
 * The project's benchmark: `deno run -A bench/run.ts [flags]` (`npm run
 * bench`). Runs every scenario and metric in every runtime, each
 * measurement in a fresh server process and a fresh client process of that
 * runtime, in interleaved rounds; prints per-runtime tables of median
 * numbers and ratios to the raw floor, whether each goal of issue 9 holds,
 * and the machine; writes every raw number to a JSON file. Exits 0 when
 * every measurement ran and passed its checks (whatever the goals say),
 * 1 when a check failed or a process crashed or hung, 2 on bad flags. Flags: `./flags.ts`;
 * method: `./README.md`.
 *
 * @module
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { parseFlags, type RunOptions, USAGE } from "./flags.ts";
import { evaluateGoals } from "./goals.ts";
import { describeMachine, hasTaskset } from "./machine.ts";
import { abandonMeasurements, type Placement, runMeasurement } from "./measurement.ts";
import { FULL_PARAMS, MEASUREMENT_TIMEOUT, planRound, QUICK_PARAMS } from "./plan.ts";
import { failuresSection, goalsSection, machineSection, runtimeTable } from "./report.ts";
import { ROOT, RUNTIMES } from "./runtimes.ts";
import { SCENARIOS } from "./scenarios/types.ts";
import { type MeasurementRecord, RunRecords } from "./summary.ts";

function placementOf(options: RunOptions): { placement: Placement; description: string } {
  if (options.cpus.length === 0) return { placement: {}, description: "not pinned (--no-pin)" };
  if (!hasTaskset()) return { placement: {}, description: "not pinned (no taskset on this system)" };
  const [server, client = server] = options.cpus as [string, string?];
  return {
    placement: { server, client },
    description: server === client
      ? `server and client pinned to CPU ${server} (taskset -c ${server})`
      : `server pinned to CPU ${server}, client to CPU ${client}`,
  };
}

/** Where Node keeps its compile cache during the run (removed at the end, or when interrupted). */
let cacheDir = "";

function progress(text: string): void {
  process.stderr.write(text);
}

async function main(): Promise<number> {
  let options: RunOptions;
  try {
    options = parseFlags(process.argv.slice(2), `${ROOT}bench/results/latest.json`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const runtimes = options.runtimes.map((name) => RUNTIMES[name]);
  const { placement, description } = placementOf(options);
  const machine = describeMachine(runtimes, description);
  const params = options.quick ? QUICK_PARAMS : FULL_PARAMS;
  const round = planRound(runtimes, options.only, options.metrics);
  const startedAt = new Date();
  const started = performance.now();
  progress(`${round.length} measurements per round, ${options.rounds} rounds; ${description}\n`);

  cacheDir = mkdtempSync(join(tmpdir(), "peerlink-bench-cache-"));
  const records: MeasurementRecord[] = [];
  for (let number = 1; number <= options.rounds; number++) {
    for (const [index, planned] of round.entries()) {
      const label = `${planned.runtime.name} ${planned.scenario} ${planned.metric}`;
      progress(`[round ${number}/${options.rounds} ${index + 1}/${round.length}] ${label} … `);
      const measurementStarted = performance.now();
      const record: MeasurementRecord = {
        round: number,
        runtime: planned.runtime.name,
        scenario: planned.scenario,
        metric: planned.metric,
        seconds: 0,
      };
      try {
        record.result = await runMeasurement({
          ...planned,
          params: params[planned.metric],
          timeout: MEASUREMENT_TIMEOUT[planned.metric],
          cacheDir,
        }, placement);
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
      }
      record.seconds = (performance.now() - measurementStarted) / 1000;
      records.push(record);
      progress(record.error === undefined ? `${record.seconds.toFixed(1)} s\n` : `FAILED\n${record.error}\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  rmSync(cacheDir, { recursive: true, force: true });

  const indexed = new RunRecords(records, options.rounds);
  const goals = evaluateGoals(indexed, options.runtimes, FULL_PARAMS);
  const ran = SCENARIOS.filter((scenario) => round.some((planned) => planned.scenario === scenario));
  const sections: string[] = [];
  for (const runtime of options.runtimes) {
    const scenarios = ran.filter((scenario) =>
      round.some((p) => p.runtime.name === runtime && p.scenario === scenario)
    );
    sections.push(`## ${runtime} (${machine.versions[runtime]})\n\n${runtimeTable(indexed, runtime, scenarios)}`);
  }
  sections.push(`## Goals (median over ${options.rounds} rounds of per-round ratios)\n\n${goalsSection(goals)}`);
  sections.push(`## Machine\n\n${machineSection(machine)}`);
  const failures = failuresSection(records);
  if (failures !== "") sections.push(`## Failures\n\n${failures}`);

  const json = resolve(options.json);
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(
    json,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seconds,
        machine,
        options: { ...options, only: [...options.only], metrics: [...options.metrics] },
        params,
        goals,
        records,
      },
      null,
      2,
    ) + "\n",
  );
  const failed = records.filter((record) => record.error !== undefined).length;
  sections.push(
    `Ran ${records.length} measurements in ${(seconds / 60).toFixed(1)} min` +
      `${failed === 0 ? "" : `, ${failed} FAILED`}${options.quick ? " (--quick: rough numbers)" : ""}. ` +
      `Results: ${json}`,
  );
  console.log(sections.join("\n\n"));
  return failed === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    abandonMeasurements();
    if (cacheDir !== "") rmSync(cacheDir, { recursive: true, force: true });
    process.exit(130);
  });
}
process.exitCode = await main();
