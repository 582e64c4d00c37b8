/**
 * The one client driver: each metric measured the same way over every
 * scenario's `BenchConnection`, with every result checked (each echo
 * against what was sent, counts and sums of streams and concurrent calls,
 * the bytes of bulk echoes). A failed check throws, which fails the run.
 *
 * @module
 */

import { heldBytes, type MemorySample } from "./memory.ts";
import type { MetricName, MetricParams, MetricParamsOf, MetricResult, MetricResultOf } from "./metric_types.ts";
import type { ServerAnswer, ServerCommand } from "./protocol.ts";
import { bulkPayload, checkBulk } from "./scenarios/payload.ts";
import type { BenchConnection } from "./scenarios/types.ts";
import { quantile, sumBelow } from "./stats.ts";

/** What a metric needs from the client process. */
export interface MetricContext {
  /** Opens a connection to the server. */
  open(): Promise<BenchConnection>;
  /** Asks the server something (through the runner). */
  ask(command: ServerCommand): Promise<ServerAnswer>;
}

/** Connections opened at once while setting up the connection metric (more could overflow the listen backlog). */
const OPEN_BATCH = 50;

/**
 * Measures one metric.
 *
 * @throws Error when a check fails.
 */
export function measureMetric(metric: MetricName, params: MetricParams, context: MetricContext): Promise<MetricResult> {
  switch (metric) {
    case "rtt":
      return withConnection(context, (connection) => rtt(connection, params as MetricParamsOf["rtt"]));
    case "throughput":
      return withConnection(context, (c) => throughput(c, params as MetricParamsOf["throughput"]));
    case "stream":
      return withConnection(context, (connection) => stream(connection, params as MetricParamsOf["stream"]));
    case "bulk":
      return withConnection(context, (connection) => bulk(connection, params as MetricParamsOf["bulk"]));
    case "connections":
      return connections(context, params as MetricParamsOf["connections"]);
    case "inflight":
      return withConnection(context, (c) => inflight(c, context, params as MetricParamsOf["inflight"]));
  }
}

