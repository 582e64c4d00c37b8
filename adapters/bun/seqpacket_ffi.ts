/**
 * Bun's binding of the seqpacket layer, through `bun:ffi` (imported on
 * first use): the libc table in `bun:ffi` types, and a watcher that waits
 * for the poller's epoll descriptor in a Worker blocked in `poll()` (see
 * docs/ARCHITECTURE.md).
 *
 * @module
 */

import process from "node:process";
import type { EpollWatcher, Libc, SeqpacketBackend, SeqpacketPlatform } from "../seqpacket/libc.ts";
import { pollfdFor } from "../seqpacket/layout.ts";
import { createLibc, type CType, libcSymbols, POLL, type Signature } from "../seqpacket/libc_functions.ts";

/** The part of `bun:ffi` used here, declared locally so that other type checkers accept this file. */
interface BunFfi {
  dlopen<Name extends string>(
    path: string,
    symbols: Record<Name, unknown>,
  ): { symbols: Record<Name, (...args: unknown[]) => unknown> };
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

/** `bun:ffi`'s spelling of each C type. */
const BUN_TYPES: Readonly<Record<CType, string>> = {
  int: "i32",
  uint32: "u32",
  ssize: "i64_fast",
  size: "u64",
  pointer: "ptr",
};

function bunSymbol(signature: Signature): { args: string[]; returns: string } {
  return { args: signature.args.map((type) => BUN_TYPES[type]), returns: BUN_TYPES[signature.result] };
}

let libc: Promise<Libc> | undefined;

/**
 * Binds libc once per process (later calls return the same bindings); also
 * used without the rest of the seqpacket layer: peer credentials, probes of
 * socket files, the listener guard.
 *
 * @returns The bindings.
 */
export function loadLibc(): Promise<Libc> {
  libc ??= bindLibc();
  return libc;
}

async function bindLibc(): Promise<Libc> {
  const ffi = await import(BUN_FFI) as BunFfi;
  const symbols = ffi.dlopen("libc.so.6", libcSymbols(bunSymbol)).symbols;
  const errno = new Int32Array(ffi.toArrayBuffer(symbols.__errno_location() as number, 0, 4));
  return createLibc(symbols, {
    errno: () => errno[0] ?? 0,
    allocate(size) {
      // ArrayBuffer storage is never moved by JavaScriptCore's collector.
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: BigInt(ffi.ptr(bytes)) };
    },
  });
}

async function loadSeqpacketBackend(): Promise<SeqpacketBackend> {
  return { libc: await loadLibc(), watch: (epfd) => new WorkerWatcher(epfd) };
}

/**
 * The Worker's code: the first message carries the struct pollfd; on each
 * later message, block in poll() until the epoll descriptor is readable,
 * then answer.
 */
const WORKER_SOURCE = `
import { dlopen } from "bun:ffi";
const { symbols } = dlopen("libc.so.6", { poll: ${JSON.stringify(bunSymbol(POLL))} });
let pollfd;
self.onmessage = (event) => {
  if (typeof event.data === "object") {
    pollfd = new Uint8Array(event.data.pollfd);
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
    worker.postMessage({ pollfd: pollfdFor(this.#epfd).buffer });
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}

/** Bun's platform, file operations and FFI binding, for the shared seqpacket layer. */
export const seqpacketPlatform: SeqpacketPlatform = {
  os: () => process.platform,
  arch: () => process.arch,
  loadBackend: loadSeqpacketBackend,
};
