/**
 * At the process's descriptor limit (RLIMIT_NOFILE) a listener must not
 * busy-loop (Bun's own listeners did: a whole core, because a failed
 * `accept` leaves the connection queued and the listening socket ready),
 * and once descriptors are free again it must accept new connections.
 * Deno's `node:net` servers (its `unix:` listeners with `--allow-ffi`, its
 * TLS listeners) stopped accepting for good. A child of every runtime
 * serves each transport under `prlimit --nofile=64`; this process opens
 * more connections than that allows, reads the child's CPU time from /proc
 * over about a second, closes them, and then calls the child. The CPU
 * threshold is loose on purpose: a spinning listener uses a whole core.
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { writeFileSync } from "node:fs";
import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { connect, generateCertificate } from "../mod.ts";
import { parseAddress, type SocketAddress } from "../src/transport/address.ts";
import type { PacketSocket } from "../src/transport/types.ts";
import { abstractName, delay, repoRoot, runtimeName, scriptCommand, start, tempDir, waitFor } from "./_helpers.ts";

const PRLIMIT = ["/usr/bin/prlimit", "/bin/prlimit"].find((path) => existsSync(path));
const LIMIT = 64;
/** More than the child can hold: it reaches its limit and connections queue up behind it. */
const CONNECTIONS = 100;
/** clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;
const skip = process.platform !== "linux"
  ? "Linux only (/proc, prlimit)"
  : PRLIMIT === undefined
  ? "no prlimit"
  : false;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A connection that holds one of the child's descriptors. */
interface HeldConnection {
  close(): void;
}

/**
 * Opens a connection and keeps it; failures (a full backlog) are ignored.
 * TLS connections never start their handshake: the child holds the socket all the same.
 */
async function openConnection(address: string): Promise<HeldConnection> {
  if (address.startsWith("seqpacket:")) {
    const runtime = await loadRuntimeAdapter();
    const socket = runtime.connectSeqpacket(parseAddress(address) as SocketAddress, {}).catch(() => undefined);
    return { close: () => void socket.then((connected?: PacketSocket) => connected?.close()) };
  }
  const { protocol, hostname, port, pathname } = new URL(address.replace(/^unix:@/, "unix:%00"));
  const target: net.NetConnectOpts = protocol === "unix:"
    ? { path: decodeURIComponent(pathname) }
    : { host: hostname, port: Number(port) };
  const socket = net.connect(target);
  socket.on("error", () => {});
  return { close: () => socket.destroy() };
}

let certificate: { cert: string; key: string; pin: string; dir: { path: string; cleanup(): void } } | undefined;
before(async () => {
  const generated = await generateCertificate({ ips: ["127.0.0.1"] });
  const dir = tempDir();
  writeFileSync(join(dir.path, "cert.pem"), generated.cert);
  writeFileSync(join(dir.path, "key.pem"), generated.key);
  certificate = {
    cert: join(dir.path, "cert.pem"),
    key: join(dir.path, "key.pem"),
    pin: generated.fingerprint256,
    dir,
  };
});
after(() => certificate?.dir.cleanup());

const TRANSPORTS = ["unix", "tcp", "tls", "seqpacket"] as const;

function addressFor(transport: typeof TRANSPORTS[number], runtime: string): string {
  switch (transport) {
    case "unix":
    case "seqpacket":
      return `${transport}:@${abstractName(`fd-limit-${runtime}`)}`;
    case "tcp":
    case "tls":
      return `${transport}://127.0.0.1:0`;
  }
}

const FIXTURE = "test/fixtures/adapters/fd_limit_server.ts";

/** A child that serves under the limit. */
interface Child {
  label: string;
  command(args: string[]): [string, string[]];
  transports: readonly (typeof TRANSPORTS)[number][];
}

/**
 * The runtime running this file (the suite runs in every runtime and Node
 * version, each testing its own listeners; the parent only counts CPU and
 * connects); and Deno twice, since it serves `unix:` through `node:net`
 * (watched by the guard) with `--allow-ffi` and through `Deno.listen` without.
 */
const CHILDREN: Child[] = [
  {
    label: runtimeName,
    command: (args: string[]) => scriptCommand(runtimeName, FIXTURE, args),
    transports: TRANSPORTS,
  },
  ...(runtimeName !== "deno" ? [] : [
    {
      label: "deno without --allow-ffi",
      command: (args) => [join(repoRoot, "node_modules", ".bin", "deno"), [
        "run",
        "--no-check",
        ...["--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys"],
        join(repoRoot, FIXTURE),
        ...args,
      ]],
      // Deno's node:tls server stops accepting for good at the limit; only the guard, which needs FFI, revives it.
      transports: ["unix", "tcp"] as const,
    } satisfies Child,
  ]),
];

async function serveAtTheLimit(child: Child, transport: (typeof TRANSPORTS)[number]): Promise<void> {
  const files = transport === "tls" ? [certificate!.cert, certificate!.key] : [];
  const [file, args] = child.command([addressFor(transport, child.label.replace(/\W+/g, "-")), ...files]);
  const running = start([PRLIMIT!, [`--nofile=${LIMIT}:${LIMIT}`, file, ...args]]);
  const held: HeldConnection[] = [];
  try {
    await running.waitFor("LISTENING ");
    const served = /LISTENING (\S+)/.exec(running.stdout())![1]!;
    const pid = running.child.pid!;
    // What the runtime itself holds (caches, its event loop, the seqpacket watcher thread's descriptors).
    const idle = openDescriptors(pid);
    for (let i = 0; i < CONNECTIONS; i++) held.push(await openConnection(served));
    await waitFor(() => openDescriptors(pid) >= LIMIT - 2, `the child holds about ${LIMIT} descriptors`, 10_000);
    await delay(200);
    const before = cpuSeconds(pid);
    const startedAt = performance.now();
    await delay(1000);
    const share = (cpuSeconds(pid) - before) / ((performance.now() - startedAt) / 1000);
    assert.ok(share < 0.5, `the child used ${Math.round(share * 100)}% of a core while at its descriptor limit`);

    for (const connection of held.splice(0)) connection.close();
    await waitFor(
      () => openDescriptors(pid) <= idle + 4,
      `the child closed the connections (it held ${idle} idle)`,
      15_000,
    );
    const client = await connect(served, {
      ...(transport === "tcp" || transport === "tls" ? { connectTimeout: 10_000 } : {}),
      ...(transport === "tls" && { tls: { pin: certificate!.pin } }),
    });
    try {
      assert.equal(await client.call("echo", "after the limit", { timeout: 10_000 }), "after the limit");
    } finally {
      await client.close();
    }
  } finally {
    for (const connection of held) connection.close();
    await running.stop();
  }
}

for (const child of CHILDREN) {
  for (const transport of child.transports) {
    const name = `${child.label}: a ${transport} listener at the descriptor limit does not spin, and accepts again`;
    it(name, { skip, timeout: 60_000 }, () => serveAtTheLimit(child, transport));
  }
}
