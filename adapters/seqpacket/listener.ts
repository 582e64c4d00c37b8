/**
 * Listening seqpacket sockets, including the handling of socket files left
 * behind by a process that died without removing them.
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { Listener, PacketSocket } from "../../src/transport/types.ts";
import { formatSeqpacketAddress, type SeqpacketAddress } from "./types.ts";
import type { Registration } from "./poller.ts";
import type { SeqpacketSystem, SocketLimits } from "./system.ts";
import { SeqpacketSocket } from "./socket.ts";
import { bindError, SystemCallError } from "./errors.ts";
import {
  cString,
  packSockaddr,
  type SockaddrUn,
  STATX_SIZE,
  STX_DEV_MAJOR,
  STX_DEV_MINOR,
  STX_INO,
  STX_MODE,
} from "./layout.ts";
import {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  EPOLLIN,
  Errno,
  errnoName,
  S_IFMT,
  S_IFSOCK,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  STATX_INO,
  STATX_TYPE,
} from "./linux.ts";

/** Settings of a listener beyond its sockets' limits. */
export interface ListenerSettings extends SocketLimits {
  /** Permissions of the socket file. */
  readonly mode: number;
  /** listen(2) backlog. */
  readonly backlog: number;
}

/** Identity of a file, to remove on close only the socket file this listener created. */
interface FileIdentity {
  readonly type: number;
  readonly inode: bigint;
  readonly device: string;
}

/** Accepts are tried this many times in a row before returning to the event loop (see RECEIVE_BUDGET). */
const ACCEPT_BUDGET = 64;

/**
 * Binds and listens on `address`. A socket file nobody answers on is
 * replaced; a live one, or a file of another kind, is left alone.
 *
 * @param system The process's seqpacket state.
 * @param address Where to listen.
 * @param settings Limits of accepted sockets, file mode and backlog.
 * @returns The listener.
 * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_PATH_TOO_LONG` or `ERR_INVALID_ADDRESS`.
 */
export function listen(
  system: SeqpacketSystem,
  address: SeqpacketAddress,
  settings: ListenerSettings,
): Listener<PacketSocket> {
  const sockaddr = packSockaddr(address);
  const shown = formatSeqpacketAddress(address);
  const libc = system.libc;
  const path = address.abstract ? null : cString(address.path);
  const fd = system.newSocket();
  let bound = false;
  try {
    // Checks maxPacketSize against the system's limit now, not at every accept.
    system.prepare(fd, settings);
    bindReplacingStale(system, fd, sockaddr, path, shown);
    bound = true;
    if (path !== null && libc.chmod(path, settings.mode) !== 0) {
      throw new UsageError("ERR_INVALID_ADDRESS", `Cannot set the mode of ${shown}: ${errnoName(libc.errno())}`);
    }
    if (libc.listen(fd, settings.backlog) !== 0) throw new SystemCallError("listen", libc.errno());
    const identity = path === null ? null : identify(system, path);
    return new SeqpacketListener(system, fd, shown, settings, path, identity);
  } catch (error) {
    libc.close(fd);
    if (bound && path !== null) libc.unlink(path);
    throw error;
  }
}

