/**
 * The runner's command line. Every flag is optional:
 *
 * | flag | meaning | default |
 * | --- | --- | --- |
 * | `--runtimes=deno,bun,node24` | runtimes to run in | all five |
 * | `--rounds=3` | interleaved rounds | 3 |
 * | `--only=raw,unix,seqpacket,tcp,tls,jsonrpc` | scenarios (full names or these short ones; `raw-net`, the floor, always runs) | all |
 * | `--metrics=rtt,throughput,stream,bulk,connections,inflight` | metrics (`memory` and `scale` mean `connections,inflight`) | all |
 * | `--quick` | fewer iterations, for smoke runs | off |
 * | `--cpus=0` or `--cpus=0,1` | `taskset -c` CPU for both processes, or server's and client's | `0` |
 * | `--no-pin` | no `taskset` | pinned where `taskset` exists |
 * | `--json=PATH` | where the JSON results go | `bench/results/latest.json` |
 *
 * @module
 */

import { type MetricName, METRICS } from "./metric_types.ts";
import { RUNTIME_NAMES, type RuntimeName } from "./runtimes.ts";
import { type ScenarioName, SCENARIOS } from "./scenarios/types.ts";

/** The runner's options. */
export interface RunOptions {
  /** Runtimes to run in, in report order. */
  runtimes: RuntimeName[];
  /** Interleaved rounds. */
  rounds: number;
  /** Scenarios to run. */
  only: Set<ScenarioName>;
  /** Metrics to measure. */
  metrics: Set<MetricName>;
  /** Fewer iterations. */
  quick: boolean;
  /** CPUs for `taskset -c`: one entry for both processes, or the server's and the client's; empty for none. */
  cpus: string[];
  /** Path of the JSON results file. */
  json: string;
  /** Print the usage and stop. */
  help: boolean;
}

/** The usage text. */
export const USAGE: string = `Usage: deno run -A bench/run.ts [--runtimes=${RUNTIME_NAMES.join(",")}] [--rounds=3]
  [--only=raw,net,native,peerlink,unix,seqpacket,tcp,tls,jsonrpc] [--metrics=${METRICS.join(",")}]
  [--quick] [--cpus=0 | --cpus=0,1 | --no-pin] [--json=bench/results/latest.json]`;

const SCENARIO_ALIASES: Readonly<Record<string, readonly ScenarioName[]>> = {
  raw: ["raw-net", "raw-native"],
  net: ["raw-net"],
  native: ["raw-native"],
  peerlink: ["peerlink-unix", "peerlink-seqpacket", "peerlink-tcp", "peerlink-tls"],
  unix: ["peerlink-unix"],
  seqpacket: ["peerlink-seqpacket"],
  tcp: ["peerlink-tcp"],
  tls: ["peerlink-tls"],
};

const METRIC_ALIASES: Readonly<Record<string, readonly MetricName[]>> = {
  memory: ["connections", "inflight"],
  scale: ["connections", "inflight"],
};

function list<T extends string>(
  flag: string,
  value: string,
  known: readonly T[],
  aliases: Readonly<Record<string, readonly T[]>>,
): Set<T> {
  const result = new Set<T>();
  for (const item of value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")) {
    const expanded = aliases[item] ?? (known.includes(item as T) ? [item as T] : undefined);
    if (expanded === undefined) {
      throw new Error(`--${flag}: unknown "${item}" (known: ${[...known, ...Object.keys(aliases)].join(", ")})`);
    }
    for (const entry of expanded) result.add(entry);
  }
  if (result.size === 0) throw new Error(`--${flag} names nothing`);
  return result;
}

/**
 * Parses the runner's arguments.
 *
 * @throws Error naming an unknown flag or value.
 */
export function parseFlags(args: readonly string[], defaultJson: string): RunOptions {
  const options: RunOptions = {
    runtimes: [...RUNTIME_NAMES],
    rounds: 3,
    only: new Set(SCENARIOS),
    metrics: new Set(METRICS),
    quick: false,
    cpus: ["0"],
    json: defaultJson,
    help: false,
  };
  let pin = true;
  for (const arg of args) {
    const [flag, value = ""] = arg.startsWith("--") ? splitFlag(arg.slice(2)) : [arg, ""];
    switch (flag) {
      case "runtimes": {
        const chosen = list(flag, value, RUNTIME_NAMES, {});
        options.runtimes = RUNTIME_NAMES.filter((name) => chosen.has(name));
        break;
      }
      case "rounds":
        options.rounds = Number(value);
        if (!Number.isInteger(options.rounds) || options.rounds < 1) {
          throw new Error("--rounds takes a positive integer");
        }
        break;
      case "only":
        options.only = list(flag, value, SCENARIOS, SCENARIO_ALIASES);
        options.only.add("raw-net");
        break;
      case "metrics":
        options.metrics = list(flag, value, METRICS, METRIC_ALIASES);
        break;
      case "quick":
        options.quick = true;
        break;
      case "cpus":
        options.cpus = value.split(",").map((cpu) => cpu.trim());
        if (options.cpus.length > 2 || options.cpus.some((cpu) => !/^\d+$/.test(cpu))) {
          throw new Error("--cpus takes one CPU number (both processes) or two (server, client)");
        }
        break;
      case "no-pin":
        pin = false;
        break;
      case "json":
        if (value === "") throw new Error("--json takes a path");
        options.json = value;
        break;
      case "help":
        options.help = true;
        break;
      default:
        throw new Error(`Unknown argument ${arg}\n${USAGE}`);
    }
  }
  if (!pin) options.cpus = [];
  return options;
}

function splitFlag(text: string): [string, string] {
  const at = text.indexOf("=");
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}
