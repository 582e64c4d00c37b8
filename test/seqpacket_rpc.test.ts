/**
 * The RPC API over `seqpacket:` addresses: calls, streams and open calls,
 * peer credentials, descriptors in every kind of message and who closes
 * them, message size limits, dead peers, and descriptors passed between
 * real Deno, Bun and Node processes.
 *
 * Runs under `deno test -A`, `bun test` and `node --test` (Node 24 from the
 * source, Node 20 from the tsc output). Received descriptors are read
 * through `/proc/self/fd/N`, because Deno's `node:fs` reads only the
 * descriptors it opened itself.
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import {
  connect,
  type ConnectionInfo,
  type FdHandle,
  type HandlerContext,
  listen,
  type RpcConnection,
  type RpcServer,
  withFds,
} from "../mod.ts";
import {
  abstractName,
  delay,
  type RunningProcess,
  type Runtime,
  runtimes,
  scriptCommand,
  start,
  tempDir,
} from "./_helpers.ts";

const dir = tempDir();
const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };

/** Writes a file in the temp directory and opens it for reading. */
function openFile(name: string, content: string): number {
  const file = join(dir.path, name);
  fs.writeFileSync(file, content);
  return fs.openSync(file, "r");
}

/** The content of the file a descriptor refers to. */
function readThrough(fd: number): string {
  return fs.readFileSync(`/proc/self/fd/${fd}`, "utf8");
}

/** Reads a received descriptor and closes it. */
function consume(handle: FdHandle | undefined): string {
  assert.ok(handle !== undefined, "a descriptor arrived");
  try {
    return readThrough(handle.fd);
  } finally {
    handle.close();
  }
}

