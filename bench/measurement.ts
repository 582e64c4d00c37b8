/**
 * One measurement: a fresh server process and a fresh client process of
 * the same runtime, the runner relaying the client's questions to the
 * server (`./protocol.ts`), both given a deadline and both gone when it
 * returns, whatever happened.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricName, MetricParams, MetricResult } from "./metric_types.ts";
import type { ClientConfig, ServerConfig } from "./protocol.ts";
import { ROOT, type Runtime } from "./runtimes.ts";
import type { ScenarioName, ServerAddress } from "./scenarios/types.ts";
import { ChildFailure, killAll, SupervisedProcess } from "./supervised_process.ts";

/** Where the two processes run. */
export interface Placement {
  /** `taskset -c` CPUs of the server, or undefined for none. */
  server?: string;
  /** `taskset -c` CPUs of the client, or undefined for none. */
  client?: string;
}

/** What to measure. */
export interface MeasurementSpec {
  /** The runtime of both processes. */
  runtime: Runtime;
  /** The scenario. */
  scenario: ScenarioName;
  /** The metric. */
  metric: MetricName;
  /** Its parameters. */
  params: MetricParams;
  /** Milliseconds the whole measurement may take before its processes are killed. */
  timeout: number;
  /** A directory the runtime may keep caches in between measurements (not results: only start-up work). */
  cacheDir: string;
}

/** Socket directories of the measurements under way. */
const directories = new Set<string>();

/** Kills every process of the measurements under way and removes their directories (an interrupted runner). */
export function abandonMeasurements(): void {
  killAll();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
}

/** Milliseconds a server has to print its ready line, and each process to exit at the end. */
const START_TIMEOUT = 30_000;
const EXIT_TIMEOUT = 10_000;

/**
 * Runs one measurement.
 *
 * @throws ChildFailure when a process crashes, hangs, or a check fails.
 */
export async function runMeasurement(spec: MeasurementSpec, placement: Placement): Promise<MetricResult> {
  const label = `${spec.runtime.name} ${spec.scenario} ${spec.metric}`;
  const dir = mkdtempSync(join(tmpdir(), "peerlink-bench-"));
  directories.add(dir);
  const serverConfig: ServerConfig = { scenario: spec.scenario, bulk: spec.metric === "bulk", dir };
  const server = start(spec, "server", serverConfig, placement.server, `${label} server`);
  let client: SupervisedProcess | undefined;
  try {
    const ready = await withTimeout(server.nextMessage(), START_TIMEOUT, () => server.failure("did not start"));
    const address = ready.ready as ServerAddress | undefined;
    if (address === undefined) throw server.failure(`printed ${JSON.stringify(ready)} instead of its ready line`);
    const clientConfig: ClientConfig = {
      scenario: spec.scenario,
      server: address,
      metric: spec.metric,
      params: spec.params,
    };
    client = start(spec, "client", clientConfig, placement.client, `${label} client`);
    for (;;) {
      const message = await client.nextMessage();
      if ("result" in message) {
        await client.finish(EXIT_TIMEOUT);
        server.endInput();
        await server.finish(EXIT_TIMEOUT);
        return message.result as MetricResult;
      }
      if (!("ask" in message)) throw client.failure(`printed ${JSON.stringify(message)}`);
      server.send(message.ask);
      client.send(await server.nextMessage());
    }
  } catch (error) {
    // A client that failed may have failed because of its server: show what the server said too.
    if (client === undefined || server.stderr.trim() === "" || !(error instanceof Error)) throw error;
    throw new ChildFailure(`${error.message}\n--- the server's stderr ---\n${server.stderr.trimEnd()}`, "");
  } finally {
    await Promise.all([server.kill(), client?.kill()]);
    rmSync(dir, { recursive: true, force: true });
    directories.delete(dir);
  }
}

function start(
  spec: MeasurementSpec,
  role: "server" | "client",
  config: ServerConfig | ClientConfig,
  cpus: string | undefined,
  label: string,
): SupervisedProcess {
  const script = `${ROOT}bench/${role}.ts`;
  return new SupervisedProcess(spec.runtime.executable, [...spec.runtime.argsFor(script), JSON.stringify(config)], {
    label,
    timeout: spec.timeout,
    cwd: ROOT,
    env: spec.runtime.envFor(spec.cacheDir),
    ...(cpus === undefined ? {} : { cpus }),
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, failure: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(failure()), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
