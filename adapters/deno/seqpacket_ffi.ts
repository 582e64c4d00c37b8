/**
 * Deno's binding of the seqpacket layer, through `Deno.dlopen` (needs
 * `--allow-ffi`): the libc table in Deno's FFI types, and a watcher that
 * waits for the poller's epoll descriptor with one `poll()` call on Deno's
 * blocking thread pool (see docs/ARCHITECTURE.md). libc is opened
 * once, when the first seqpacket socket is made or the first peer
 * credentials of a Unix stream socket are read.
 *
 * @module
 */

import type { EpollWatcher, Libc, SeqpacketBackend, SeqpacketPlatform } from "../seqpacket/libc.ts";
import { pollfdFor } from "../seqpacket/layout.ts";
import { createLibc, type CType, libcSymbols, POLL, type Signature } from "../seqpacket/libc_functions.ts";

/**
 * The part of the `Deno` namespace used here, declared locally so that this
 * file also type-checks where Deno's types are absent (tsc for Node).
 */
interface DenoFfi {
  build: { os: string; arch: string };
  dlopen<Name extends string>(
    path: string,
    symbols: Record<Name, unknown>,
  ): { symbols: Record<Name, (...args: unknown[]) => unknown> };
  UnsafePointer: { of(value: Uint8Array): unknown; value(pointer: unknown): number | bigint };
  UnsafePointerView: { getArrayBuffer(pointer: unknown, length: number): ArrayBuffer };
}

function deno(): DenoFfi {
  return (globalThis as unknown as { Deno: DenoFfi }).Deno;
}

/** Deno's spelling of each C type, as a parameter and as a result. */
const DENO_TYPES: Readonly<Record<CType, readonly [parameter: string, result: string]>> = {
  int: ["i32", "i32"],
  uint32: ["u32", "u32"],
  ssize: ["isize", "isize"],
  size: ["usize", "usize"],
  pointer: ["buffer", "pointer"],
};

function denoSymbol(signature: Signature): { parameters: string[]; result: string } {
  return { parameters: signature.args.map((type) => DENO_TYPES[type][0]), result: DENO_TYPES[signature.result][1] };
}

type PollFunction = (fds: Uint8Array, count: number, timeout: number) => Promise<number>;

/** The process's bindings: the libc table, and `poll` once more as a call on the blocking thread pool. */
interface DenoBindings {
  readonly libc: Libc;
  readonly pollOffThread: PollFunction;
}

let bindings: DenoBindings | undefined;

/** Opens libc once per process; throws `NotCapable` without `--allow-ffi`. */
function bind(): DenoBindings {
  if (bindings !== undefined) return bindings;
  const ffi = deno();
  const symbols = ffi.dlopen("libc.so.6", {
    ...libcSymbols(denoSymbol),
    // The same poll(2), run on Deno's blocking thread pool: it returns a promise.
    poll_off_thread: { ...denoSymbol(POLL), name: "poll", nonblocking: true },
  }).symbols;
  const errno = new Int32Array(ffi.UnsafePointerView.getArrayBuffer(symbols.__errno_location(), 4));
  const libc = createLibc(symbols, {
    errno: () => errno[0] ?? 0,
    allocate(size) {
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: BigInt(ffi.UnsafePointer.value(ffi.UnsafePointer.of(bytes))) };
    },
  });
  bindings = { libc, pollOffThread: symbols.poll_off_thread as PollFunction };
  return bindings;
}

/**
 * Opens libc once per process (later calls return the same bindings); also
 * used without the rest of the seqpacket layer: peer credentials and the
 * listener guard.
 *
 * @returns The bindings.
 * @throws `NotCapable` without `--allow-ffi`.
 */
export function loadLibc(): Promise<Libc> {
  return Promise.resolve().then(() => bind().libc);
}

async function loadSeqpacketBackend(): Promise<SeqpacketBackend> {
  const { libc, pollOffThread } = await Promise.resolve().then(bind);
  return { libc, watch: (epfd) => new BlockingPoolWatcher(pollOffThread, epfd) };
}

/** Waits for the epoll descriptor with one nonblocking (thread pool) `poll()` call. */
class BlockingPoolWatcher implements EpollWatcher {
  readonly #poll: PollFunction;
  readonly #pollfd: Uint8Array;

  constructor(poll: PollFunction, epfd: number) {
    this.#poll = poll;
    this.#pollfd = pollfdFor(epfd);
  }

  async readable(): Promise<void> {
    await this.#poll(this.#pollfd, 1, -1);
  }
}

/** Deno's platform, file operations and FFI binding, for the shared seqpacket layer. */
export const seqpacketPlatform: SeqpacketPlatform = {
  os: () => deno().build.os,
  arch: () => deno().build.arch,
  loadBackend: loadSeqpacketBackend,
};