function openFdCount(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

/**
 * Waits until this process has `expected` descriptors open, then asserts it.
 * The server half of a call closes unclaimed descriptors just after it
 * answers, which may be a moment after the client half sees the answer.
 */
async function assertFdCount(expected: number, message: string): Promise<void> {
  for (let waited = 0; openFdCount() !== expected && waited < 1000; waited += 10) await delay(10);
  assert.equal(openFdCount(), expected, message);
}

/**
 * Asserts that `promise` rejects with `code` within `ms` milliseconds, so
 * that a call left pending fails the test instead of hanging it (Deno's
 * node:test ignores the `timeout` option).
 */
async function assertRejectsWithin(promise: Promise<unknown>, ms: number, code: string, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((
    resolve,
  ) => (timer = setTimeout(() => resolve(`still pending after ${ms} ms`), ms)));
  const settled = promise.then((value) => `resolved with ${JSON.stringify(value)}`, (error: unknown) => error);
  const outcome = await Promise.race([settled, late]);
  clearTimeout(timer);
  assert.equal((outcome as { code?: unknown } | undefined)?.code, code, `${what}: ${String(outcome)}`);
}

const alpha = openFile("alpha.txt", "alpha");
const bravo = openFile("bravo.txt", "bravo");
/** A descriptor the server hands out; sending does not close it. */
const served = openFile("served.txt", "served by the server");

const service = {
  whoami: (_: unknown, context: HandlerContext) => ({
    transport: context.info.transport,
    credentials: context.info.credentials,
  }),
  echo: (value: unknown) => value,
  big: (size: number) => new Uint8Array(size),
  count: async function* (n: number): AsyncGenerator<number, string> {
    for (let i = 0; i < n; i++) yield i;
    return `counted ${n}`;
  },
  sum: async (_: unknown, context: HandlerContext) => {
    let total = 0;
    for await (const item of context.input) total += item as number;
    return total;
  },
  double: async (_: unknown, context: HandlerContext) => {
    for await (const item of context.input) await context.send((item as number) * 2);
    return "doubled";
  },
  readFds: (label: unknown, context: HandlerContext) => ({ label, texts: context.fds.map(consume) }),
  ignoreFds: (_: unknown, context: HandlerContext) => context.fds.length,
  serveFile: (name: string) => withFds(name, [served]),
  streamFiles: async function* (n: number) {
    for (let i = 0; i < n; i++) yield withFds(i, [served]);
    return "streamed";
  },
  collectUpdates: async (_: unknown, context: HandlerContext) => {
    const seen: string[] = [];
    for await (const { value, fds } of context.inputWithFds) seen.push(`${value}:${fds.map(consume).join("+")}`);
    return seen;
  },
  countInputValues: async (_: unknown, context: HandlerContext) => {
    let count = 0;
    for await (const _item of context.inputWithFds) count++;
    return count;
  },
  notifyWithFd: async (text: string, context: HandlerContext) => {
    await context.connection.notify("news", withFds(text, [served]));
    return true;
  },
  /** Returns the descriptor it received (peerlink closes the handler's copy after answering), or closes it, or ignores it. */
  relay: (mode: "close" | "ignore" | "echo", context: HandlerContext) => {
    const handle = context.fds[0];
    assert.ok(handle !== undefined && context.fds.length === 1);
    if (mode === "close") handle.close();
    return mode === "echo" ? withFds(mode, [handle]) : mode;
  },
};
type Service = typeof service;

let server: RpcServer;
let client: RpcConnection<Service>;
/** Where the server's "note" listener reports what it read (or the error it met). */
let onServerNote: (read: () => { text: string; content: string }) => void = () => {};

before(async () => {
  const address = `seqpacket:@${abstractName("rpc")}`;
  server = await listen(address, { handlers: service });
  server.router.onNotify(
    "note",
    (text: string, context) => onServerNote(() => ({ text, content: consume(context.fds[0]) })),
  );
  client = await connect<Service>(address);
});

after(async () => {
  await client.close();
  await server.close();
  for (const fd of [alpha, bravo, served]) fs.closeSync(fd);
  dir.cleanup();
});

describe("RPC over seqpacket", () => {
  for (const kind of ["a path", "an abstract"] as const) {
    test(`call, stream and open work over ${kind} address, with both sides' credentials`, async () => {
      const file = join(dir.path, "rpc.sock");
      const address = kind === "a path" ? `seqpacket:${file}` : `seqpacket:@${abstractName("kinds")}`;
      const ownServer = await listen(address, { handlers: service });
      const ownClient = await connect<Service>(address);
      try {
        assert.equal(ownServer.address, address);
        if (kind === "a path") assert.ok(fs.lstatSync(file).isSocket());
        assert.deepEqual(await ownClient.call("whoami"), { transport: "seqpacket", credentials: me });
        assert.equal(ownClient.info.transport, "seqpacket");
        assert.deepEqual(ownClient.info.credentials, me, "an in-process server's pid is ours");

        const items: number[] = [];
        for await (const item of ownClient.stream("count", 3)) items.push(item);
        assert.deepEqual(items, [0, 1, 2]);
        assert.equal(await ownClient.call("count", 5), "counted 5");

        const sum = await ownClient.open("sum");
        for (const n of [1, 2, 3]) await sum.send(n);
        await sum.end();
        assert.equal(await sum.result, 6);

        const double = await ownClient.open("double");
        const doubled: number[] = [];
        const reading = (async () => {
          for await (const item of double) doubled.push(item as number);
        })();
        await double.send(4);
        await double.send(5);
        await double.end();
        assert.equal(await double.result, "doubled");
        await reading;
        assert.deepEqual(doubled, [8, 10]);
      } finally {
        await ownClient.close();
        await ownServer.close();
      }
      if (kind === "a path") assert.equal(fs.existsSync(file), false);
    });
  }

  test("the accept filter sees the caller's credentials and can refuse it", async () => {
    const seen: ConnectionInfo[] = [];
    const refusingAddress = `seqpacket:@${abstractName("refuse")}`;
    const refusing = await listen(refusingAddress, {
      handlers: service,
      accept: (info) => {
        seen.push(info);
        return info.credentials?.uid !== process.getuid!();
      },
    });
    const acceptingAddress = `seqpacket:@${abstractName("accept")}`;
    const accepting = await listen(acceptingAddress, {
      handlers: service,
      accept: (info) => info.credentials?.uid === process.getuid!(),
    });
    try {
      await assertRejectsWithin(connect<Service>(refusingAddress), 2000, "ERR_PEER_REFUSED", "a refused connect");
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.transport, "seqpacket");
      assert.deepEqual(seen[0]?.credentials, me);
      assert.equal(refusing.connections.size, 0);

      const welcome = await connect<Service>(acceptingAddress);
      assert.equal(await welcome.call("echo", "in"), "in");
      await welcome.close();
    } finally {
      await refusing.close();
      await accepting.close();
    }
  });

  test("descriptors attached to a request through the fds option or withFds reach ctx.fds", async () => {
    assert.deepEqual(await client.call("readFds", "option", { fds: [alpha] }), { label: "option", texts: ["alpha"] });
    assert.deepEqual(await client.call("readFds", withFds("wrapped", [bravo])), { label: "wrapped", texts: ["bravo"] });
    assert.deepEqual(await client.call("readFds", withFds("both", [alpha]), { fds: [bravo] }), {
      label: "both",
      texts: ["alpha", "bravo"],
    });
    assert.deepEqual(await client.call("readFds", "none"), { label: "none", texts: [] });
    assert.equal(readThrough(alpha), "alpha", "the sender's descriptors stay open");
    assert.equal(fs.fstatSync(bravo).size, 5);
  });

  test("a result's descriptors come back through callWithFds", async () => {
    const { value, fds } = await client.callWithFds("serveFile", "log");
    assert.equal(value, "log");
    assert.equal(fds.length, 1);
    assert.notEqual(fds[0]?.fd, served);
    assert.equal(consume(fds[0]), "served by the server");
    assert.equal(fds[0]?.closed, true);
    assert.equal(readThrough(served), "served by the server", "the server's descriptor stays open");
  });

  test("stream items' descriptors come through streamWithFds", async () => {
    const items: [number, string][] = [];
    for await (const { value, fds } of client.streamWithFds("streamFiles", 3)) {
      assert.equal(fds.length, 1);
      items.push([value, consume(fds[0])]);
    }
    assert.deepEqual(items, [[0, "served by the server"], [1, "served by the server"], [2, "served by the server"]]);
  });

  test("client updates' descriptors reach ctx.inputWithFds", async () => {
    const call = await client.open("collectUpdates");
    await call.send(withFds("one", [alpha]));
    await call.send(withFds("two", [bravo, alpha]));
    await call.send("none");
    await call.end();
    assert.deepEqual(await call.result, ["one:alpha", "two:bravo+alpha", "none:"]);
  });

  test("notifications carry descriptors in both directions", async () => {
    const atServer = new Promise<{ text: string; content: string }>((resolve, reject) => {
      onServerNote = (read) => {
        try {
          resolve(read());
        } catch (error) {
          reject(error);
        }
      };
    });
    await client.notify("note", withFds("to the server", [bravo]));
    assert.deepEqual(await atServer, { text: "to the server", content: "bravo" });

    const atClient = new Promise<{ text: string; count: number; content: string }>((resolve, reject) =>
      client.onNotify("news", (text: string, context) => {
        try {
          resolve({ text, count: context.fds.length, content: consume(context.fds[0]) });
        } catch (error) {
          reject(error);
        }
      })
    );
    assert.equal(await client.call("notifyWithFd", "to the client"), true);
    assert.deepEqual(await atClient, { text: "to the client", count: 1, content: "served by the server" });
  });

  test("descriptors a handler leaves alone are closed once it returns", async () => {
    const before = openFdCount();
    for (let i = 0; i < 10; i++) assert.equal(await client.call("ignoreFds", null, { fds: [alpha, bravo] }), 2);
    await assertFdCount(before, "the server closed the 20 descriptors nobody claimed");
  });

  test("descriptors of client items a handler read but ignored are closed once it returns", async () => {
    const before = openFdCount();
    const call = await client.open("countInputValues");
    for (let i = 0; i < 5; i++) await call.send(withFds(i, [alpha, bravo]));
    await call.end();
    assert.equal(await call.result, 5);
    await assertFdCount(before, "the server closed the 10 descriptors its handler read and ignored");
  });

  test("call() closes the descriptors that came with a result; callWithFds leaves them to the caller", async () => {
    const before = openFdCount();
    for (let i = 0; i < 10; i++) assert.equal(await client.call("serveFile", "x"), "x");
    assert.equal(openFdCount(), before, "call() closed each result's descriptor");
    for await (const item of client.stream("streamFiles", 5)) assert.equal(typeof item, "number");
    assert.equal(openFdCount(), before, "stream() closed each item's descriptor");

    const { fds } = await client.callWithFds("serveFile", "kept");
    assert.equal(openFdCount(), before + 1, "callWithFds hands the descriptor over open");
    fds[0]?.close();
    assert.equal(openFdCount(), before);
  });

  test("1,000 descriptors passed through calls one after another leak nothing", { timeout: 30_000 }, async () => {
    const before = openFdCount();
    const modes = ["close", "ignore", "echo", "echo"] as const;
    for (let i = 0; i < 1000; i++) {
      const mode = modes[i % 4]!;
      if (i % 4 === 3) {
        assert.equal(await client.call("relay", mode, { fds: [alpha] }), "echo");
        continue;
      }
      const { value, fds } = await client.callWithFds("relay", mode, { fds: [alpha] });
      assert.equal(value, mode);
      assert.equal(fds.length, mode === "echo" ? 1 : 0);
      if (fds[0] !== undefined) {
        assert.equal(fs.readlinkSync(`/proc/self/fd/${fds[0].fd}`), fs.realpathSync(join(dir.path, "alpha.txt")));
        fds[0].close();
      }
    }
    await assertFdCount(before, "every descriptor sent, received and echoed was closed");
  });

  test(
    "2,000 calls 64 at a time, every 10th passing a descriptor, are all answered right",
    { timeout: 30_000 },
    async () => {
      // Pipelined calls go out and come back several datagrams per system call (sendmmsg, recvmmsg);
      // the ones that pass a descriptor go on their own, in order.
      const before = openFdCount();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < 2000) {
          const i = next++;
          if (i % 10 === 0) {
            const { value, fds } = await client.callWithFds("relay", "echo", { fds: [alpha] });
            assert.equal(value, "echo");
            assert.equal(consume(fds[0]), "alpha");
          } else {
            assert.equal(await client.call("echo", `#${i}`), `#${i}`);
          }
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      await assertFdCount(before, "every descriptor sent and echoed was closed");
    },
  );

  test("an oversize message fails with ERR_MESSAGE_TOO_LARGE and the connection goes on", async () => {
    await assert.rejects(client.call("echo", new Uint8Array(70_000)), {
      code: "ERR_MESSAGE_TOO_LARGE",
      message: /65536/,
    });
    assert.equal(await client.call("echo", 1), 1);
    await assert.rejects(client.call("big", 70_000), { code: "ERR_MESSAGE_TOO_LARGE" });
    assert.equal((await client.call("big", 60_000)).length, 60_000);
    assert.equal(client.isClosed, false);
  });

  test("maxPacketSize on both sides raises the limit", async () => {
    const address = `seqpacket:@${abstractName("large")}`;
    const large = await listen(address, { handlers: service, maxPacketSize: 300_000 });
    const largeClient = await connect<Service>(address, { maxPacketSize: 300_000 });
    try {
      const payload = new Uint8Array(256 * 1024);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
      const echoed = await largeClient.call("echo", payload, { fds: [alpha] });
      assert.ok(echoed instanceof Uint8Array);
      assert.deepEqual(echoed, payload);
      assert.equal((await largeClient.call("big", 256 * 1024)).length, 256 * 1024);
      await assert.rejects(largeClient.call("echo", new Uint8Array(300_000)), { code: "ERR_MESSAGE_TOO_LARGE" });
      assert.equal(await largeClient.call("echo", 2), 2);
    } finally {
      await largeClient.close();
      await large.close();
    }
  });
});

