/**
 * Shared secrets: turning the `secret` option into key bytes, making a new
 * secret, and reading one from the text of a secret file.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

/** The shortest secret accepted, in bytes. */
export const MIN_SECRET_BYTES = 16;
/** Random bytes in a generated secret (written as twice as many hex digits). */
const GENERATED_SECRET_BYTES = 32;

/**
 * The key bytes of a secret: a string's UTF-8 bytes, or a copy of the bytes given.
 *
 * @param secret The `secret` option.
 * @returns The key, at least 16 bytes.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a secret shorter than 16 bytes.
 * @example
 * ```ts
 * import { secretBytes } from "./secret.ts";
 * console.assert(secretBytes("correct horse battery staple").length === 28);
 * ```
 */
export function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : new Uint8Array(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `The secret is ${bytes.length} bytes long; it must be at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  return bytes;
}

/**
 * Makes a new secret, as a secret file holds it.
 *
 * @returns 64 lowercase hex digits (32 random bytes) and a newline.
 * @example
 * ```ts
 * import { generateSecretText } from "./secret.ts";
 * console.assert(/^[0-9a-f]{64}\n$/.test(generateSecretText()));
 * ```
 */
export function generateSecretText(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(GENERATED_SECRET_BYTES));
  return `${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}\n`;
}

/**
 * The key of a secret file: its content without surrounding white space.
 *
 * @param text The file's content.
 * @param path The file's path, for the error message.
 * @returns The key bytes (UTF-8 of the trimmed text).
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when fewer than 16 bytes remain.
 */
export function parseSecretFileText(text: string, path: string): Uint8Array {
  const bytes = new TextEncoder().encode(text.trim());
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `The secret file ${path} holds ${bytes.length} bytes of secret; it must hold at least ${MIN_SECRET_BYTES}`,
    );
  }
  return bytes;
}