function bindReplacingStale(
  system: SeqpacketSystem,
  fd: number,
  sockaddr: SockaddrUn,
  path: Uint8Array | null,
  shown: string,
): void {
  const libc = system.libc;
  for (let attempt = 0;; attempt++) {
    if (libc.bind(fd, sockaddr.bytes, sockaddr.length) === 0) return;
    const errno = libc.errno();
    if (errno !== Errno.EADDRINUSE || path === null || attempt === 3) throw bindError(shown, errno);
    const existing = identify(system, path);
    if (existing === null) continue;
    if (existing.type !== S_IFSOCK) {
      throw new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${shown}: the path exists and is not a socket`);
    }
    const answer = probe(system, sockaddr);
    if (answer !== Errno.ECONNREFUSED) {
      throw new UsageError(
        "ERR_ADDRESS_IN_USE",
        answer === 0 || answer === Errno.EAGAIN
          ? `Cannot listen on ${shown}: another process is listening there`
          : `Cannot listen on ${shown}: a socket file exists and cannot be checked (${errnoName(answer)})`,
      );
    }
    if (libc.unlink(path) !== 0 && libc.errno() !== Errno.ENOENT) {
      throw new UsageError(
        "ERR_ADDRESS_IN_USE",
        `Cannot listen on ${shown}: the stale socket file cannot be removed (${errnoName(libc.errno())})`,
      );
    }
  }
}

/** Connects a throw-away socket: 0 when someone listens, else the errno (ECONNREFUSED: nobody). */
function probe(system: SeqpacketSystem, sockaddr: SockaddrUn): number {
  const libc = system.libc;
  const fd = system.newSocket();
  const result = libc.connect(fd, sockaddr.bytes, sockaddr.length) === 0 ? 0 : libc.errno();
  libc.close(fd);
  return result;
}

/** lstat-like identity of `path`, or null if it does not exist. */
function identify(system: SeqpacketSystem, path: Uint8Array): FileIdentity | null {
  const libc = system.libc;
  const buffer = new Uint8Array(STATX_SIZE);
  if (libc.statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO, buffer) !== 0) {
    const errno = libc.errno();
    if (errno === Errno.ENOENT) return null;
    throw new SystemCallError("statx", errno);
  }
  const view = new DataView(buffer.buffer);
  return {
    type: view.getUint16(STX_MODE, true) & S_IFMT,
    inode: view.getBigUint64(STX_INO, true),
    device: `${view.getUint32(STX_DEV_MAJOR, true)}:${view.getUint32(STX_DEV_MINOR, true)}`,
  };
}

/** A listening seqpacket socket. */
export class SeqpacketListener implements Listener<PacketSocket> {
  /** The address in peerlink syntax: `seqpacket:/path` or `seqpacket:@name`. */
  readonly address: string;
  readonly #system: SeqpacketSystem;
  readonly #fd: number;
  readonly #limits: SocketLimits;
  readonly #path: Uint8Array | null;
  readonly #identity: FileIdentity | null;
  readonly #registration: Registration;
  #closed = false;
  #queued = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #budget = ACCEPT_BUDGET;

  /**
   * @param system The process's seqpacket state.
   * @param fd The listening socket.
   * @param address The address in peerlink syntax.
   * @param limits Limits of accepted sockets.
   * @param path The socket file to remove on close, if any.
   * @param identity The identity of that file when it was created.
   */
  constructor(
    system: SeqpacketSystem,
    fd: number,
    address: string,
    limits: SocketLimits,
    path: Uint8Array | null,
    identity: FileIdentity | null,
  ) {
    this.#system = system;
    this.#fd = fd;
    this.address = address;
    this.#limits = { maxPacketSize: limits.maxPacketSize, maxFds: limits.maxFds };
    this.#path = path;
    this.#identity = identity;
    this.#registration = system.poller.register(fd);
  }

  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the listener is closed.
   * @throws {SystemCallError} if accept4 fails for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM).
   */
  accept(): Promise<PacketSocket | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#queued === 0 && this.#budget > 0) {
      this.#budget--;
      try {
        const socket = this.#tryAccept();
        if (socket !== null) return Promise.resolve(socket);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    this.#queued++;
    const waitFirst = this.#queued === 1;
    const run = this.#tail.then(async () => {
      for (let skipTry = waitFirst;; skipTry = false) {
        if (this.#closed) return null;
        if (!skipTry) {
          const socket = this.#tryAccept();
          if (socket !== null) return socket;
        }
        await this.#registration.wait(EPOLLIN);
        this.#budget = ACCEPT_BUDGET;
      }
    }).finally(() => {
      this.#queued--;
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  /** @returns The accepted socket, or null on EAGAIN. */
  #tryAccept(): PacketSocket | null {
    const libc = this.#system.libc;
    for (;;) {
      const fd = libc.accept4(this.#fd, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        return new SeqpacketSocket(this.#system, fd, this.#limits, {
          transport: "seqpacket",
          localAddress: this.address,
        });
      }
      const errno = libc.errno();
      if (errno === Errno.EAGAIN) return null;
      // A connection that vanished before it was accepted; look for the next one.
      if (errno === Errno.EINTR || errno === Errno.ECONNABORTED) continue;
      throw new SystemCallError("accept4", errno);
    }
  }

  /** Stops listening, removes the socket file it created, and resolves a pending `accept` with `null`. Safe to call more than once. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#registration.close();
      this.#system.libc.close(this.#fd);
      this.#removeFile();
    }
    return Promise.resolve();
  }

  /** Same as {@link SeqpacketListener.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Removes the socket file unless another listener has replaced it since. */
  #removeFile(): void {
    if (this.#path === null || this.#identity === null) return;
    let current: FileIdentity | null;
    try {
      current = identify(this.#system, this.#path);
    } catch {
      return;
    }
    if (current !== null && current.inode === this.#identity.inode && current.device === this.#identity.device) {
      this.#system.libc.unlink(this.#path);
    }
  }
}
