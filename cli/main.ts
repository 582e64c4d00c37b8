#!/usr/bin/env node
/**
 * The `peerlink` command line:
 *
 * ```sh
 * peerlink serve ADDRESS                 # demo server: echo, add, sleep, count, runtime
 * peerlink call ADDRESS METHOD [JSON]    # prints the result as JSON
 * peerlink stream ADDRESS METHOD [JSON]  # prints one JSON line per item
 * ```
 *
 * Runs under Deno (`deno run -A cli.ts`), Bun (`bun cli.ts`) and Node
 * (`npx peerlink`).
 *
 * @module
 */

import process from "node:process";
import { connect, listen, PeerlinkError } from "../mod.ts";
import { demoService } from "./demo_service.ts";
import { currentRuntime } from "../adapters/detect.ts";

const USAGE = `Usage:
  peerlink serve ADDRESS                 serve the demo methods (echo, add, sleep, count, runtime)
  peerlink call ADDRESS METHOD [JSON]    call METHOD with JSON params, print the result as JSON
  peerlink stream ADDRESS METHOD [JSON]  call a streaming METHOD, print one JSON line per item

ADDRESS is unix:/path/to.sock, unix:@abstract-name, seqpacket:/path or seqpacket:@name.`;

/** JSON for values CBOR can carry and JSON cannot. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (typeof item === "bigint") return item.toString();
    if (item instanceof Uint8Array) return Array.from(item);
    return item;
  }) ?? "null";
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PeerlinkError("ERR_INVALID_ARGUMENT", `Parameters are not valid JSON: ${(error as Error).message}`);
  }
}

async function serve(address: string): Promise<void> {
  const runtime = currentRuntime();
  const server = await listen(address, {
    handlers: demoService(runtime),
    onError: (error) => process.stderr.write(`peerlink: connection failed: ${(error as Error).message}\n`),
  });
  process.stdout.write(`peerlink: serving ${server.address} on ${runtime} (Ctrl-C to stop)\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await new Promise(() => {});
}

async function call(address: string, method: string, params: unknown, streaming: boolean): Promise<void> {
  const client = await connect(address);
  try {
    if (streaming) {
      for await (const item of client.stream(method, params)) process.stdout.write(`${toJson(item)}\n`);
    } else {
      process.stdout.write(`${toJson(await client.call(method, params))}\n`);
    }
  } finally {
    await client.close();
  }
}

async function main(args: string[]): Promise<number> {
  const [command, address, method, params, ...extra] = args;
  if (command === "serve" && address !== undefined && method === undefined) {
    await serve(address);
    return 0;
  }
  if (
    (command === "call" || command === "stream") && address !== undefined && method !== undefined && extra.length === 0
  ) {
    await call(address, method, parseParams(params), command === "stream");
    return 0;
  }
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const code = error instanceof PeerlinkError ? ` [${error.code}]` : "";
  process.stderr.write(`peerlink: ${(error as Error).message ?? String(error)}${code}\n`);
  process.exitCode = 1;
}
