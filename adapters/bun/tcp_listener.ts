/**
 * TCP and TLS listeners on `Bun.listen`. An accepted TLS socket is handed
 * to `accept()` only once its handshake succeeded (and, with `clientCa`,
 * the client's certificate passed): a failed handshake, a plaintext client
 * or a refused certificate closes that socket alone and is reported to
 * `settings.onRejected`, not as an error of the listener. So is a handshake
 * not finished within `settings.handshakeTimeout`: Bun itself has no such
 * limit (given half a ClientHello, it waited as long as the client did).
 * Guarded against spinning at the descriptor limit (`../listener_guard.ts`).
 *
 * @module
 */

import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { formatAddress, type InetAddress } from "../../src/transport/address.ts";
import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import type { TcpListenSettings } from "../../src/transport/runtime_adapter.ts";
import { errnoOf, listenError } from "../../src/transport/socket_errors.ts";
import {
  DEFAULT_TLS_HANDSHAKE_TIMEOUT,
  rejectedTlsError,
  tlsHandshakeTimeoutError,
} from "../../src/transport/tls_errors.ts";
import type { ByteStream, Listener } from "../../src/transport/types.ts";
import { bunGlobal, type BunSocketHandler, type BunTcpListener, watched } from "./bun_api.ts";
import { bunLibcIfAvailable } from "./lazy_libc.ts";
import { GuardedListener } from "../listener_guard.ts";
import { BunSocketStream, type SocketState, streamHandlers } from "./stream_socket.ts";
import { inetInfo, type TcpSocket } from "./tcp_socket.ts";
import { clientAccepted, serverTlsOptions, tlsInfo } from "./tls_session.ts";

/**
 * Listens on TCP, with TLS when `settings.tls` is set (whatever the
 * address's scheme says, as the adapter contract has it).
 *
 * @param address Host and port to bind (port 0: a free port).
 * @param settings TCP_NODELAY and TLS.
 * @returns The listener; its `address` names the host as given and the bound port.
 * @throws {UsageError} as `listenError` in `socket_errors.ts` maps the failure.
 */
export async function listenBunTcp(address: InetAddress, settings: TcpListenSettings): Promise<Listener<ByteStream>> {
  const tls = settings.tls;
  const transport = tls === undefined ? "tcp" : "tls";
  // The address as reported once the port is known (port 0 picks one).
  let shown = formatAddress({ ...address, transport });
  const accepted = new AcceptQueue<BunSocketStream>();
  // Sockets whose handshake is under way, with the timer that closes them once settings.handshakeTimeout has
  // passed (Bun has no limit of its own): closed with the listener, since nobody can accept them any more.
  const handshaking = new Map<BunSocketStream, ReturnType<typeof setTimeout>>();
  const handshakeTimeout = settings.handshakeTimeout ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT;
  const handshakeOver = (stream: BunSocketStream): boolean => {
    const timer = handshaking.get(stream);
    if (timer === undefined) return false;
    clearTimeout(timer);
    return handshaking.delete(stream);
  };
  const timeOut = (stream: BunSocketStream): void => {
    if (!handshakeOver(stream)) return;
    settings.onRejected?.(tlsHandshakeTimeoutError(shown, handshakeTimeout), stream.info);
    void stream.close();
  };
  let guarded: GuardedListener | undefined;
  const handlers = streamHandlers<TcpSocket>((socket) => {
    guarded?.accepted();
    socket.setNoDelay(settings.noDelay);
    const stream = new BunSocketStream(socket, inetInfo(socket, transport));
    socket.data = { stream };
    if (tls === undefined) accepted.push(stream);
    else handshaking.set(stream, setTimeout(timeOut, handshakeTimeout, stream));
  });
  const socket: BunSocketHandler<SocketState, TcpSocket> = tls === undefined ? handlers : {
    ...handlers,
    handshake(socket, success, authorizationError) {
      const stream = socket.data.stream!;
      // A handshake that ends after its time ran out belongs to a connection already closed.
      if (!handshakeOver(stream)) return;
      if (!clientAccepted(socket, tls, success)) {
        const reason = authorizationError ??
          (success ? "the client's certificate was not accepted" : "handshake failed");
        settings.onRejected?.(rejectedTlsError(reason, shown), stream.info);
        return void stream.close();
      }
      stream.info.tls = tlsInfo(socket);
      accepted.push(stream);
    },
    close(socket) {
      const stream = socket.data.stream;
      if (stream !== undefined) handshakeOver(stream);
      handlers.close?.(socket);
    },
  };
  const tlsOptions = tls === undefined ? undefined : serverTlsOptions(tls);
  const libc = await bunLibcIfAvailable();
  let server: BunTcpListener;
  try {
    server = bunGlobal().listen<SocketState>({
      hostname: address.host,
      port: address.port,
      ...(tlsOptions !== undefined && { tls: tlsOptions }),
      socket,
    });
  } catch (error) {
    throw listenError(await reasonOf(error, address.host), formatAddress({ ...address, transport }));
  }
  // The host as given (like the other runtimes' listeners) and the port really bound.
  shown = formatAddress({ ...address, transport, port: server.port });
  const restart = (fd: number) =>
    watched(bunGlobal().listen({ fd, ...(tlsOptions !== undefined && { tls: tlsOptions }), socket }));
  const listener = guarded = new GuardedListener(watched(server), restart, libc);
  return {
    address: shown,
    accept: () => accepted.next(),
    close() {
      listener.stop();
      accepted.end((stream) => void stream.close());
      const unfinished = [...handshaking];
      handshaking.clear();
      for (const [stream, timer] of unfinished) {
        clearTimeout(timer);
        void stream.close();
      }
      return Promise.resolve();
    },
  };
}

/**
 * Bun says only "Failed to listen at HOST" when HOST does not resolve: look
 * it up to report why.
 */
async function reasonOf(error: unknown, host: string): Promise<unknown> {
  if (errnoOf(error) !== undefined || isIP(host) !== 0) return error;
  try {
    await lookup(host);
    return error;
  } catch (lookupError) {
    return lookupError;
  }
}
