/**
 * Bun's binding of the seqpacket layer, through `bun:ffi` (imported on
 * first use): the libc table in `bun:ffi` types, and the lines that bind
 * `epoll_wait` in the shared watcher thread (`../seqpacket/thread_watcher.ts`,
 * see docs/ARCHITECTURE.md).
 *
 * @module
 */

import process from "node:process";
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

/** The part of `bun:ffi` used here, declared locally so that other type checkers accept this file. */
interface BunFfi {
  dlopen<Name extends string>(
    path: string,
    symbols: Record<Name, unknown>,
  ): { symbols: Record<Name, (...args: unknown[]) => unknown> };
  ptr(value: Uint8Array): number;
  toArrayBuffer(pointer: number, offset: number, length: number): ArrayBuffer;
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

/** Binds `epoll_wait` and errno inside the watcher thread. */
const WATCHER_BINDING = `
const { dlopen, toArrayBuffer } = require("bun:ffi");
const { symbols } = dlopen("libc.so.6", {
  epoll_wait: ${JSON.stringify(bunSymbol(EPOLL_WAIT))},
  __errno_location: ${JSON.stringify(bunSymbol(ERRNO_LOCATION))},
});
const errnoCell = new Int32Array(toArrayBuffer(symbols.__errno_location(), 0, 4));
const epollWait = (epfd, events, maxEvents) => symbols.epoll_wait(epfd, events, maxEvents, -1);
const errno = () => errnoCell[0];
`;

async function loadSeqpacketBackend(): Promise<SeqpacketBackend> {
  const libc = await loadLibc();
  return { libc, readiness: (layout) => threadReadiness(WATCHER_BINDING, { libc, layout }) };
}

/** Bun's platform, file operations and FFI binding, for the shared seqpacket layer. */
export const seqpacketPlatform: SeqpacketPlatform = {
  os: () => process.platform,
  arch: () => process.arch,
  loadBackend: loadSeqpacketBackend,
};
