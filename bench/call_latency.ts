/**
 * Round-trip cost of a peerlink call, as a ratio against a baseline measured
 * in the same run: the same 16-byte frame echoed over the same kind of
 * socket by the runtime adapter's raw byte stream, with no RPC layer (a Unix
 * stream socket for `unix:` and `seqpacket:`, TCP for `tcp:`, TLS for
 * `tls:`, both on 127.0.0.1 with TCP_NODELAY and a pinned certificate).
 *
 * Run: `deno run -A bench/call_latency.ts`, `bun bench/call_latency.ts`,
 * `node bench/call_latency.ts` (Node 24). Prints one JSON line.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ConnectOptions, generateCertificate, listen, type ListenOptions } from "../mod.ts";
import { type InetAddress, parseAddress, parseUnixAddress } from "../src/transport/address.ts";
import type { ByteStream, Listener } from "../src/transport/types.ts";
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

/** A listener and a client of the adapter's raw byte streams, of one socket kind. */
interface RawPair {
  listener: Listener<ByteStream>;
  client: ByteStream;
}

async function rawEcho(open: () => Promise<RawPair>): Promise<number> {
  const { listener, client } = await open();
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

async function rawUnix(): Promise<RawPair> {
  const address = parseUnixAddress(`unix:${join(dir, "raw.sock")}`);
  const listener = await runtime.listenStream(address, {});
  return { listener, client: await runtime.connectStream(address) };
}

async function rawTcp(tls: boolean): Promise<RawPair> {
  const listener = await runtime.listenTcp(
    parseAddress(tls ? "tls://127.0.0.1:0" : "tcp://127.0.0.1:0") as InetAddress,
    { noDelay: true, ...(tls ? { tls: { cert: certificate.cert, key: certificate.key } } : {}) },
  );
  const client = await runtime.connectTcp(parseAddress(listener.address) as InetAddress, {
    noDelay: true,
    timeout: 10_000,
    ...(tls ? { tls: { pin: certificate.fingerprint256, serverName: "127.0.0.1", checkServerName: true } } : {}),
  });
  return { listener, client };
}

async function rpcEcho(
  address: string,
  options: { listen?: ListenOptions; connect?: ConnectOptions } = {},
): Promise<number> {
  const server = await listen(address, { ...options.listen, handlers: { echo: (value: unknown) => value } });
  const client = await connect(server.address, options.connect);
  const result = await measure(async () => {
    await client.call("echo", 1);
  });
  await client.close();
  await server.close();
  return result;
}

const certificate = await generateCertificate();
const baseline = await rawEcho(rawUnix);
const unix = await rpcEcho(`unix:${join(dir, "rpc.sock")}`);
const seqpacket = await rpcEcho(`seqpacket:${join(dir, "rpc-seq.sock")}`);
const tcpBaseline = await rawEcho(() => rawTcp(false));
const tcp = await rpcEcho("tcp://127.0.0.1:0");
const tlsBaseline = await rawEcho(() => rawTcp(true));
const tls = await rpcEcho("tls://127.0.0.1:0", {
  listen: { tls: { cert: certificate.cert, key: certificate.key } },
  connect: { tls: { pin: certificate.fingerprint256 } },
});
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
  tcpRawEchoMicros: round(tcpBaseline),
  tcpCallMicros: round(tcp),
  tcpCallVsBaseline: round(tcp / tcpBaseline),
  tlsRawEchoMicros: round(tlsBaseline),
  tlsCallMicros: round(tls),
  tlsCallVsBaseline: round(tls / tlsBaseline),
}));
