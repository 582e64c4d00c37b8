/**
 * The small interface each runtime implements for the seqpacket layer: sync
 * bindings of a few libc functions, memory with a stable address, and a way
 * to learn, without blocking the JavaScript thread, that an epoll descriptor
 * has become readable. Everything else lives in the shared files.
 *
 * Pointer arguments are `Uint8Array`s (or `null` for NULL); every binding
 * passes the view's own start address. All functions return what libc
 * returns; on -1 the caller reads {@link Libc.errno} before anything else.
 *
 * @module
 */

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
  accept4(fd: number, flags: number): number;
  connect(fd: number, address: Uint8Array, length: number): number;
  sendmsg(fd: number, message: Uint8Array, flags: number): number;
  recvmsg(fd: number, message: Uint8Array, flags: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, length: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;

  unlink(path: Uint8Array): number;
  chmod(path: Uint8Array, mode: number): number;
  statx(dirfd: number, path: Uint8Array, flags: number, mask: number, buffer: Uint8Array): number;

  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  /** Only ever called with timeout 0 on the JavaScript thread. */
  epoll_wait(epfd: number, events: Uint8Array, maxEvents: number, timeout: number): number;
  eventfd(initial: number, flags: number): number;
  /** Reads or writes the 8-byte counter of an eventfd. */
  read(fd: number, buffer: Uint8Array, length: number): number;
  write(fd: number, buffer: Uint8Array, length: number): number;
}

/**
 * Waits off the JavaScript thread for one epoll descriptor to become
 * readable. The shared poller calls {@link EpollWatcher.readable} only while
 * some socket operation is waiting, at most one call at a time, and wakes an
 * outstanding call through an eventfd in the epoll set when nothing waits
 * any more.
 */
export interface EpollWatcher {
  /**
   * Resolves once the descriptor is readable (or spuriously). While the
   * promise is pending it keeps the process alive.
   */
  readable(): Promise<void>;
}

/** What a runtime binding provides. */
export interface SeqpacketBackend {
  /** The libc bindings. */
  readonly libc: Libc;
  /**
   * Creates the watcher of `epfd`; called once per process.
   *
   * @param epfd The poller's epoll descriptor.
   */
  watch(epfd: number): EpollWatcher;
}

/** How a runtime file describes itself to the shared layer. */
export interface SeqpacketRuntime {
  /** The operating system (`linux`, `darwin`, ...). */
  os(): string;
  /** The CPU architecture in Deno's spelling (`x86_64`, `aarch64`). */
  arch(): string;
  /** Loads the FFI bindings; called once, on first use. */
  load(): Promise<SeqpacketBackend>;
}
