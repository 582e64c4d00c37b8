/**
 * The client side of `tcp://` and `tls://` on Deno, with Deno's own API
 * where it does the whole job.
 *
 * | case | path | why |
 * |---|---|---|
 * | `tcp://` | `Deno.connect` + `setNoDelay` | native |
 * | `tls://` against the default roots (no `ca`, `pin` or `cert`) | `Deno.connect` + `setNoDelay` + `Deno.startTls` + `handshake()` | native; `Deno.connectTls` cannot set TCP_NODELAY, a TCP conn upgraded by `startTls` keeps it |
 * | `tls://` with `ca` | node:tls (`connectNodeTcp`) | Deno's `caCerts` are trusted *in addition to* its root store (Mozilla's roots, plus `DENO_CERT`), so a certificate from any public CA would pass; node:tls trusts only `ca` |
 * | `tls://` with `pin` | node:tls | Deno cannot turn chain verification off for one connection nor show the server's certificate to compare |
 * | `tls://` with a client `cert` | node:tls | `Deno.startTls` ignores `cert`/`key` (`Deno.connectTls` takes them, but cannot set TCP_NODELAY) |
 *
 * On the native path `info.tls` is empty: `handshake()` only returns the
 * ALPN protocol, and a `Deno.TlsConn` shows neither the protocol version, the
 * cipher nor the server's certificate. node:tls shows all three.
 *
 * Where Deno's node:tls (on rustls) differs from Node's: it judges the
 * server's certificate once the handshake is complete, so a server whose
 * certificate is refused sees a connection open and close; it reports an
 * expired certificate under a trusted `ca` as
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE` (`ERR_TLS_CERT_UNTRUSTED`, where Node
 * gives `ERR_TLS_CERT_EXPIRED`); and it resumes TLS sessions between node:tls
 * servers of the same process, reporting the first server's certificate.
 *
 * What node:tls costs in Deno, measured against the same node:tls server in
 * one process pinned to one CPU (`taskset -c 0`, Deno 2.9.5, 2-core x86_64,
 * three runs): a 16-byte echo over the byte stream took 41 to 58 µs natively
 * and 49 to 59 µs through node:tls; a small peerlink call 141 to 161 µs
 * against 162 to 177 µs (median of 7 rounds of 3000); 1 MiB writes moved
 * 400 to 555 MiB/s against 373 to 529 MiB/s, and 1 MiB calls about 255 MiB/s
 * either way. So node:tls is up to about 15% slower per small message and
 * as fast for bulk data: worth avoiding, not worth weakening a check for.
 *
 * @module
 */

import { formatAddress, type InetAddress } from "../../src/transport/address.ts";
import type { ClientTlsSettings, TcpConnectSettings } from "../../src/transport/runtime_adapter.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import { tlsErrorFrom } from "../../src/transport/tls_errors.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import { connectNodeTcp } from "../node_net/tcp_connect.ts";
import { closeQuietly, DenoConnStream } from "./stream_socket.ts";
import { tcpInfo } from "./tcp_info.ts";

/**
 * Connects over TCP, with TLS when `settings.tls` is set, on the path the
 * module doc names for the case.
 *
 * @param address Host and port.
 * @param settings TCP_NODELAY, timeout and TLS.
 * @returns The connection, after the TLS handshake and every certificate check passed.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (refused, unreachable, unknown host, timed out), with the cause.
 * @throws {TlsError} when the handshake failed or the certificate was refused.
 */
export function connectDenoTcp(address: InetAddress, settings: TcpConnectSettings): Promise<ByteStream> {
  const native = settings.tls === undefined || nativeTlsCan(settings.tls);
  return native ? connectNative(address, settings) : connectNodeTcp(address, settings);
}

/** Whether Deno's own TLS client checks exactly what `tls` asks for: the default roots and the name. */
function nativeTlsCan(tls: ClientTlsSettings): boolean {
  return tls.ca === undefined && tls.pin === undefined && tls.cert === undefined && tls.checkServerName;
}

/** `Deno.connect` (then `startTls` for `tls://`), all within `settings.timeout`. */
async function connectNative(address: InetAddress, settings: TcpConnectSettings): Promise<ByteStream> {
  const shown = formatAddress(address);
  const deadline = new AbortController();
  let conn: Deno.TcpConn | Deno.TlsConn | undefined;
  const timer = setTimeout(() => {
    deadline.abort();
    if (conn !== undefined) closeQuietly(conn);
  }, settings.timeout);
  let handshaking = false;
  try {
    const tcp = conn = await Deno.connect({ hostname: address.host, port: address.port, signal: deadline.signal });
    tcp.setNoDelay(settings.noDelay);
    if (settings.tls === undefined) return new DenoConnStream(tcp, tcpInfo("tcp", tcp));
    handshaking = true;
    const tls = conn = await Deno.startTls(tcp, { hostname: settings.tls.serverName });
    await tls.handshake();
    // With TLS 1.3 a server's refusal of this client (one without a certificate) can arrive after the handshake.
    return new DenoConnStream(tls, tcpInfo("tls", tls, {}), (error) => tlsErrorFrom(error, shown));
  } catch (error) {
    if (conn !== undefined) closeQuietly(conn);
    if (deadline.signal.aborted) {
      throw connectError(
        Object.assign(new Error(`did not connect within ${settings.timeout} ms`, { cause: error }), {
          code: "ETIMEDOUT",
        }),
        shown,
      );
    }
    throw handshaking ? tlsErrorFrom(error, shown) : connectError(error, shown);
  } finally {
    clearTimeout(timer);
  }
}
