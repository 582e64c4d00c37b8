/**
 * The demo service `peerlink serve` offers: small methods that exercise
 * calls, cancellation and streaming, each declared with a description and
 * JSON Schemas for `peerlink describe`.
 *
 * @module
 */

import { CancelledError, RpcError } from "../src/base/errors.ts";
import { method } from "../src/rpc/method.ts";
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
  const integer = { type: "integer" };
  return {
    echo: method({ description: "Returns its parameter" }, (value: unknown): unknown => value),
    add: method({
      description: "Adds a list of numbers",
      jsonSchema: { params: { type: "array", items: { type: "number" } }, result: { type: "number" } },
    }, (numbers: number[]): number => {
      if (!Array.isArray(numbers)) throw new RpcError("ERR_INVALID_PARAMS", "add expects an array of numbers");
      return numbers.reduce((sum: number, n, i) => sum + expectNumber(n, `numbers[${i}]`), 0);
    }),
    sleep: method({
      description: "Waits ms milliseconds and returns ms; ends early with ERR_CANCELLED when the caller cancels",
      jsonSchema: { params: { type: "integer", minimum: 0, maximum: 0x7fffffff }, result: integer },
    }, async (ms: number, context: HandlerContext): Promise<number> => {
      if (expectNumber(ms, "ms") < 0 || ms > 0x7fffffff) {
        throw new RpcError("ERR_INVALID_PARAMS", `ms must be from 0 to ${0x7fffffff}, got ${ms}`);
      }
      await sleepFor(ms, context.signal);
      return ms;
    }),
    count: method(
      { description: "Streams 1..n, then returns n", jsonSchema: { params: integer, items: integer, result: integer } },
      async function* (n: number, context: HandlerContext): AsyncGenerator<number, number> {
        const last = expectNumber(n, "n");
        for (let i = 1; i <= last && !context.signal.aborted; i++) yield i;
        return last;
      },
    ),
    sum: method({
      description: "Adds the numbers the caller streams, and returns the total once the caller ends its input",
      kind: "client-stream",
      jsonSchema: { result: { type: "number" } },
    }, async (_: unknown, context: HandlerContext): Promise<number> => {
      let total = 0;
      for await (const item of context.input) total += expectNumber(item, "each item");
      return total;
    }),
    connection: method({
      description: "What the server knows about the caller's connection (addresses, credentials, TLS)",
      jsonSchema: { result: { type: "object" } },
    }, (_: unknown, context: HandlerContext): ConnectionInfo => context.info),
    runtime: method(
      { description: "The runtime serving the call", jsonSchema: { result: { type: "string" } } },
      (): string => runtime,
    ),
  };
}
