/**
 * Deno's binding of the seqpacket layer, through `Deno.dlopen` (needs
 * `--allow-ffi`): the libc table in Deno's FFI types, and the lines that
 * bind `epoll_wait` in the shared watcher thread (`../seqpacket/thread_watcher.ts`,
 * see docs/ARCHITECTURE.md). libc is opened
 * once, when the first seqpacket socket is made or the first peer
 * credentials of a Unix stream socket are read.
 *
 * @module
 */

import type { Libc, SeqpacketBackend, SeqpacketPlatform } from "../seqpacket/libc.ts";
import {
  createLibc,
  type CType,
  EPOLL_WAIT,
  ERRNO_LOCATION,
  libcSymbols,
  type Signature,
} from "../seqpacket/libc_functions.ts";
import { threadReadiness } from "../seqpacket/thread_watcher.ts";

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

let libc: Libc | undefined;

/** Opens libc once per process; throws `NotCapable` without `--allow-ffi`. */
function bind(): Libc {
  if (libc !== undefined) return libc;
  const ffi = deno();
  const symbols = ffi.dlopen("libc.so.6", libcSymbols(denoSymbol)).symbols;
  const errno = new Int32Array(ffi.UnsafePointerView.getArrayBuffer(symbols.__errno_location(), 4));
  libc = createLibc(symbols, {
    errno: () => errno[0] ?? 0,
    allocate(size) {
      const bytes = new Uint8Array(new ArrayBuffer(size));
      return { bytes, address: BigInt(ffi.UnsafePointer.value(ffi.UnsafePointer.of(bytes))) };
    },
  });
  return libc;
}

/** Binds `epoll_wait` and errno inside the watcher thread (which inherits `--allow-ffi`). */
const WATCHER_BINDING = `
const { symbols } = Deno.dlopen("libc.so.6", {
  epoll_wait: ${JSON.stringify(denoSymbol(EPOLL_WAIT))},
  __errno_location: ${JSON.stringify(denoSymbol(ERRNO_LOCATION))},
});
const errnoCell = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(symbols.__errno_location(), 4));
const epollWait = (epfd, events, maxEvents) => symbols.epoll_wait(epfd, events, maxEvents, -1);
const errno = () => errnoCell[0];
`;

/**
 * Opens libc once per process (later calls return the same bindings); also
 * used without the rest of the seqpacket layer: peer credentials and the
 * listener guard.
 *
 * @returns The bindings.
 * @throws `NotCapable` without `--allow-ffi`.
 */
export function loadLibc(): Promise<Libc> {
  return Promise.resolve().then(bind);
}

async function loadSeqpacketBackend(): Promise<SeqpacketBackend> {
  const libc = await loadLibc();
  return { libc, readiness: (layout) => threadReadiness(WATCHER_BINDING, { libc, layout }) };
}

/** Deno's platform, file operations and FFI binding, for the shared seqpacket layer. */
export const seqpacketPlatform: SeqpacketPlatform = {
  os: () => deno().build.os,
  arch: () => deno().build.arch,
  loadBackend: loadSeqpacketBackend,
};
