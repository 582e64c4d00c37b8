/**
 * The epoll watcher of Deno and Bun: one `node:worker_threads` Worker per
 * process that stays blocked in `epoll_wait` on the poller's descriptor and
 * hands what it collected to the JavaScript thread through a ring of events
 * in shared memory, announced with `Atomics.notify` and awaited with
 * `Atomics.waitAsync`. Each runtime gives only the lines that bind
 * `epoll_wait` and errno inside the Worker.
 *
 * The Worker loops without being asked: the poller arms each socket with
 * EPOLLONESHOT, so an event is reported once and the Worker blocks again
 * until a socket is armed anew. A wake-up costs the Worker's return from
 * `epoll_wait` and one notification; nothing has to be sent to the Worker
 * to arm it. The Worker is ref'ed only while some operation waits (a pending
 * `waitAsync` keeps no runtime alive); both runtimes exit while it is
 * blocked. See docs/ARCHITECTURE.md for the measurements.
 *
 * @module
 */

import { Worker } from "node:worker_threads";
import type { Libc, Readiness } from "./libc.ts";
import type { StructLayout } from "./layout.ts";
import { EpollPoller, type EpollWatcher, type WatchTarget } from "./poller.ts";
import { SystemCallError } from "./errors.ts";
import { Errno } from "../../src/transport/errno.ts";

/** The most events one `epoll_wait` of the Worker collects. */
const MAX_EVENTS = 64;

/** Events the ring holds (a power of two); a full ring makes the Worker wait for the JavaScript thread. */
const CAPACITY = 1024;

/** Int32 slots of the ring: the count of events written, the count read, then two slots (token, events) per event. */
const HEAD = 0;
const TAIL = 1;
const RECORDS = 2;

/**
 * The Worker's code around the runtime's `binding`, which must define
 * `epollWait(epfd, events, maxEvents)` (blocking, returns what libc returns)
 * and `errno()`. Head and tail count events modulo 2³²; a number posted
 * back is the errno of a failed wait.
 */
function workerSource(binding: string): string {
  return `"use strict";
const { parentPort, workerData } = require("node:worker_threads");
${binding}
const { epfd, eventSize, dataOffset, ring: shared } = workerData;
const ring = new Int32Array(shared);
const events = new Uint8Array(new ArrayBuffer(eventSize * ${MAX_EVENTS}));
const view = new DataView(events.buffer);
let head = Atomics.load(ring, ${HEAD});
for (;;) {
  const count = epollWait(epfd, events, ${MAX_EVENTS});
  if (count < 0) {
    if (errno() === ${Errno.EINTR}) continue;
    parentPort.postMessage(errno());
    break;
  }
  for (let i = 0; i < count; i++) {
    for (;;) {
      const tail = Atomics.load(ring, ${TAIL});
      if (((head - tail) | 0) < ${CAPACITY}) break;
      Atomics.store(ring, ${HEAD}, head);
      Atomics.notify(ring, ${HEAD});
      Atomics.wait(ring, ${TAIL}, tail);
    }
    const slot = ${RECORDS} + 2 * (head & ${CAPACITY - 1});
    ring[slot] = view.getUint32(i * eventSize + dataOffset, true) | 0;
    ring[slot + 1] = view.getUint32(i * eventSize, true) | 0;
    head = (head + 1) | 0;
  }
  Atomics.store(ring, ${HEAD}, head);
  Atomics.notify(ring, ${HEAD});
}
`;
}

/**
 * The readiness of a runtime that watches the epoll set from a thread:
 * the poller with this file's watcher, whose Worker starts on the first wait.
 *
 * @param binding Code that defines `epollWait` and `errno` inside the Worker, for the runtime's FFI.
 * @param system The runtime's libc bindings and the architecture's struct layout.
 * @returns The readiness of the process.
 * @throws {SystemCallError} if the epoll set cannot be made.
 */
export function threadReadiness(binding: string, system: { libc: Libc; layout: StructLayout }): Readiness {
  return new EpollPoller(system.libc, system.layout, (target) => new ThreadWatcher(binding, target));
}

class ThreadWatcher implements EpollWatcher {
  readonly #binding: string;
  readonly #target: WatchTarget;
  readonly #ring = new Int32Array(new SharedArrayBuffer(4 * (RECORDS + 2 * CAPACITY)));
  #worker: Worker | null = null;
  #tail = 0;
  #holding = false;
  /** A `waitAsync` on the head is pending. */
  #listening = false;
  #draining = false;

  constructor(binding: string, target: WatchTarget) {
    this.#binding = binding;
    this.#target = target;
  }

  hold(waiting: boolean): void {
    this.#holding = waiting;
    const worker = this.#worker ?? this.#start();
    if (waiting) {
      worker.ref();
      this.#listen();
    } else {
      worker.unref();
    }
  }

  #start(): Worker {
    const layout = this.#target.layout;
    const worker = new Worker(workerSource(this.#binding), {
      eval: true,
      workerData: {
        epfd: this.#target.epfd,
        eventSize: layout.epollEventSize,
        dataOffset: layout.epollDataOffset,
        ring: this.#ring.buffer,
      },
    });
    const broken = (error: unknown): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      worker.unref();
      this.#target.fail(error);
    };
    worker.on("message", (errno: number) => broken(new SystemCallError("epoll_wait", errno)));
    worker.on("error", (error) => broken(new Error(`The seqpacket watcher thread failed: ${error}`, { cause: error })));
    worker.on("exit", () => broken(new Error("The seqpacket watcher thread exited")));
    this.#worker = worker;
    return worker;
  }

  /** Hands over what the Worker wrote, then waits for more while some operation waits. */
  #listen(): void {
    if (this.#listening || this.#draining) return;
    for (;;) {
      const head = this.#drain();
      if (!this.#holding) return;
      const wait = Atomics.waitAsync(this.#ring, HEAD, head);
      if (wait.async) {
        this.#listening = true;
        wait.value.then(this.#woken);
        return;
      }
    }
  }

  readonly #woken = (): void => {
    this.#listening = false;
    this.#listen();
  };

  /** Dispatches every event in the ring; returns the head seen. */
  #drain(): number {
    const ring = this.#ring;
    const head = Atomics.load(ring, HEAD);
    if (head === this.#tail) return head;
    this.#draining = true;
    try {
      for (let tail = this.#tail; tail !== head; tail = (tail + 1) | 0) {
        const slot = RECORDS + 2 * (tail & (CAPACITY - 1));
        const token = ring[slot]! >>> 0;
        const events = ring[slot + 1]! >>> 0;
        this.#tail = (tail + 1) | 0;
        this.#target.dispatch(token, events);
      }
    } finally {
      this.#draining = false;
      Atomics.store(ring, TAIL, this.#tail);
      Atomics.notify(ring, TAIL);
    }
    return head;
  }
}
