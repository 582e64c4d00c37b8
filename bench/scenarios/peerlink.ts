/**
 * The peerlink scenarios: `listen()` and `connect()` of `../../mod.ts` over
 * `unix:`, `seqpacket:`, `tcp://` and `tls://`, with three methods:
 * `echo(x) => x` (the small payload is a 48-byte `Uint8Array`, the bulk one
 * 1 MiB), `items(n)`, an async generator of the integers 0 to n − 1, and
 * `hold(tag)`, held until the server is released. The `arrived`
 * notification tells the server every `hold` was read: notifications are
 * not queued behind requests that wait for a handler.
 *
 * @module
 */

import { join } from "node:path";
import { connect, type ConnectOptions, generateCertificate, listen, type ListenOptions } from "../../mod.ts";
import { readSmallPayload, smallPayload } from "./payload.ts";
import type { BenchConnection, BenchServer, Scenario, ServeOptions, ServerAddress } from "./types.ts";

/** The transports peerlink is measured on. */
export type PeerlinkTransport = "unix" | "seqpacket" | "tcp" | "tls";

/** The largest seqpacket datagram when 1 MiB is echoed (the default 64 KiB cannot carry it). */
const BULK_PACKET_SIZE = 2 << 20;

/** The peerlink scenario over one transport. */
export function peerlinkScenario(transport: PeerlinkTransport): Scenario {
  return {
    serve: (options) => serve(transport, options),
    open: (server, options) => open(transport, server, options),
  };
}

async function serve(transport: PeerlinkTransport, options: ServeOptions): Promise<BenchServer> {
  const held: (() => void)[] = [];
  let released = false;
  let running = 0;
  let mostRunning = 0;
  let arrived!: () => void;
  const whenArrived = new Promise<void>((resolve) => (arrived = resolve));
  const handlers = {
    echo: (value: unknown) => value,
    async *items(count: number) {
      for (let i = 0; i < count; i++) yield i;
    },
    hold: (tag: number) => {
      if (released) return tag;
      running++;
      mostRunning = Math.max(mostRunning, running);
      return new Promise<number>((resolve) =>
        held.push(() => {
          running--;
          resolve(tag);
        })
      );
    },
  };
  const listenOptions: ListenOptions = { handlers, notifications: { arrived: () => arrived() } };
  let pin: string | undefined;
  if (transport === "tls") {
    const certificate = await generateCertificate();
    listenOptions.tls = { cert: certificate.cert, key: certificate.key };
    pin = certificate.fingerprint256;
  }
  if (transport === "seqpacket" && options.bulk) listenOptions.maxPacketSize = BULK_PACKET_SIZE;
  const server = await listen(addressOf(transport, options.dir), listenOptions);
  return {
    address: server.address,
    ...(pin === undefined ? {} : { pin }),
    release: () => {
      released = true;
      for (const resolve of held.splice(0)) resolve();
      return mostRunning;
    },
    arrived: () => whenArrived,
    close: () => server.close(),
  };
}

function addressOf(transport: PeerlinkTransport, dir: string): string {
  switch (transport) {
    case "unix":
      return `unix:${join(dir, "peerlink.sock")}`;
    case "seqpacket":
      return `seqpacket:${join(dir, "peerlink-seq.sock")}`;
    case "tcp":
      return "tcp://127.0.0.1:0";
    case "tls":
      return "tls://127.0.0.1:0";
  }
}

async function open(
  transport: PeerlinkTransport,
  server: ServerAddress,
  options: { bulk: boolean },
): Promise<BenchConnection> {
  const connectOptions: ConnectOptions = {};
  if (server.pin !== undefined) connectOptions.tls = { pin: server.pin };
  if (transport === "seqpacket" && options.bulk) connectOptions.maxPacketSize = BULK_PACKET_SIZE;
  const client = await connect(server.address, connectOptions);
  return {
    echo: async (tag) => readSmallPayload((await client.call("echo", smallPayload(tag))) as Uint8Array),
    stream: async (count) => {
      const result = { count: 0, sum: 0 };
      for await (const item of client.stream("items", count)) {
        result.count++;
        result.sum += item as number;
      }
      return result;
    },
    bulk: async (payload) => (await client.call("echo", payload)) as Uint8Array,
    hold: async (tag) => (await client.call("hold", tag)) as number,
    arrived: () => client.notify("arrived"),
    close: () => client.close(),
  };
}
