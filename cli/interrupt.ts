/**
 * Ctrl-C during `peerlink call` and `peerlink stream`: SIGINT aborts the
 * call (the server is told it is cancelled) instead of killing the process.
 *
 * @module
 */

import process from "node:process";

/** Thrown once a call ended because of Ctrl-C: the CLI exits 130 and prints nothing more. */
export class Interrupted extends Error {
  /** @param cause The error the cancelled call ended with. */
  constructor(cause: unknown) {
    super("Interrupted", { cause });
    this.name = "Interrupted";
  }
}

/** The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * Runs `work` with a signal that aborts on SIGINT; a rejection after that
 * becomes {@link Interrupted}. The handler is there only while `work` runs.
 *
 * @param work The call, given the signal to pass as its `signal` option.
 * @returns What `work` returned.
 * @throws {Interrupted} When Ctrl-C ended the work.
 *
 * @example
 * ```ts
 * import { untilInterrupted } from "./interrupt.ts";
 * console.assert((await untilInterrupted(async (signal) => signal.aborted)) === false);
 * ```
 */
export async function untilInterrupted<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once("SIGINT", onInterrupt);
  try {
    return await work(controller.signal);
  } catch (error) {
    throw controller.signal.aborted ? new Interrupted(error) : error;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}
