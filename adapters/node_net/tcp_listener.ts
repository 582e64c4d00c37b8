/**
 * The server side of TCP and TLS through `node:net` and `node:tls`,
 * written to run unchanged on Node 22 to 26, Deno 2.9 and Bun 1.4:
 *
 * - TCP_NODELAY is set (when asked) on every accepted socket as it arrives,
 *   before its TLS handshake (Node's and Deno's default is off, Bun's on).
 * - A TLS server with `clientCa` requests a client certificate and refuses
 *   the handshake without one signed by those CAs.
 * - Only connections whose handshake succeeded reach `accept()`. A failed
 *   handshake (a plaintext client, junk, a refused client certificate; each
 *   runtime reports it as `tlsClientError`) closes that connection and
 *   nothing else: it is no error of the listener. So does one that took
 *   longer than `settings.handshakeTimeout` (`node:tls`'s own
 *   `handshakeTimeout`, which Node and Deno report as `tlsClientError` too,
 *   as "TLS handshake timeout"). Closing the listener closes every
 *   connection still in its handshake, and what happens to one after that
 *   is not reported.
 * - Where the runtime stops accepting for good at the descriptor limit
 *   (Deno), the caller passes `guardLibc` and the server is watched by
 *   `../listener_guard.ts`.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import * as tls from "node:tls";
import { AcceptQueue } from "../../src/transport/accept_queue.ts";
import { formatAddress, type InetAddress } from "../../src/transport/address.ts";
import type { ServerTlsSettings, TcpListenSettings } from "../../src/transport/runtime_adapter.ts";
import { listenError } from "../../src/transport/socket_errors.ts";
import {
  DEFAULT_TLS_HANDSHAKE_TIMEOUT,
  rejectedTlsError,
  tlsHandshakeTimeoutError,
} from "../../src/transport/tls_errors.ts";
import type { ByteStream, Listener } from "../../src/transport/types.ts";
import { socketConnectionInfo } from "./connection_info.ts";
import { setNoDelay } from "./no_delay.ts";
import { tlsMaterialError } from "./tls_material.ts";
import { NodeSocketStream } from "./socket_stream.ts";
import type { GuardedListener, GuardLibc } from "../listener_guard.ts";
import { guardServer } from "./guarded_server.ts";

/**
 * Listens on TCP, with TLS when `settings.tls` is set; the `listenTcp` of a
 * runtime adapter. Port 0 binds a free port; the listener's `address` names
 * the host as given and the port that was bound.
 *
 * @param address Host and port to bind (`tcp://` or `tls://`; `settings.tls` decides).
 * @param settings TCP_NODELAY and TLS.
 * @param guardLibc Where the runtime's `node:net` server stalls at the descriptor limit (Deno): libc for the guard.
 * @returns The listener; `close()` stops accepting at once and frees the port.
 * @throws {UsageError} what `listenError` (`src/transport/socket_errors.ts`) makes of the runtime's error:
 *   `ERR_ADDRESS_IN_USE`, `ERR_PERMISSION_DENIED`, `ERR_INVALID_ADDRESS` (no local interface has the address, or
 *   the host name does not resolve) or `ERR_CONNECTION_FAILED`; `ERR_INVALID_ARGUMENT` when the runtime refuses
 *   the certificate, key or CAs.
 *
 * @example
 * ```ts ignore
 * import { listenNodeTcp } from "./mod.ts";
 * const listener = await listenNodeTcp({ transport: "tcp", host: "127.0.0.1", port: 0 }, { noDelay: true });
 * console.log(listener.address); // tcp://127.0.0.1:40123
 * await listener.close();
 * ```
 */
