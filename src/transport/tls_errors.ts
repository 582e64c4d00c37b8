/**
 * One mapping from the TLS failures of every runtime to peerlink's
 * {@link TlsError} codes, so that a refused certificate has the same code on
 * Deno, Bun and Node. The runtimes describe the same failure differently:
 *
 * | condition | Node and Bun (`code`, or Bun's handshake error text) | Deno native (message) | code |
 * |---|---|---|---|
 * | not signed by a trusted CA, self-signed | `DEPTH_ZERO_SELF_SIGNED_CERT`, `SELF_SIGNED_CERT_IN_CHAIN`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)`, `CERT_SIGNATURE_FAILURE` | `UnknownIssuer`, `BadSignature` | `ERR_TLS_CERT_UNTRUSTED` |
 * | not valid for the host name | `ERR_TLS_CERT_ALTNAME_INVALID`, `HOSTNAME_MISMATCH` | `certificate not valid for name` | `ERR_TLS_CERT_NAME` |
 * | expired, not yet valid | `CERT_HAS_EXPIRED`, `CERT_NOT_YET_VALID` | `Expired`, `NotValidYet` | `ERR_TLS_CERT_EXPIRED` |
 * | the server wants a client certificate | `…CERTIFICATE_REQUIRED`, `PEER_DID_NOT_RETURN_A_CERTIFICATE` | `CertificateRequired` | `ERR_TLS_CLIENT_CERT` |
 * | anything else in the handshake (plaintext peer, no common version) | `ERR_SSL_WRONG_VERSION_NUMBER`, `EPROTO`, … | `InvalidContentType`, `corrupt message`, … | `ERR_TLS_HANDSHAKE` |
 *
 * A pinned certificate that differs is `ERR_TLS_PIN_MISMATCH`, raised by the
 * adapter that compared the fingerprints.
 *
 * @module
 */

import { TlsError, type TlsErrorCode } from "../base/errors.ts";

/**
 * Milliseconds a TLS listener gives a client to finish its handshake when
 * not told otherwise: as long as a peerlink handshake may take. (Node's own
 * default is 120 s, and Bun has none: a client that sends half a
 * ClientHello would hold its connection that long, or for ever.)
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT = 10_000;

const PATTERNS: readonly [TlsErrorCode, RegExp][] = [
  [
    "ERR_TLS_CLIENT_CERT",
    /CERTIFICATE_REQUIRED|PEER_DID_NOT_RETURN_A_CERTIFICATE|CertificateRequired|peer sent no certificates/i,
  ],
  ["ERR_TLS_CERT_EXPIRED", /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|\bExpired\b|NotValidYet|certificate has expired/i],
  ["ERR_TLS_CERT_NAME", /ALTNAME_INVALID|HOSTNAME_MISMATCH|not valid for name|does not match certificate/i],
  [
    "ERR_TLS_CERT_UNTRUSTED",
    /SELF_SIGNED|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED|UnknownIssuer|BadSignature|self[- ]signed|unable to verify/i,
  ],
];

/**
 * The {@link TlsError} for a runtime's TLS failure.
 *
 * @param cause What the runtime threw or reported (an error, or Bun's handshake error text).
 * @param address The address connected to or accepted on, in peerlink syntax, for the message.
 * @returns The typed error, with `cause` kept.
 *
 * @example
 * ```ts
 * import { tlsErrorFrom } from "./tls_errors.ts";
 * const error = tlsErrorFrom(Object.assign(new Error("x"), { code: "CERT_HAS_EXPIRED" }), "tls://[::1]:7001");
 * console.assert(error.code === "ERR_TLS_CERT_EXPIRED");
 * ```
 */
export function tlsErrorFrom(cause: unknown, address: string): TlsError {
  const text = describe(cause);
  const code = classify(text);
  const what = {
    ERR_TLS_HANDSHAKE: "the TLS handshake failed",
    ERR_TLS_CERT_UNTRUSTED: "the server's certificate is not signed by a trusted CA",
    ERR_TLS_CERT_NAME: "the server's certificate is not valid for this host name",
    ERR_TLS_CERT_EXPIRED: "the server's certificate has expired or is not valid yet",
    ERR_TLS_PIN_MISMATCH: "the server's certificate is not the pinned one",
    ERR_TLS_CLIENT_CERT: "the server requires a client certificate it accepts",
  }[code];
  return new TlsError(code, `Cannot connect to ${address}: ${what} (${text})`, { cause });
}

/**
 * The {@link TlsError} for a connection a TLS listener refused during the
 * handshake, for the listener's `onRejected` (and so the server's `onError`).
 *
 * @param cause What the runtime reported.
 * @param address The listener's address, in peerlink syntax.
 * @returns The typed error, with `cause` kept.
 *
 * @example
 * ```ts
 * import { rejectedTlsError } from "./tls_errors.ts";
 * const error = rejectedTlsError(new Error("wrong version number"), "tls://127.0.0.1:7001");
 * console.assert(error.code === "ERR_TLS_HANDSHAKE");
 * ```
 */
export function rejectedTlsError(cause: unknown, address: string): TlsError {
  const text = describe(cause);
  const code = classify(text);
  const what = code === "ERR_TLS_CLIENT_CERT"
    ? "the client presented no certificate the listener accepts"
    : "the TLS handshake failed";
  return new TlsError(code, `Refused a connection on ${address}: ${what} (${text})`, { cause });
}

/**
 * The {@link TlsError} for a connection a TLS listener closed because its
 * client did not finish the handshake in time (half a ClientHello, or
 * nothing at all): `ERR_TLS_HANDSHAKE`, saying so.
 *
 * @param address The listener's address, in peerlink syntax.
 * @param ms The limit that passed.
 * @param cause What the runtime reported, if it reported it.
 * @returns The typed error.
 *
 * @example
 * ```ts
 * import { tlsHandshakeTimeoutError } from "./tls_errors.ts";
 * const error = tlsHandshakeTimeoutError("tls://127.0.0.1:7001", 10_000);
 * console.assert(error.code === "ERR_TLS_HANDSHAKE" && error.message.includes("within 10000 ms"));
 * ```
 */
export function tlsHandshakeTimeoutError(address: string, ms: number, cause?: unknown): TlsError {
  return new TlsError(
    "ERR_TLS_HANDSHAKE",
    `Refused a connection on ${address}: the client did not finish the TLS handshake within ${ms} ms`,
    cause === undefined ? undefined : { cause },
  );
}

function classify(text: string): TlsErrorCode {
  return PATTERNS.find(([, pattern]) => pattern.test(text))?.[0] ?? "ERR_TLS_HANDSHAKE";
}

/** The code and message of an error, as one line to match and show. */
function describe(cause: unknown): string {
  if (typeof cause === "string") return cause;
  if (cause === null || typeof cause !== "object") return String(cause);
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}
