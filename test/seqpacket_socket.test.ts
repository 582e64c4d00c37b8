/**
 * The Unix SOCK_SEQPACKET layer, on real sockets in whatever runtime runs
 * this file: `deno test -A`, `bun test`, or `node --test` (Node 24 strips
 * the types; on Node 20 run the tsc output).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { currentRuntime, loadRuntimeAdapter } from "../adapters/detect.ts";
import { createSeqpacketOperations } from "../adapters/seqpacket/operations.ts";
import { parseUnixAddress } from "../src/transport/address.ts";
import type { SeqpacketListenOptions, SeqpacketOptions } from "../src/transport/runtime_adapter.ts";
import type { Listener, Packet, PacketSocket } from "../src/transport/types.ts";

const runtime = currentRuntime();
const adapter = await loadRuntimeAdapter();

function listenSeqpacket(address: string, options: SeqpacketListenOptions = {}): Promise<Listener<PacketSocket>> {
  return adapter.listenSeqpacket(parseUnixAddress(address), options);
}

function connectSeqpacket(address: string, options: SeqpacketOptions = {}): Promise<PacketSocket> {
  return adapter.connectSeqpacket(parseUnixAddress(address), options);
}

function seqpacketPair(options: SeqpacketOptions = {}): Promise<[PacketSocket, PacketSocket]> {
  return adapter.seqpacketPair(options);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let nameCounter = 0;

/** A fresh abstract seqpacket address. */
function uniqueName(): string {
  return `seqpacket:@peerlink-test-${process.pid}-${nameCounter++}`;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peerlink-sp-"));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` with a descriptor open on a temporary file holding `content`, and closes it afterwards. */
async function withOpenFile(content: string, fn: (fd: number, file: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "passed.txt");
    fs.writeFileSync(file, content);
    const fd = fs.openSync(file, "r");
    try {
      await fn(fd, file);
    } finally {
      fs.closeSync(fd);
    }
  });
}

function openFdCount(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

function delay(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms));
}

async function closeAll(...resources: ({ close(): Promise<void> } | null | undefined)[]): Promise<void> {
  for (const resource of resources) await resource?.close();
}

/** Opens a listener on an abstract name and returns both ends of one connection. */
async function connectedPair(
  serverOptions: SeqpacketListenOptions = {},
  clientOptions: SeqpacketOptions = {},
): Promise<{ server: PacketSocket; client: PacketSocket; close(): Promise<void> }> {
  const address = uniqueName();
  const listener = await listenSeqpacket(address, serverOptions);
  const accepting = listener.accept();
  const client = await connectSeqpacket(address, clientOptions);
  const server = await accepting;
  assert.ok(server !== null);
  return { server, client, close: () => closeAll(client, server, listener) };
}

test("a socket pair carries datagrams both ways, with boundaries and owned copies", async () => {
  const [a, b] = await seqpacketPair();
  try {
    assert.equal(a.info.transport, "seqpacket");
    assert.equal(a.maxPacketSize, 65536);
    assert.equal(a.maxFds, 16);
    await a.send(encoder.encode("first"), []);
    await a.send(encoder.encode("second one"), []);
    const first = await b.receive();
    const second = await b.receive();
    assert.equal(decoder.decode(first?.data), "first");
    assert.equal(decoder.decode(second?.data), "second one");
    // Owned copies: writing into one datagram's bytes changes no other, and later receives change neither.
    second!.data.fill(0x21);
    assert.equal(decoder.decode(first?.data), "first");
    assert.deepEqual(first?.fds, []);
    await b.send(new Uint8Array(65536).fill(7), []);
    const large = await a.receive();
    assert.equal(large?.data.length, 65536);
    assert.ok(large?.data.every((byte) => byte === 7));
    assert.equal(decoder.decode(first?.data), "first");
  } finally {
    await closeAll(a, b);
  }
});

test("sends queued behind a full socket keep their order and complete as the peer reads", async () => {
  const [a, b] = await seqpacketPair({ maxPacketSize: 1024 });
  try {
    const sends = Array.from({ length: 200 }, (_, i) => a.send(encoder.encode(`#${i}`), []));
    for (let i = 0; i < 200; i++) {
      const packet = await b.receive();
      assert.equal(decoder.decode(packet?.data), `#${i}`);
    }
    await Promise.all(sends);
  } finally {
    await closeAll(a, b);
  }
});

