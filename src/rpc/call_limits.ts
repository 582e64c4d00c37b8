/**
 * A call's limits, from its options: the one signal that cancels it (its
 * own and the inherited context's) and the milliseconds it has left (the
 * earliest of `timeout`, `deadline` and the context's deadline).
 *
 * @module
 */

import { CancelledError, UsageError } from "../base/errors.ts";
import type { CallOptions } from "./caller.ts";

/** The longest timeout timers support: 2^31 - 1 ms (about 24.8 days). */
export const MAX_TIMEOUT = 0x7fffffff;

/** What cancels a call and when it runs out. */
export interface CallLimits {
  /**
   * What aborts the call: the caller's signal, the context's, or both (kept
   * apart: `AbortSignal.any` grows with every call on a long-lived signal in Node 22).
   */
  signals: readonly AbortSignal[];
  /** Milliseconds left, or `undefined` for no limit (a limit beyond {@link MAX_TIMEOUT} counts as none). */
  msLeft: number | undefined;
}

/**
 * Resolves and checks a call's `signal`, `timeout`, `deadline` and `context`.
 *
 * @param options The call's options.
 * @param now The current time (`Date.now()`).
 * @returns The signal and the time left.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a timeout outside 0 … 2^31 − 1 (or `Infinity`), or a
 *   deadline that is not a finite number.
 * @throws {CancelledError} when a signal has already aborted.
 */
export function callLimitsOf(options: CallOptions, now: number): CallLimits {
  const { timeout, deadline, context } = options;
  if (timeout !== undefined && timeout !== Infinity && !(timeout >= 0 && timeout <= MAX_TIMEOUT)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `timeout must be a number of milliseconds from 0 to ${MAX_TIMEOUT} (or Infinity), got ${timeout}`,
    );
  }
  if (deadline !== undefined && !Number.isFinite(deadline)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `deadline must be a time in milliseconds (Date.now()), got ${deadline}`,
    );
  }
  const signals = [options.signal, context?.signal].filter((signal, index, all): signal is AbortSignal =>
    signal !== undefined && all.indexOf(signal) === index
  );
  const aborted = signals.find((signal) => signal.aborted);
  if (aborted) throw new CancelledError("The call was cancelled before it started", { cause: aborted.reason });
  let until = timeout === undefined || timeout === Infinity ? Infinity : now + timeout;
  if (deadline !== undefined) until = Math.min(until, deadline);
  if (context?.deadline !== undefined) until = Math.min(until, context.deadline);
  const left = Math.max(0, Math.ceil(until - now));
  return { signals, msLeft: left > MAX_TIMEOUT ? undefined : left };
}
