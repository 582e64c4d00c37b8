/**
 * The {@link ConnectionInfo} of a TCP or TLS connection, built the same way
 * by every adapter from the two endpoints its runtime reports.
 *
 * @module
 */

import { formatAddress, type InetAddress } from "./address.ts";
import type { ConnectionInfo, InetEndpoint, TlsInfo } from "./types.ts";

/**
 * The information of a TCP or TLS connection.
 *
 * @param transport `"tcp"` or `"tls"`.
 * @param ends The local and remote endpoints, where the runtime knows them, and the TLS session for `"tls"`.
 * @returns Both ends as peerlink addresses (`tcp://127.0.0.1:40123`) and as endpoints, and `tls` when given.
 *
 * @example
 * ```ts
 * import { inetConnectionInfo } from "./connection_info.ts";
 * const info = inetConnectionInfo("tcp", { remote: { host: "::1", port: 7001 } });
 * console.assert(info.remoteAddress === "tcp://[::1]:7001");
 * ```
 */
export function inetConnectionInfo(
  transport: InetAddress["transport"],
  ends: { local?: InetEndpoint | undefined; remote?: InetEndpoint | undefined; tls?: TlsInfo | undefined },
): ConnectionInfo {
  const info: ConnectionInfo = { transport };
  if (ends.local !== undefined) {
    info.local = ends.local;
    info.localAddress = formatAddress({ transport, ...ends.local });
  }
  if (ends.remote !== undefined) {
    info.remote = ends.remote;
    info.remoteAddress = formatAddress({ transport, ...ends.remote });
  }
  if (ends.tls !== undefined) info.tls = ends.tls;
  return info;
}
