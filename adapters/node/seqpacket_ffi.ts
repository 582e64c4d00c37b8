/**
 * Node's binding of the seqpacket layer, through koffi (an optional peer
 * dependency, imported on first use): the libc table as koffi prototypes,
 * and a libuv poll handle per descriptor on Node's own event loop for
 * readiness (`../seqpacket/handle_readiness.ts`, see docs/ARCHITECTURE.md).
 * Refused in worker threads.
 *
 * @module
 */

import process from "node:process";
import { setImmediate } from "node:timers";
import { isMainThread } from "node:worker_threads";
import { UsageError } from "../../src/base/errors.ts";
import type { Libc, SeqpacketBackend, SeqpacketPlatform } from "../seqpacket/libc.ts";
import { HandleReadiness, type PollHandle } from "../seqpacket/handle_readiness.ts";
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT } from "../seqpacket/linux.ts";
import { createLibc, type CType, libcSymbols, type NativeFunction } from "../seqpacket/libc_functions.ts";

/** The subset of koffi's API used here; its own typings vary between releases. */
interface Koffi {
  load(path: string): { func(prototype: string): NativeFunction };
  errno(): number;
  address(value: unknown): bigint;
  node?: {
    poll?(fd: number, options: KoffiPollOptions, callback: KoffiPollCallback): KoffiPollHandle | null;
  };
}

interface KoffiPollOptions {
  readable: boolean;
  writable: boolean;
}

/** koffi passes the libuv status (negative on error) and what was seen. */
type KoffiPollCallback = (status: number, seen: { readable: boolean; writable: boolean; disconnect: boolean }) => void;

interface KoffiPollHandle {
  start(options: KoffiPollOptions, callback: KoffiPollCallback): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

type KoffiPoll = NonNullable<NonNullable<Koffi["node"]>["poll"]>;

/** koffi's spelling of each C type. */
const KOFFI_TYPES: Readonly<Record<CType, string>> = {
  int: "int",
  uint32: "uint32_t",
  ssize: "long",
  size: "size_t",
  pointer: "void *",
};

async function importKoffi(): Promise<Koffi> {
  let module: { default: unknown };
  try {
    module = await import("koffi");
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    const missing = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
    throw new UsageError(
      "ERR_UNSUPPORTED_PLATFORM",
      missing
        ? "Seqpacket sockets on Node need the koffi package, which is not installed; run `npm install koffi`"
        : `Seqpacket sockets on Node need the koffi package, which failed to load: ${
          (cause as Error)?.message ?? cause
        }`,
      { cause },
    );
  }
  return module.default as Koffi;
}

/** koffi and the libc table bound through it, once per process. */
interface KoffiLibc {
  readonly koffi: Koffi;
  readonly libc: Libc;
}

let bound: Promise<KoffiLibc> | undefined;

function bindLibc(): Promise<KoffiLibc> {
  const binding = bound ??= importKoffi().then((koffi) => {
    const lib = koffi.load("libc.so.6");
    const functions = libcSymbols((signature, name) =>
      lib.func(
        `${KOFFI_TYPES[signature.result]} ${name}(${signature.args.map((type) => KOFFI_TYPES[type]).join(", ")})`,
      )
    );
    const libc = createLibc(functions, {
      errno: () => koffi.errno(),
      allocate(size) {
        // An explicit ArrayBuffer lives outside V8's heap and never moves.
        const bytes = new Uint8Array(new ArrayBuffer(size));
        return { bytes, address: koffi.address(bytes) };
      },
    });
    return { koffi, libc };
  });
  // A failed import may be retried (after `npm install koffi`, in a long-lived process).
  binding.catch(() => {
    if (bound === binding) bound = undefined;
  });
  return binding;
}

/**
 * Binds libc through koffi once per process (later calls return the same
 * bindings); also used without the rest of the seqpacket layer, for peer
 * credentials. Usable in worker threads (only koffi's poll handle is not).
 *
 * @returns The bindings.
 * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` when koffi is not installed or fails to load.
 */
export async function loadLibc(): Promise<Libc> {
  return (await bindLibc()).libc;
}

async function loadSeqpacketBackend(): Promise<SeqpacketBackend> {
  if (!isMainThread) {
    // A koffi poll handle that is open when a worker thread is terminated
    // crashes the whole process (its close callback lives in unloaded code).
    throw new UsageError(
      "ERR_UNSUPPORTED_PLATFORM",
      "Seqpacket sockets are not available in Node worker threads (koffi's poll handle crashes the process when the worker ends); use them from the main thread",
    );
  }
  const { koffi, libc } = await bindLibc();
  const poll = koffi.node?.poll;
  if (typeof poll !== "function") {
    throw new UsageError(
      "ERR_UNSUPPORTED_PLATFORM",
      "Seqpacket sockets on Node need koffi 3.3 or later (koffi.node.poll is missing); run `npm install koffi@3`",
    );
  }
  return { libc, readiness: () => new HandleReadiness((fd, ready) => new UvPollHandle(poll, fd, ready)) };
}

/** Descriptors whose poll handles fired in this turn of the loop, and what each saw. */
const fired = new Map<UvPollHandle, number>();

/**
 * koffi calls poll callbacks from libuv without Node's callback scope, so
 * promise reactions queued there would wait for the next unrelated callback
 * (on Node 26, until the next timer fired: 2 s instead of 1.5 ms). One
 * setImmediate per turn (it runs in the same loop iteration and drains the
 * microtask queue after it) hands every handle that fired its events.
 */
function deliverFired(): void {
  const handles = [...fired];
  fired.clear();
  for (const [handle, events] of handles) handle.deliver(events);
}

/** A libuv poll handle on one descriptor, through koffi. */
class UvPollHandle implements PollHandle {
  readonly #poll: KoffiPoll;
  readonly #fd: number;
  readonly #ready: (events: number) => void;
  #handle: KoffiPollHandle | null = null;

  constructor(poll: KoffiPoll, fd: number, ready: (events: number) => void) {
    this.#poll = poll;
    this.#fd = fd;
    this.#ready = ready;
  }

  start(events: number): void {
    const options = { readable: (events & EPOLLIN) !== 0, writable: (events & EPOLLOUT) !== 0 };
    if (this.#handle === null) {
      this.#handle = this.#poll(this.#fd, options, this.#fired);
      if (this.#handle === null) throw new Error("koffi could not watch a seqpacket descriptor");
    } else {
      this.#handle.start(options, this.#fired);
    }
  }

  stop(): void {
    this.#handle?.stop();
  }

  ref(): void {
    this.#handle?.ref();
  }

  unref(): void {
    this.#handle?.unref();
  }

  close(): void {
    fired.delete(this);
    this.#handle?.close();
    this.#handle = null;
  }

  /** Hands over what fired, in a callback after which promise reactions run. */
  deliver(events: number): void {
    if (this.#handle !== null) this.#ready(events);
  }

  readonly #fired: KoffiPollCallback = (status, seen) => {
    const events = status < 0 ? EPOLLERR : (seen.readable ? EPOLLIN : 0) | (seen.writable ? EPOLLOUT : 0) |
      (seen.disconnect ? EPOLLHUP : 0);
    if (fired.size === 0) setImmediate(deliverFired);
    fired.set(this, (fired.get(this) ?? 0) | events);
  };
}

/** Node's platform, file operations and FFI binding, for the shared seqpacket layer. */
export const seqpacketPlatform: SeqpacketPlatform = {
  os: () => process.platform,
  arch: () => process.arch,
  loadBackend: loadSeqpacketBackend,
};