export async function listenNodeTcp(
  address: InetAddress,
  settings: TcpListenSettings,
  guardLibc?: GuardLibc,
): Promise<Listener<ByteStream>> {
  const shown = formatAddress(address);
  const secure = settings.tls;
  const handshakeTimeout = settings.handshakeTimeout ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT;
  const accepted = new AcceptQueue<ByteStream>();
  // Set once listening: every server the guard starts counts its accepts there.
  const watch: { guard?: GuardedListener | undefined } = {};
  // TLS only: the TCP sockets whose handshake is under way, by connectionKey; closed with the listener.
  const handshaking = new Map<string, net.Socket>();
  let closed = false;
  let port = address.port;
  const createServer = (): net.Server => {
    const server = secure === undefined ? net.createServer() : createTlsServer(secure, handshakeTimeout, shown);
    server.on("connection", (socket: net.Socket) => {
      watch.guard?.accepted();
      setNoDelay(socket, settings.noDelay);
      if (secure === undefined) return;
      const key = connectionKey(socket);
      handshaking.set(key, socket);
      socket.once("close", () => {
        if (handshaking.get(key) === socket) handshaking.delete(key);
      });
    });
    // Wrapped at once, so that an error or close before accept() is seen (and buffering is bounded).
    server.on(secure === undefined ? "connection" : "secureConnection", (socket: net.Socket) => {
      if (secure !== undefined) handshaking.delete(connectionKey(socket));
      accepted.push(new NodeSocketStream(socket, socketConnectionInfo(socket, address.transport)));
    });
    server.on("tlsClientError", (error: Error, socket: tls.TLSSocket | undefined) => {
      socket?.destroy();
      if (closed) return;
      const info = socket === undefined ? { transport: address.transport } : socketConnectionInfo(socket, "tcp");
      const where = formatAddress({ ...address, port });
      const timedOut = (error as { code?: string }).code === "ERR_TLS_HANDSHAKE_TIMEOUT" ||
        /handshake timeout/i.test(error.message);
      settings.onRejected?.(
        timedOut ? tlsHandshakeTimeoutError(where, handshakeTimeout, error) : rejectedTlsError(error, where),
        {
          ...info,
          transport: address.transport,
        },
      );
    });
    return server;
  };
  const server = createServer();
  const libc = await guardLibc?.();
  try {
    await bind(server, await resolveHost(address.host), address.port);
  } catch (cause) {
    throw listenError(cause, shown);
  }
  // Failed accepts (EMFILE, ...) are retried by the runtime; they are no reason to stop listening.
  server.on("error", () => {});
  port = (server.address() as AddressInfo).port;
  const guarded = watch.guard = guardServer(server, createServer, libc);
  return {
    address: formatAddress({ ...address, port }),
    accept: () => accepted.next(),
    close() {
      closed = true;
      accepted.end((stream) => void stream.close());
      for (const socket of handshaking.values()) socket.destroy();
      handshaking.clear();
      // Stops accepting and frees the port at once; its callback would wait for every accepted socket.
      if (guarded === undefined) server.close();
      else guarded.stop();
      return Promise.resolve();
    },
  };
}

/**
 * Names one TCP connection by its four addresses, which a TLS socket shares
 * with the TCP socket under it: public properties, where the TLS socket's
 * link to that TCP socket is not.
 */
function connectionKey(socket: net.Socket): string {
  return `${socket.localAddress} ${socket.localPort} ${socket.remoteAddress} ${socket.remotePort}`;
}

/**
 * The address to bind for `host`: an IP address as it is, a host name's
 * first address, as Node's own `listen` picks it. Resolved here because Bun's
 * `listen` reports a name that does not resolve without an errno.
 */
async function resolveHost(host: string): Promise<string> {
  return net.isIP(host) === 0 ? (await lookup(host)).address : host;
}

/** Starts listening; rejects with the runtime's error. */
function bind(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: Error & { code?: string; syscall?: string }) => {
      // Deno's node:net reports an address of no local interface as EINVAL; say what really went wrong.
      if (error.code === "EINVAL" && error.syscall === "listen") error.code = "EADDRNOTAVAIL";
      reject(error);
    });
    server.listen({ host, port }, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
}

/**
 * A `node:tls` server for `settings` that closes a connection whose
 * handshake took longer than `handshakeTimeout` milliseconds.
 *
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when the runtime refuses the certificate, key or CAs.
 */
function createTlsServer(settings: ServerTlsSettings, handshakeTimeout: number, shown: string): tls.Server {
  const options: tls.TlsOptions = { cert: settings.cert, key: settings.key, handshakeTimeout };
  if (settings.clientCa !== undefined) {
    Object.assign(options, { ca: settings.clientCa, requestCert: true, rejectUnauthorized: true });
  }
  try {
    return tls.createServer(options);
  } catch (cause) {
    throw tlsMaterialError(cause, `serve ${shown}`);
  }
}
