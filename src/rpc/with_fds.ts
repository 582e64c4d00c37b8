/**
 * Attaching file descriptors to RPC values.
 *
 * @module
 */

import { callSafely } from "../base/call_safely.ts";
import type { FdHandle } from "../base/fd_handle.ts";

/** A value to send together with file descriptors. Create it with {@link withFds}. */
export class WithFds<T> {
  /** The value to encode. */
  readonly value: T;
  /** Descriptors to pass (they stay open on the sender). */
  readonly fds: readonly number[];
  /** Called once the message was sent (or failed to send). */
  readonly onSent: (() => void) | undefined;

  /**
   * Wraps a value.
   *
   * @param value The value to encode.
   * @param fds Descriptor numbers to pass.
   * @param onSent Called once the message was sent or failed to send.
   */
  constructor(value: T, fds: readonly number[], onSent?: () => void) {
    this.value = value;
    this.fds = fds;
    this.onSent = onSent;
  }
}

/** Options of {@link withFds}. */
export interface WithFdsOptions {
  /**
   * Called once the message carrying the descriptors was sent, or failed to
   * send. Close descriptors you opened just for this message here: the
   * receiver has its own copies once the message is sent.
   */
  onSent?: () => void;
}

/** A value received together with the file descriptors that came with it. */
export interface Received<T> {
  /** The decoded value. */
  value: T;
  /** Descriptors that arrived with it; the receiver owns and must close them. */
  fds: FdHandle[];
}

/**
 * Wraps a result, stream item, parameter or update so that `fds` travel with
 * it. Only seqpacket connections can carry descriptors; elsewhere sending
 * fails with `ERR_FDS_NOT_SUPPORTED`.
 *
 * @param value The value to encode.
 * @param fds Descriptors (numbers, or handles received earlier) to pass.
 * @param options `onSent`, to close descriptors once they are sent.
 * @returns The wrapped value.
 *
 * @example
 * ```ts
 * import { withFds } from "./with_fds.ts";
 * const reply = withFds({ name: "log" }, [0]);
 * console.assert(reply.fds[0] === 0);
 * ```
 */
export function withFds<T>(value: T, fds: readonly (number | FdHandle)[], options: WithFdsOptions = {}): WithFds<T> {
  return new WithFds(value, fds.map((fd) => (typeof fd === "number" ? fd : fd.fd)), options.onSent);
}

/**
 * Sends a possibly wrapped value: unwraps it, runs `send`, then calls the
 * wrapper's `onSent` whatever happened.
 *
 * @param item A plain value or a {@link WithFds}.
 * @param send Encodes and sends the value with its descriptors.
 * @returns What `send` returned.
 */
export function sendUnwrapped<R>(
  item: unknown,
  send: (value: unknown, fds: readonly number[]) => Promise<R>,
): Promise<R> {
  if (item instanceof WithFds) return sendWithFds(item, send);
  try {
    return send(item, NO_FDS);
  } catch (error) {
    return Promise.reject(error);
  }
}

const NO_FDS: readonly number[] = Object.freeze([]);

async function sendWithFds<R>(
  item: WithFds<unknown>,
  send: (value: unknown, fds: readonly number[]) => Promise<R>,
): Promise<R> {
  try {
    return await send(item.value, item.fds);
  } finally {
    callSafely(item.onSent);
  }
}

/**
 * Calls the `onSent` of a wrapped value that will never be sent (its call
 * was cancelled), so descriptors opened for it are still closed.
 *
 * @param item A plain value or a {@link WithFds}.
 */
export function releaseUnsent(item: unknown): void {
  if (item instanceof WithFds) callSafely(item.onSent);
}

/** The type of a value with any {@link WithFds} wrapper removed. */
export type Unwrapped<T> = T extends WithFds<infer V> ? V : T;
