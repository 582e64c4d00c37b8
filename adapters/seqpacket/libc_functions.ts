/**
 * The one table of libc functions the seqpacket layer calls, with the C
 * types of their arguments and results, and the {@link Libc} built from a
 * runtime's bindings of it. Each runtime maps the C types to its own FFI's
 * spelling (Deno's `dlopen` types, `bun:ffi` types, koffi prototypes) and
 * binds every function of the table; nothing else lists them.
 *
 * @module
 */

import type { Libc, NativeMemory } from "./libc.ts";

/** The C types used: `int`, `uint32_t`, `ssize_t`, `size_t` and pointers. */
export type CType = "int" | "uint32" | "ssize" | "size" | "pointer";

/** Argument and result types of one function. */
export interface Signature {
  /** Argument types, in order. */
  readonly args: readonly CType[];
  /** Result type. */
  readonly result: CType;
}

/** `epoll_wait(2)`: bound only by the Deno and Bun watcher threads, for their blocking waits. */
export const EPOLL_WAIT: Signature = { args: ["int", "pointer", "int", "int"], result: "int" };

/** `__errno_location()`, for runtimes that read errno through memory (Deno and Bun). */
export const ERRNO_LOCATION: Signature = { args: [], result: "pointer" };

/** The name of a libc function behind {@link Libc}. */
export type LibcFunctionName = Exclude<keyof Libc, "errno" | "allocate">;

/** Every libc function behind {@link Libc}. */
export const LIBC_FUNCTIONS: Readonly<Record<LibcFunctionName, Signature>> = {
  socket: { args: ["int", "int", "int"], result: "int" },
  socketpair: { args: ["int", "int", "int", "pointer"], result: "int" },
  bind: { args: ["int", "pointer", "uint32"], result: "int" },
  listen: { args: ["int", "int"], result: "int" },
  accept4: { args: ["int", "pointer", "pointer", "int"], result: "int" },
  connect: { args: ["int", "pointer", "uint32"], result: "int" },
  sendmsg: { args: ["int", "pointer", "int"], result: "ssize" },
  sendmmsg: { args: ["int", "pointer", "uint32", "int"], result: "int" },
  recvmsg: { args: ["int", "pointer", "int"], result: "ssize" },
  recvmmsg: { args: ["int", "pointer", "uint32", "int", "pointer"], result: "int" },
  poll: { args: ["pointer", "size", "int"], result: "int" },
  // Variadic in C; bound with its one int argument, which both 64-bit ABIs pass as for a fixed one.
  fcntl: { args: ["int", "int", "int"], result: "int" },
  getsockopt: { args: ["int", "int", "int", "pointer", "pointer"], result: "int" },
  setsockopt: { args: ["int", "int", "int", "pointer", "uint32"], result: "int" },
  shutdown: { args: ["int", "int"], result: "int" },
  close: { args: ["int"], result: "int" },
  epoll_create1: { args: ["int"], result: "int" },
  epoll_ctl: { args: ["int", "int", "int", "pointer"], result: "int" },
  statx: { args: ["int", "pointer", "int", "uint32", "pointer"], result: "int" },
  chmod: { args: ["pointer", "uint32"], result: "int" },
  link: { args: ["pointer", "pointer"], result: "int" },
  unlink: { args: ["pointer"], result: "int" },
  rename: { args: ["pointer", "pointer"], result: "int" },
  rmdir: { args: ["pointer"], result: "int" },
  mkdtemp: { args: ["pointer"], result: "pointer" },
};

/**
 * Describes every function a runtime binds, in its FFI's terms: the
 * functions of {@link LIBC_FUNCTIONS} and `__errno_location`.
 *
 * @param translate Describes one function for the FFI.
 * @returns The descriptions by function name.
 *
 * @example
 * ```ts
 * import { libcSymbols } from "./libc_functions.ts";
 * const arities = libcSymbols((signature) => signature.args.length);
 * console.assert(arities.close === 1 && arities.__errno_location === 0);
 * ```
 */
export function libcSymbols<T>(
  translate: (signature: Signature, name: LibcFunctionName | "__errno_location") => T,
): Record<LibcFunctionName | "__errno_location", T> {
  return mapSignatures({ ...LIBC_FUNCTIONS, __errno_location: ERRNO_LOCATION }, translate);
}

function mapSignatures<Name extends string, T>(
  table: Readonly<Record<Name, Signature>>,
  translate: (signature: Signature, name: Name) => T,
): Record<Name, T> {
  const entries = Object.entries(table) as [Name, Signature][];
  return Object.fromEntries(entries.map(([name, signature]) => [name, translate(signature, name)])) as Record<Name, T>;
}

/** A bound FFI function; 64-bit results may come back as `bigint`. */
export type NativeFunction = (...args: unknown[]) => unknown;

/**
 * Builds the {@link Libc} of a runtime from its bindings of {@link LIBC_FUNCTIONS}.
 *
 * @param functions Every function of the table, bound by the runtime's FFI.
 * @param memory The runtime's errno and stable memory.
 * @returns The bindings the seqpacket layer calls.
 */
export function createLibc(
  functions: Readonly<Record<LibcFunctionName, NativeFunction>>,
  memory: { errno(): number; allocate(size: number): NativeMemory },
): Libc {
  const calls = mapSignatures(LIBC_FUNCTIONS, (signature, name) => {
    const call = functions[name];
    if (signature.result === "ssize") return (...args: unknown[]) => Number(call(...args));
    // A returned pointer only says success or failure here (mkdtemp): NULL is null, 0 or 0n depending on the FFI.
    if (signature.result === "pointer") {
      return (...args: unknown[]) => {
        const pointer = call(...args);
        return pointer === null || pointer === 0 || pointer === 0n ? 0 : 1;
      };
    }
    return call;
  });
  const accept4 = functions.accept4;
  const recvmmsg = functions.recvmmsg;
  return {
    ...(calls as unknown as Libc),
    accept4: (fd, flags) => accept4(fd, null, null, flags) as number,
    recvmmsg: (fd, messages, count, flags) => recvmmsg(fd, messages, count, flags, null) as number,
    errno: memory.errno,
    allocate: memory.allocate,
  };
}
