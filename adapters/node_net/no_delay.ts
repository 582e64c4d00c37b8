/**
 * TCP_NODELAY on a `node:net`/`node:tls` socket, so that the setting holds
 * whichever runtime's default it starts from.
 *
 * @module
 */

import type * as net from "node:net";

/**
 * Turns Nagle's algorithm off (`enabled`) or on for `socket`.
 *
 * `setNoDelay` skips the system call when the value equals what the socket
 * believes it has, and every runtime's `node:net` believes a new socket has
 * it off; Bun's sockets really start with TCP_NODELAY on, so turning it off
 * there takes a change to on first.
 *
 * @param socket A connected socket (for TLS: the TLS socket or the TCP socket under it).
 * @param enabled Whether to set TCP_NODELAY.
 */
export function setNoDelay(socket: net.Socket, enabled: boolean): void {
  if (!enabled) socket.setNoDelay(true);
  socket.setNoDelay(enabled);
}
