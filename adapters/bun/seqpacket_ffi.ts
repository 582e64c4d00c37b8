/**
 * Unix SOCK_SEQPACKET sockets for Bun, through `bun:ffi`. `bun:ffi` is
 * imported on first use only.
 *
 * Readiness: `bun:ffi` only makes synchronous calls, so one Worker per
 * process, started on first use, blocks in `poll()` on the poller's epoll
 * descriptor whenever the main thread asks it to (only while some operation
 * waits) and posts a message when it returns. The Worker is ref'ed only
 * during such a wait, so it keeps the process alive exactly then, and an
 * eventfd wakes it when nothing waits any more. Bun exits cleanly even if
 * the Worker is still blocked at that moment (tested, also with
 * `process.exit`). Measured on this 2-core machine: about 60 µs per 64-byte
 * request/response round trip over a pair in one process, about 65 µs
 * between two processes; arming the Worker through Atomics.wait instead of
 * a message measured no better, so the simpler message is used.
 *
 * @example
 * ```ts ignore
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

import process from "node:process";
import type { Listener, PacketSocket } from "../../src/transport/types.ts";
import type { SeqpacketAddress, SeqpacketListenOptions, SeqpacketOptions } from "../seqpacket/types.ts";
import type { EpollWatcher, Libc, SeqpacketBackend } from "../seqpacket/libc.ts";
import { createSeqpacketApi, type SeqpacketApi } from "../seqpacket/operations.ts";

export type { SeqpacketAddress, SeqpacketListenOptions, SeqpacketOptions } from "../seqpacket/types.ts";

/** The part of `bun:ffi` used here, declared locally so that other type checkers accept this file. */
interface BunFfi {
  dlopen(path: string, symbols: Record<string, unknown>): { symbols: Record<string, (...args: unknown[]) => unknown> };
  ptr(value: Uint8Array): number;
  toArrayBuffer(pointer: number, offset: number, length: number): ArrayBuffer;
}

/** Bun's Worker, which adds `ref` and `unref` to the web API. */
interface BunWorker {
  postMessage(message: unknown): void;
  onmessage: ((event: unknown) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  ref(): void;
  unref(): void;
}

/** Kept in a variable so that no other runtime's tooling tries to resolve it. */
const BUN_FFI = "bun:ffi";

const api: SeqpacketApi = createSeqpacketApi({
  os: () => process.platform,
  arch: () => process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch,
  load: loadBunFfi,
});

const SYMBOLS = {
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  socketpair: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  listen: { args: ["i32", "i32"], returns: "i32" },
  accept4: { args: ["i32", "ptr", "ptr", "i32"], returns: "i32" },
  connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
  sendmsg: { args: ["i32", "ptr", "i32"], returns: "i64_fast" },
  recvmsg: { args: ["i32", "ptr", "i32"], returns: "i64_fast" },
  getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  shutdown: { args: ["i32", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  unlink: { args: ["ptr"], returns: "i32" },
  chmod: { args: ["ptr", "u32"], returns: "i32" },
  statx: { args: ["i32", "ptr", "i32", "u32", "ptr"], returns: "i32" },
  epoll_create1: { args: ["i32"], returns: "i32" },
  epoll_ctl: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
  epoll_wait: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: "i64_fast" },
  write: { args: ["i32", "ptr", "u64"], returns: "i64_fast" },
  __errno_location: { args: [], returns: "ptr" },
} as const;

async function loadBunFfi(): Promise<SeqpacketBackend> {
  const ffi = await import(BUN_FFI) as BunFfi;
  const s = ffi.dlopen("libc.so.6", SYMBOLS).symbols as Record<keyof typeof SYMBOLS, (...args: unknown[]) => number>;
  const errno = new Int32Array(ffi.toArrayBuffer(s.__errno_location(), 0, 4));
  const libc: Libc = {
    errno: () => errno[0] ?? 0,
    allocate(size) {
      // ArrayBuffer storage is never moved by JavaScriptCore's collector.
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: BigInt(ffi.ptr(bytes)) };
    },
    socket: s.socket,
    socketpair: s.socketpair,
    bind: s.bind,
    listen: s.listen,
    accept4: (fd, flags) => s.accept4(fd, null, null, flags),
    connect: s.connect,
    sendmsg: s.sendmsg,
    recvmsg: s.recvmsg,
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
    read: s.read,
    write: s.write,
  };
  return { libc, watch: (epfd) => new WorkerWatcher(epfd) };
}

/**
 * The Worker's code: on each message, block in poll() until the epoll
 * descriptor is readable, then answer. The first message carries the descriptor.
 */
const WORKER_SOURCE = `
import { dlopen } from "bun:ffi";
const { symbols } = dlopen("libc.so.6", { poll: { args: ["ptr", "u64", "i32"], returns: "i32" } });
const pollfd = new Uint8Array(new ArrayBuffer(8));
self.onmessage = (event) => {
  if (typeof event.data === "object") {
    const view = new DataView(pollfd.buffer);
    view.setInt32(0, event.data.epfd, true);
    view.setInt16(4, 1, true);
    return;
  }
  symbols.poll(pollfd, 1, -1);
  self.postMessage(0);
};
`;

/** Waits for the epoll descriptor in a Worker blocked in poll(). */
class WorkerWatcher implements EpollWatcher {
  readonly #epfd: number;
  #worker: BunWorker | null = null;
  #resolve: (() => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  constructor(epfd: number) {
    this.#epfd = epfd;
  }

  readable(): Promise<void> {
    const worker = this.#worker ?? this.#start();
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      worker.ref();
      worker.postMessage(1);
    });
  }

  #start(): BunWorker {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    const WorkerClass = (globalThis as unknown as { Worker: new (url: string) => BunWorker }).Worker;
    const worker = new WorkerClass(url);
    worker.onmessage = () => {
      worker.unref();
      const resolve = this.#resolve;
      this.#resolve = this.#reject = null;
      resolve?.();
    };
    // A failed watcher must fail the waiters (the poller rejects them) rather than leave them hanging.
    worker.onerror = (event) => {
      worker.unref();
      this.#worker = null;
      const reject = this.#reject;
      this.#resolve = this.#reject = null;
      reject?.(new Error(`The seqpacket watcher thread failed: ${event.message ?? "unknown error"}`));
    };
    worker.postMessage({ epfd: this.#epfd });
    worker.unref();
    this.#worker = worker;
    return worker;
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
 * ```ts ignore
 * import { connectSeqpacket, listenSeqpacket } from "./seqpacket_ffi.ts";
 * const listener = await listenSeqpacket({ path: "demo", abstract: true });
 * const client = await connectSeqpacket({ path: "demo", abstract: true });
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
 * ```ts ignore
 * import { connectSeqpacket } from "./seqpacket_ffi.ts";
 * const socket = await connectSeqpacket({ path: "/run/app.sock", abstract: false });
 * await socket.close();
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
 * ```ts ignore
 * import { seqpacketPair } from "./seqpacket_ffi.ts";
 * const [a, b] = await seqpacketPair({ maxPacketSize: 4096 });
 * await a.close();
 * await b.close();
 * ```
 */
export function seqpacketPair(options?: SeqpacketOptions): Promise<[PacketSocket, PacketSocket]> {
  return api.pair(options);
}
