/**
 * Unix SOCK_SEQPACKET sockets for Deno, through `Deno.dlopen` (needs
 * `--allow-ffi`). libc is opened on first use only.
 *
 * Readiness: while some operation waits, one `poll()` on the poller's epoll
 * descriptor runs as a `nonblocking` FFI call, i.e. on Deno's blocking
 * thread pool. That pool is shared with file I/O and capped, so the design
 * never parks more than this single call, whatever the number of sockets
 * and pending operations, and parks none while nothing waits (an eventfd
 * wakes it). A Worker would avoid the pool thread, but Deno's Workers
 * cannot be unref'ed, so one would keep the process alive. Measured on this
 * 2-core machine: with the call parked, `Deno.readTextFile` took the same
 * time as without it; a wait costs about 25 µs, giving about 50 µs per
 * 64-byte request/response round trip over a pair in one process and about
 * 80 µs between two processes.
 *
 * @example
 * ```ts
 * import { seqpacketPair } from "./seqpacket_ffi.ts";
 * const [a, b] = await seqpacketPair();
 * await a.send(new TextEncoder().encode("hi"), []);
 * console.log(await b.receive());
 * await a.close();
 * await b.close();
 * ```
 *
 * @module
 */

import type { Listener, PacketSocket } from "../../src/transport/types.ts";
import type { SeqpacketAddress, SeqpacketListenOptions, SeqpacketOptions } from "../seqpacket/types.ts";
import type { EpollWatcher, Libc, SeqpacketBackend } from "../seqpacket/libc.ts";
import { createSeqpacketApi, type SeqpacketApi } from "../seqpacket/operations.ts";

export type { SeqpacketAddress, SeqpacketListenOptions, SeqpacketOptions } from "../seqpacket/types.ts";

/**
 * The part of the `Deno` namespace used here, declared locally so that this
 * file also type-checks where Deno's types are absent (tsc for Node).
 */
interface DenoFfi {
  build: { os: string; arch: string };
  dlopen(path: string, symbols: Record<string, unknown>): { symbols: Record<string, (...args: unknown[]) => unknown> };
  UnsafePointer: { of(value: Uint8Array): unknown; value(pointer: unknown): number | bigint };
  UnsafePointerView: { getArrayBuffer(pointer: unknown, length: number): ArrayBuffer };
}

function deno(): DenoFfi {
  return (globalThis as unknown as { Deno: DenoFfi }).Deno;
}

const api: SeqpacketApi = createSeqpacketApi({
  os: () => deno().build.os,
  arch: () => deno().build.arch,
  load: () => Promise.resolve(openLibc()),
});

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "pointer", "pointer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  chmod: { parameters: ["buffer", "u32"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
} as const;

function openLibc(): SeqpacketBackend {
  const ffi = deno();
  const s = ffi.dlopen("libc.so.6", SYMBOLS).symbols as Record<keyof typeof SYMBOLS, (...args: unknown[]) => number>;
  const errno = new Int32Array(ffi.UnsafePointerView.getArrayBuffer(s.__errno_location(), 4));
  const libc: Libc = {
    errno: () => errno[0] ?? 0,
    allocate(size) {
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: BigInt(ffi.UnsafePointer.value(ffi.UnsafePointer.of(bytes))) };
    },
    socket: s.socket,
    socketpair: s.socketpair,
    bind: s.bind,
    listen: s.listen,
    accept4: (fd, flags) => s.accept4(fd, null, null, flags),
    connect: s.connect,
    sendmsg: (fd, message, flags) => Number(s.sendmsg(fd, message, flags)),
    recvmsg: (fd, message, flags) => Number(s.recvmsg(fd, message, flags)),
    getsockopt: s.getsockopt,
    setsockopt: s.setsockopt,
    shutdown: s.shutdown,
    close: s.close,
    unlink: s.unlink,
    chmod: s.chmod,
    statx: s.statx,
    epoll_create1: s.epoll_create1,
    epoll_ctl: s.epoll_ctl,
    epoll_wait: s.epoll_wait,
    eventfd: s.eventfd,
    read: (fd, buffer, length) => Number(s.read(fd, buffer, BigInt(length))),
    write: (fd, buffer, length) => Number(s.write(fd, buffer, BigInt(length))),
  };
  const poll = s.poll as unknown as (fds: Uint8Array, count: bigint, timeout: number) => Promise<number>;
  return { libc, watch: (epfd) => new BlockingPoolWatcher(poll, epfd) };
}

