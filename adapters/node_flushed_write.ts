/**
 * A write to a Node writable stream that settles once the stream no longer
 * holds the chunk. `write()` returning true means only that the stream took
 * it below its high-water mark: a chunk the kernel did not take at once
 * stays referenced until its callback runs. A large chunk may be a buffer
 * of the send pool (`../src/base/buffer_pool.ts`), which is used again as
 * soon as the write settles. One at or above the high-water mark makes
 * `write()` return false, and "drain" comes only once the stream holds
 * nothing; one below it (a stream with a raised mark) waits for its callback.
 *
 * @module
 */

import type { Writable } from "node:stream";
import { POOLED_MIN } from "../src/base/buffer_pool.ts";

/**
 * Whether writing `chunk` needs {@link writeFlushed}: a chunk the send pool
 * may hand out again that is below the stream's high-water mark.
 *
 * @param writable The stream.
 * @param chunk The bytes to write.
 * @returns True when waiting for "drain" would not do.
 */
export function needsFlushedWrite(writable: Writable, chunk: Uint8Array): boolean {
  return chunk.length >= POOLED_MIN && chunk.length < writable.writableHighWaterMark;
}

/**
 * Writes `chunk` and resolves once its callback ran (the bytes went to the
 * system, or the stream failed): from then on nothing reads `chunk`.
 *
 * @param writable The stream.
 * @param chunk The bytes.
 * @param failure The error to reject with, given the write's own error (none when the stream closed first).
 * @returns Settles once the stream is done with `chunk`.
 */
export function writeFlushed(
  writable: Writable,
  chunk: Uint8Array,
  failure: (cause: Error | undefined) => unknown,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // A destroyed stream runs pending callbacks with an error; the close event is there in case one never runs.
    const onClose = (): void => reject(failure(undefined));
    writable.once("close", onClose);
    const done = (error?: Error | null): void => {
      writable.off("close", onClose);
      if (error === undefined || error === null) resolve();
      else reject(failure(error));
    };
    try {
      writable.write(chunk, done);
    } catch (error) {
      writable.off("close", onClose);
      reject(error);
    }
  });
}
