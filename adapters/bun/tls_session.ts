/**
 * The TLS side of Bun's TCP sockets: the `tls` options handed to
 * `Bun.listen` / `Bun.connect`, the checks a client makes in its
 * `handshake` callback before the connection is handed out, and what a
 * socket shows in {@link TlsInfo}.
 *
 * Without a pin, Bun verifies the chain (against `ca`, or Bun's bundled
 * roots) and the name `serverName` itself (`rejectUnauthorized`); its
 * `serverName` is both the SNI and the verified name, independently of the
 * host connected to. With a pin, Bun's verification is off
 * (`rejectUnauthorized: false`: it still reports what it found) and the
 * client compares the SHA-256 of the certificate's DER with the pin, then
 * checks the name with `node:tls`'s `checkServerIdentity`, which works in
 * Bun on Bun's certificate objects.
 *
 * @module
 */

import { checkServerIdentity, type PeerCertificate as NodePeerCertificate } from "node:tls";
import { TlsError } from "../../src/base/errors.ts";
import type { ClientTlsSettings, ServerTlsSettings } from "../../src/transport/runtime_adapter.ts";
import { tlsErrorFrom } from "../../src/transport/tls_errors.ts";
import type { PeerCertificate, TlsInfo } from "../../src/transport/types.ts";
import { fingerprintOf } from "../node_net/connection_info.ts";
import type { BunTcpSocket, BunTlsOptions } from "./bun_api.ts";

/**
 * `Bun.listen`'s TLS options: with `clientCa`, clients must present a
 * certificate signed by one of those CAs.
 *
 * @param tls The resolved server settings.
 * @returns The options.
 */
export function serverTlsOptions(tls: ServerTlsSettings): BunTlsOptions {
  const requireClientCert = tls.clientCa !== undefined;
  return {
    cert: tls.cert,
    key: tls.key,
    ...(requireClientCert && { ca: tls.clientCa }),
    requestCert: requireClientCert,
    rejectUnauthorized: requireClientCert,
  };
}

/**
 * Whether a server-side handshake ended with a client the listener may hand
 * out. Bun reports a refused client certificate as `success` with
 * `authorized` false, so both are checked.
 *
 * @param socket The accepted socket.
 * @param tls The listener's settings.
 * @param success What the `handshake` callback reported.
 * @returns True if the connection may be accepted.
 */
export function clientAccepted(socket: BunTcpSocket<unknown>, tls: ServerTlsSettings, success: boolean): boolean {
  return success && (tls.clientCa === undefined || socket.authorized);
}

/**
 * `Bun.connect`'s TLS options.
 *
 * @param tls The resolved client settings.
 * @returns The options.
 */
export function clientTlsOptions(tls: ClientTlsSettings): BunTlsOptions {
  const pinned = tls.pin !== undefined;
  return {
    serverName: tls.serverName,
    rejectUnauthorized: !pinned,
    ...(!pinned && tls.ca !== undefined && { ca: tls.ca }),
    ...(tls.cert !== undefined && { cert: tls.cert }),
    ...(tls.key !== undefined && { key: tls.key }),
  };
}

/** What a client's `handshake` callback was told. */
export interface HandshakeOutcome {
  /** Bun's `success` argument. */
  success: boolean;
  /** Bun's `authorizationError` argument. */
  error: Error | null;
}

/**
 * Why a client must refuse the connection whose handshake just ended, if it must.
 *
 * @param socket The client socket, in its `handshake` callback.
 * @param tls The client settings.
 * @param outcome What the callback was told.
 * @param address The address connected to, in peerlink syntax.
 * @returns The error to fail the connect with, or `undefined` to accept.
 */
export function handshakeFailure(
  socket: BunTcpSocket<unknown>,
  tls: ClientTlsSettings,
  outcome: HandshakeOutcome,
  address: string,
): TlsError | undefined {
  const reported = (): TlsError => tlsErrorFrom(outcome.error ?? "the handshake failed", address);
  if (tls.pin === undefined) return outcome.success && socket.authorized ? undefined : reported();
  const raw = socket.getPeerCertificate(true)?.raw;
  if (raw === undefined) return reported();
  // Verification is off, yet Bun reports what it found (and may say `success: false` for it): only a failure
  // of the handshake itself counts, since the pin replaces the chain check.
  if (!outcome.success && reported().code === "ERR_TLS_HANDSHAKE") return reported();
  const fingerprint = fingerprintOf(raw);
  if (fingerprint !== tls.pin) {
    return new TlsError(
      "ERR_TLS_PIN_MISMATCH",
      `Cannot connect to ${address}: expected the certificate with SHA-256 fingerprint ${tls.pin}, found ${fingerprint}`,
    );
  }
  if (!tls.checkServerName) return undefined;
  const nameError = checkServerIdentity(tls.serverName, socket.getPeerCertificate() as NodePeerCertificate);
  return nameError === undefined ? undefined : tlsErrorFrom(nameError, address);
}

/**
 * What a TLS socket shows about its session, once the handshake succeeded.
 *
 * @param socket The socket.
 * @returns Protocol, cipher and the other side's certificate, where Bun has them.
 */
export function tlsInfo(socket: BunTcpSocket<unknown>): TlsInfo {
  const info: TlsInfo = {};
  const protocol = socket.getTLSVersion();
  if (protocol) info.protocol = protocol;
  const cipher = socket.getCipher();
  const cipherName = cipher?.standardName ?? cipher?.name;
  if (cipherName) info.cipher = cipherName;
  const peer = peerCertificate(socket);
  if (peer !== undefined) info.peerCertificate = peer;
  return info;
}

function peerCertificate(socket: BunTcpSocket<unknown>): PeerCertificate | undefined {
  const raw = socket.getPeerCertificate(true)?.raw;
  if (raw === undefined) return undefined;
  const certificate: PeerCertificate = { fingerprint256: fingerprintOf(raw) };
  // Node's X509Certificate form: one "KEY=value" per line.
  const subject = socket.getPeerX509Certificate()?.subject.split("\n").join(", ");
  if (subject) certificate.subject = subject;
  return certificate;
}
