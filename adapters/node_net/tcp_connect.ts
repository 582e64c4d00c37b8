/**
 * The client side of TCP and TLS through `node:net` and `node:tls`,
 * written to run unchanged on Node 22 to 26, Deno 2.9 (its `node:tls`, on
 * rustls) and Bun 1.4 (its `node:tls`, on BoringSSL):
 *
 * - TCP_NODELAY is set (when asked) as soon as the TCP connection stands,
 *   before the TLS handshake: Node, Deno and Bun all keep it on the socket
 *   under the TLS layer (`test/tcp_transport.test.ts` reads it back).
 * - Without a pin, `node:tls` verifies the chain against `ca` (the system
 *   roots when it is undefined) and the name against `serverName`, which is
 *   also sent as SNI (unless it is an IP address, which SNI cannot carry).
 * - With a pin, `node:tls` checks nothing (`rejectUnauthorized: false`);
 *   once the handshake is done and before anything is written, the SHA-256
 *   of the server certificate's DER must equal the pin, and the name is
 *   checked with `tls.checkServerIdentity` unless `checkServerName` is
 *   false. A mismatch destroys the socket.
 * - The timeout covers the TCP connect and the handshake together.
 *
 * With TLS 1.3 a server that refuses the client's certificate (or the lack
 * of one) says so only after the client finished its handshake: the connect
 * resolves and the first read then rejects with the {@link TlsError}
 * (`ERR_TLS_CLIENT_CERT` when the server names the reason), or ends if the
 * server just closes.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { TlsError } from "../../src/base/errors.ts";
import { formatAddress, type InetAddress } from "../../src/transport/address.ts";
import type { ClientTlsSettings, TcpConnectSettings } from "../../src/transport/runtime_adapter.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import { tlsErrorFrom } from "../../src/transport/tls_errors.ts";
import type { ByteStream } from "../../src/transport/types.ts";
import { fingerprintOf, socketConnectionInfo } from "./connection_info.ts";
import { setNoDelay } from "./no_delay.ts";
import { NodeSocketStream } from "./socket_stream.ts";
import { tlsMaterialError } from "./tls_material.ts";

/**
 * Connects over TCP, with TLS when `settings.tls` is set; the `connectTcp`
 * of a runtime adapter. Resolves only once the connection stands and, for
 * TLS, the handshake and every certificate check asked for passed; nothing
 * is written before.
 *
 * @param address Host and port (`tcp://` or `tls://`; `settings.tls` decides).
 * @param settings TCP_NODELAY, the timeout in milliseconds, and TLS.
 * @returns The connection.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` when the connection was refused, the host is unreachable or
 *   unknown, or `settings.timeout` passed (the socket is then destroyed), with the runtime's error as `cause`.
 * @throws {TlsError} when the handshake failed or the server's certificate was refused
 *   (`ERR_TLS_PIN_MISMATCH` when it is not the pinned one).
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when the runtime refuses the client certificate, key or CAs.
 *
 * @example
 * ```ts ignore
 * import { connectNodeTcp } from "./mod.ts";
 * const stream = await connectNodeTcp({ transport: "tcp", host: "127.0.0.1", port: 7001 }, { noDelay: true, timeout: 10_000 });
 * await stream.close();
 * ```
 */
export function connectNodeTcp(address: InetAddress, settings: TcpConnectSettings): Promise<ByteStream> {
  const shown = formatAddress(address);
  const secure = settings.tls;
  let socket: net.Socket;
  try {
    socket = secure === undefined
      ? net.connect({ host: address.host, port: address.port })
      : tls.connect({ host: address.host, port: address.port, ...clientOptions(secure) });
  } catch (cause) {
    return Promise.reject(tlsMaterialError(cause, `connect to ${shown}`));
  }
  return new Promise((resolve, reject) => {
    let connected = false;
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => {
      const cause = Object.assign(new Error(`did not connect within ${settings.timeout} ms`), { code: "ETIMEDOUT" });
      fail(connectError(cause, shown));
    }, settings.timeout);
    socket.once("error", (error) => {
      if (!connected || secure === undefined) return fail(connectError(error, shown));
      const refused = tlsErrorFrom(error, shown);
      if (refused.code !== "ERR_TLS_CERT_UNTRUSTED" || !("Deno" in globalThis)) return fail(refused);
      // Deno's node:tls reports an expired certificate as one of an unknown issuer: look at its dates.
      void expiredCertificate(address, secure).then((expired) =>
        fail(expired ? new TlsError("ERR_TLS_CERT_EXPIRED", expiredMessage(shown), { cause: error }) : refused)
      );
    });
    socket.once("connect", () => {
      connected = true;
      setNoDelay(socket, settings.noDelay);
    });
    socket.once(secure === undefined ? "connect" : "secureConnect", () => {
      const refusal = secure === undefined ? undefined : checkPinned(socket as tls.TLSSocket, secure, shown);
      if (refusal !== undefined) return fail(refusal);
      clearTimeout(timer);
      socket.removeAllListeners("error");
      const info = socketConnectionInfo(socket, address.transport);
      resolve(
        new NodeSocketStream(
          socket,
          info,
          secure === undefined ? {} : { readError: (error) => tlsReadError(error, shown) },
        ),
      );
    });
  });
}

