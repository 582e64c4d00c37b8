/**
 * Node's binding of the seqpacket layer, through koffi (an optional peer
 * dependency, imported on first use): the libc table as koffi prototypes,
 * and a watcher that puts the poller's epoll descriptor in a libuv poll
 * handle on Node's own event loop (see docs/ARCHITECTURE.md).
 * Refused in worker threads.
 *
 * @module
 */

import process from "node:process";
import { setImmediate } from "node:timers";
import { isMainThread } from "node:worker_threads";
import { UsageError } from "../../src/base/errors.ts";
import type { EpollWatcher, Libc, SeqpacketBackend, SeqpacketPlatform } from "../seqpacket/libc.ts";
import { createLibc, type CType, libcSymbols, type NativeFunction } from "../seqpacket/libc_functions.ts";

/** The subset of koffi's API used here; its own typings vary between releases. */
interface Koffi {
  load(path: string): { func(prototype: string): NativeFunction };
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
  return { libc, watch: (epfd) => new UvPollWatcher(poll, epfd) };
}

/** Watches the epoll descriptor with a libuv poll handle on Node's own loop. */
class UvPollWatcher implements EpollWatcher {
  readonly #poll: KoffiPoll;
  readonly #epfd: number;
  #handle: KoffiPollHandle | null = null;
  #started = false;
  #resolve: (() => void) | null = null;

  constructor(poll: KoffiPoll, epfd: number) {
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
    // koffi calls this from libuv without Node's callback scope, so promise reactions queued here would wait
    // for the next unrelated callback (on Node 26, until the next timer fired: 2 s instead of 1.5 ms).
    // setImmediate runs in this loop iteration and drains the microtask queue after it.
    setImmediate(resolve);
  }
}

/** Node's platform, file operations and FFI binding, for the shared seqpacket layer. */
export const seqpacketPlatform: SeqpacketPlatform = {
  os: () => process.platform,
  arch: () => process.arch,
  loadBackend: loadSeqpacketBackend,
};
