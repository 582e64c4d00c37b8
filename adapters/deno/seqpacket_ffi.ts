/**
 * Deno's binding of the seqpacket layer, through `Deno.dlopen` (needs
 * `--allow-ffi`): the libc table in Deno's FFI types, and a watcher that
 * waits for the poller's epoll descriptor with one `poll()` call on Deno's
 * blocking thread pool (see docs/ARCHITECTURE.md). libc is opened
 * when the first seqpacket socket is made.
 *
 * @module
 */

import type { EpollWatcher, SeqpacketBackend, SeqpacketPlatform } from "../seqpacket/libc.ts";
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

function loadSeqpacketBackend(): Promise<SeqpacketBackend> {
  const ffi = deno();
  const symbols = ffi.dlopen("libc.so.6", {
    ...libcSymbols(denoSymbol),
    // Runs on Deno's blocking thread pool and returns a promise.
    poll: { ...denoSymbol(POLL), nonblocking: true },
  }).symbols;
  const errno = new Int32Array(ffi.UnsafePointerView.getArrayBuffer(symbols.__errno_location(), 4));
  const libc = createLibc(symbols, {
    errno: () => errno[0] ?? 0,
    allocate(size) {
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: BigInt(ffi.UnsafePointer.value(ffi.UnsafePointer.of(bytes))) };
    },
  });
  const poll = symbols.poll as PollFunction;
  return Promise.resolve({ libc, watch: (epfd) => new BlockingPoolWatcher(poll, epfd) });
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
