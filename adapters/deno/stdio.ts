/**
 * This process's `Deno.stdin` / `Deno.stdout` as a byte stream, for serving
 * a parent over them (`serveStdio`).
 *
 * Stdin is read with `Deno.stdin.read` into one buffer and copied out, not
 * through `Deno.stdin.readable`: a 64-byte round trip with a Node parent
 * took 41 µs against 96 µs (one CPU, `taskset -c 0`). A read that is still
 * pending when `close()` is called ends with `Interrupted` once
 * `Deno.stdin` is closed, after which the process can exit even if the
 * parent keeps the pipe open (a cancelled `readable` reader lets it exit
 * too; `node:process`'s `stdin.destroy()` does not).
 *
 * @module
 */

import { closeSync, fstatSync } from "node:fs";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";

/** The largest read from stdin at once. */
const READ_SIZE = 64 * 1024;

/** `Deno.stdin` and `Deno.stdout` as a {@link ByteStream}. */
class DenoStdioStream implements ByteStream {
  readonly info: ConnectionInfo = { transport: "stdio" };
  readonly #buffer = new Uint8Array(READ_SIZE);
  #closed = false;

  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    let count: number | null;
    try {
      count = await Deno.stdin.read(this.#buffer);
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
    return count === null || this.#closed ? null : this.#buffer.slice(0, count);
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let offset = 0; offset < chunk.length;) offset += await Deno.stdout.write(chunk.subarray(offset));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        Deno.stdin.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }
}

/**
 * This process's stdin and stdout as a byte stream. `close()` closes
 * `Deno.stdin` (a pending read ends, and the process can exit) and leaves
 * `Deno.stdout` open.
 *
 * @returns The stream.
 */
export function denoStdio(): ByteStream {
  return new DenoStdioStream();
}

/**
 * Closes the copy of an inherited descriptor that Deno keeps for its
 * `node:fs` when it started with `DENO_EXTRA_STDIO_FDS` naming it (a Deno
 * parent's `node:child_process` sets that for the seqpacket channel): a
 * duplicate at another number, which would keep the channel open after
 * `serveStdio` closed it. `node:fs` knows a descriptor above 2 only if Deno
 * registered it that way or opened it itself, and this process cannot have
 * opened another file at `fd` while `fd` was the channel, so a socket there
 * is that copy.
 *
 * @param fd The inherited descriptor, already taken over.
 */
export function closeDenoStdioCopy(fd: number): void {
  try {
    if (fstatSync(fd).isSocket()) closeSync(fd);
  } catch {
    // No copy: Deno started without the variable.
  }
}
