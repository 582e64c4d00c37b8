/**
 * The readiness of Node: each descriptor gets a level-triggered watch on
 * the runtime's own event loop (koffi's libuv poll handle), started on its
 * first wait and left running while it keeps being waited on, so a
 * request/response exchange costs no system call of ours per wait: no
 * epoll_ctl to arm, no epoll_wait to collect (see docs/ARCHITECTURE.md).
 * A watch that reports a descriptor nobody waits on is stopped, so unread
 * data cannot keep the loop spinning.
 *
 * @module
 */

import type { Readiness, Registration } from "./libc.ts";
import { Waiters } from "./waiters.ts";

/** A level-triggered watch of one descriptor on the runtime's event loop. */
export interface PollHandle {
  /**
   * Watches for `events` from now on (instead of what was watched before).
   *
   * @param events EPOLLIN and/or EPOLLOUT.
   */
  start(events: number): void;
  /** Stops watching until the next {@link PollHandle.start}. */
  stop(): void;
  /** Keeps the process alive while started. */
  ref(): void;
  /** Lets the process exit even while started. */
  unref(): void;
  /** Stops for good and releases the watch. */
  close(): void;
}

/**
 * Creates the watch of `fd`; it calls `ready` on the JavaScript thread, in
 * a callback after which promise reactions run, with the events seen
 * (EPOLLERR or EPOLLHUP included when the descriptor reports them).
 */
export type OpenPollHandle = (fd: number, ready: (events: number) => void) => PollHandle;

/** Per-descriptor watches on the runtime's event loop. */
export class HandleReadiness implements Readiness {
  readonly #open: OpenPollHandle;

  /**
   * @param open Creates the watch of one descriptor.
   */
  constructor(open: OpenPollHandle) {
    this.#open = open;
  }

  /**
   * Adds a descriptor; its watch is created on the first wait.
   *
   * @param fd A non-blocking descriptor.
   * @returns Its registration.
   */
  register(fd: number): Registration {
    return new HandleRegistration(this.#open, fd);
  }
}

class HandleRegistration implements Registration {
  readonly #open: OpenPollHandle;
  readonly #fd: number;
  readonly #waiters = new Waiters();
  #handle: PollHandle | null = null;
  /** The events the handle watches (0 while stopped). */
  #watching = 0;
  #closed = false;

  constructor(open: OpenPollHandle, fd: number) {
    this.#open = open;
    this.#fd = fd;
  }

  wait(events: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const woken = this.#waiters.add(events);
    const wanted = this.#waiters.wanted;
    const handle = this.#handle ??= this.#open(this.#fd, this.#ready);
    if ((wanted & ~this.#watching) !== 0) {
      handle.start(wanted);
      this.#watching = wanted;
    }
    if (this.#waiters.size === 1) handle.ref();
    return woken;
  }

  readonly #ready = (events: number): void => {
    const handle = this.#handle;
    if (this.#closed || handle === null) return;
    if (this.#waiters.size === 0) {
      handle.stop();
      this.#watching = 0;
      return;
    }
    const rest = this.#waiters.wake(events);
    if (rest === 0) {
      handle.unref();
    } else if (rest !== this.#watching) {
      handle.start(rest);
      this.#watching = rest;
    }
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle?.close();
    this.#handle = null;
    this.#waiters.wakeAll();
  }
}
