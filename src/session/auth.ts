/**
 * The proofs of the shared-secret handshake: fresh nonces, HMAC-SHA256
 * proofs through WebCrypto (`crypto.subtle`, global in every runtime), and a
 * comparison whose time does not depend on where two proofs differ. Each
 * side proves it knows the secret without sending it, over both sides'
 * nonces, so a recorded proof is worth nothing on another connection.
 *
 * @module
 */

import { NONCE_SIZE } from "./session_protocol.ts";

/** The label the server's proof starts with. */
export const SERVER_PROOF_LABEL = "peerlink-v1 server proof";
/** The label the client's proof starts with. */
export const CLIENT_PROOF_LABEL = "peerlink-v1 client proof";

/**
 * Makes a nonce.
 *
 * @returns {@link NONCE_SIZE} random bytes.
 */
export function createNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
}

/**
 * The server's proof: HMAC-SHA256(key, "peerlink-v1 server proof" || clientNonce || serverNonce).
 *
 * @param key The secret's bytes.
 * @param clientNonce The nonce of the client's hello.
 * @param serverNonce The nonce of the server's challenge.
 * @returns 32 bytes.
 */
export function serverProof(key: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array): Promise<Uint8Array> {
  return hmac(key, SERVER_PROOF_LABEL, clientNonce, serverNonce);
}

/**
 * The client's proof: HMAC-SHA256(key, "peerlink-v1 client proof" || clientNonce || serverNonce).
 *
 * @param key The secret's bytes.
 * @param clientNonce The nonce of the client's hello.
 * @param serverNonce The nonce of the server's challenge.
 * @returns 32 bytes.
 */
export function clientProof(key: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array): Promise<Uint8Array> {
  return hmac(key, CLIENT_PROOF_LABEL, clientNonce, serverNonce);
}

/**
 * Compares two byte strings in time that depends only on their length.
 *
 * @param a One byte string.
 * @param b The other.
 * @returns True when both hold the same bytes.
 * @example
 * ```ts
 * import { constantTimeEqual } from "./auth.ts";
 * console.assert(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
 * console.assert(!constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

async function hmac(key: Uint8Array, label: string, first: Uint8Array, second: Uint8Array): Promise<Uint8Array> {
  const labelBytes = new TextEncoder().encode(label);
  const input = new Uint8Array(labelBytes.length + first.length + second.length);
  input.set(labelBytes);
  input.set(first, labelBytes.length);
  input.set(second, labelBytes.length + first.length);
  // Copies into plain ArrayBuffers, which is what WebCrypto's types ask for.
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, input));
}
