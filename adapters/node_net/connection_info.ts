/**
 * What a `node:net`/`node:tls` TCP socket tells about itself, as a
 * {@link ConnectionInfo}: both endpoints, and for TLS the protocol, the
 * cipher suite and the certificate the other side presented.
 *
 * @module
 */

import { inetConnectionInfo } from "../../src/transport/connection_info.ts";
import { createHash } from "node:crypto";
import type * as net from "node:net";
import type * as tls from "node:tls";
import type { InetAddress } from "../../src/transport/address.ts";
import type { ConnectionInfo, InetEndpoint, PeerCertificate, TlsInfo } from "../../src/transport/types.ts";

/**
 * The SHA-256 of a certificate's DER bytes, as `pin` takes it.
 *
 * @param der The certificate (`getPeerCertificate(true).raw`).
 * @returns 64 lowercase hex digits.
 */
export function fingerprintOf(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/**
 * Describes a connected TCP or TLS socket.
 *
 * @param socket The socket, connected (for TLS: after the handshake).
 * @param transport `"tcp"` or `"tls"`; for `"tls"`, `socket` must be a `tls.TLSSocket`.
 * @returns Both endpoints in peerlink syntax and as host and port, and `tls` for TLS.
 */
export function socketConnectionInfo(socket: net.Socket, transport: InetAddress["transport"]): ConnectionInfo {
  return inetConnectionInfo(transport, {
    local: endpoint(socket.localAddress, socket.localPort),
    remote: endpoint(socket.remoteAddress, socket.remotePort),
    tls: transport === "tls" ? tlsInfo(socket as tls.TLSSocket) : undefined,
  });
}

function endpoint(host: string | undefined, port: number | undefined): InetEndpoint | undefined {
  return host === undefined || port === undefined ? undefined : { host, port };
}

function tlsInfo(socket: tls.TLSSocket): TlsInfo {
  const info: TlsInfo = {};
  const protocol = socket.getProtocol();
  if (protocol) info.protocol = protocol;
  const cipher = socket.getCipher() as tls.CipherNameAndProtocol | undefined;
  const cipherName = cipher?.standardName ?? cipher?.name;
  if (cipherName) info.cipher = cipherName;
  const certificate = peerCertificateOf(socket);
  if (certificate !== undefined) info.peerCertificate = certificate;
  return info;
}

/**
 * The certificate the other side of a TLS socket presented.
 *
 * @param socket The socket, after the handshake.
 * @returns Its fingerprint and subject, or `undefined` if it presented none.
 */
export function peerCertificateOf(socket: tls.TLSSocket): PeerCertificate | undefined {
  const certificate = socket.getPeerCertificate(true) as Partial<tls.DetailedPeerCertificate> | null;
  if (!certificate?.raw || certificate.raw.length === 0) return undefined;
  const peer: PeerCertificate = { fingerprint256: fingerprintOf(certificate.raw) };
  const subject = distinguishedName(certificate.subject);
  if (subject) peer.subject = subject;
  return peer;
}

/** `{ O: "Example", CN: "daemon.example" }` as `O=Example, CN=daemon.example`. */
function distinguishedName(name: Record<string, string | string[] | undefined> | undefined): string {
  if (name === undefined || name === null) return "";
  return Object.entries(name).flatMap(([key, values]) =>
    values === undefined ? [] : (Array.isArray(values) ? values : [values]).map((value) => `${key}=${value}`)
  ).join(", ");
}