test("listen and connect over a filesystem path; the file gets the mode and is removed on close", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "server.sock");
    const listener = await listenSeqpacket(`seqpacket:${file}`);
    assert.equal(listener.address, `seqpacket:${file}`);
    assert.ok(fs.lstatSync(file).isSocket());
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const accepting = listener.accept();
    const client = await connectSeqpacket(`seqpacket:${file}`);
    const server = await accepting;
    assert.ok(server !== null);
    assert.equal(server.info.localAddress, listener.address);
    assert.equal(client.info.remoteAddress, listener.address);
    await client.send(encoder.encode("over a path"), []);
    assert.equal(decoder.decode((await server.receive())?.data), "over a path");
    await server.send(encoder.encode("back"), []);
    assert.equal(decoder.decode((await client.receive())?.data), "back");
    await closeAll(client, server, listener);
    assert.equal(fs.existsSync(file), false);

    const shared = path.join(dir, "shared.sock");
    const open = await listenSeqpacket(`seqpacket:${shared}`, { mode: 0o660 });
    assert.equal(fs.statSync(shared).mode & 0o777, 0o660);
    await open.close();
  });
});

test("listen and connect over an abstract name, which leaves no file", async () => {
  const name = uniqueName();
  const listener = await listenSeqpacket(name);
  assert.equal(listener.address, name);
  const accepting = listener.accept();
  const client = await connectSeqpacket(name);
  const server = await accepting;
  try {
    assert.ok(server !== null);
    await client.send(encoder.encode("abstract"), []);
    assert.equal(decoder.decode((await server.receive())?.data), "abstract");
    assert.equal(fs.existsSync(name.slice("seqpacket:@".length)), false);
  } finally {
    await closeAll(client, server, listener);
  }
  await assert.rejects(connectSeqpacket(name), { code: "ERR_CONNECTION_FAILED" });
});

test("a stale socket file is replaced; a live one or a non-socket gives ERR_ADDRESS_IN_USE", async () => {
  await withTempDir(async (dir) => {
    const live = path.join(dir, "live.sock");
    const stale = path.join(dir, "stale.sock");
    const first = await listenSeqpacket(`seqpacket:${live}`);
    // A second name for the same socket inode outlives the listener: a socket file nobody answers on.
    fs.linkSync(live, stale);
    await assert.rejects(listenSeqpacket(`seqpacket:${live}`), { code: "ERR_ADDRESS_IN_USE" });
    const accepting = first.accept();
    const client = await connectSeqpacket(`seqpacket:${live}`);
    assert.ok((await accepting) !== null, "the failed attempt left the live listener working");
    await closeAll(client, first);
    assert.ok(fs.lstatSync(stale).isSocket());

    const replacement = await listenSeqpacket(`seqpacket:${stale}`);
    const acceptingAgain = replacement.accept();
    const again = await connectSeqpacket(`seqpacket:${stale}`);
    const server = await acceptingAgain;
    assert.ok(server !== null);
    await closeAll(again, server, replacement);

    const plain = path.join(dir, "plain.txt");
    fs.writeFileSync(plain, "keep me");
    await assert.rejects(listenSeqpacket(`seqpacket:${plain}`), {
      code: "ERR_ADDRESS_IN_USE",
      message: /not a socket/,
    });
    assert.equal(fs.readFileSync(plain, "utf8"), "keep me");
  });
  const name = uniqueName();
  const abstract = await listenSeqpacket(name);
  try {
    await assert.rejects(listenSeqpacket(name), { code: "ERR_ADDRESS_IN_USE" });
  } finally {
    await abstract.close();
  }
});

test("a 107-byte path, the longest sun_path takes, works", async () => {
  await withTempDir(async (dir) => {
    const fit = path.join(dir, "s".repeat(107 - dir.length - 1));
    assert.equal(Buffer.byteLength(fit), 107);
    const listener = await listenSeqpacket(`seqpacket:${fit}`);
    const accepting = listener.accept();
    const client = await connectSeqpacket(`seqpacket:${fit}`);
    const server = await accepting;
    assert.equal(server?.info.localAddress, `seqpacket:${fit}`);
    await closeAll(client, server, listener);
    assert.equal(fs.existsSync(fit), false);
  });
});

