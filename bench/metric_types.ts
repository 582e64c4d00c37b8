/**
 * The metrics, their parameters and their results, shared by the client
 * that measures (`./metrics.ts`), the runner that plans (`./plan.ts`) and
 * the report. Times are in microseconds for latencies, seconds for
 * durations; memory in bytes.
 *
 * @module
 */

import type { MemorySample } from "./memory.ts";

/** The metric names, in the order they run. */
export const METRICS = ["rtt", "throughput", "stream", "bulk", "connections", "inflight"] as const;

/** One metric's name. */
export type MetricName = typeof METRICS[number];

/** Parameters of each metric. */
export interface MetricParamsOf {
  /** Sequential calls. */
  rtt: { warmup: number; calls: number };
  /** Calls with a fixed number in flight. */
  throughput: { warmup: number; calls: number; inFlight: number };
  /** One server stream. */
  stream: { warmup: number; items: number };
  /** Sequential echoes of a large payload. */
  bulk: { warmup: number; calls: number; size: number };
  /** Many idle connections, then calls on all of them at once. */
  connections: { connections: number; callsEach: number };
  /** Calls held by the server, all on one connection. */
  inflight: { calls: number };
}

/** Results of each metric. */
export interface MetricResultOf {
  /** Round-trip times of sequential small echoes, µs. */
  rtt: { calls: number; p50: number; p99: number; mean: number; max: number };
  /** Small echoes per second with `inFlight` calls outstanding. */
  throughput: { calls: number; inFlight: number; seconds: number; callsPerSecond: number };
  /** Server-stream items per second. */
  stream: { items: number; seconds: number; itemsPerSecond: number };
  /** Payload bytes echoed per second, one direction, in MB (10^6 bytes). */
  bulk: { calls: number; size: number; seconds: number; mbPerSecond: number };
  /** Server memory per idle connection; then every connection calls at once. */
  connections: {
    connections: number;
    before: MemorySample;
    after: MemorySample;
    /** Server heap + external bytes per idle connection. */
    bytesPerConnection: number;
    /** Server RSS bytes per idle connection. */
    rssPerConnection: number;
    openSeconds: number;
    calls: number;
    callSeconds: number;
  };
  /** Server memory per call in flight; then all are released and complete. */
  inflight: {
    calls: number;
    before: MemorySample;
    after: MemorySample;
    /** Server heap + external bytes per call in flight. */
    bytesPerCall: number;
    /** Server RSS bytes per call in flight. */
    rssPerCall: number;
    /** The most held calls that ran at once on the server (the rest waited in line). */
    mostRunning: number;
    /** From the first call until the client had written them all. */
    sendSeconds: number;
    /** From the release to the last answer. */
    completeSeconds: number;
  };
}

/** Parameters of any metric. */
export type MetricParams = MetricParamsOf[MetricName];

/** The result of any metric. */
export type MetricResult = MetricResultOf[MetricName];
