/**
 * `-` in place of an argument: the CLI reads it from standard input.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";

/**
 * Reads standard input to its end.
 *
 * @returns Every byte written to stdin.
 *
 * @example
 * ```ts ignore
 * import { readStandardInput } from "./standard_input.ts";
 * const params = JSON.parse(new TextDecoder().decode(await readStandardInput()));
 * ```
 */
export async function readStandardInput(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return new Uint8Array(Buffer.concat(chunks));
}
