/**
 * Which inherited socket `listen("fd:3")` or `listen("systemd:")` serves:
 * the descriptor (`LISTEN_*` read once and removed, see
 * `transport/socket_activation.ts`), and what kind of socket it is, as the
 * kernel says where the runtime's FFI can ask (else a stream socket is
 * assumed, and a wrong one fails when it is served).
 *
 * @module
 */

import type { SocketAddress } from "../transport/address.ts";
import type { RuntimeAdapter } from "../transport/runtime_adapter.ts";
import { type InheritedSelector, inheritedSocketKind, selectInheritedFd } from "../transport/socket_activation.ts";

/** An inherited socket, ready to be served. */
export interface InheritedSocket {
  /** The listening descriptor. */
  readonly fd: number;
  /** The address as the user wrote it (`systemd:web`), the listener's `address`. */
  readonly shown: string;
  /**
   * The socket as a Unix address for the option and policy checks: its
   * kind, and no file (`abstract`), since the socket is not ours to remove.
   */
  readonly address: SocketAddress;
}

/**
 * Finds the socket `selector` names and checks its kind.
 *
 * @param selector What the address selects.
 * @param runtime The runtime adapter.
 * @returns The descriptor and its kind.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` when no such socket was passed, or it is not a listening Unix stream or seqpacket socket.
 */
export async function resolveInheritedSocket(
  selector: InheritedSelector,
  runtime: RuntimeAdapter,
): Promise<InheritedSocket> {
  const fd = selectInheritedFd(selector, runtime.takeListenEnvironment());
  const kind = inheritedSocketKind(selector, fd, await runtime.inheritedSocketType(fd, selector.shown));
  return { fd, shown: selector.shown, address: { transport: kind, path: selector.shown, abstract: true } };
}
