/**
 * The goals of issue 9, evaluated per runtime from the ratios of one run
 * (each the median over rounds of a per-round ratio, `./summary.ts`). The
 * benchmark only reports them: a goal that fails does not fail the run;
 * a check that fails (a lost or damaged answer) does.
 *
 * @module
 */

import type { MetricParamsOf } from "./metric_types.ts";
import type { RuntimeName } from "./runtimes.ts";
import { FLOOR, rowByKey, type RunRecords, type Source } from "./summary.ts";

/** The server's default `maxConcurrentRequests`: held calls beyond it wait in line. */
const MAX_CONCURRENT_REQUESTS = 1024;

/** One goal on one runtime. */
export interface GoalResult {
  /** The runtime. */
  runtime: RuntimeName;
  /** What the goal says. */
  goal: string;
  /** What was measured (a ratio, or a count for the scale goals), NaN when it was not. */
  measured: number;
  /** How to print `measured`. */
  unit: "×" | "count";
  /** PASS, FAIL, or NOT RUN (a scenario or metric it needs was not measured, or failed). */
  status: "PASS" | "FAIL" | "NOT RUN";
}

const unix = (key: string): Source => ({ scenario: "peerlink-unix", row: rowByKey(key) });
const floor = (key: string): Source => ({ scenario: FLOOR, row: rowByKey(key) });
const seqpacket = (key: string): Source => ({ scenario: "peerlink-seqpacket", row: rowByKey(key) });
const jsonrpc = (key: string): Source => ({ scenario: "jsonrpc", row: rowByKey(key) });

interface RatioGoal {
  goal: string;
  numerator: Source;
  denominator: Source;
  atMost?: number;
  atLeast?: number;
}

const RATIO_GOALS: readonly RatioGoal[] = [
  {
    goal: "RTT p50 ≤ 1.20× the raw floor (unix)",
    numerator: unix("rttP50"),
    denominator: floor("rttP50"),
    atMost: 1.2,
  },
  { goal: "RTT p99 ≤ 3× p50 (unix)", numerator: unix("rttP99"), denominator: unix("rttP50"), atMost: 3 },
  {
    goal: "calls/s, 64 in flight ≥ 0.70× the raw floor (unix)",
    numerator: unix("callsPerSecond"),
    denominator: floor("callsPerSecond"),
    atLeast: 0.7,
  },
  {
    goal: "calls/s, 64 in flight ≥ 1.3× json-rpc-2.0 (unix)",
    numerator: unix("callsPerSecond"),
    denominator: jsonrpc("callsPerSecond"),
    atLeast: 1.3,
  },
  {
    goal: "stream items/s ≥ 0.5× the raw floor (unix)",
    numerator: unix("itemsPerSecond"),
    denominator: floor("itemsPerSecond"),
    atLeast: 0.5,
  },
  {
    goal: "1 MiB echo MB/s ≥ 0.9× the raw floor (unix)",
    numerator: unix("mbPerSecond"),
    denominator: floor("mbPerSecond"),
    atLeast: 0.9,
  },
  {
    goal: "seqpacket RTT p50 ≤ the raw unix stream floor",
    numerator: seqpacket("rttP50"),
    denominator: floor("rttP50"),
    atMost: 1,
  },
  {
    goal: "seqpacket calls/s ≥ unix calls/s",
    numerator: seqpacket("callsPerSecond"),
    denominator: unix("callsPerSecond"),
    atLeast: 1,
  },
];

function ratioGoal(records: RunRecords, runtime: RuntimeName, goal: RatioGoal): GoalResult {
  const measured = records.medianRatio(runtime, goal.numerator, goal.denominator);
  const pass = goal.atMost !== undefined ? measured <= goal.atMost : measured >= goal.atLeast!;
  return {
    runtime,
    goal: goal.goal,
    measured,
    unit: "×",
    status: Number.isNaN(measured) ? "NOT RUN" : pass ? "PASS" : "FAIL",
  };
}

/**
 * A scale goal: every round's measurement succeeded (its checks found no
 * lost or damaged answer) at the full size, and `extra` holds for each.
 */
function scaleGoal(
  records: RunRecords,
  runtime: RuntimeName,
  metric: "connections" | "inflight",
  full: number,
  goal: string,
  extra: (result: Record<string, number>) => boolean,
): GoalResult {
  const runs = records.recordsOf(runtime, "peerlink-unix", metric);
  if (runs.length === 0) return { runtime, goal, measured: NaN, unit: "count", status: "NOT RUN" };
  const sizes = runs.map((run) => {
    const result = run.result as Record<string, number> | undefined;
    return result === undefined ? NaN : metric === "connections" ? result.connections! : result.calls!;
  });
  const measured = Math.min(...sizes);
  const pass = runs.every((run) => run.result !== undefined && extra(run.result as unknown as Record<string, number>));
  // A --quick run's smaller sizes say nothing about the goal either way.
  return { runtime, goal, measured, unit: "count", status: !pass ? "FAIL" : measured >= full ? "PASS" : "NOT RUN" };
}

/** Every goal on every runtime of the run. */
export function evaluateGoals(
  records: RunRecords,
  runtimes: readonly RuntimeName[],
  full: MetricParamsOf,
): GoalResult[] {
  const results: GoalResult[] = [];
  for (const runtime of runtimes) {
    for (const goal of RATIO_GOALS) results.push(ratioGoal(records, runtime, goal));
    results.push(scaleGoal(
      records,
      runtime,
      "connections",
      full.connections.connections,
      `${full.connections.connections.toLocaleString("en")} connections to one server, all calls answered`,
      () => true,
    ));
    results.push(scaleGoal(
      records,
      runtime,
      "inflight",
      full.inflight.calls,
      `${full.inflight.calls.toLocaleString("en")} calls in flight on one connection, all answered, ` +
        `≤ ${MAX_CONCURRENT_REQUESTS} handlers at once`,
      (result) => result.mostRunning! <= MAX_CONCURRENT_REQUESTS,
    ));
  }
  return results;
}
