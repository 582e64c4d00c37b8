/**
 * The two processes `profile.ts` profiles: `serve ADDRESS` listens with an
 * `echo` and an `items` method and exits once the client says `done`;
 * `call ADDRESS METRIC WARMUP_SECONDS MEASURE_SECONDS` warms up, then runs
 * the metric (`rtt`, `throughput` at 64 in flight, `bulk` 1 MiB echoes, `stream`) for the given time and prints `{"calls": N, "seconds": S}`
 * (for `stream`, N counts items).
 *
 * @module
 */

import process from "node:process";
import { connect, listen } from "../mod.ts";

const PAYLOAD = new Uint8Array(48).fill(7);
const BULK = new Uint8Array(1 << 20).fill(9);
const STREAM_ITEMS = 10_000;

async function serve(address: string): Promise<void> {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = await listen(address, {
    handlers: {
      echo: (value: unknown) => value,
      async *items(count: number) {
        for (let i = 0; i < count; i++) yield i;
      },
    },
    notifications: { done: () => done() },
  });
  console.log(`READY ${server.address}`);
  await finished;
  await server.close({ grace: 0 });
  process.exit(0);
}

/** What the client uses of a connection. */
interface Connection {
  call(method: "echo", params: Uint8Array): Promise<unknown>;
  stream(method: "items", params: number): AsyncIterable<unknown>;
}

/** Runs `metric` until `until` (a `performance.now()` time); returns what it counted. */
async function run(connection: Connection, metric: string, until: number): Promise<number> {
  let count = 0;
  if (metric === "rtt") {
    while (performance.now() < until) {
      await connection.call("echo", PAYLOAD);
      count++;
    }
  } else if (metric === "throughput") {
    const worker = async (): Promise<void> => {
      while (performance.now() < until) {
        await connection.call("echo", PAYLOAD);
        count++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  } else if (metric === "bulk") {
    while (performance.now() < until) {
      const reply = await connection.call("echo", BULK) as Uint8Array;
      if (reply.length !== BULK.length) throw new Error(`A bulk echo returned ${reply.length} bytes`);
      count++;
    }
  } else if (metric === "stream") {
    while (performance.now() < until) {
      for await (const _ of connection.stream("items", STREAM_ITEMS)) count++;
    }
  } else {
    throw new Error(`Unknown metric ${metric} (rtt, throughput, bulk, stream)`);
  }
  return count;
}

async function call(address: string, metric: string, warmup: number, measure: number): Promise<void> {
  const connection = await connect(address);
  await run(connection as Connection, metric, performance.now() + warmup * 1000);
  const started = performance.now();
  const calls = await run(connection as Connection, metric, started + measure * 1000);
  const seconds = (performance.now() - started) / 1000;
  await connection.notify("done");
  await connection.close();
  console.log(JSON.stringify({ calls, seconds }));
  process.exit(0);
}

const [role, address, metric, warmup, measure] = process.argv.slice(2);
if (role === "serve") await serve(address!);
else await call(address!, metric!, Number(warmup), Number(measure));
