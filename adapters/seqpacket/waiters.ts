/**
 * Who waits for what on one descriptor: the bookkeeping that both kinds of
 * readiness (`poller.ts` for Deno and Bun, `handle_readiness.ts` for Node)
 * share. A waiter asks for EPOLLIN and/or EPOLLOUT and is woken by either,
 * or by an error or hang-up.
 *
 * @module
 */

import { EPOLLERR, EPOLLHUP } from "./linux.ts";

interface Waiter {
  readonly events: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The operations waiting on one descriptor. */
export class Waiters {
  #list: Waiter[] = [];

  /** How many wait. */
  get size(): number {
    return this.#list.length;
  }

  /** The events some waiter wants (0 when none waits). */
  get wanted(): number {
    let mask = 0;
    for (const waiter of this.#list) mask |= waiter.events;
    return mask;
  }

  /**
   * Adds a waiter.
   *
   * @param events EPOLLIN and/or EPOLLOUT.
   * @returns Resolves when woken; rejects when {@link Waiters.fail} is called.
   */
  add(events: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#list.push({ events, resolve, reject });
    });
  }

  /**
   * Wakes every waiter that `events` answers.
   *
   * @param events What the descriptor reported.
   * @returns The events the remaining waiters want.
   */
  wake(events: number): number {
    const ready: Waiter[] = [];
    const rest: Waiter[] = [];
    for (const waiter of this.#list) (events & (waiter.events | EPOLLERR | EPOLLHUP) ? ready : rest).push(waiter);
    this.#list = rest;
    for (const waiter of ready) waiter.resolve();
    return this.wanted;
  }

  /** Wakes every waiter (the descriptor is being closed: each retries and sees that). */
  wakeAll(): void {
    const list = this.#list;
    this.#list = [];
    for (const waiter of list) waiter.resolve();
  }

  /**
   * Fails every waiter.
   *
   * @param error Why waiting broke.
   */
  fail(error: unknown): void {
    const list = this.#list;
    this.#list = [];
    for (const waiter of list) waiter.reject(error);
  }
}
