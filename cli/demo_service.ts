/**
 * The demo service `peerlink serve` offers: small methods that exercise
 * calls, cancellation and streaming.
 *
 * @module
 */

import { CancelledError, RpcError } from "../src/base/errors.ts";
import type { HandlerContext } from "../src/rpc/service.ts";
import type { ConnectionInfo } from "../src/transport/types.ts";

function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError("The sleep was cancelled"));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError("The sleep was cancelled"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function expectNumber(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RpcError("ERR_INVALID_PARAMS", `${what} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Builds the demo service.
 *
 * @param runtime Name reported by the `runtime` method.
 * @returns Handlers: `echo`, `add`, `sleep`, `count`, `sum`, `connection`, `runtime`.
 *
 * @example
 * ```ts
 * import { demoService } from "./demo_service.ts";
 * console.assert(demoService("deno").add([1, 2]) === 3);
 * ```
 */
export function demoService(runtime: string): {
  echo: (value: unknown) => unknown;
  add: (numbers: number[]) => number;
  sleep: (ms: number, context: HandlerContext) => Promise<number>;
  count: (n: number, context: HandlerContext) => AsyncGenerator<number, number>;
  sum: (_: unknown, context: HandlerContext) => Promise<number>;
  connection: (_: unknown, context: HandlerContext) => ConnectionInfo;
  runtime: () => string;
} {
  return {
    /** Returns its parameter. */
    echo: (value: unknown): unknown => value,
    /** Adds a list of numbers. */
    add: (numbers: number[]): number => {
      if (!Array.isArray(numbers)) throw new RpcError("ERR_INVALID_PARAMS", "add expects an array of numbers");
      return numbers.reduce((sum: number, n, i) => sum + expectNumber(n, `numbers[${i}]`), 0);
    },
    /** Waits `ms` milliseconds and returns it; ends early with ERR_CANCELLED when the caller cancels. */
    sleep: async (ms: number, context: HandlerContext): Promise<number> => {
      if (expectNumber(ms, "ms") < 0 || ms > 0x7fffffff) {
        throw new RpcError("ERR_INVALID_PARAMS", `ms must be from 0 to ${0x7fffffff}, got ${ms}`);
      }
      await sleepFor(ms, context.signal);
      return ms;
    },
    /** Streams 1..n, then returns n. */
    count: async function* (n: number, context: HandlerContext): AsyncGenerator<number, number> {
      const last = expectNumber(n, "n");
      for (let i = 1; i <= last && !context.signal.aborted; i++) yield i;
      return last;
    },
    /** Adds the numbers the caller streams (client streaming), and returns the total once it ends its input. */
    sum: async (_: unknown, context: HandlerContext): Promise<number> => {
      let total = 0;
      for await (const item of context.input) total += expectNumber(item, "each item");
      return total;
    },
    /** What the server knows about the caller's connection: addresses, and the TLS session and client certificate. */
    connection: (_: unknown, context: HandlerContext): ConnectionInfo => context.info,
    /** The runtime serving the call. */
    runtime: (): string => runtime,
  };
}