const fixtures = "test/fixtures/fd_passing";

/** Starts `reader_server.ts` in `runtime` and waits until it listens. */
async function startReader(runtime: Runtime, address: string): Promise<{ child: RunningProcess; pid: number }> {
  const child = start(scriptCommand(runtime, `${fixtures}/reader_server.ts`, [address]));
  await child.waitFor("ready").catch(async (error: unknown) => {
    await child.stop();
    throw error;
  });
  const ready = /ready (\{.*\})/.exec(child.stdout())?.[1];
  const { pid, runtime: reported } = JSON.parse(ready!) as { pid: number; runtime: string };
  assert.equal(reported, runtime);
  return { child, pid };
}

/** Runs a fixture to completion and parses the JSON line it prints last. */
async function runFixture(runtime: Runtime, script: string, args: string[]): Promise<Record<string, unknown>> {
  const child = start(scriptCommand(runtime, `${fixtures}/${script}`, args));
  child.child.stdin!.end();
  const timer = setTimeout(() => child.child.kill("SIGKILL"), 15_000);
  const result = await child.exited;
  clearTimeout(timer);
  assert.equal(result.code, 0, `${runtime} ${script} failed\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const lines = result.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe("descriptors between processes of different runtimes", () => {
  type Reader = { child: RunningProcess; pid: number; address: string };
  const readers = new Map<Runtime, Promise<Reader>>();

  /** The reader server of `runtime`, started on first use (not in a hook: Bun gives hooks 5 s, whatever they ask). */
  function reader(runtime: Runtime): Promise<Reader> {
    let started = readers.get(runtime);
    if (started === undefined) {
      const address = `seqpacket:@${abstractName(`reader-${runtime}`)}`;
      started = startReader(runtime, address).then((spawned) => ({ ...spawned, address }));
      readers.set(runtime, started);
    }
    return started;
  }

  after(async () => {
    await Promise.all(
      [...readers.values()].map(async (started) => (await started.catch(() => undefined))?.child.stop()),
    );
  });

  test(
    "a server process of each runtime closes the descriptors its handler leaves alone",
    { timeout: 30_000 },
    async () => {
      await Promise.all(runtimes.map(reader));
      for (const runtime of runtimes) {
        const { address, pid } = await reader(runtime);
        const remote = await connect(address);
        try {
          const before = await remote.call("fdCount");
          for (let i = 0; i < 20; i++) assert.equal(await remote.call("ignoreFds", null, { fds: [alpha, bravo] }), 2);
          // The server closes unclaimed descriptors just after it answers: give it a moment to settle.
          let after = await remote.call("fdCount");
          for (let tries = 0; after !== before && tries < 20; tries++) {
            await delay(50);
            after = await remote.call("fdCount");
          }
          assert.equal(after, before, `the ${runtime} server leaked descriptors`);
          assert.deepEqual(remote.info.credentials, { pid, uid: me.uid, gid: me.gid });
        } finally {
          await remote.close();
        }
      }
    },
  );

  test("Deno passes a pipe's read end to Node, which reads what Deno writes into it", { timeout: 30_000 }, async () => {
    const node = await reader("node");
    const size = 200_000;
    const output = await runFixture("deno", "pipe_sender.ts", [node.address, String(size)]);
    const received = output.received as {
      runtime: string;
      link: string;
      bytes: number;
      sha256: string;
      credentials: unknown;
    };
    assert.equal(received.runtime, "node");
    assert.match(received.link, /^pipe:\[\d+\]$/);
    assert.deepEqual({ bytes: received.bytes, sha256: received.sha256 }, output.sent);
    assert.equal(received.bytes, size, "more than the pipe's 64 KiB went through");
    assert.deepEqual(received.credentials, { pid: output.pid, uid: me.uid, gid: me.gid });
    assert.deepEqual(output.serverCredentials, { pid: node.pid, uid: me.uid, gid: me.gid });
  });

  test(
    "Bun passes a temporary file's descriptor to Deno, which reads the file through it",
    { timeout: 30_000 },
    async () => {
      const deno = await reader("deno");
      const output = await runFixture("bun", "file_sender.ts", [deno.address, "5000"]);
      const received = output.received as {
        runtime: string;
        link: string;
        bytes: number;
        sha256: string;
        credentials: unknown;
      };
      assert.equal(output.runtime, "bun");
      assert.equal(received.runtime, "deno");
      assert.match(received.link, /payload\.txt \(deleted\)$/, "the file had no name left when it was read");
      assert.deepEqual({ bytes: received.bytes, sha256: received.sha256 }, output.sent);
      assert.deepEqual(received.credentials, { pid: output.pid, uid: me.uid, gid: me.gid });
      assert.deepEqual(output.serverCredentials, { pid: deno.pid, uid: me.uid, gid: me.gid });
    },
  );
});

test(
  "a call whose server process is killed rejects with ERR_CONNECTION_CLOSED at once",
  { timeout: 30_000 },
  async () => {
    await Promise.all(runtimes.map(async (runtime) => {
      const address = `seqpacket:@${abstractName(`killed-${runtime}`)}`;
      const { child, pid } = await startReader(runtime, address);
      try {
        const remote = await connect(address);
        const pending = remote.call("never");
        await child.waitFor("waiting");
        // The server process itself (the runtime's launcher may be a wrapper around it).
        process.kill(pid, "SIGKILL");
        await assertRejectsWithin(pending, 2000, "ERR_CONNECTION_CLOSED", `the call to the killed ${runtime} server`);
        await remote.closed;
        assert.equal(remote.isClosed, true);
        await assert.rejects(remote.call("fdCount"), { code: "ERR_CONNECTION_CLOSED" });
      } finally {
        await child.stop();
      }
    }));
  },
);

test(
  "a process of each runtime exits by itself after a call with a descriptor and close",
  { timeout: 30_000 },
  async () => {
    await Promise.all(runtimes.map(async (runtime) => {
      const child = start(scriptCommand(runtime, `${fixtures}/exit_after_call.ts`, [abstractName(`exit-${runtime}`)]));
      child.child.stdin!.end();
      const timer = setTimeout(() => child.child.kill("SIGKILL"), 10_000);
      const result = await child.exited;
      clearTimeout(timer);
      assert.equal(
        result.signal,
        null,
        `${runtime} did not exit within 10 s\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
      );
      assert.equal(result.code, 0, `${runtime}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      assert.match(result.stdout, /^closed after reading \/.*exit_after_call\.(ts|js)\n$/);
    }));
  },
);
