/**
 * What a run measures: which metrics each scenario supports, on which
 * runtimes it exists, how much of each metric a measurement does (full or
 * `--quick`), and the order of one round.
 *
 * @module
 */

import process from "node:process";
import { type MetricName, type MetricParamsOf, METRICS } from "./metric_types.ts";
import type { Runtime } from "./runtimes.ts";
import { BULK_PAYLOAD_SIZE } from "./scenarios/payload.ts";
import { type ScenarioName, SCENARIOS } from "./scenarios/types.ts";

/** The metrics each scenario is measured on. */
export const SCENARIO_METRICS: Readonly<Record<ScenarioName, readonly MetricName[]>> = {
  "raw-net": ["rtt", "throughput", "stream", "bulk", "connections"],
  "raw-native": ["rtt", "throughput", "stream", "bulk"],
  "peerlink-unix": ["rtt", "throughput", "stream", "bulk", "connections", "inflight"],
  "peerlink-seqpacket": ["rtt", "throughput", "stream", "bulk"],
  "peerlink-tcp": ["rtt", "throughput", "stream", "bulk"],
  "peerlink-tls": ["rtt", "throughput", "stream", "bulk"],
  jsonrpc: ["rtt", "throughput", "stream", "connections"],
};

/**
 * Parameters of a full run. The warm-ups are long on purpose: a fresh
 * process runs peerlink's code unoptimized for its first tens of thousands
 * of calls (V8 and JavaScriptCore optimize a function after it ran often
 * enough), and a server serves for hours; measured on Node 24, 64 calls in
 * flight ran at 100-117k calls/s over the 50,000 calls after a warm-up of
 * 5,000 and at 230-260k calls/s from the 100,000th call on. The floor gets
 * the same warm-up (its code is optimized sooner: there is less of it).
 * The 1 MiB echo is long for another reason: its cost is set by full
 * garbage collections, one every 20 to 25 messages on Node 24, so 50
 * echoes (as it once was) span two or three of them and a round's figure
 * depends on where they fall; over 400, measured twice, the ratios agreed
 * within 0.06 on every runtime, where over 50 they moved by up to 0.3.
 */
export const FULL_PARAMS: MetricParamsOf = {
  rtt: { warmup: 30_000, calls: 30_000 },
  throughput: { warmup: 200_000, calls: 200_000, inFlight: 64 },
  stream: { warmup: 300_000, items: 300_000 },
  bulk: { warmup: 200, calls: 400, size: BULK_PAYLOAD_SIZE },
  connections: { connections: 1_000, callsEach: 20 },
  inflight: { calls: 100_000 },
};

/** Parameters of a `--quick` run (a smoke test: the numbers are rough). */
export const QUICK_PARAMS: MetricParamsOf = {
  rtt: { warmup: 200, calls: 2_000 },
  throughput: { warmup: 500, calls: 5_000, inFlight: 64 },
  stream: { warmup: 500, items: 10_000 },
  bulk: { warmup: 1, calls: 5, size: BULK_PAYLOAD_SIZE },
  connections: { connections: 100, callsEach: 10 },
  inflight: { calls: 10_000 },
};

/** Milliseconds one measurement may take before its processes are killed. */
export const MEASUREMENT_TIMEOUT: Readonly<Record<MetricName, number>> = {
  rtt: 60_000,
  throughput: 120_000,
  stream: 60_000,
  bulk: 60_000,
  connections: 120_000,
  inflight: 120_000,
};

/** Whether a scenario exists on a runtime (`raw-native` is not Node's; seqpacket is Linux only). */
export function scenarioRunsOn(scenario: ScenarioName, runtime: Runtime): boolean {
  if (scenario === "raw-native") return runtime.native;
  if (scenario === "peerlink-seqpacket") return process.platform === "linux";
  return true;
}

/** One measurement of a round. */
export interface PlannedMeasurement {
  /** The runtime. */
  runtime: Runtime;
  /** The scenario. */
  scenario: ScenarioName;
  /** The metric. */
  metric: MetricName;
}

/**
 * A round: every runtime, every metric, every scenario, once, filtered by
 * `--only` and `--metrics`. Within a runtime the scenarios of one metric
 * run one after the other, so that a scenario and the floor it is divided
 * by are measured seconds apart, not minutes.
 */
export function planRound(
  runtimes: readonly Runtime[],
  only: ReadonlySet<ScenarioName>,
  metrics: ReadonlySet<MetricName>,
): PlannedMeasurement[] {
  const planned: PlannedMeasurement[] = [];
  for (const runtime of runtimes) {
    for (const metric of METRICS) {
      if (!metrics.has(metric)) continue;
      for (const scenario of SCENARIOS) {
        if (only.has(scenario) && scenarioRunsOn(scenario, runtime) && SCENARIO_METRICS[scenario].includes(metric)) {
          planned.push({ runtime, scenario, metric });
        }
      }
    }
  }
  return planned;
}
