/**
 * Yielding to the event loop: a budget of work per turn shared by every
 * connection of the process, so that one busy connection (a flood of
 * requests, a backlog being dropped) lets the others' I/O and timers run
 * instead of keeping the process on microtasks.
 *
 * @module
 */

/**
 * How long the work of busy connections may keep the process on microtasks
 * before they let the event loop have a turn, in milliseconds.
 */
const TURN_SLICE_MS = 8;
/** Steps a budget takes before it looks at the clock: fewer mean a connection that is not busy. */
const BUSY_STEPS = 16;

/** When the clock of the current turn was started (`Date.now()`), or -1 while it is not running. */
let turnStarted = -1;
/** Counts the turns the clock saw end, so that each budget knows when its steps start counting again. */
let turnNumber = 0;

function endTurn(): void {
  turnStarted = -1;
  turnNumber++;
}

type Schedule = (callback: () => void) => unknown;

/**
 * How the end of a turn is seen: `setImmediate` (Deno, Bun and Node have
 * it), which runs once the turn's I/O was served. Not `setTimeout(0)`: on
 * Node that arms a 1 ms timer, and a connection doing sequential calls
 * would keep one armed for ever (every 16 steps), waking the loop once a
 * millisecond: measured +1-2 µs per round trip and +6 µs of CPU per call.
 */
const scheduleEndOfTurn: Schedule = (globalThis as { setImmediate?: Schedule }).setImmediate ??
  ((callback) => setTimeout(callback, 0));

/**
 * Resolves on a later turn of the event loop, after pending I/O and timers
 * had their chance. `setTimeout(0)`, not `setImmediate`: with Deno's
 * `setImmediate` one busy connection kept the I/O of the others waiting
 * for hundreds of milliseconds, and on Node and Bun the two measured the
 * same (Node's 1 ms clamp costs a busy connection one idle millisecond per
 * turn at most, and only when nothing else is ready).
 *
 * @returns A promise that resolves then.
 */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Keeps one busy connection from holding the process. Work that flows
 * without waiting for I/O (messages decoded from bytes already received,
 * writes the socket takes at once, queued requests started as others
 * finish) runs on promise continuations alone; without a budget, one
 * connection whose peer floods it keeps the process for hundreds of
 * milliseconds, and every other connection's calls wait that long.
 *
 * Each budget counts its steps; only after {@link BUSY_STEPS} of them does
 * it look at the clock, which is shared by the whole process: the first
 * look of a turn starts it, with an immediate callback that tells when the
 * event loop got round again (and makes every budget count from zero).
 * Once the clock shows {@link TURN_SLICE_MS}, the busy budgets say they are
 * spent, while a connection with a call or two in the turn goes on
 * undisturbed. A quiet connection costs a counter per step and one timer
 * per {@link BUSY_STEPS} steps.
 *
 * @example
 * ```ts
 * import { TurnBudget } from "./turn_budget.ts";
 * const turns = new TurnBudget();
 * console.assert(turns.spent() === false);
 * ```
 */
export class TurnBudget {
  #turn = -1;
  #steps = 0;

  /**
   * Counts one step and tells whether the caller should now wait for
   * {@link nextMacrotask} before going on.
   *
   * @returns True when the turn is used up and this budget's owner is one of the busy.
   */
  spent(): boolean {
    if (this.#turn !== turnNumber) {
      this.#turn = turnNumber;
      this.#steps = 0;
    }
    if (++this.#steps <= BUSY_STEPS) return false;
    if (turnStarted < 0) {
      turnStarted = Date.now();
      scheduleEndOfTurn(endTurn);
      return false;
    }
    return Date.now() - turnStarted >= TURN_SLICE_MS;
  }
}