async function withConnection<T>(context: MetricContext, use: (connection: BenchConnection) => Promise<T>): Promise<T> {
  const connection = await context.open();
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

async function echoChecked(connection: BenchConnection, tag: number): Promise<number> {
  const echoed = await connection.echo(tag);
  if (echoed !== tag) throw new Error(`Call ${tag} was answered with the reply of call ${echoed}`);
  return echoed;
}

/** Sequential calls, each timed on its own. */
async function rtt(connection: BenchConnection, params: MetricParamsOf["rtt"]): Promise<MetricResultOf["rtt"]> {
  for (let i = 0; i < params.warmup; i++) await echoChecked(connection, i);
  const samples = new Float64Array(params.calls);
  for (let i = 0; i < params.calls; i++) {
    const started = performance.now();
    const echoed = await connection.echo(i);
    samples[i] = (performance.now() - started) * 1000;
    if (echoed !== i) throw new Error(`Call ${i} was answered with the reply of call ${echoed}`);
  }
  const mean = samples.reduce((sum, sample) => sum + sample, 0) / samples.length;
  samples.sort();
  return {
    calls: params.calls,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    mean,
    max: samples[samples.length - 1]!,
  };
}

/** `calls` calls with `inFlight` outstanding: a new one starts as one finishes. */
async function concurrentCalls(connection: BenchConnection, calls: number, inFlight: number): Promise<void> {
  let next = 0;
  let answered = 0;
  let sum = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const tag = await echoChecked(connection, next++);
      sum += tag; // not `sum += await …`: that reads sum before the wait
      answered++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  checkAllAnswered(answered, sum, calls, "calls");
}

/**
 * Checks that `expected` answers numbered 0 … expected − 1 came, by their count and sum.
 *
 * @throws Error saying what came instead.
 */
function checkAllAnswered(count: number, sum: number, expected: number, what: string): void {
  if (count !== expected || sum !== sumBelow(expected)) {
    throw new Error(`${count} of ${expected} ${what} answered, checksum ${sum} instead of ${sumBelow(expected)}`);
  }
}

async function throughput(
  connection: BenchConnection,
  params: MetricParamsOf["throughput"],
): Promise<MetricResultOf["throughput"]> {
  await concurrentCalls(connection, params.warmup, params.inFlight);
  const started = performance.now();
  await concurrentCalls(connection, params.calls, params.inFlight);
  const seconds = (performance.now() - started) / 1000;
  return { calls: params.calls, inFlight: params.inFlight, seconds, callsPerSecond: params.calls / seconds };
}

async function streamChecked(connection: BenchConnection, items: number): Promise<void> {
  const { count, sum } = await connection.stream(items);
  checkAllAnswered(count, sum, items, "stream items");
}

async function stream(
  connection: BenchConnection,
  params: MetricParamsOf["stream"],
): Promise<MetricResultOf["stream"]> {
  await streamChecked(connection, params.warmup);
  const started = performance.now();
  await streamChecked(connection, params.items);
  const seconds = (performance.now() - started) / 1000;
  return { items: params.items, seconds, itemsPerSecond: params.items / seconds };
}

/** Sequential echoes of a large payload; only the calls are timed, the byte checks are not. */
async function bulk(connection: BenchConnection, params: MetricParamsOf["bulk"]): Promise<MetricResultOf["bulk"]> {
  const payloads = [bulkPayload(params.size, 1), bulkPayload(params.size, 2)];
  for (let i = 0; i < params.warmup; i++) checkBulk(await connection.bulk(payloads[i % 2]!), payloads[i % 2]!);
  let milliseconds = 0;
  for (let i = 0; i < params.calls; i++) {
    const payload = payloads[i % 2]!;
    const started = performance.now();
    const echoed = await connection.bulk(payload);
    milliseconds += performance.now() - started;
    checkBulk(echoed, payload);
  }
  const seconds = milliseconds / 1000;
  return { calls: params.calls, size: params.size, seconds, mbPerSecond: (params.calls * params.size) / seconds / 1e6 };
}

async function serverMemory(context: MetricContext, afterArrived = false): Promise<MemorySample> {
  const answer = await context.ask({ command: "memory", afterArrived });
  if (!("memory" in answer)) throw new Error(`The server answered ${JSON.stringify(answer)} to a memory request`);
  return answer.memory;
}

/** How much the server's memory grew per connection or call: heap + external, and RSS. */
function growthPer(before: MemorySample, after: MemorySample, count: number): { held: number; rss: number } {
  return { held: (heldBytes(after) - heldBytes(before)) / count, rss: (after.rss - before.rss) / count };
}

/** Idle connections (each has made one call), the server's memory before and after, then calls on all at once. */
async function connections(
  context: MetricContext,
  params: MetricParamsOf["connections"],
): Promise<MetricResultOf["connections"]> {
  await withConnection(context, (warm) => echoChecked(warm, 0));
  const before = await serverMemory(context);
  const opened: BenchConnection[] = [];
  try {
    const openStarted = performance.now();
    while (opened.length < params.connections) {
      const batch = Math.min(OPEN_BATCH, params.connections - opened.length);
      opened.push(...await Promise.all(Array.from({ length: batch }, () => context.open())));
    }
    await Promise.all(opened.map((connection, i) => echoChecked(connection, i)));
    const openSeconds = (performance.now() - openStarted) / 1000;
    const after = await serverMemory(context);
    const callsStarted = performance.now();
    let answered = 0;
    let sum = 0;
    await Promise.all(opened.map(async (connection, i) => {
      for (let k = 0; k < params.callsEach; k++) {
        const tag = await echoChecked(connection, i * params.callsEach + k);
        sum += tag;
        answered++;
      }
    }));
    const callSeconds = (performance.now() - callsStarted) / 1000;
    const calls = params.connections * params.callsEach;
    checkAllAnswered(answered, sum, calls, `calls over ${params.connections} connections`);
    return {
      connections: params.connections,
      before,
      after,
      bytesPerConnection: growthPer(before, after, params.connections).held,
      rssPerConnection: growthPer(before, after, params.connections).rss,
      openSeconds,
      calls,
      callSeconds,
    };
  } finally {
    await Promise.all(opened.map((connection) => connection.close()));
  }
}

/** Calls the server holds, all on one connection: memory once it read them all, then all released and checked. */
async function inflight(
  connection: BenchConnection,
  context: MetricContext,
  params: MetricParamsOf["inflight"],
): Promise<MetricResultOf["inflight"]> {
  const { hold, arrived } = connection;
  if (hold === undefined || arrived === undefined) throw new Error("This scenario cannot hold calls");
  await echoChecked(connection, 0);
  const before = await serverMemory(context);
  let answered = 0;
  let sum = 0;
  let failure: unknown;
  const started = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < params.calls; i++) {
    calls.push(
      hold(i).then((tag) => {
        answered++;
        sum += tag;
      }, (error) => void (failure ??= error)),
    );
  }
  await arrived();
  const sendSeconds = (performance.now() - started) / 1000;
  const after = await serverMemory(context, true);
  const released = performance.now();
  const answer = await context.ask({ command: "release" });
  if (!("released" in answer)) throw new Error(`The server answered ${JSON.stringify(answer)} to a release`);
  await Promise.all(calls);
  const completeSeconds = (performance.now() - released) / 1000;
  if (failure !== undefined) throw failure;
  checkAllAnswered(answered, sum, params.calls, "held calls");
  return {
    calls: params.calls,
    before,
    after,
    bytesPerCall: growthPer(before, after, params.calls).held,
    rssPerCall: growthPer(before, after, params.calls).rss,
    mostRunning: answer.released.mostRunning,
    sendSeconds,
    completeSeconds,
  };
}
