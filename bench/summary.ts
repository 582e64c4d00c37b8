/**
 * From the raw per-round records to what the report shows: the rows of the
 * tables (one number each, taken from one metric's result), and medians
 * over rounds of absolute values and of ratios. A ratio is always taken
 * within one round (a scenario's value over the floor's value of the same
 * runtime in the same round), then the median is taken over rounds.
 *
 * @module
 */

import type { MetricName, MetricResult, MetricResultOf } from "./metric_types.ts";
import type { RuntimeName } from "./runtimes.ts";
import type { ScenarioName } from "./scenarios/types.ts";
import { median } from "./stats.ts";

/** The scenario every ratio is taken against. */
export const FLOOR: ScenarioName = "raw-net";

/** One measurement as run. */
export interface MeasurementRecord {
  /** The round, from 1. */
  round: number;
  /** The runtime. */
  runtime: RuntimeName;
  /** The scenario. */
  scenario: ScenarioName;
  /** The metric. */
  metric: MetricName;
  /** Wall time of the measurement, both processes' start and exit included. */
  seconds: number;
  /** What was measured, when it succeeded. */
  result?: MetricResult;
  /** Why it failed, when it did. */
  error?: string;
}

/** A row of the tables: one number out of one metric's result. */
export interface Row<M extends MetricName = MetricName> {
  /** Stable key (in the JSON file). */
  key: string;
  /** What the row shows. */
  label: string;
  /** The metric the number comes from. */
  metric: M;
  /** Unit, for the table. */
  unit: "µs" | "/s" | "MB/s" | "B" | "s";
  /** Whether a larger number is better (ratios of such rows above 1 are good). */
  higherIsBetter: boolean;
  /** The number. */
  value(result: MetricResultOf[M]): number;
}

function row<M extends MetricName>(definition: Row<M>): Row {
  return definition as unknown as Row;
}

/** The rows, in table order. */
export const ROWS: readonly Row[] = [
  row({ key: "rttP50", label: "RTT p50", metric: "rtt", unit: "µs", higherIsBetter: false, value: (r) => r.p50 }),
  row({ key: "rttP99", label: "RTT p99", metric: "rtt", unit: "µs", higherIsBetter: false, value: (r) => r.p99 }),
  row({
    key: "callsPerSecond",
    label: "calls/s, 64 in flight",
    metric: "throughput",
    unit: "/s",
    higherIsBetter: true,
    value: (r) => r.callsPerSecond,
  }),
  row({
    key: "itemsPerSecond",
    label: "stream items/s",
    metric: "stream",
    unit: "/s",
    higherIsBetter: true,
    value: (r) => r.itemsPerSecond,
  }),
  row({
    key: "mbPerSecond",
    label: "1 MiB echo MB/s",
    metric: "bulk",
    unit: "MB/s",
    higherIsBetter: true,
    value: (r) => r.mbPerSecond,
  }),
  row({
    key: "bytesPerConnection",
    label: "server heap/idle connection",
    metric: "connections",
    unit: "B",
    higherIsBetter: false,
    value: (r) => r.bytesPerConnection,
  }),
  row({
    key: "rssPerConnection",
    label: "server RSS/idle connection",
    metric: "connections",
    unit: "B",
    higherIsBetter: false,
    value: (r) => r.rssPerConnection,
  }),
  row({
    key: "manyConnectionsCallsPerSecond",
    label: "calls/s, every connection at once",
    metric: "connections",
    unit: "/s",
    higherIsBetter: true,
    value: (r) => r.calls / r.callSeconds,
  }),
  row({
    key: "bytesPerCall",
    label: "server heap/call in flight",
    metric: "inflight",
    unit: "B",
    higherIsBetter: false,
    value: (r) => r.bytesPerCall,
  }),
  row({
    key: "rssPerCall",
    label: "server RSS/call in flight",
    metric: "inflight",
    unit: "B",
    higherIsBetter: false,
    value: (r) => r.rssPerCall,
  }),
  row({
    key: "inflightCompleteSeconds",
    label: "held calls: release → all answered",
    metric: "inflight",
    unit: "s",
    higherIsBetter: false,
    value: (r) => r.completeSeconds,
  }),
];

/** A row's row by key. */
export function rowByKey(key: string): Row {
  const found = ROWS.find((entry) => entry.key === key);
  if (found === undefined) throw new Error(`No row ${key}`);
  return found;
}

/** One table cell: a scenario's row on one runtime, per round and as medians. */
export interface Cell {
  /** The value of each round (NaN where it was not measured). */
  values: number[];
  /** Each round's value over the floor's in the same round (NaN where either is missing). */
  ratios: number[];
  /** Median value over rounds. */
  value: number;
  /** Median ratio over rounds. */
  ratio: number;
}

/** Where one number of one round comes from. */
export interface Source {
  /** The scenario. */
  scenario: ScenarioName;
  /** The row. */
  row: Row;
}

/** The records of a run, indexed for the report and the goals. */
export class RunRecords {
  readonly #records: readonly MeasurementRecord[];
  readonly #rounds: number;

  /** Indexes the records of a run of `rounds` rounds. */
  constructor(records: readonly MeasurementRecord[], rounds: number) {
    this.#records = records;
    this.#rounds = rounds;
  }

  /** The successful record of one measurement, if there is one. */
  record(
    runtime: RuntimeName,
    scenario: ScenarioName,
    metric: MetricName,
    round: number,
  ): MeasurementRecord | undefined {
    return this.#records.find((entry) =>
      entry.runtime === runtime && entry.scenario === scenario && entry.metric === metric && entry.round === round
    );
  }

  /** Every record of one runtime, scenario and metric (failed ones included). */
  recordsOf(runtime: RuntimeName, scenario: ScenarioName, metric: MetricName): MeasurementRecord[] {
    return this.#records.filter((entry) =>
      entry.runtime === runtime && entry.scenario === scenario && entry.metric === metric
    );
  }

  /** A source's value in each round (NaN where it was not measured or failed). */
  values(runtime: RuntimeName, source: Source): number[] {
    const result: number[] = [];
    for (let round = 1; round <= this.#rounds; round++) {
      const found = this.record(runtime, source.scenario, source.row.metric, round)?.result;
      result.push(found === undefined ? NaN : source.row.value(found));
    }
    return result;
  }

  /** Per-round ratios of two sources of one runtime. */
  ratios(runtime: RuntimeName, numerator: Source, denominator: Source): number[] {
    const top = this.values(runtime, numerator);
    const bottom = this.values(runtime, denominator);
    return top.map((value, i) => value / bottom[i]!);
  }

  /** The median over rounds of the per-round ratios of two sources. */
  medianRatio(runtime: RuntimeName, numerator: Source, denominator: Source): number {
    return median(this.ratios(runtime, numerator, denominator));
  }

  /** A table cell: the scenario's row, and its ratio to the floor's same row. */
  cell(runtime: RuntimeName, scenario: ScenarioName, row: Row): Cell {
    const values = this.values(runtime, { scenario, row });
    const ratios = this.ratios(runtime, { scenario, row }, { scenario: FLOOR, row });
    return { values, ratios, value: median(values), ratio: median(ratios) };
  }
}
