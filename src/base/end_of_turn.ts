/**
 * The end of the current turn of the event loop, for work that gains from
 * waiting until everything the turn produces is known: frames sent in one
 * turn are gathered into one socket write.
 *
 * @module
 */

import { callSafely } from "./call_safely.ts";

type Schedule = (callback: () => void) => unknown;

/**
 * `setImmediate` where the runtime has it (Deno, Bun and Node do): it runs
 * right after the I/O of the turn, where `setTimeout(0)` waits for the timer
 * phase (Node clamps it to 1 ms).
 */
const schedule: Schedule = (globalThis as { setImmediate?: Schedule }).setImmediate ??
  ((callback) => setTimeout(callback, 0));

let turn = 0;
let scheduled = false;
let callbacks: (() => void)[] = [];

function endTurn(): void {
  scheduled = false;
  turn++;
  const due = callbacks;
  callbacks = [];
  for (const callback of due) callSafely(callback);
}

/**
 * A number that names the current turn of the event loop: it stays the same
 * until the turn ended (after its I/O callbacks and their promise
 * continuations ran) and differs afterwards. Asking costs one scheduled
 * callback per turn for the whole process.
 *
 * @returns The turn's number.
 *
 * @example
 * ```ts
 * import { currentTurn } from "./end_of_turn.ts";
 * const turn = currentTurn();
 * console.assert(currentTurn() === turn);
 * ```
 */
export function currentTurn(): number {
  if (!scheduled) {
    scheduled = true;
    schedule(endTurn);
  }
  return turn;
}

/**
 * Runs `callback` once the current turn of the event loop ended, with the
 * others registered in the same turn, in order. What it throws is ignored.
 *
 * @param callback The work.
 */
export function atEndOfTurn(callback: () => void): void {
  callbacks.push(callback);
  currentTurn();
}
