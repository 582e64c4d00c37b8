/**
 * Maps method names to fizyr service ids.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

const encoder = new TextEncoder();

/**
 * The service id of a method name: the 32-bit FNV-1a hash of its UTF-8
 * bytes with the top bit cleared, so it is always a positive i32.
 *
 * @param name The method name.
 * @returns A service id from 0 to 2^31 - 1.
 *
 * @example
 * ```ts
 * import { methodId } from "./method_id.ts";
 * console.assert(methodId("echo") === methodId("echo"));
 * ```
 */
export function methodId(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(name)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash & 0x7fffffff;
}

/**
 * Resolves the service id for `name`, preferring an explicit mapping.
 *
 * @param name Method name.
 * @param explicit Explicit name → id mapping (for fizyr interop).
 * @returns The service id.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` if an explicit id is not an i32.
 */
export function resolveMethodId(name: string, explicit?: Readonly<Record<string, number>>): number {
  if (explicit === undefined || !Object.hasOwn(explicit, name)) return methodId(name);
  const id = explicit[name] as number;
  if (!Number.isInteger(id) || id < -0x80000000 || id > 0x7fffffff) {
    throw new UsageError("ERR_INVALID_ARGUMENT", `Service id ${id} of method "${name}" is not a 32-bit signed integer`);
  }
  return id;
}
