/**
 * The process-wide readiness poller shared by every seqpacket socket: one
 * epoll set in which each waiting socket is armed with EPOLLONESHOT, an
 * eventfd that ends an outstanding watch once nothing waits, and the
 * runtime's {@link EpollWatcher}, which reports off the JavaScript thread
 * that the epoll descriptor became readable. The events are then collected
 * with a zero-timeout epoll_wait and the waiters woken (see
 * docs/ARCHITECTURE.md).
 *
 * @module
 */

import type { EpollWatcher, Libc } from "./libc.ts";
import type { StructLayout } from "./layout.ts";
import { SystemCallError } from "./errors.ts";
import { Errno } from "../../src/transport/errno.ts";
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLONESHOT,
} from "./linux.ts";

/** One socket's membership in the poller. */
export interface Registration {
  /**
   * Waits until the descriptor reports one of `events` (or an error or
   * hang-up), or until {@link Registration.close} is called.
   *
   * @param events EPOLLIN and/or EPOLLOUT.
   */
  wait(events: number): Promise<void>;
  /** Removes the descriptor from the epoll set and wakes every waiter. Call before closing the descriptor. */
  close(): void;
}

interface Waiter {
  events: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Entry {
  fd: number;
  token: number;
  added: boolean;
  armed: number;
  waiters: Waiter[];
  closed: boolean;
}

const WAKE_TOKEN = 0;
const BATCH = 64;

/** The epoll set, its eventfd and the bookkeeping of who waits for what. */
export class EpollPoller {
  readonly #libc: Libc;
  readonly #layout: StructLayout;
  readonly #epfd: number;
  readonly #wakeFd: number;
  readonly #watcher: EpollWatcher;
  readonly #entries = new Map<number, Entry>();
  readonly #events: Uint8Array;
  readonly #eventsView: DataView;
  readonly #ctl: Uint8Array;
  readonly #ctlView: DataView;
  readonly #counter = new Uint8Array(8);
  #nextToken = 1;
  /** Entries with at least one waiter. */
  #waiting = 0;
  /** True while a {@link EpollWatcher.readable} call is outstanding. */
  #watching = false;

