/**
 * What each runtime provides to the seqpacket layer: sync libc bindings
 * (built from the one signature table in `libc_functions.ts`), memory with
 * a stable address, a way to learn without blocking the JavaScript thread
 * that descriptors became ready, and its platform.
 * Everything else lives in the shared files of this folder.
 *
 * Pointer arguments are `Uint8Array`s (or `null` for NULL); every binding
 * passes the view's own start address. All functions return what libc
 * returns; on -1 the caller reads {@link Libc.errno} before anything else.
 *
 * @module
 */

import type { StructLayout } from "./layout.ts";

/** Memory whose address never changes, for pointers stored inside structures. */
export interface NativeMemory {
  /** The bytes. */
  readonly bytes: Uint8Array;
  /** Address of `bytes[0]`. */
  readonly address: bigint;
}

/** Sync libc bindings used on the JavaScript thread. */
export interface Libc {
  /** errno of the JavaScript thread, as left by the last call. */
  errno(): number;
  /**
   * Allocates zeroed memory that keeps its address while it is referenced.
   *
   * @param size Bytes to allocate.
   */
  allocate(size: number): NativeMemory;

  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number, fds: Uint8Array): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  listen(fd: number, backlog: number): number;
  /** accept4(2) without the peer address. */
  accept4(fd: number, flags: number): number;
  connect(fd: number, address: Uint8Array, length: number): number;
  sendmsg(fd: number, message: Uint8Array, flags: number): number;
  /** sendmmsg(2): `messages` holds `count` struct mmsghdr. */
  sendmmsg(fd: number, messages: Uint8Array, count: number, flags: number): number;
  recvmsg(fd: number, message: Uint8Array, flags: number): number;
  /** recvmmsg(2) without a timeout: `messages` holds `count` struct mmsghdr. */
  recvmmsg(fd: number, messages: Uint8Array, count: number, flags: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, length: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  /** Only ever called with timeout 0 on the JavaScript thread. */
  poll(fds: Uint8Array, count: number, timeout: number): number;
  /** fcntl(2) with an int argument, such as `F_DUPFD_CLOEXEC`. */
  fcntl(fd: number, command: number, argument: number): number;

  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;

  /** File operations on NUL-terminated paths, so that seqpacket listeners need no other permission than FFI. */
  statx(dirfd: number, path: Uint8Array, flags: number, mask: number, buffer: Uint8Array): number;
  chmod(path: Uint8Array, mode: number): number;
  link(existing: Uint8Array, path: Uint8Array): number;
  unlink(path: Uint8Array): number;
  rename(from: Uint8Array, to: Uint8Array): number;
  rmdir(path: Uint8Array): number;
  /** Replaces the trailing `XXXXXX` of `template` in place; 1 on success, 0 on failure (errno set). */
  mkdtemp(template: Uint8Array): number;
}

/** One descriptor's membership in the runtime's readiness mechanism. */
export interface Registration {
  /**
   * Waits until the descriptor reports one of `events` (or an error or
   * hang-up), or until {@link Registration.close} is called. While some
   * operation waits, the process stays alive.
   *
   * @param events EPOLLIN and/or EPOLLOUT.
   */
  wait(events: number): Promise<void>;
  /** Stops watching the descriptor and wakes every waiter. Call before closing the descriptor. */
  close(): void;
}

/**
 * How a runtime learns, without blocking the JavaScript thread, that
 * non-blocking descriptors became ready: Deno and Bun through one epoll set
 * watched by a thread (`poller.ts`), Node through a libuv poll handle per
 * descriptor on its own loop (`handle_readiness.ts`).
 */
export interface Readiness {
  /**
   * Adds a descriptor; nothing is watched until an operation waits on it.
   *
   * @param fd A non-blocking descriptor.
   * @returns Its registration.
   */
  register(fd: number): Registration;
}

/** What a runtime binding provides once loaded. */
export interface SeqpacketBackend {
  /** The libc bindings. */
  readonly libc: Libc;
  /**
   * Creates the process's readiness mechanism; called once per process.
   *
   * @param layout The architecture's struct layout.
   */
  readiness(layout: StructLayout): Readiness;
}

/** How a runtime's `seqpacket_ffi.ts` describes itself to the shared layer. */
export interface SeqpacketPlatform {
  /** The operating system (`linux`, `darwin`, ...). */
  os(): string;
  /** The CPU architecture, in the runtime's spelling (`x86_64` or `x64`, `aarch64` or `arm64`). */
  arch(): string;
  /** Loads the FFI bindings and the watcher; called once, on first use, after the platform was checked. */
  loadBackend(): Promise<SeqpacketBackend>;
}
