/**
 * `jsonrpc`, the reference peer: json-rpc-2.0 (a dev dependency) over a
 * Unix stream socket of the runtime's `node:net`, one JSON message per
 * line. `echo` takes the 48-character text payload; `items(n)` sends n
 * `item` notifications (the integers 0 to n − 1), then answers n. It has no
 * binary data, so there is no bulk echo.
 *
 * @module
 */

import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { JSONRPCClient, JSONRPCServer } from "json-rpc-2.0";
import { serveNet } from "./net_server.ts";
import { readSmallText, smallText } from "./payload.ts";
import type { BenchConnection, BenchServer, Scenario, ServeOptions, ServerAddress } from "./types.ts";

/** Writes one message as a line. */
type SendLine = (message: unknown) => void;

/** Calls `onMessage` with each JSON message read from the socket, one per line. */
function readLines(socket: Socket, onMessage: (message: Record<string, unknown>) => void): void {
  let partial = "";
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop()!;
    for (const line of lines) onMessage(JSON.parse(line));
  });
}

function lineWriter(socket: Socket): SendLine {
  return (message) => void socket.write(JSON.stringify(message) + "\n");
}

async function serve(options: ServeOptions): Promise<BenchServer> {
  const path = join(options.dir, "jsonrpc.sock");
  const rpc = new JSONRPCServer<SendLine>();
  rpc.addMethod("echo", ([text]: [string]) => text);
  rpc.addMethod("items", ([count]: [number], send) => {
    for (let i = 0; i < count; i++) send({ jsonrpc: "2.0", method: "item", params: [i] });
    return count;
  });
  const server = await serveNet(path, (socket) => {
    const send = lineWriter(socket);
    readLines(socket, (message) => {
      void rpc.receive(message as never, send).then((response) => response && send(response));
    });
  });
  return { address: path, close: () => server.close() };
}

async function open(server: ServerAddress): Promise<BenchConnection> {
  const socket = createConnection(server.address);
  const closed = once(socket, "close").then(() => {});
  await once(socket, "connect");
  const send = lineWriter(socket);
  const client = new JSONRPCClient((request) => send(request));
  let items: { count: number; sum: number } | undefined;
  readLines(socket, (message) => {
    if (message.method === "item") {
      items!.count++;
      items!.sum += (message.params as number[])[0]!;
    } else {
      client.receive(message as never);
    }
  });
  socket.on("error", (error) => client.rejectAllPendingRequests(error.message));
  socket.on("close", () => client.rejectAllPendingRequests("The connection closed"));
  return {
    echo: async (tag) => readSmallText(await client.request("echo", [smallText(tag)])),
    stream: async (count) => {
      const result = { count: 0, sum: 0 };
      items = result;
      const answered = await client.request("items", [count]);
      items = undefined;
      if (answered !== count) throw new Error(`items answered ${answered}, not ${count}`);
      return result;
    },
    bulk: () => Promise.reject(new Error("json-rpc-2.0 has no bulk echo")),
    close: () => {
      socket.end();
      return closed;
    },
  };
}

/** The `jsonrpc` scenario. */
export const scenario: Scenario = { serve, open };
