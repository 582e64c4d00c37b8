/**
 * The runtime side of socket activation, one copy for Deno, Bun and Node:
 * reading (and removing) `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES`
 * through `node:process`, asking the kernel what an inherited descriptor is
 * (`getsockopt` SO_DOMAIN, SO_TYPE, SO_ACCEPTCONN), and `sd_notify`: one
 * datagram to `$NOTIFY_SOCKET` (no runtime's own API sends on a Unix
 * datagram socket, so both go through the libc bindings of
 * `seqpacket/`, where the runtime's FFI can be loaded).
 *
 * @module
 */

import process from "node:process";
import { UsageError } from "../src/base/errors.ts";
import type { ListenEnvironment } from "../src/transport/socket_activation.ts";
import type { ActivationOperations } from "../src/transport/runtime_adapter.ts";
import type { Libc } from "./seqpacket/libc.ts";
import { IOV_BASE, IOV_LEN, IOVEC_SIZE, MSG_IOV, MSG_IOVLEN, MSGHDR_SIZE, packSockaddr } from "./seqpacket/layout.ts";
import { AF_UNIX, MSG_NOSIGNAL, SOCK_CLOEXEC } from "./seqpacket/linux.ts";
import { SystemCallError } from "./seqpacket/errors.ts";
import { readVariable, unsetVariable } from "./environment.ts";
import { socketTypeOf } from "./seqpacket/socket_type.ts";

const SOCK_DGRAM = 2;
const ACTIVATION_VARIABLES = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] as const;

/** Removes the activation variables, so that child processes do not take the sockets for theirs. */
function unsetActivationVariables(): void {
  for (const name of ACTIVATION_VARIABLES) unsetVariable(name);
}

/** Reads the activation variables and removes them from the environment. */
function takeVariables(): ListenEnvironment {
  const [listenPid, listenFds, listenFdNames] = ACTIVATION_VARIABLES.map(readVariable);
  unsetActivationVariables();
  return {
    pid: process.pid,
    ...(listenPid === undefined ? {} : { listenPid }),
    ...(listenFds === undefined ? {} : { listenFds }),
    ...(listenFdNames === undefined ? {} : { listenFdNames }),
  };
}

/**
 * Sends one datagram on a fresh Unix datagram socket (`sd_notify`'s
 * message; the tests' datagrams).
 *
 * @param libc The runtime's libc bindings.
 * @param target A socket path, or `@` and an abstract name (`$NOTIFY_SOCKET`'s forms).
 * @param text What to send, such as `READY=1`.
 * @throws {SystemCallError} naming the call that failed.
 */
export function sendUnixDatagram(libc: Libc, target: string, text: string): void {
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SystemCallError("socket", libc.errno());
  try {
    const address = packSockaddr(target.startsWith("@") ? `\0${target.slice(1)}` : target);
    if (libc.connect(fd, address.bytes, address.length) !== 0) throw new SystemCallError("connect", libc.errno());
    const bytes = new TextEncoder().encode(text);
    const body = libc.allocate(Math.max(bytes.length, 1));
    body.bytes.set(bytes);
    const iovec = libc.allocate(IOVEC_SIZE);
    const iovecView = new DataView(iovec.bytes.buffer, iovec.bytes.byteOffset, IOVEC_SIZE);
    iovecView.setBigUint64(IOV_BASE, body.address, true);
    iovecView.setBigUint64(IOV_LEN, BigInt(bytes.length), true);
    const message = new Uint8Array(MSGHDR_SIZE);
    const messageView = new DataView(message.buffer);
    messageView.setBigUint64(MSG_IOV, iovec.address, true);
    messageView.setBigUint64(MSG_IOVLEN, 1n, true);
    if (libc.sendmsg(fd, message, MSG_NOSIGNAL) < 0) throw new SystemCallError("sendmsg", libc.errno());
  } finally {
    libc.close(fd);
  }
}

/**
 * The activation operations of a runtime.
 *
 * @param loadLibc The runtime's libc bindings, or `undefined` where its FFI cannot be used.
 * @returns The operations its adapter spreads into itself.
 */
export function activationOperations(loadLibc: () => Promise<Libc | undefined>): ActivationOperations {
  let taken: ListenEnvironment | undefined;
  return {
    // Read once and kept: a server with several named sockets listens on each in turn.
    takeListenEnvironment: () => taken ??= takeVariables(),
    async inheritedSocketType(fd, shown) {
      const libc = await loadLibc();
      return libc === undefined ? undefined : socketTypeOf(
        libc,
        fd,
        (why) => new UsageError("ERR_INVALID_ADDRESS", `Cannot listen on "${shown}": descriptor ${fd} ${why}`),
      );
    },
    async notify(state) {
      const target = readVariable("NOTIFY_SOCKET");
      if (target === undefined || target.length === 0) return false;
      const libc = await loadLibc();
      if (libc === undefined) {
        throw new UsageError(
          "ERR_UNSUPPORTED_PLATFORM",
          `Cannot notify the service manager at NOTIFY_SOCKET=${target}: this runtime's FFI is not available`,
        );
      }
      try {
        sendUnixDatagram(libc, target, state);
      } catch (cause) {
        throw new UsageError(
          "ERR_CONNECTION_FAILED",
          `Cannot notify the service manager at NOTIFY_SOCKET=${target}: ${(cause as Error).message}`,
          { cause },
        );
      }
      return true;
    },
  };
}
