/**
 * What one abusive client costs the others: a raw client (its own process)
 * floods a server with echo requests, never reads a reply, and
 * disconnects; meanwhile a well-behaved client (another process) calls
 * every 5 ms. The figures are that client's call latencies around the
 * disconnect (when the server drops the abandoned backlog) and during the
 * flood, as ratios against its latencies with no abuse, measured in the
 * same run.
 *
 * Run: `deno run -A bench/abandoned_backlog.ts`, `bun bench/abandoned_backlog.ts`,
 * `node bench/abandoned_backlog.ts` (Node 24). Prints one JSON line.
 * `PEERLINK_BENCH_REQUESTS` sets the size of the flood (default 70 000),
 * `PEERLINK_BENCH_LINGER` how long the abuser stays connected once its flood
 * is written (default 1000 ms). `serverDropMs` is wall time until the server
 * let go of the abuser's connection (it includes a socket's close grace),
 * not time the process was busy.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { connect, listen } from "../mod.ts";
import { methodId } from "../src/wire/method_id.ts";
import { parseUnixAddress } from "../src/transport/address.ts";
import { loadRuntimeAdapter } from "../adapters/detect.ts";

const REQUESTS = Number(process.env.PEERLINK_BENCH_REQUESTS ?? 70_000);
/** How long the abuser stays connected after its flood was written, in ms. */
const LINGER = Number(process.env.PEERLINK_BENCH_LINGER ?? 1000);
/** How often the well-behaved client calls. */
const CALL_INTERVAL = 5;
/** One call's start (ms since the epoch, shared between the processes) and its latency in ms. */
type Sample = [startedAt: number, latency: number];

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The well-behaved client (the child process): calls every 5 ms until stdin ends, then prints its samples. */
async function politeClient(address: string): Promise<void> {
  const client = await connect(address);
  let stopped = false;
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => (stopped = true));
  process.stdin.resume();
  const samples: Sample[] = [];
  await client.call("echo", 0);
  process.stdout.write("ready\n");
  while (!stopped) {
    const startedAt = Date.now();
    const started = performance.now();
    await client.call("echo", 1);
    samples.push([startedAt, performance.now() - started]);
    await delay(CALL_INTERVAL);
  }
  await client.close();
  process.stdout.write(JSON.stringify(samples) + "\n");
}

/**
 * The abusive client (a child process): connects, writes the flood once a
 * line arrives on stdin, says "written", never reads, and disconnects when
 * stdin ends.
 */
async function abusiveClient(address: string): Promise<void> {
  const runtime = await loadRuntimeAdapter();
  const frames = floodFrames(REQUESTS);
  const stream = await runtime.connectStream(parseUnixAddress(address));
  const go = new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  const ended = new Promise<void>((resolve) => process.stdin.on("end", () => resolve()));
  process.stdin.resume();
  process.stdout.write("connected\n");
  await go;
  await stream.write(frames);
  process.stdout.write("written\n");
  await ended;
  await stream.close();
  process.stdout.write("closed\n");
}

/** A child process running this file again in the same runtime, in the given role. */
function startChild(
  role: "client" | "abuser",
  address: string,
): { output(): string; tell(line: string): void; stop(): Promise<void> } {
  const file = fileURLToPath(import.meta.url);
  const [command, args] = "Deno" in globalThis
    ? [process.execPath, ["run", "-A", "--no-check", file, role, address]]
    : "Bun" in globalThis
    ? [process.execPath, [file, role, address]]
    : [process.execPath, ["--no-warnings", file, role, address]];
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
  let output = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    output: () => output,
    tell: (line) => child.stdin!.write(line + "\n"),
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

/** `count` request frames for `echo(1)`, request ids 1..count, in one buffer. */
function floodFrames(count: number): Uint8Array {
  const frameSize = 4 + 12 + 1;
  const bytes = new Uint8Array(count * frameSize);
  const view = new DataView(bytes.buffer);
  const echo = methodId("echo");
  for (let i = 0; i < count; i++) {
    const at = i * frameSize;
    view.setUint32(at, 13, true);
    view.setUint32(at + 4, 0, true);
    view.setUint32(at + 8, i + 1, true);
    view.setInt32(at + 12, echo, true);
    bytes[at + 16] = 0x01; // CBOR 1
  }
  return bytes;
}

function stats(latencies: number[]): { calls: number; p50: number; p99: number; max: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const round = (n: number): number => Math.round(n * 100) / 100;
  return { calls: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN) };
}

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await delay(2);
  }
  return true;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "peerlink-bench-"));
  const address = `unix:${join(dir, "backlog.sock")}`;
  const server = await listen(address, { handlers: { echo: (value: unknown) => value } });
  const client = startChild("client", address);
  if (!(await waitUntil(() => client.output().includes("ready\n"), 20_000))) {
    throw new Error("The client did not start");
  }
  const abuser = startChild("abuser", address);
  // A session server counts a connection once its first message came, so only the abuser's word is awaited.
  await waitUntil(() => abuser.output().includes("connected\n"), 20_000);
  const baselineFrom = Date.now();
  await delay(1500);

  const floodFrom = Date.now();
  abuser.tell("go");
  await waitUntil(() => abuser.output().includes("written\n"), 60_000);
  const floodWritten = Date.now();
  // Let the server read the rest of what the kernel holds; it answers as far as the socket takes its replies.
  await delay(LINGER);

  const disconnectAt = Date.now();
  await abuser.stop();
  const dropped = await waitUntil(() => server.connections.size === 1, 60_000);
  const droppedAt = Date.now();
  await delay(1500);
  const end = Date.now();

  await client.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });

  const output = client.output();
  const samples = JSON.parse(output.slice(output.indexOf("ready\n") + 6)) as Sample[];
  const within = (from: number, to: number): number[] =>
    samples.filter(([startedAt]) => startedAt >= from && startedAt < to).map(([, latency]) => latency);
  const baseline = stats(within(baselineFrom, floodFrom));
  const flood = stats(within(floodFrom, disconnectAt));
  const disconnect = stats(within(disconnectAt - CALL_INTERVAL * 2, end));
  const ratio = (a: number, b: number): number => Math.round((a / b) * 10) / 10;
  console.log(JSON.stringify({
    runtime: (await loadRuntimeAdapter()).name,
    requests: REQUESTS,
    floodWriteMs: floodWritten - floodFrom,
    serverDropMs: dropped ? droppedAt - disconnectAt : "never",
    baseline,
    flood,
    disconnect,
    disconnectMaxVsBaselineMax: ratio(disconnect.max, baseline.max),
    disconnectP99VsBaselineP99: ratio(disconnect.p99, baseline.p99),
    floodMaxVsBaselineMax: ratio(flood.max, baseline.max),
  }));
}

const role = process.argv.at(-2);
if (role === "client") await politeClient(process.argv.at(-1)!);
else if (role === "abuser") await abusiveClient(process.argv.at(-1)!);
else await main();