test("a passed descriptor arrives as a new close-on-exec descriptor to the same file", async () => {
  await withOpenFile("read through the passed fd", async (fd, file) => {
    const [a, b] = await seqpacketPair();
    try {
      await a.send(encoder.encode("take this"), [fd]);
      const packet = await b.receive();
      assert.equal(decoder.decode(packet?.data), "take this");
      assert.equal(packet?.fds.length, 1);
      const handle = packet!.fds[0]!;
      assert.notEqual(handle.fd, fd);
      const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${handle.fd}`, "utf8"))?.[1];
      assert.ok(flags !== undefined && (parseInt(flags, 8) & 0o2000000) !== 0, "O_CLOEXEC is set");
      assert.equal(fs.readlinkSync(`/proc/self/fd/${handle.fd}`), fs.realpathSync(file));
      if (runtime === "deno") {
        // Deno's node:fs only reads descriptors it opened itself; read through the /proc link instead.
        assert.equal(fs.readFileSync(`/proc/self/fd/${handle.fd}`, "utf8"), "read through the passed fd");
      } else {
        const bytes = Buffer.alloc(64);
        const count = fs.readSync(handle.fd, bytes, 0, 64, 0);
        assert.equal(bytes.subarray(0, count).toString(), "read through the passed fd");
      }
      handle.close();
      assert.equal(handle.closed, true);
      assert.equal(fs.fstatSync(fd).size, 26, "the sender's descriptor stays open");
    } finally {
      await closeAll(a, b);
    }
  });
});

test("1,000 descriptors passed one after another leak nothing on either side", async () => {
  await withOpenFile("x", async (fd) => {
    const [a, b] = await seqpacketPair({ maxFds: 4 });
    try {
      const before = openFdCount();
      for (let i = 0; i < 1000; i++) {
        await a.send(encoder.encode(`fd ${i}`), [fd]);
        const packet = await b.receive();
        assert.equal(packet?.fds.length, 1);
        packet!.fds[0]!.close();
      }
      assert.equal(openFdCount(), before);
    } finally {
      await closeAll(a, b);
    }
  });
});

test("an oversize datagram, too many descriptors or an empty datagram are refused with nothing sent", async () => {
  const [a, b] = await seqpacketPair({ maxPacketSize: 1024, maxFds: 2 });
  try {
    await assert.rejects(a.send(new Uint8Array(1025), []), {
      code: "ERR_MESSAGE_TOO_LARGE",
      message: "Datagram of 1025 bytes exceeds the 1024-byte limit",
    });
    await assert.rejects(a.send(encoder.encode("three"), [0, 1, 2]), { code: "ERR_TOO_MANY_FDS" });
    await assert.rejects(a.send(new Uint8Array(0), []), { code: "ERR_INVALID_ARGUMENT" });
    await a.send(new Uint8Array(1024).fill(1), []);
    const packet = await b.receive();
    assert.equal(packet?.data.length, 1024, "the first datagram to arrive is the one that fit");
  } finally {
    await closeAll(a, b);
  }
});

test("larger datagrams than the default send buffer work once maxPacketSize asks for them", async () => {
  const [a, b] = await seqpacketPair({ maxPacketSize: 300_000 });
  try {
    await a.send(new Uint8Array(300_000).fill(3), []);
    const packet = await b.receive();
    assert.equal(packet?.data.length, 300_000);
  } finally {
    await closeAll(a, b);
  }
  await assert.rejects(seqpacketPair({ maxPacketSize: 2 ** 30 }), { code: "ERR_INVALID_ARGUMENT" });
});

test("datagrams or descriptors beyond the receiver's limits give ERR_TRUNCATED and leak nothing", async () => {
  await withOpenFile("x", async (fd) => {
    const { server, client, close } = await connectedPair({ maxPacketSize: 64, maxFds: 1 });
    try {
      const before = openFdCount();
      await client.send(new Uint8Array(65), []);
      await assert.rejects(server.receive(), { code: "ERR_TRUNCATED", message: /64-byte limit/ });
      await client.send(encoder.encode("fds"), [fd, fd, fd]);
      await assert.rejects(server.receive(), { code: "ERR_TRUNCATED", message: /more than 1 file descriptors/ });
      await client.send(encoder.encode("two"), [fd, fd]);
      await assert.rejects(server.receive(), { code: "ERR_TRUNCATED" });
      assert.equal(openFdCount(), before);
      await client.send(encoder.encode("still usable"), [fd]);
      const packet = await server.receive();
      assert.equal(decoder.decode(packet?.data), "still usable");
      packet?.fds[0]?.close();
    } finally {
      await close();
    }
  });
});

test("datagrams sent in one turn keep their order with those that pass descriptors or are large, past a full socket", async () => {
  await withOpenFile("x", async (fd) => {
    const [a, b] = await seqpacketPair({ maxPacketSize: 40_000 });
    try {
      const before = openFdCount();
      // Small ones are gathered into one sendmmsg; every 25th passes a descriptor and every 40th is large,
      // so they go on their own; the receiver's queue fills long before the 300th (EAGAIN mid-batch).
      const expected = Array.from({ length: 300 }, (_, i) => i % 40 === 39 ? `#${i}`.padEnd(30_000, ".") : `#${i}`);
      const sends = expected.map((text, i) => a.send(encoder.encode(text), i % 25 === 24 ? [fd] : []));
      for (let i = 0; i < expected.length; i++) {
        const packet = await b.receive();
        assert.equal(decoder.decode(packet?.data), expected[i]);
        assert.equal(packet?.fds.length, i % 25 === 24 ? 1 : 0, `descriptors of datagram ${i}`);
        for (const handle of packet?.fds ?? []) handle.close();
      }
      await Promise.all(sends);
      assert.equal(openFdCount(), before);
    } finally {
      await closeAll(a, b);
    }
  });
});

