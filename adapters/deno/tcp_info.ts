/**
 * What is known about a native Deno TCP or TLS connection
 * (`Deno.TcpConn`, `Deno.TlsConn`), as a {@link ConnectionInfo}: both ends
 * from the conn's `localAddr`/`remoteAddr`, in peerlink syntax and as
 * endpoints.
 *
 * @module
 */

import { inetConnectionInfo } from "../../src/transport/connection_info.ts";
import type { ConnectionInfo, InetEndpoint, TlsInfo } from "../../src/transport/types.ts";

/**
 * The information of a TCP or TLS connection.
 *
 * @param transport `"tcp"` or `"tls"`.
 * @param conn The connection (its addresses are read once, here).
 * @param tls What is known about the TLS session (`"tls"` only).
 * @returns Both ends as peerlink addresses (`tcp://127.0.0.1:40123`) and as endpoints, and `tls` when given.
 */
export function tcpInfo(transport: "tcp" | "tls", conn: Deno.Conn<Deno.NetAddr>, tls?: TlsInfo): ConnectionInfo {
  return inetConnectionInfo(transport, { local: endpoint(conn.localAddr), remote: endpoint(conn.remoteAddr), tls });
}

/** Deno names IPv6 hosts without brackets, as {@link InetEndpoint} does. */
function endpoint(address: Deno.NetAddr): InetEndpoint {
  return { host: address.hostname, port: address.port };
}