/** The `tls.connect` options for `settings`. */
function clientOptions(settings: ClientTlsSettings): tls.ConnectionOptions {
  const name = settings.serverName;
  const options: tls.ConnectionOptions = {
    // SNI carries host names only; Node warns about an IP address there.
    ...(net.isIP(name) === 0 ? { servername: name } : {}),
    ...(settings.cert === undefined ? {} : { cert: settings.cert }),
    ...(settings.key === undefined ? {} : { key: settings.key }),
  };
  if (settings.pin !== undefined) {
    // Checked after the handshake by checkPinned, which sees the certificate whatever its chain.
    return { ...options, rejectUnauthorized: false, checkServerIdentity: () => undefined };
  }
  return {
    ...options,
    ...(settings.ca === undefined ? {} : { ca: settings.ca }),
    rejectUnauthorized: true,
    checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(name, certificate),
  };
}

/** Why a pinned connection must not be used, or `undefined` if it may (or nothing was pinned). */
function checkPinned(socket: tls.TLSSocket, settings: ClientTlsSettings, shown: string): TlsError | undefined {
  if (settings.pin === undefined) return undefined;
  const certificate = socket.getPeerCertificate(true);
  const found = certificate?.raw ? fingerprintOf(certificate.raw) : "no certificate";
  if (found !== settings.pin) {
    return new TlsError(
      "ERR_TLS_PIN_MISMATCH",
      `Cannot connect to ${shown}: expected the certificate with SHA-256 fingerprint ${settings.pin}, found ${found}`,
    );
  }
  if (!settings.checkServerName) return undefined;
  const wrongName = tls.checkServerIdentity(settings.serverName, certificate);
  return wrongName === undefined ? undefined : tlsErrorFrom(wrongName, shown);
}

/** A TLS alert after the handshake (a refused client certificate) as a {@link TlsError}; other errors end quietly. */
function tlsReadError(error: unknown, shown: string): TlsError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(code) ? tlsErrorFrom(error, shown) : undefined;
}

/**
 * Whether the server at `address` presents a certificate outside its
 * validity period, seen through a throw-away handshake that checks nothing
 * and sends nothing; false when that cannot be told within a moment.
 */
function expiredCertificate(address: InetAddress, settings: ClientTlsSettings): Promise<boolean> {
  return new Promise((resolve) => {
    const name = settings.serverName;
    const probe = tls.connect({
      host: address.host,
      port: address.port,
      ...(net.isIP(name) === 0 ? { servername: name } : {}),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const done = (expired: boolean): void => {
      clearTimeout(timer);
      probe.destroy();
      resolve(expired);
    };
    const timer = setTimeout(() => done(false), EXPIRY_PROBE_MS);
    probe.once("error", () => done(false));
    probe.once("secureConnect", () => {
      const { valid_from: from, valid_to: to } = probe.getPeerCertificate();
      const now = Date.now();
      done(from !== undefined && to !== undefined && (now < Date.parse(from) || now > Date.parse(to)));
    });
  });
}

/** How long the expiry probe of {@link expiredCertificate} may take. */
const EXPIRY_PROBE_MS = 2000;

function expiredMessage(shown: string): string {
  return `Cannot connect to ${shown}: the server's certificate has expired or is not valid yet`;
}
