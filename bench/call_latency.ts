/**
 * Round-trip cost of a peerlink call, as a ratio against a baseline measured
 * in the same run: the same 16-byte frame echoed over the same kind of Unix
 * stream socket by the runtime adapter's raw byte stream, with no RPC layer.
 *
 * Run: `deno run -A bench/call_latency.ts`, `bun bench/call_latency.ts`,
 * `node bench/call_latency.ts` (Node 24). Prints one JSON line.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, listen } from "../mod.ts";
import { parseAddress } from "../src/transport/address.ts";
import { loadRuntimeAdapter } from "../adapters/detect.ts";

const ROUNDS = Number(globalThis.process?.env?.PEERLINK_BENCH_ROUNDS ?? 5000);
const dir = mkdtempSync(join(tmpdir(), "peerlink-bench-"));
const runtime = await loadRuntimeAdapter();

/** Median of several timed batches, in microseconds per round trip. */
async function measure(roundTrip: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 500; i++) await roundTrip();
  const batches: number[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const started = performance.now();
    for (let i = 0; i < ROUNDS / 5; i++) await roundTrip();
    batches.push(((performance.now() - started) * 1000) / (ROUNDS / 5));
  }
  return batches.sort((a, b) => a - b)[2]!;
}

async function rawEcho(): Promise<number> {
  const address = parseAddress(`unix:${join(dir, "raw.sock")}`);
  const listener = await runtime.listenStream(address, {});
  const client = await runtime.connectStream(address);
  const server = (await listener.accept())!;
  void (async () => {
    for (let chunk = await server.read(); chunk !== null; chunk = await server.read()) await server.write(chunk);
  })();
  const frame = new Uint8Array(16);
  new DataView(frame.buffer).setUint32(0, 12, true);
  const result = await measure(async () => {
    await client.write(frame);
    let received = 0;
    while (received < frame.length) received += (await client.read())!.length;
  });
  await client.close();
  await server.close();
  await listener.close();
  return result;
}

async function rpcEcho(address: string): Promise<number> {
  const server = await listen(address, { handlers: { echo: (value: unknown) => value } });
  const client = await connect(address);
  const result = await measure(async () => {
    await client.call("echo", 1);
  });
  await client.close();
  await server.close();
  return result;
}

const baseline = await rawEcho();
const unix = await rpcEcho(`unix:${join(dir, "rpc.sock")}`);
const seqpacket = await rpcEcho(`seqpacket:${join(dir, "rpc-seq.sock")}`);
rmSync(dir, { recursive: true, force: true });
const round = (n: number): number => Math.round(n * 100) / 100;
console.log(JSON.stringify({
  runtime: runtime.name,
  rounds: ROUNDS,
  baselineRawEchoMicros: round(baseline),
  unixCallMicros: round(unix),
  seqpacketCallMicros: round(seqpacket),
  unixCallVsBaseline: round(unix / baseline),
  seqpacketCallVsBaseline: round(seqpacket / baseline),
}));
