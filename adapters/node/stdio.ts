/**
 * This process's `process.stdin` / `process.stdout` on Node, for serving a
 * parent over them (`serveStdio`).
 *
 * @module
 */

import process from "node:process";
import type { ByteStream } from "../../src/transport/types.ts";
import { NodePipeStream } from "./pipe_stream.ts";

/**
 * This process's stdin and stdout as a byte stream. `close()` destroys
 * `process.stdin`, so that reading it no longer keeps the process alive,
 * and leaves `process.stdout` open.
 *
 * @returns The stream.
 */
export function nodeStdio(): ByteStream {
  return new NodePipeStream(process.stdin, process.stdout, { transport: "stdio" }, () => process.stdin.destroy());
}
