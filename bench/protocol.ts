/**
 * What the runner and its two child processes say to each other, one JSON
 * value per line. The server is started with a {@link ServerConfig},
 * prints a {@link ServerReady} line, then answers each
 * {@link ServerCommand} on its stdin with one line, and closes when its
 * stdin ends. The client is started with a {@link ClientConfig}; when it
 * needs the server (to read its memory, to release held calls) it prints a
 * {@link ClientAsk}, which the runner hands to the server, and gets the
 * server's answer on its stdin; it ends with a {@link ClientResult} line.
 * Either prints `{ "error": message }` and exits non-zero when something
 * fails.
 *
 * @module
 */

import type { MemorySample } from "./memory.ts";
import type { MetricName, MetricParams, MetricResult } from "./metric_types.ts";
import type { ScenarioName, ServerAddress } from "./scenarios/types.ts";

/** The server process's argument (as JSON). */
export interface ServerConfig {
  /** The scenario to serve. */
  scenario: ScenarioName;
  /** Whether 1 MiB messages will be echoed. */
  bulk: boolean;
  /** A private directory for its socket files (the runner creates it and removes it afterwards). */
  dir: string;
}

/** The server's first line. */
export interface ServerReady {
  /** Where to connect. */
  ready: ServerAddress;
}

/** What a server is asked on its stdin. */
export type ServerCommand =
  /** Its memory, after a forced collection; with `afterArrived`, once the client's `arrived` notification came. */
  | { command: "memory"; afterArrived?: boolean }
  /** Resolve every held call. */
  | { command: "release" };

/** The server's answer to a command. */
export type ServerAnswer =
  | { memory: MemorySample }
  /** How many held calls were running at once, at most. */
  | { released: { mostRunning: number } };

/** The client process's argument (as JSON). */
export interface ClientConfig {
  /** The scenario the server runs. */
  scenario: ScenarioName;
  /** Where the server listens. */
  server: ServerAddress;
  /** What to measure. */
  metric: MetricName;
  /** How much of it. */
  params: MetricParams;
}

/** A client's question for the server. */
export interface ClientAsk {
  /** The command to hand to the server; its answer comes back on the client's stdin. */
  ask: ServerCommand;
}

/** The client's last line. */
export interface ClientResult {
  /** What was measured. */
  result: MetricResult;
}
