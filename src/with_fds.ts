/**
 * Attaching file descriptors to RPC values.
 *
 * @module
 */

import type { FdHandle } from "./fd.ts";

/** A value to send together with file descriptors. Create it with {@link withFds}. */
export class WithFds<T> {
  /** The value to encode. */
  readonly value: T;
  /** Descriptors to pass (they stay open on the sender). */
  readonly fds: readonly number[];

  /**
   * Wraps a value.
   *
   * @param value The value to encode.
   * @param fds Descriptor numbers to pass.
   */
  constructor(value: T, fds: readonly number[]) {
    this.value = value;
    this.fds = fds;
  }
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
 * @returns The wrapped value.
 *
 * @example
 * ```ts
 * import { withFds } from "./with_fds.ts";
 * const reply = withFds({ name: "log" }, [0]);
 * console.assert(reply.fds[0] === 0);
 * ```
 */
export function withFds<T>(value: T, fds: readonly (number | FdHandle)[]): WithFds<T> {
  return new WithFds(value, fds.map((fd) => (typeof fd === "number" ? fd : fd.fd)));
}

/**
 * Splits a possibly wrapped value into value and descriptors.
 *
 * @param value A plain value or a {@link WithFds}.
 * @returns The value and the descriptors (empty if none).
 */
export function unwrapFds(value: unknown): { value: unknown; fds: readonly number[] } {
  if (value instanceof WithFds) return { value: value.value, fds: value.fds };
  return { value, fds: [] };
}

/** The type of a value with any {@link WithFds} wrapper removed. */
export type Unwrapped<T> = T extends WithFds<infer V> ? V : T;
