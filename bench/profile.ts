/**
 * Where the time of a call goes: runs a peerlink server and client (both
 * pinned to one CPU with `taskset`, as the benchmark does) under the
 * runtime's CPU profiler, warms them up, profiles a few seconds of one
 * metric, and prints the CPU time per call of each process by where it was
 * spent: peerlink's layers (`src/wire`, `src/peer`, ...), the runtime's own
 * JavaScript (`node:` internals), socket system calls and other natives,
 * the garbage collector, and the VM itself. Samples of the warm-up are left
 * out. Run on Deno:
 *
 * ```sh
 * deno run -A bench/profile.ts --runtimes=node24,deno --transports=unix,seqpacket --metrics=rtt
 * ```
 *
 * `--keep=DIR` keeps the `.cpuprofile` files in `DIR/RUNTIME-TRANSPORT-METRIC/`.
 *
 * Bun's profiler does not mark idle time: in its table the waits are part
 * of the natives (and of the socket calls), and only peerlink's rows are
 * CPU time alone.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ROOT, type Runtime, type RuntimeName, RUNTIMES } from "./runtimes.ts";

/** A V8 CPU profile, the parts read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

const PEER = join(ROOT, "bench", "profile_peer.ts");

function flag(name: string, fallback: string): string {
  const given = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return given === undefined ? fallback : given.slice(name.length + 3);
}

/** The runtime's command line with its CPU profiler writing into `dir`. */
function profiledArgs(runtime: Runtime, dir: string, args: string[]): string[] {
  const script = runtime.argsFor(PEER);
  if (runtime.name === "deno") return ["run", "-A", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=200", PEER, ...args];
  if (runtime.name === "bun") return ["--cpu-prof", `--cpu-prof-dir=${dir}`, ...script, ...args];
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=200", ...script, ...args];
}

/** Starts a pinned process; resolves with its stdout once it exits. */
function run(command: string[], cpu: string, onLine?: (line: string) => void): Promise<string> {
  const child = spawn("taskset", ["-c", cpu, ...command], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    output += text;
    for (const line of text.split("\n")) if (line.length > 0) onLine?.(line);
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => code === 0 ? resolve(output) : reject(new Error(`${command[0]} exited with ${code}`)));
  });
}

/** The category of one sampled frame. */
function categoryOf(functionName: string, url: string): string {
  if (functionName === "(idle)") return "idle";
  if (functionName === "(garbage collector)") return "garbage collector";
  if (functionName === "(program)") return "VM (program)";
  const layer = /\/(src|adapters)\/(\w+)?/.exec(url);
  if (layer !== null) return layer[1] === "src" ? `peerlink src/${layer[2]}` : "peerlink adapters";
  if (url.startsWith("node:") || url.startsWith("ext:")) return "runtime JavaScript (node:, ext:)";
  if (url.includes("/bench/")) return "benchmark client";
  if (url === "") {
    return /^(write|writev|writeBuffer|writeUtf8String|read|readStart)$/.test(functionName)
      ? "socket system calls"
      : "runtime natives";
  }
  return "other JavaScript";
}

/** CPU time per category (µs) of the last `seconds` of a profile. */
function profileTimes(file: string, seconds: number): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const end = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
  const from = end - seconds * 1e6;
  const times = new Map<string, number>();
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from) continue;
    const frame = byId.get(profile.samples[i]!)!;
    const category = categoryOf(frame.functionName, frame.url);
    times.set(category, (times.get(category) ?? 0) + delta);
  }
  return times;
}

async function profileOne(runtime: Runtime, transport: string, metric: string, cpu: string): Promise<void> {
  const warmup = Number(flag("warmup", "3"));
  const seconds = Number(flag("seconds", "4"));
  const dir = mkdtempSync(join(tmpdir(), "peerlink-profile-"));
  try {
    const address = `${transport}:${join(dir, "s.sock")}`;
    const env = { ...process.env, ...runtime.envFor(join(dir, "cache")) };
    Object.assign(process.env, env);
    let ready!: () => void;
    const listening = new Promise<void>((resolve) => (ready = resolve));
    const server = run(
      [runtime.executable, ...profiledArgs(runtime, join(dir, "server"), ["serve", address])],
      cpu,
      (line) => line.startsWith("READY") && ready(),
    );
    await Promise.race([listening, server]);
    const output = await run(
      [
        runtime.executable,
        ...profiledArgs(runtime, join(dir, "client"), ["call", address, metric, `${warmup}`, `${seconds}`]),
      ],
      cpu,
    );
    await server;
    const { calls, seconds: measured } = JSON.parse(output.trim().split("\n").at(-1)!) as {
      calls: number;
      seconds: number;
    };
    const sides = ["server", "client"].map((side) => {
      const files = readdirSync(join(dir, side)).filter((name) => name.endsWith(".cpuprofile"));
      return profileTimes(join(dir, side, files[0]!), measured);
    });
    const perCall = (us: number) => (us / calls).toFixed(2);
    const busy = sides.map((times) => [...times].reduce((sum, [name, us]) => name === "idle" ? sum : sum + us, 0));
    const unit = metric === "stream" ? "item" : "call";
    console.log(
      `\n## ${runtime.name} ${transport} ${metric}: ${calls} ${unit}s in ${measured.toFixed(1)} s, ` +
        `${(measured * 1e6 / calls).toFixed(2)} µs per ${unit}`,
    );
    console.log(`\n| where | server µs/${unit} | client µs/${unit} |\n| --- | --- | --- |`);
    const categories = [...new Set([...sides[0]!.keys(), ...sides[1]!.keys()])].filter((name) => name !== "idle");
    categories.sort((a, b) =>
      (sides[0]!.get(b) ?? 0) + (sides[1]!.get(b) ?? 0) - (sides[0]!.get(a) ?? 0) - (sides[1]!.get(a) ?? 0)
    );
    for (const name of categories) {
      console.log(`| ${name} | ${perCall(sides[0]!.get(name) ?? 0)} | ${perCall(sides[1]!.get(name) ?? 0)} |`);
    }
    console.log(`| **busy** | **${perCall(busy[0]!)}** | **${perCall(busy[1]!)}** |`);
  } finally {
    const keep = flag("keep", "");
    if (keep !== "") {
      const target = join(keep, `${runtime.name}-${transport}-${metric}`);
      rmSync(target, { recursive: true, force: true });
      mkdirSync(keep, { recursive: true });
      renameSync(dir, target);
      console.log(`\nProfiles kept in ${target}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const runtimes = flag("runtimes", "deno,bun,node24").split(",") as RuntimeName[];
const transports = flag("transports", "unix").split(",");
const metrics = flag("metrics", "rtt,throughput").split(",");
const cpu = flag("cpu", "0");
for (const name of runtimes) {
  const runtime = RUNTIMES[name];
  if (runtime === undefined) throw new Error(`Unknown runtime ${name}`);
  for (const transport of transports) for (const metric of metrics) await profileOne(runtime, transport, metric, cpu);
}
