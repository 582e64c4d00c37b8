/**
 * TCP and TLS clients on `Bun.connect`, and the {@link ConnectionInfo} of
 * every TCP socket (connected or accepted). The bytes go through the same
 * {@link BunSocketStream} as Unix sockets.
 *
 * `Bun.connect` resolves once TCP is connected, before a TLS handshake
 * (when a `handshake` handler is given), so a TLS connect settles in that
 * callback instead: only after the handshake and every certificate check
 * (see `tls_session.ts`). Nothing is written before. In TLS 1.3 a server
 * checks the client's certificate after the client's handshake finished: a
 * server that refuses it ends the connection right after `connectTcp`
 * resolved, and reads then fail with the mapped {@link TlsError} (Bun's
 * `error` callback reports the server's alert).
 *
 * @module
 */

import { inetConnectionInfo } from "../../src/transport/connection_info.ts";
import { formatAddress, type InetAddress } from "../../src/transport/address.ts";
import type { ClientTlsSettings, TcpConnectSettings } from "../../src/transport/runtime_adapter.ts";
import { connectError } from "../../src/transport/socket_errors.ts";
import { tlsErrorFrom } from "../../src/transport/tls_errors.ts";
import type { ByteStream, ConnectionInfo } from "../../src/transport/types.ts";
import { bunGlobal, type BunSocketHandler, type BunTcpSocket } from "./bun_api.ts";
import { BunSocketStream, type SocketState, streamHandlers } from "./stream_socket.ts";
import { clientTlsOptions, handshakeFailure, tlsInfo } from "./tls_session.ts";

/** A Bun TCP socket carrying a {@link BunSocketStream}. */
export type TcpSocket = BunTcpSocket<SocketState>;

/**
 * The addresses of a connected or accepted TCP socket.
 *
 * @param socket The open socket.
 * @param transport `"tcp"` or `"tls"`.
 * @returns Both ends, as endpoints and in peerlink syntax.
 */
export function inetInfo(socket: TcpSocket, transport: InetAddress["transport"]): ConnectionInfo {
  return inetConnectionInfo(transport, {
    local: { host: socket.localAddress, port: socket.localPort },
    remote: { host: socket.remoteAddress, port: socket.remotePort },
  });
}

/**
 * Connects over TCP, with TLS when `settings.tls` is set (whatever the
 * address's scheme says, as the adapter contract has it).
 *
 * @param address Host and port.
 * @param settings TCP_NODELAY, the timeout and TLS.
 * @returns The connection, once TCP (and TLS, with every check) succeeded.
 * @throws {UsageError} `ERR_CONNECTION_FAILED` (refused, unknown host, timed out).
 * @throws {TlsError} when the handshake failed or the server's certificate was refused.
 */
export async function connectBunTcp(address: InetAddress, settings: TcpConnectSettings): Promise<ByteStream> {
  const transport = settings.tls === undefined ? "tcp" : "tls";
  const shown = formatAddress({ ...address, transport });
  return await new Promise((resolve, reject) => {
    let socket: TcpSocket | undefined;
    let settled = false;
    const timer = setTimeout(() => fail(connectError(timedOut(settings.timeout), shown)), settings.timeout);
    function succeed(stream: BunSocketStream): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(stream);
    }
    function fail(error: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      reject(error);
    }
    const state: SocketState = {};
    const handlers = streamHandlers<TcpSocket>((opened) => {
      socket = opened;
      // The timeout passed while TCP was connecting.
      if (settled) return opened.terminate();
      opened.setNoDelay(settings.noDelay);
      state.stream = new BunSocketStream(opened, inetInfo(opened, transport));
      if (settings.tls === undefined) succeed(state.stream);
    });
    bunGlobal().connect<SocketState>({
      hostname: address.host,
      port: address.port,
      data: state,
      ...(settings.tls !== undefined && { tls: clientTlsOptions(settings.tls) }),
      socket: settings.tls === undefined ? handlers : tlsClientHandlers(handlers, settings.tls, shown, {
        succeed,
        fail,
      }),
    }).catch((error: unknown) => fail(connectError(error, shown)));
  });
}

/** How the TLS handlers settle the connect. */
interface Settle {
  succeed(stream: BunSocketStream): void;
  fail(error: Error): void;
}

function tlsClientHandlers(
  handlers: BunSocketHandler<SocketState, TcpSocket>,
  tls: ClientTlsSettings,
  address: string,
  settle: Settle,
): BunSocketHandler<SocketState, TcpSocket> {
  return {
    ...handlers,
    handshake(socket, success, error) {
      const stream = socket.data.stream;
      if (stream === undefined) return;
      const failure = handshakeFailure(socket, tls, { success, error }, address);
      if (failure !== undefined) return settle.fail(failure);
      stream.info.tls = tlsInfo(socket);
      settle.succeed(stream);
    },
    error(socket, error) {
      const failure = tlsErrorFrom(error, address);
      socket.data.stream?.onError(failure);
      settle.fail(failure);
    },
    close(socket) {
      handlers.close?.(socket);
      settle.fail(tlsErrorFrom("the connection closed during the TLS handshake", address));
    },
  };
}

function timedOut(ms: number): Error {
  return Object.assign(new Error(`no connection within ${ms} ms`), { code: "ETIMEDOUT" });
}
