/**
 * The one readiness loop of the seqpacket layer, used for accepts, sends and
 * receives: non-blocking operations of one kind on one socket run in call
 * order; each is tried at once, and one that would block waits until the
 * poller reports the socket ready and is tried again.
 *
 * @module
 */

/** What an attempt returns when the operation would block (EAGAIN). */
export const AGAIN: unique symbol = Symbol("again");

/**
 * How many operations in a row may complete without returning to the event
 * loop. A peer that keeps a socket ready would otherwise let a loop of
 * awaited operations run on microtasks alone and starve timers and other I/O.
 */
const BUDGET = 64;

/**
 * Lets timers and I/O run once. `setImmediate` (Deno, Bun and Node all have
 * it) instead of `setTimeout(0)`, which Node clamps to 1 ms. Not a wait for
 * readiness: a Unix socket reports EPOLLOUT only below a quarter of its send
 * buffer, so a sender would wait far longer than needed.
 */
function nextMacrotask(): Promise<void> {
  const setImmediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => setImmediate ? setImmediate(resolve) : setTimeout(resolve, 0));
}

/** Runs one kind of operation of one socket, in call order. */
export class RetryQueue {
  readonly #waitReady: () => Promise<void>;
  #budget = BUDGET;
  #queued = 0;
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * @param waitReady Resolves once the socket may be ready for the operation (or was closed).
   */
  constructor(waitReady: () => Promise<void>) {
    this.#waitReady = waitReady;
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
    const spent = this.#budget === 0;
    if (this.#queued > 0 || spent) {
      beforeWaiting?.();
      return this.#later(attempt, false, spent);
    }
    this.#budget--;
    let result: T | typeof AGAIN;
    try {
      result = attempt();
    } catch (error) {
      return Promise.reject(error);
    }
    if (result !== AGAIN) return Promise.resolve(result);
    beforeWaiting?.();
    return this.#later(attempt, true, false);
  }

  /**
   * @param tried The operation was just tried and would block: wait for readiness first.
   * @param yieldFirst The budget is spent: let timers and I/O run first.
   */
  #later<T>(attempt: () => T | typeof AGAIN, tried: boolean, yieldFirst: boolean): Promise<T> {
    this.#queued++;
    const run = this.#tail.then(async () => {
      if (yieldFirst) {
        await nextMacrotask();
        this.#budget = BUDGET;
      }
      for (let skipTry = tried;; skipTry = false) {
        if (!skipTry) {
          const result = attempt();
          if (result !== AGAIN) return result;
        }
        await this.#waitReady();
        this.#budget = BUDGET;
      }
    }).finally(() => {
      this.#queued--;
    });
    this.#tail = run.catch(() => {});
    return run;
  }
}
