/**
 * The human report: per runtime, a table of median absolute numbers with
 * each scenario's median ratio to the floor; then the goals with PASS or
 * FAIL; then the machine. Tables are Markdown, so they paste into a README.
 *
 * @module
 */

import type { GoalResult } from "./goals.ts";
import type { Machine } from "./machine.ts";
import type { RuntimeName } from "./runtimes.ts";
import type { ScenarioName } from "./scenarios/types.ts";
import { FLOOR, type MeasurementRecord, type Row, ROWS, type RunRecords } from "./summary.ts";

/** A number as the tables show it: three significant digits, `k`/`M` for large rates, bytes whole. */
export function formatValue(value: number, unit: Row["unit"]): string {
  if (!Number.isFinite(value)) return "–";
  switch (unit) {
    case "µs":
      return `${value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString("en")} µs`;
    case "/s":
      return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M/s` : `${(value / 1e3).toFixed(1)}k/s`;
    case "MB/s":
      return `${Math.round(value).toLocaleString("en")} MB/s`;
    case "B":
      return `${Math.round(value).toLocaleString("en")} B`;
    case "s":
      return `${value.toFixed(2)} s`;
  }
}

/** A ratio as the tables show it. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "–";
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((entry) => entry[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** One runtime's table: rows × the scenarios that ran, each cell `median value (median ratio to the floor)`. */
export function runtimeTable(records: RunRecords, runtime: RuntimeName, scenarios: readonly ScenarioName[]): string {
  const rows: string[][] = [];
  for (const row of ROWS) {
    const cells = scenarios.map((scenario) => {
      const cell = records.cell(runtime, scenario, row);
      if (!Number.isFinite(cell.value)) return "–";
      const value = formatValue(cell.value, row.unit);
      return scenario === FLOOR ? value : `${value} (${formatRatio(cell.ratio)})`;
    });
    if (cells.some((cell) => cell !== "–")) rows.push([row.label, ...cells]);
  }
  return markdownTable(["metric", ...scenarios], rows);
}

/** The goals section. */
export function goalsSection(goals: readonly GoalResult[]): string {
  const lines: string[] = [];
  let runtime: RuntimeName | undefined;
  for (const goal of goals) {
    if (goal.runtime !== runtime) {
      runtime = goal.runtime;
      lines.push(`${runtime}:`);
    }
    const measured = goal.unit === "×"
      ? formatRatio(goal.measured)
      : Number.isFinite(goal.measured)
      ? goal.measured.toLocaleString("en")
      : "–";
    lines.push(`  ${goal.status.padEnd(7)} ${goal.goal.padEnd(72)} measured ${measured}`);
  }
  return lines.join("\n");
}

/** The machine section. */
export function machineSection(machine: Machine): string {
  const versions = Object.entries(machine.versions).map(([name, version]) => `${name} ${version}`).join(", ");
  return [
    `CPU: ${machine.cpu}, ${machine.cores} logical CPUs; kernel ${machine.kernel}`,
    `Runtimes: ${versions}`,
    `Placement: ${machine.pinning}`,
  ].join("\n");
}

/** The failures section (empty when nothing failed). */
export function failuresSection(records: readonly MeasurementRecord[]): string {
  const failed = records.filter((record) => record.error !== undefined);
  if (failed.length === 0) return "";
  return failed.map((record) =>
    `FAILED round ${record.round} ${record.runtime} ${record.scenario} ${record.metric}:\n${record.error}`
  ).join("\n\n");
}
