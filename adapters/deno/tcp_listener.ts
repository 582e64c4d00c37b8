/**
 * The server side of `tcp://` and `tls://` on Deno.
 *
 * - `tcp://`: `Deno.listen`, with TCP_NODELAY set on every accepted
 *   connection (Deno's default leaves it off).
 * - `tls://`: node:tls (`listenNodeTcp` of `../node_net/`), for every TLS
 *   server. `Deno.listenTls` cannot set TCP_NODELAY on what it accepts (a
 *   `Deno.TlsConn` has no `setNoDelay`, and there is no server-side
 *   `startTls`), and it cannot ask clients for a certificate (`clientCa`).
 *   Without TCP_NODELAY, an answer written in two pieces waits for the
 *   client's delayed ACK: a 16-byte echo answered in two writes took
 *   44 ms per round trip from a `Deno.listenTls` server, against 70 to
 *   150 µs from the node:tls server (Deno 2.9.5, 2-core x86_64, loaded).
 *   Deno's node:tls server stops accepting for good once the descriptor
 *   limit was reached; with `--allow-ffi` it is watched by
 *   `../listener_guard.ts`, which serves its socket anew.
 *
 * @module
 */

import { formatAddress, type InetAddress } from "../../src/transport/address.ts";
import type { TcpListenSettings } from "../../src/transport/runtime_adapter.ts";
import { listenError } from "../../src/transport/socket_errors.ts";
import type { ByteStream, Listener } from "../../src/transport/types.ts";
import type { GuardLibc } from "../listener_guard.ts";
import { listenNodeTcp } from "../node_net/tcp_listener.ts";
import { closeQuietly, DenoConnStream, isClosedError } from "./stream_socket.ts";
import { tcpInfo } from "./tcp_info.ts";

/** A `Deno.TcpListener` as a peerlink listener. */
class DenoTcpListener implements Listener<ByteStream> {
  /** `tcp://HOST:PORT`: the host as given, and the port that was bound. */
  readonly address: string;
  readonly #listener: Deno.TcpListener;
  readonly #noDelay: boolean;
  #closed = false;

  constructor(listener: Deno.TcpListener, address: InetAddress, noDelay: boolean) {
    this.#listener = listener;
    this.#noDelay = noDelay;
    // The host as given, as the node:net listener of TLS (and every other runtime's) names it.
    this.address = formatAddress({ ...address, port: listener.addr.port });
  }

  async accept(): Promise<ByteStream | null> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed || isClosedError(error)) return null;
        throw error;
      }
      if (this.#closed) {
        closeQuietly(conn);
        return null;
      }
      try {
        conn.setNoDelay(this.#noDelay);
        return new DenoConnStream(conn, tcpInfo("tcp", conn));
      } catch {
        // Only a socket that is already gone refuses the option: that client is lost, the listener goes on.
        closeQuietly(conn);
      }
    }
    return null;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      closeQuietly(this.#listener);
    }
    return Promise.resolve();
  }
}

/**
 * Listens on TCP, with TLS when `settings.tls` is set, on the path the
 * module doc names.
 *
 * @param address Host and port; port 0 binds a free port, which the listener's `address` names with the host.
 * @param settings TCP_NODELAY for accepted connections, and TLS.
 * @param guardLibc libc for the guard of the node:tls server, where `--allow-ffi` was given.
 * @returns The listener.
 * @throws {UsageError} as `listenError` maps the failure: `ERR_ADDRESS_IN_USE`, `ERR_PERMISSION_DENIED`,
 *   `ERR_INVALID_ADDRESS` (no local interface has the address, or the host does not resolve), `ERR_CONNECTION_FAILED`.
 */
export async function listenDenoTcp(
  address: InetAddress,
  settings: TcpListenSettings,
  guardLibc?: GuardLibc,
): Promise<Listener<ByteStream>> {
  if (settings.tls !== undefined) return listenNodeTcp(address, settings, guardLibc);
  try {
    return new DenoTcpListener(Deno.listen({ hostname: address.host, port: address.port }), address, settings.noDelay);
  } catch (error) {
    throw listenError(error, formatAddress(address));
  }
}
