/**
 * Reading certificate and key files on Deno (`Deno.readTextFile`), for
 * TLS options given as paths.
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";

/**
 * Reads a UTF-8 text file.
 *
 * @param path The file.
 * @returns Its text.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the file when it is missing, unreadable or not permitted
 *   (`--allow-read`), with Deno's error as `cause`.
 */
export async function readDenoTextFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError("ERR_INVALID_ARGUMENT", `Cannot read ${path}: ${reason}`, { cause: error });
  }
}
