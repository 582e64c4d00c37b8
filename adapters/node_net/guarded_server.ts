/**
 * A `node:net` (or `node:tls`) server watched by `../listener_guard.ts`,
 * for runtimes whose `node:net` servers stop accepting for good at the
 * descriptor limit (Deno 2.9). A restart serves the same listening socket
 * with a new server from the same factory (`server.listen({ fd })`), so
 * it has every handler of the first.
 *
 * @module
 */

import type * as net from "node:net";
import type { Libc } from "../seqpacket/libc.ts";
import { GuardedListener, type WatchedListener } from "../listener_guard.ts";

/** The internal handle of a `node:net` server, as far as it shows its descriptor. */
interface ServerHandle {
  /** Node's handles, and Deno 2.9's Unix (pipe) handles: the descriptor itself. */
  fd?: unknown;
  /** Deno 2.9's TCP handles, which have no `fd`: a new duplicate on each call, which the caller owns. */
  fdForIpc?: () => unknown;
}

/**
 * The listening descriptor of a `node:net` server (internal fields), if it
 * shows one, and whether it is a duplicate the caller must close.
 */
function serverFd(server: net.Server): { fd: number; owned: boolean } | undefined {
  const handle = (server as unknown as { _handle?: ServerHandle })._handle;
  const isFd = (fd: unknown): fd is number => typeof fd === "number" && fd >= 0;
  if (isFd(handle?.fd)) return { fd: handle.fd, owned: false };
  if (typeof handle?.fdForIpc !== "function") return undefined;
  try {
    const fd = handle.fdForIpc();
    return isFd(fd) ? { fd, owned: true } : undefined;
  } catch {
    return undefined;
  }
}

function watched(server: net.Server, fd: number): WatchedListener {
  // close() stops accepting and closes the descriptor at once; its callback would wait for accepted sockets.
  return { fd, stop: () => void server.close() };
}

/**
 * Watches a listening server.
 *
 * @param server The server, listening.
 * @param createServer Makes a server with the same handlers, not yet listening.
 * @param libc libc for the guard; `undefined` leaves the server unwatched.
 * @returns The guard (its `stop` closes whichever server is serving), or `undefined` if the server is not watched.
 */
export function guardServer(
  server: net.Server,
  createServer: () => net.Server,
  libc: Libc | undefined,
): GuardedListener | undefined {
  if (libc === undefined) return undefined;
  const shown = serverFd(server);
  if (shown === undefined) return undefined;
  const guard = new GuardedListener(watched(server, shown.fd), (socket) => {
    const next = createServer();
    // A socket that cannot be served now fails the listen; the guard looks again and retries.
    next.on("error", () => {});
    next.listen({ fd: socket });
    return watched(next, socket);
  }, libc);
  // The guard keeps a duplicate of its own.
  if (shown.owned) libc.close(shown.fd);
  return guard;
}
