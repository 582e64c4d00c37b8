/**
 * Unix SOCK_SEQPACKET sockets for Node.js, through koffi. koffi is imported
 * on first use only.
 *
 * Readiness: the poller's epoll descriptor is watched by Node's own event
 * loop through koffi's libuv poll handle (`koffi.node.poll`, a uv_poll_t on
 * the nested epoll descriptor), so no thread is used at all: neither a
 * libuv pool thread (a koffi `.async()` epoll_wait would hold one of the
 * pool's 4 threads for as long as a receive is pending, which for a server
 * is always, taking a quarter of the pool from every fs call) nor a Worker
 * (which hangs the process at exit while blocked in epoll_wait). The handle
 * stays started and is ref'ed only while an operation waits, so it keeps the
 * process alive exactly then; leaving it started instead of stopping it
 * after each wake-up saved about 8 µs per round trip. Measured on this
 * 2-core machine: about 30 µs per 64-byte request/response round trip over
 * a pair in one process, about 50 µs between two processes (where Node's
 * own Unix stream sockets take about 28 µs). One uv_poll per socket instead of the shared
 * epoll set measured only about 4 µs better in one process, not enough to
 * give Node its own poller.
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
import { isMainThread } from "node:worker_threads";
import { UsageError } from "../../src/base/errors.ts";
import type { Listener, PacketSocket } from "../../src/transport/types.ts";
import type { SeqpacketAddress, SeqpacketListenOptions, SeqpacketOptions } from "../seqpacket/types.ts";
import type { EpollWatcher, Libc, SeqpacketBackend } from "../seqpacket/libc.ts";
import { createSeqpacketApi, type SeqpacketApi } from "../seqpacket/operations.ts";

export type { SeqpacketAddress, SeqpacketListenOptions, SeqpacketOptions } from "../seqpacket/types.ts";

/** The subset of koffi's API used here; its own typings vary between releases. */
interface Koffi {
  load(path: string): { func(prototype: string): (...args: unknown[]) => unknown };
  errno(): number;
  address(value: unknown): bigint;
  node?: {
    poll?(fd: number, options: { readable: boolean }, callback: () => void): KoffiPollHandle | null;
  };
}

interface KoffiPollHandle {
  start(options: { readable: boolean }, callback: () => void): void;
  stop(): void;
  ref(): void;
  unref(): void;
}

const api: SeqpacketApi = createSeqpacketApi({
  os: () => process.platform,
  arch: () => process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch,
  load: loadKoffi,
});

async function loadKoffi(): Promise<SeqpacketBackend> {
  if (!isMainThread) {
    // A koffi poll handle that is open when a worker thread is terminated
    // crashes the whole process (its close callback lives in unloaded code).
    throw new UsageError(
      "ERR_UNSUPPORTED_PLATFORM",
      "Seqpacket sockets are not available in Node worker threads (koffi's poll handle crashes the process when the worker ends); use them from the main thread",
    );
  }
  const koffi = (await import("koffi")).default as unknown as Koffi;
  const poll = koffi.node?.poll;
  if (typeof poll !== "function") {
    throw new Error("This koffi release has no koffi.node.poll; peerlink's seqpacket transport needs koffi 3.3");
  }
  const lib = koffi.load("libc.so.6");
  const f = (prototype: string): (...args: unknown[]) => number =>
    lib.func(prototype) as (...args: unknown[]) => number;
  const libc: Libc = {
    errno: () => koffi.errno(),
    allocate(size) {
      // An explicit ArrayBuffer lives outside V8's heap and never moves.
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: koffi.address(bytes) };
    },
    socket: f("int socket(int, int, int)"),
    socketpair: f("int socketpair(int, int, int, void *)"),
    bind: f("int bind(int, void *, uint32_t)"),
    listen: f("int listen(int, int)"),
    accept4: ((accept4) => (fd: number, flags: number) => accept4(fd, null, null, flags))(
      f("int accept4(int, void *, void *, int)"),
    ),
    connect: f("int connect(int, void *, uint32_t)"),
    sendmsg: f("long sendmsg(int, void *, int)"),
    recvmsg: f("long recvmsg(int, void *, int)"),
    getsockopt: f("int getsockopt(int, int, int, void *, void *)"),
    setsockopt: f("int setsockopt(int, int, int, void *, uint32_t)"),
    shutdown: f("int shutdown(int, int)"),
    close: f("int close(int)"),
    unlink: f("int unlink(void *)"),
    chmod: f("int chmod(void *, uint32_t)"),
    statx: f("int statx(int, void *, int, uint32_t, void *)"),
    epoll_create1: f("int epoll_create1(int)"),
    epoll_ctl: f("int epoll_ctl(int, int, int, void *)"),
    epoll_wait: f("int epoll_wait(int, void *, int, int)"),
    eventfd: f("int eventfd(uint32_t, int)"),
    read: f("long read(int, void *, size_t)"),
    write: f("long write(int, void *, size_t)"),
  };
  return { libc, watch: (epfd) => new UvPollWatcher(poll, epfd) };
}

/** Watches the epoll descriptor with a libuv poll handle on Node's own loop. */
class UvPollWatcher implements EpollWatcher {
  readonly #poll: NonNullable<NonNullable<Koffi["node"]>["poll"]>;
  readonly #epfd: number;
  #handle: KoffiPollHandle | null = null;
  #started = false;
  #resolve: (() => void) | null = null;

  constructor(poll: NonNullable<NonNullable<Koffi["node"]>["poll"]>, epfd: number) {
    this.#poll = poll;
    this.#epfd = epfd;
  }

  readable(): Promise<void> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      if (this.#handle === null) {
        this.#handle = this.#poll(this.#epfd, { readable: true }, () => this.#ready());
        if (this.#handle === null) throw new Error("koffi could not watch the epoll descriptor");
        this.#started = true;
      } else if (!this.#started) {
        this.#handle.start({ readable: true }, () => this.#ready());
        this.#started = true;
      }
      this.#handle.ref();
    });
  }

  #ready(): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.#handle?.unref();
    if (resolve === null) {
      this.#handle?.stop();
      this.#started = false;
      return;
    }
    resolve();
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
