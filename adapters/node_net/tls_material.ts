/**
 * The error for certificates, keys or CAs that `node:tls` refuses to load
 * (not PEM, a key that does not belong to the certificate, ...).
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";

/**
 * The typed error for TLS material the runtime refused.
 *
 * @param cause What `tls.createServer` or `tls.connect` threw.
 * @param action What could not be done, such as `serve tls://[::1]:7001`.
 * @returns A {@link UsageError} `ERR_INVALID_ARGUMENT` naming the action, with `cause`.
 */
export function tlsMaterialError(cause: unknown, action: string): UsageError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new UsageError(
    "ERR_INVALID_ARGUMENT",
    `Cannot ${action}: the TLS certificate, key or CA was refused (${reason})`,
    { cause },
  );
}
