/**
 * This process's `Bun.stdin.stream()` / `Bun.stdout.writer()` as a byte
 * stream, for serving a parent over them (`serveStdio`), and the writer of
 * a Bun `FileSink` that `child_process.ts` uses for a child's stdin too.
 *
 * @module
 */

import type { ByteStream } from "../../src/transport/types.ts";
import { type PipeWriter, WebPipeStream } from "../web_pipe_stream.ts";

/** Bun's incremental writer for pipes and files. */
export interface FileSink {
  /** Takes the bytes; a promise while the pipe is full. */
  write(chunk: Uint8Array): number | Promise<number>;
  /** Flushes and closes. */
  end(): number | Promise<number>;
}

/** The part of the `Bun` global this file uses. */
interface BunStdioApi {
  readonly stdin: { stream(): ReadableStream<Uint8Array> };
  readonly stdout: { writer(): FileSink };
}

function bunStdioApi(): BunStdioApi {
  return (globalThis as unknown as { Bun: BunStdioApi }).Bun;
}

/**
 * A `FileSink` as the writer of a {@link WebPipeStream}.
 *
 * @param sink The sink.
 * @param endOnClose Whether closing the stream ends the sink.
 * @returns The writer.
 */
export function sinkWriter(sink: FileSink, endOnClose: boolean): PipeWriter {
  return {
    async write(chunk) {
      const taken = sink.write(chunk);
      if (typeof taken !== "number") await taken;
    },
    end() {
      if (!endOnClose) return;
      try {
        const ended = sink.end();
        if (typeof ended !== "number") ended.catch(() => {});
      } catch {
        // The child is gone already.
      }
    },
  };
}

/**
 * This process's stdin and stdout as a byte stream. `close()` cancels the
 * stdin reader (the process can exit even if the parent keeps the pipe
 * open) and leaves stdout open.
 *
 * @returns The stream.
 */
export function bunStdio(): ByteStream {
  return new WebPipeStream(bunStdioApi().stdin.stream(), sinkWriter(bunStdioApi().stdout.writer(), false), {
    transport: "stdio",
  });
}
