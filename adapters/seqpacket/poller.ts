/**
 * The readiness of Deno and Bun: one epoll set per process in which each
 * waiting descriptor is armed with EPOLLONESHOT, and an {@link EpollWatcher}
 * (`thread_watcher.ts`) that collects its events off the JavaScript thread
 * and hands them over; the waiters of the ready descriptors are then woken
 * on the JavaScript thread (see docs/ARCHITECTURE.md).
 *
 * @module
 */

import type { Libc, Readiness, Registration } from "./libc.ts";
import type { StructLayout } from "./layout.ts";
import { SystemCallError } from "./errors.ts";
import { Waiters } from "./waiters.ts";
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLONESHOT } from "./linux.ts";

/** What the poller gives its watcher. */
export interface WatchTarget {
  /** The poller's epoll descriptor. */
  readonly epfd: number;
  /** The architecture's `epoll_event` layout. */
  readonly layout: StructLayout;
  /**
   * One event the watcher collected, handed over on the JavaScript thread.
   *
   * @param token The `data` the descriptor was armed with.
   * @param events The reported `events` mask.
   */
  readonly dispatch: (token: number, events: number) => void;
  /** The watcher broke: the poller fails its waiters. */
  readonly fail: (error: unknown) => void;
}

/**
 * Collects the events of the poller's epoll set without blocking the
 * JavaScript thread, for the whole life of the process once started. A
 * descriptor is armed only while an operation waits on it, and EPOLLONESHOT
 * disarms it once reported, so the watcher has nothing to report in between.
 */
export interface EpollWatcher {
  /**
   * Keeps the process alive while some operation waits (`true`) or lets it
   * exit (`false`); the first call starts the watcher.
   *
   * @param waiting Whether some operation waits.
   */
  hold(waiting: boolean): void;
}

interface Entry {
  readonly fd: number;
  readonly token: number;
  added: boolean;
  /** The events the descriptor is armed for, as far as this thread knows (0 once an event was handed over). */
  armed: number;
  readonly waiters: Waiters;
  closed: boolean;
}

/** The epoll set and the bookkeeping of who waits for what. */
export class EpollPoller implements Readiness {
  readonly #libc: Libc;
  readonly #layout: StructLayout;
  readonly #epfd: number;
  readonly #watcher: EpollWatcher;
  readonly #entries = new Map<number, Entry>();
  readonly #ctl: Uint8Array;
  readonly #ctlView: DataView;
  #nextToken = 0;
  /** Entries with at least one waiter. */
  #waiting = 0;

  /**
   * Creates the epoll set.
   *
   * @param libc The runtime's libc bindings.
   * @param layout The architecture's struct layout.
   * @param watch Creates the runtime's watcher of the epoll set.
   * @throws {SystemCallError} if epoll_create1 fails.
   */
  constructor(libc: Libc, layout: StructLayout, watch: (target: WatchTarget) => EpollWatcher) {
    this.#libc = libc;
    this.#layout = layout;
    this.#ctl = new Uint8Array(layout.epollEventSize);
    this.#ctlView = new DataView(this.#ctl.buffer);
    const epfd = libc.epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) throw new SystemCallError("epoll_create1", libc.errno());
    this.#epfd = epfd;
    this.#watcher = watch({
      epfd,
      layout,
      dispatch: (token, events) => this.#dispatch(token, events),
      fail: (error) => this.#fail(error),
    });
  }

  /**
   * Adds a descriptor. It is put in the epoll set on its first wait.
   *
   * @param fd A non-blocking descriptor.
   * @returns Its registration.
   */
  register(fd: number): Registration {
    while (this.#entries.has(this.#nextToken)) this.#nextToken = (this.#nextToken + 1) >>> 0;
    const entry: Entry = { fd, token: this.#nextToken, added: false, armed: 0, waiters: new Waiters(), closed: false };
    this.#nextToken = (this.#nextToken + 1) >>> 0;
    this.#entries.set(entry.token, entry);
    return {
      wait: (events) => this.#wait(entry, events),
      close: () => this.#unregister(entry),
    };
  }

  #wait(entry: Entry, events: number): Promise<void> {
    if (entry.closed) return Promise.resolve();
    const wanted = events | entry.waiters.wanted;
    if ((wanted & ~entry.armed) !== 0 && !this.#arm(entry, wanted)) {
      return Promise.reject(new SystemCallError("epoll_ctl", this.#libc.errno()));
    }
    const woken = entry.waiters.add(events);
    // Last: holding the watcher may dispatch events that are already in, and the waiter must be there for them.
    if (entry.waiters.size === 1 && this.#waiting++ === 0) this.#hold();
    return woken;
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
    if (entry.waiters.size > 0) this.#stopWaiting();
    entry.waiters.wakeAll();
  }

  #hold(): void {
    try {
      this.#watcher.hold(true);
    } catch (error) {
      this.#fail(error);
    }
  }

  #stopWaiting(): void {
    if (--this.#waiting === 0) this.#watcher.hold(false);
  }

  #dispatch(token: number, events: number): void {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    entry.armed = 0;
    if (entry.waiters.size === 0) return;
    const rest = entry.waiters.wake(events);
    if (rest === 0) {
      this.#stopWaiting();
    } else if (!this.#arm(entry, rest)) {
      this.#stopWaiting();
      entry.waiters.fail(new SystemCallError("epoll_ctl", this.#libc.errno()));
    }
  }

  /** The watcher broke: fail every waiter rather than spin. */
  #fail(error: unknown): void {
    for (const entry of this.#entries.values()) {
      entry.armed = 0;
      entry.waiters.fail(error);
    }
    if (this.#waiting > 0) {
      this.#waiting = 0;
      this.#watcher.hold(false);
    }
  }
}
