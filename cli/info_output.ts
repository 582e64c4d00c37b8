/**
 * `peerlink info ADDRESS`: what a connection to a server is, as a report
 * (JSON) and as lines for a person.
 *
 * @module
 */

import type { ConnectionInfo, SessionInfo } from "../mod.ts";

/** What `peerlink info` prints about one connection. */
export interface ConnectionReport extends ConnectionInfo {
  /** The address connected to, as given. */
  address: string;
  /** The peerlink session: null when the connection speaks plain fizyr-rpc (`--fizyr`, `exec:` without one). */
  session: SessionInfo | null;
}

/**
 * Renders a report as aligned `NAME  value` lines for a terminal; what the
 * transport does not provide is left out.
 *
 * @param report The connection's report.
 * @returns The lines, each ending in a newline.
 *
 * @example
 * ```ts
 * import { reportAsText } from "./info_output.ts";
 * const text = reportAsText({ address: "unix:/tmp/a.sock", transport: "unix", session: null });
 * console.assert(/^PROTOCOL +plain fizyr-rpc \(no session\)$/m.test(text));
 * ```
 */
export function reportAsText(report: ConnectionReport): string {
  const { session, credentials, tls } = report;
  const rows: [string, string | undefined][] = [
    ["ADDRESS", report.address],
    ["TRANSPORT", report.transport],
    ["LOCAL", report.localAddress ?? endpoint(report.local)],
    ["REMOTE", report.remoteAddress ?? endpoint(report.remote)],
    ["PROTOCOL", session === null ? "plain fizyr-rpc (no session)" : `peerlink ${session.version}`],
    ["CAPABILITIES", session === null ? undefined : session.capabilities.join(", ") || "none"],
    ["AUTHENTICATED", session === null ? undefined : session.authenticated ? "yes (shared secret)" : "no"],
    ["PEER PID", credentials === undefined ? undefined : String(credentials.pid)],
    ["PEER UID", credentials === undefined ? undefined : String(credentials.uid)],
    ["PEER GID", credentials === undefined ? undefined : String(credentials.gid)],
    ["TLS", tls === undefined ? undefined : [tls.protocol, tls.cipher].filter(Boolean).join(", ") || "yes"],
    ["CERTIFICATE", tls?.peerCertificate?.subject],
    ["FINGERPRINT", tls?.peerCertificate?.fingerprint256],
  ];
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined);
  const width = Math.max(...shown.map(([name]) => name.length)) + 2;
  return shown.map(([name, value]) => `${name.padEnd(width)}${value}\n`).join("");
}

/** `host:port`, with brackets around an IPv6 host. */
function endpoint(inet: { host: string; port: number } | undefined): string | undefined {
  if (inet === undefined) return undefined;
  return `${inet.host.includes(":") ? `[${inet.host}]` : inet.host}:${inet.port}`;
}
