/**
 * A server's memory after a forced garbage collection, in every runtime:
 * Node and Deno are started with `--expose-gc` (Deno through
 * `--v8-flags`), Bun has `Bun.gc(true)`.
 *
 * @module
 */

import process from "node:process";

/** One reading of a process's memory, in bytes. */
export interface MemorySample {
  /** JavaScript heap in use. */
  heapUsed: number;
  /** Memory outside the heap that JavaScript objects hold (buffers among it). */
  external: number;
  /** Resident set size of the whole process. */
  rss: number;
}

/**
 * Collects garbage (twice, so that what finalizers freed goes too) and reads the memory.
 *
 * @throws Error when the runtime was started without a way to force a collection.
 */
export function sampleMemory(): MemorySample {
  collectGarbage();
  collectGarbage();
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, external: usage.external, rss: usage.rss };
}

/** Heap plus external memory: what the process's JavaScript holds. */
export function heldBytes(sample: MemorySample): number {
  return sample.heapUsed + sample.external;
}

function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) return bun.gc(true);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("No gc(): start Node with --expose-gc, Deno with --v8-flags=--expose-gc");
  gc();
}