/** Waits for the epoll descriptor with one nonblocking (thread pool) `poll()` call. */
class BlockingPoolWatcher implements EpollWatcher {
  readonly #poll: (fds: Uint8Array, count: bigint, timeout: number) => Promise<number>;
  /**
   * struct pollfd { fd, events = POLLIN }, read by another thread while the
   * call runs: an explicit ArrayBuffer, which V8 never moves.
   */
  readonly #pollfd = new Uint8Array(new ArrayBuffer(8));

  constructor(poll: (fds: Uint8Array, count: bigint, timeout: number) => Promise<number>, epfd: number) {
    this.#poll = poll;
    const view = new DataView(this.#pollfd.buffer);
    view.setInt32(0, epfd, true);
    view.setInt16(4, 1, true);
  }

  async readable(): Promise<void> {
    await this.#poll(this.#pollfd, 1n, -1);
  }
}

/**
 * Listens for seqpacket connections on a path or abstract name.
 *
 * A socket file left behind by a dead process (nobody answers a probe
 * connection) is replaced. The socket file gets `mode` before the listener
 * accepts anything, and is removed on close.
 *
 * @param address Where to listen.
 * @param options Limits of accepted sockets (`maxPacketSize` 65536, `maxFds` 16), `mode` (0o600) and `backlog` (128).
 * @returns The listener; its `address` is `seqpacket:/path` or `seqpacket:@name`.
 * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` off Linux, `ERR_ADDRESS_IN_USE` if someone listens there or the path is not a socket, `ERR_PATH_TOO_LONG` above 107 bytes, `ERR_INVALID_ARGUMENT` for bad options.
 *
 * @example
 * ```ts
 * import { connectSeqpacket, listenSeqpacket } from "./seqpacket_ffi.ts";
 * const listener = await listenSeqpacket({ path: `listen-demo-${Deno.pid}`, abstract: true });
 * const client = await connectSeqpacket({ path: `listen-demo-${Deno.pid}`, abstract: true });
 * const server = await listener.accept();
 * console.log(server?.info.credentials);
 * await client.close();
 * await server?.close();
 * await listener.close();
 * ```
 */
export function listenSeqpacket(
  address: SeqpacketAddress,
  options?: SeqpacketListenOptions,
): Promise<Listener<PacketSocket>> {
  return api.listen(address, options);
}

/**
 * Connects to a seqpacket listener.
 *
 * @param address Where the listener is.
 * @param options `maxPacketSize` (65536) and `maxFds` (16).
 * @returns The connected socket; `info.credentials` holds the listener's pid, uid and gid.
 * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` off Linux, `ERR_CONNECTION_FAILED` if nobody listens there, `ERR_PATH_TOO_LONG` above 107 bytes.
 *
 * @example
 * ```ts
 * import { connectSeqpacket, listenSeqpacket } from "./seqpacket_ffi.ts";
 * const listener = await listenSeqpacket({ path: `connect-demo-${Deno.pid}`, abstract: true });
 * const socket = await connectSeqpacket({ path: `connect-demo-${Deno.pid}`, abstract: true });
 * console.assert(socket.info.credentials?.pid === Deno.pid);
 * await socket.close();
 * await listener.close();
 * ```
 */
export function connectSeqpacket(address: SeqpacketAddress, options?: SeqpacketOptions): Promise<PacketSocket> {
  return api.connect(address, options);
}

/**
 * Creates two connected seqpacket sockets (socketpair).
 *
 * @param options `maxPacketSize` (65536) and `maxFds` (16) of both ends.
 * @returns The two ends.
 * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` off Linux.
 *
 * @example
 * ```ts
 * import { seqpacketPair } from "./seqpacket_ffi.ts";
 * const [a, b] = await seqpacketPair({ maxPacketSize: 4096 });
 * await a.close();
 * await b.close();
 * ```
 */
export function seqpacketPair(options?: SeqpacketOptions): Promise<[PacketSocket, PacketSocket]> {
  return api.pair(options);
}