test("one receive that takes several datagrams hands them out in order, with their descriptors and errors", async () => {
  await withOpenFile("x", async (fd) => {
    const { server, client, close } = await connectedPair({ maxPacketSize: 64, maxFds: 1 });
    try {
      const before = openFdCount();
      // All of them wait in the socket before the first receive, which takes them in one system call.
      await Promise.all([
        client.send(encoder.encode("first"), [fd]),
        client.send(new Uint8Array(65), []),
        client.send(encoder.encode("fds"), [fd, fd]),
        client.send(encoder.encode("last"), []),
      ]);
      const first = await server.receive();
      assert.equal(decoder.decode(first?.data), "first");
      assert.equal(first?.fds.length, 1);
      await assert.rejects(server.receive(), { code: "ERR_TRUNCATED", message: /64-byte limit/ });
      await assert.rejects(server.receive(), { code: "ERR_TRUNCATED", message: /more than 1 file descriptors/ });
      assert.equal(decoder.decode((await server.receive())?.data), "last");
      first?.fds[0]?.close();
      assert.equal(openFdCount(), before);
    } finally {
      await close();
    }
  });
});

test("closing a socket closes the descriptors of datagrams it took but did not hand out", async () => {
  await withOpenFile("x", async (fd) => {
    const [a, b] = await seqpacketPair();
    try {
      const before = openFdCount();
      for (let i = 0; i < 5; i++) await a.send(encoder.encode(`#${i}`), [fd]);
      const packet = await b.receive();
      assert.equal(decoder.decode(packet?.data), "#0");
      packet?.fds[0]?.close();
      // The other four were taken by the same receive; only closing the socket can release them.
      assert.ok(openFdCount() > before);
      await b.close();
      assert.equal(openFdCount(), before - 1);
    } finally {
      await closeAll(a, b);
    }
  });
});

/** A seqpacket socket's synchronous receive, which the transport uses when it is there. */
function pollOf(socket: PacketSocket): () => Packet | undefined {
  const poll = (socket as PacketSocket & { poll?: () => Packet | undefined }).poll;
  assert.equal(typeof poll, "function");
  return () => poll!.call(socket);
}

test("poll hands over what arrived without waiting, and a receive after a miss waits for the next", async () => {
  const [a, b] = await seqpacketPair();
  try {
    const poll = pollOf(b);
    assert.equal(poll(), undefined);
    await a.send(encoder.encode("one"), []);
    await a.send(encoder.encode("two"), []);
    assert.equal(decoder.decode(poll()?.data), "one");
    assert.equal(decoder.decode(poll()?.data), "two");
    // After a miss the receive waits for readiness first: data that came in between (already there when the
    // socket is armed, so reported at once, possibly before the wait is recorded) or that comes later wakes it.
    for (let i = 0; i < 2000; i++) {
      assert.equal(poll(), undefined);
      const sent = a.send(encoder.encode(`#${i}`), []);
      if (i % 2 === 0) await sent;
      const packet = await Promise.race([b.receive(), delay(2000)]);
      assert.notEqual(packet, "timeout", `round ${i} was not woken`);
      assert.equal(decoder.decode((packet as Packet).data), `#${i}`);
      await sent;
    }
  } finally {
    await closeAll(a, b);
  }
});