  /**
   * Creates the epoll set and its eventfd.
   *
   * @param libc The runtime's libc bindings.
   * @param layout The architecture's struct layout.
   * @param watch Creates the runtime's watcher of the epoll descriptor.
   * @throws {SystemCallError} if epoll_create1 or eventfd fail.
   */
  constructor(libc: Libc, layout: StructLayout, watch: (epfd: number) => EpollWatcher) {
    this.#libc = libc;
    this.#layout = layout;
    this.#events = new Uint8Array(BATCH * layout.epollEventSize);
    this.#eventsView = new DataView(this.#events.buffer);
    this.#ctl = new Uint8Array(layout.epollEventSize);
    this.#ctlView = new DataView(this.#ctl.buffer);
    const epfd = libc.epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) throw new SystemCallError("epoll_create1", libc.errno());
    const wakeFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd < 0) {
      const errno = libc.errno();
      libc.close(epfd);
      throw new SystemCallError("eventfd", errno);
    }
    this.#epfd = epfd;
    this.#wakeFd = wakeFd;
    if (this.#control(EPOLL_CTL_ADD, wakeFd, EPOLLIN, WAKE_TOKEN) !== 0) {
      throw new SystemCallError("epoll_ctl", libc.errno());
    }
    this.#watcher = watch(epfd);
  }

  /**
   * Adds a descriptor. It is put in the epoll set on its first wait.
   *
   * @param fd A non-blocking descriptor.
   * @returns Its registration.
   */
  register(fd: number): Registration {
    while (this.#nextToken === WAKE_TOKEN || this.#entries.has(this.#nextToken)) {
      this.#nextToken = (this.#nextToken + 1) >>> 0;
    }
    const entry: Entry = { fd, token: this.#nextToken, added: false, armed: 0, waiters: [], closed: false };
    this.#nextToken = (this.#nextToken + 1) >>> 0;
    this.#entries.set(entry.token, entry);
    return {
      wait: (events) => this.#wait(entry, events),
      close: () => this.#unregister(entry),
    };
  }

  #wait(entry: Entry, events: number): Promise<void> {
    if (entry.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wanted = events | entry.waiters.reduce((mask, waiter) => mask | waiter.events, 0);
      if ((wanted & ~entry.armed) !== 0 && !this.#arm(entry, wanted)) {
        reject(new SystemCallError("epoll_ctl", this.#libc.errno()));
        return;
      }
      if (entry.waiters.length === 0) this.#waiting++;
      entry.waiters.push({ events, resolve, reject });
      this.#watch();
    });
  }

  #arm(entry: Entry, events: number): boolean {
    const op = entry.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (this.#control(op, entry.fd, events | EPOLLONESHOT, entry.token) !== 0) return false;
    entry.added = true;
    entry.armed = events;
    return true;
  }

  #control(op: number, fd: number, events: number, token: number): number {
    this.#ctlView.setUint32(0, events, true);
    this.#ctlView.setBigUint64(this.#layout.epollDataOffset, BigInt(token), true);
    return this.#libc.epoll_ctl(this.#epfd, op, fd, this.#ctl);
  }

  #unregister(entry: Entry): void {
    if (entry.closed) return;
    entry.closed = true;
    this.#entries.delete(entry.token);
    if (entry.added) this.#libc.epoll_ctl(this.#epfd, EPOLL_CTL_DEL, entry.fd, null);
    const waiters = entry.waiters;
    entry.waiters = [];
    if (waiters.length > 0) this.#waiting--;
    for (const waiter of waiters) waiter.resolve();
    if (this.#waiting === 0 && this.#watching) this.#wake();
  }

  /** Makes the epoll descriptor readable so an outstanding watch returns. */
  #wake(): void {
    new DataView(this.#counter.buffer).setBigUint64(0, 1n, true);
    this.#libc.write(this.#wakeFd, this.#counter, 8);
  }

  #watch(): void {
    if (this.#watching || this.#waiting === 0) return;
    this.#watching = true;
    let watch: Promise<void>;
    try {
      watch = this.#watcher.readable();
    } catch (error) {
      watch = Promise.reject(error);
    }
    watch.then(() => this.#collect(), (error) => this.#fail(error));
  }

  /** Reads every pending event without blocking and resolves the waiters. */
  #collect(): void {
    this.#watching = false;
    const size = this.#layout.epollEventSize;
    const dataOffset = this.#layout.epollDataOffset;
    for (;;) {
      const count = this.#libc.epoll_wait(this.#epfd, this.#events, BATCH, 0);
      if (count < 0) {
        if (this.#libc.errno() === Errno.EINTR) continue;
        this.#fail(new SystemCallError("epoll_wait", this.#libc.errno()));
        return;
      }
      for (let i = 0; i < count; i++) {
        const events = this.#eventsView.getUint32(i * size, true);
        const token = this.#eventsView.getUint32(i * size + dataOffset, true);
        if (token === WAKE_TOKEN) {
          this.#libc.read(this.#wakeFd, this.#counter, 8);
        } else {
          this.#dispatch(token, events);
        }
      }
      if (count < BATCH) break;
    }
    this.#watch();
  }

  #dispatch(token: number, events: number): void {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    entry.armed = 0;
    if (entry.waiters.length === 0) return;
    const ready: Waiter[] = [];
    const rest: Waiter[] = [];
    for (const waiter of entry.waiters) {
      (events & (waiter.events | EPOLLERR | EPOLLHUP) ? ready : rest).push(waiter);
    }
    entry.waiters = rest;
    if (rest.length === 0) {
      this.#waiting--;
    } else if (!this.#arm(entry, rest.reduce((mask, waiter) => mask | waiter.events, 0))) {
      const error = new SystemCallError("epoll_ctl", this.#libc.errno());
      entry.waiters = [];
      this.#waiting--;
      for (const waiter of rest) waiter.reject(error);
    }
    for (const waiter of ready) waiter.resolve();
  }

  /** The watcher broke: fail every waiter rather than spin. */
  #fail(error: unknown): void {
    this.#watching = false;
    for (const entry of this.#entries.values()) {
      const waiters = entry.waiters;
      entry.waiters = [];
      entry.armed = 0;
      for (const waiter of waiters) waiter.reject(error);
    }
    this.#waiting = 0;
  }
}
