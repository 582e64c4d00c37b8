/**
 * Certificate fingerprints and PEM blocks, the TLS material the core handles
 * itself: the one spelling of a SHA-256 fingerprint peerlink uses everywhere
 * (64 lowercase hex digits, what `pin` and `PeerCertificate.fingerprint256`
 * hold), reading the other spellings users copy from tools (`AB:CD:…` from
 * `openssl x509 -fingerprint -sha256` and Node's `fingerprint256`), and the
 * fingerprint of a PEM certificate through WebCrypto, which every runtime
 * has.
 *
 * @module
 */

/** A PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...) and its DER bytes. */
export interface PemBlock {
  /** The label between `-----BEGIN ` and `-----`. */
  label: string;
  /** The base64 body, decoded. */
  der: Uint8Array;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The PEM blocks of a text, in order; text between blocks is ignored.
 *
 * @param text PEM text, such as a certificate chain or a key.
 * @returns Every well-formed block (a body that is not base64 is skipped).
 *
 * @example
 * ```ts
 * import { pemBlocks } from "./tls_pin.ts";
 * const [block] = pemBlocks("-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n");
 * console.assert(block?.label === "CERTIFICATE" && block.der.length === 3);
 * ```
 */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const [, label, body] of text.matchAll(PEM_BLOCK)) {
    const base64 = body!.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) continue;
    blocks.push({ label: label!, der: Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)) });
  }
  return blocks;
}

/**
 * Reads a SHA-256 fingerprint in any of its usual spellings: 64 hex digits,
 * or 32 colon-separated pairs, in either case.
 *
 * @param text The fingerprint as a user or a runtime wrote it.
 * @returns The fingerprint as 64 lowercase hex digits, or `undefined` if `text` is not one.
 *
 * @example
 * ```ts
 * import { normalizeFingerprint } from "./tls_pin.ts";
 * console.assert(normalizeFingerprint("AB:".repeat(31) + "AB") === "ab".repeat(32));
 * console.assert(normalizeFingerprint("abc") === undefined);
 * ```
 */
export function normalizeFingerprint(text: string): string | undefined {
  const trimmed = text.trim();
  const hex = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/.test(trimmed) ? trimmed.replaceAll(":", "") : trimmed;
  return /^[0-9A-Fa-f]{64}$/.test(hex) ? hex.toLowerCase() : undefined;
}

/**
 * The SHA-256 fingerprint of DER bytes, such as a certificate's.
 *
 * @param der The bytes.
 * @returns 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { sha256Fingerprint } from "./tls_pin.ts";
 * console.assert((await sha256Fingerprint(new Uint8Array())).startsWith("e3b0c442"));
 * ```
 */
export async function sha256Fingerprint(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der.slice()));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The fingerprint of the first certificate in a PEM text (a chain's first
 * certificate is the one the server presents).
 *
 * @param pem PEM text holding a `CERTIFICATE` block.
 * @returns 64 lowercase hex digits, or `undefined` when the text holds no certificate.
 *
 * @example
 * ```ts
 * import { certificateFingerprint } from "./tls_pin.ts";
 * console.assert((await certificateFingerprint("no certificate here")) === undefined);
 * ```
 */
export async function certificateFingerprint(pem: string): Promise<string | undefined> {
  const certificate = pemBlocks(pem).find((block) => block.label === "CERTIFICATE");
  return certificate === undefined ? undefined : await sha256Fingerprint(certificate.der);
}