test("a peer that keeps a socket ready does not keep timers from running", async () => {
  const [a, b] = await seqpacketPair();
  try {
    let firedAt = -1;
    let round = 0;
    setTimeout(() => firedAt = round, 0);
    // Every send and receive completes at once, so nothing here waits for the event loop by itself.
    for (; round < 20_000 && firedAt < 0; round++) {
      await a.send(encoder.encode("x"), []);
      await b.receive();
    }
    assert.ok(firedAt >= 0, "the timer ran while the socket stayed ready");
  } finally {
    await closeAll(a, b);
  }
});

test("credentials are the peer process's pid, uid and gid", async () => {
  const expected = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
  const [a, b] = await seqpacketPair();
  const { server, client, close } = await connectedPair();
  try {
    assert.deepEqual(a.info.credentials, expected);
    assert.deepEqual(b.info.credentials, expected);
    assert.deepEqual(server.info.credentials, expected);
    assert.deepEqual(client.info.credentials, expected);
  } finally {
    await closeAll(a, b);
    await close();
  }
});

test("closing wakes a pending receive with null and fails a pending send; peers see the end", async () => {
  const [a, b] = await seqpacketPair();
  const waiting = b.receive();
  assert.equal(await Promise.race([waiting, delay(30)]), "timeout");
  await a.close();
  assert.equal(await waiting, null, "the peer's close ends a pending receive");
  await assert.rejects(b.send(encoder.encode("anyone?"), []), { code: "ERR_CONNECTION_CLOSED" });
  await b.close();

  const [e, f] = await seqpacketPair();
  const own = e.receive();
  assert.equal(await Promise.race([own, delay(30)]), "timeout");
  await e.close();
  assert.equal(await own, null, "closing a socket ends its own pending receive");
  assert.equal(await e.receive(), null);
  await e.close();
  await f.close();

  const [c, d] = await seqpacketPair({ maxPacketSize: 1024 });
  let blocked: Promise<void> | undefined;
  let queued = 0;
  for (; queued < 1000 && blocked === undefined; queued++) {
    const sending = c.send(new Uint8Array(512), []);
    if ((await Promise.race([sending.then(() => "sent"), delay(5)])) === "timeout") blocked = sending;
  }
  assert.ok(blocked !== undefined, "the socket's queue filled up");
  const rejected = assert.rejects(blocked, { code: "ERR_CONNECTION_CLOSED" });
  await c.close();
  await rejected;
  let delivered = 0;
  while ((await d.receive()) !== null) delivered++;
  assert.equal(delivered, queued - 1, "every datagram sent before the close arrives, then the end");
  await d.close();
});

test("a pending accept resolves null when the listener closes", async () => {
  const listener = await listenSeqpacket(uniqueName());
  const accepting = listener.accept();
  assert.equal(await Promise.race([accepting, delay(30)]), "timeout");
  await listener.close();
  assert.equal(await accepting, null);
  assert.equal(await listener.accept(), null);
});

test("the process exits by itself once its sockets are closed", { timeout: 20_000 }, async () => {
  const fixtureDir = fileURLToPath(new URL("./fixtures/seqpacket/", import.meta.url));
  const extension = import.meta.url.endsWith(".js") ? ".js" : ".ts";
  const fixture = path.join(fixtureDir, `exit_after_close${extension}`);
  const args = runtime === "deno"
    ? ["run", "-A", "--no-check", fixture]
    : runtime === "bun"
    ? [fixture]
    : [...(extension === ".ts" ? ["--experimental-strip-types", "--no-warnings"] : []), fixture];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 10_000)));
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (result === "timeout") child.kill("SIGKILL");
  assert.notEqual(result, "timeout", `the child did not exit within 10 s; output: ${output}`);
  assert.equal(result, 0, output);
  assert.match(output, /received late\naccepted 3\nclosed null null\n/);
});

test("every operation refuses to run off Linux before loading FFI", async () => {
  let loaded = false;
  const operations = createSeqpacketOperations({
    os: () => "darwin",
    arch: () => "arm64",
    loadBackend: () => {
      loaded = true;
      return Promise.reject(new Error("must not load"));
    },
  });
  const unsupported = { code: "ERR_UNSUPPORTED_PLATFORM", message: /supported only on Linux .* found darwin on arm64/ };
  const address = parseUnixAddress("seqpacket:@x");
  await assert.rejects(operations.seqpacketPair({}), unsupported);
  await assert.rejects(operations.connectSeqpacket(address, {}), unsupported);
  await assert.rejects(operations.listenSeqpacket(address, {}), unsupported);
  assert.equal(loaded, false);
});
