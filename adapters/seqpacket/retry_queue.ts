/**
 * The one readiness loop of the seqpacket layer, used for accepts, sends and
 * receives: non-blocking operations of one kind on one socket run in call
 * order; each is tried at once, and one that would block waits until the
 * poller reports the socket ready and is tried again.
 *
 * Operations that complete at once count against a {@link SocketBudget}:
 * a peer that keeps a socket ready would otherwise let a loop of awaited
 * operations run on microtasks alone and starve timers and other I/O. A
 * spent budget is a macrotask, not a wait for readiness: a Unix socket
 * reports EPOLLOUT only below a quarter of its send buffer, so a sender
 * would wait far longer than needed.
 *
 * @module
 */

import { nextMacrotask, TurnBudget } from "../../src/base/turn_budget.ts";

/** What an attempt returns when the operation would block (EAGAIN). */
export const AGAIN: unique symbol = Symbol("again");

/**
 * The turn budget (`src/base/turn_budget.ts`) of one socket's operations,
 * shared by its queues and counted afresh whenever one of them waited for
 * readiness: work that the event loop handed over is not a busy
 * connection's. Without the fresh start, a request/response exchange runs
 * enough operations per turn to keep the budget's zero-delay timer pending
 * almost always, and every sleep of the event loop then has a timeout to
 * arm: on Node that cost about 10 µs of CPU per round trip between two
 * processes (see docs/ARCHITECTURE.md).
 */
export class SocketBudget {
  #turns = new TurnBudget();

  /**
   * Counts one operation that completed, or is about to be tried, without a wait.
   *
   * @returns True when the operations should let the event loop have a turn first.
   */
  spent(): boolean {
    return this.#turns.spent();
  }

  /** An operation of the socket waited for readiness: count from zero. */
  rested(): void {
    this.#turns = new TurnBudget();
  }
}

interface Operation<T> {
  readonly attempt: () => T | typeof AGAIN;
  readonly resolve: (result: T) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs one kind of operation of one socket, in call order. Operations that
 * cannot complete at once wait in a plain queue that one pump works through:
 * one promise per waiting operation and one per wait for readiness, however
 * many attempts it takes.
 */
export class RetryQueue {
  readonly #waitReady: () => Promise<void>;
  // deno-lint-ignore no-explicit-any
  readonly #queue: Operation<any>[] = [];
  readonly #turns: SocketBudget;

  /**
   * @param waitReady Resolves once the socket may be ready for the operation (or was closed).
   * @param budget The socket's budget, shared with its other queues.
   */
  constructor(waitReady: () => Promise<void>, budget: SocketBudget) {
    this.#waitReady = waitReady;
    this.#turns = budget;
  }

  /** True when no operation is queued. */
  get idle(): boolean {
    return this.#queue.length === 0;
  }

  /**
   * Runs one operation: at once if nothing is queued before it and the
   * budget allows, else after the operations before it.
   *
   * @param attempt Tries the operation without blocking and returns its
   * result, or {@link AGAIN} if it would block; it throws to fail the
   * operation. It is called again after every wake-up, so it also decides
   * what a closed socket gives.
   * @param beforeWaiting Called once if the operation has to wait, to copy
   * what the caller may reuse once the call returned.
   * @returns The operation's result.
   */
  run<T>(attempt: () => T | typeof AGAIN, beforeWaiting?: () => void): Promise<T> {
    const idle = this.#queue.length === 0;
    if (idle && !this.#turns.spent()) {
      let result: T | typeof AGAIN;
      try {
        result = attempt();
      } catch (error) {
        return Promise.reject(error);
      }
      if (result !== AGAIN) return Promise.resolve(result);
      beforeWaiting?.();
      return this.#enqueue(attempt, this.#wait);
    }
    beforeWaiting?.();
    // An idle queue with its budget spent lets timers and I/O run first; a busy one is pumped already.
    return this.#enqueue(attempt, idle ? this.#yield : undefined);
  }

  /**
   * Runs one operation that was just tried (by {@link RetryQueue.tryNow})
   * and would block: it waits for readiness before its next attempt.
   *
   * @param attempt As for {@link RetryQueue.run}.
   * @returns The operation's result.
   */
  runAfterWait<T>(attempt: () => T | typeof AGAIN): Promise<T> {
    return this.#queue.length === 0 ? this.#enqueue(attempt, this.#wait) : this.run(attempt);
  }

  /**
   * Tries one operation now, if nothing is queued and the turn's budget allows.
   *
   * @param attempt As for {@link RetryQueue.run}; it may throw.
   * @returns Its result, or {@link AGAIN} if it would block or was not tried.
   */
  tryNow<T>(attempt: () => T | typeof AGAIN): T | typeof AGAIN {
    return this.#queue.length === 0 && !this.#turns.spent() ? attempt() : AGAIN;
  }

  #enqueue<T>(attempt: () => T | typeof AGAIN, start: (() => void) | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ attempt, resolve, reject });
      start?.();
    });
  }

  /** Tries the queued operations in order until one would block or the budget is spent. */
  #pump(): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      if (this.#turns.spent()) {
        this.#yield();
        return;
      }
      const operation = queue[0]!;
      let result: unknown;
      try {
        result = operation.attempt();
      } catch (error) {
        queue.shift();
        operation.reject(error);
        continue;
      }
      if (result === AGAIN) {
        this.#wait();
        return;
      }
      queue.shift();
      operation.resolve(result);
    }
  }

  readonly #wait = (): void => {
    this.#waitReady().then(this.#rested, this.#failFirst);
  };

  readonly #rested = (): void => {
    this.#turns.rested();
    this.#pump();
  };

  readonly #yield = (): void => {
    nextMacrotask().then(this.#resume);
  };

  readonly #resume = (): void => this.#pump();

  /** Waiting for readiness failed: the operation that waited fails, the rest go on. */
  readonly #failFirst = (error: unknown): void => {
    this.#queue.shift()?.reject(error);
    this.#rested();
  };
}
