/**
 * Waiting for the promise queue to settle: a callback that runs once the
 * promise continuations queued now (and the ones they queue) had their
 * turn, so that work they add joins the batch being gathered. Write
 * gathering uses it on both transports: frames sent by the continuations of
 * answers that arrived together go out in one system call.
 *
 * @module
 */

/**
 * Runs `done` as a microtask once `count()` stopped growing: it looks
 * again at every pass while the count grows, and at least `minPasses`
 * times (a continuation that adds work may sit a few promises behind the
 * one that woke it), but never more than `maxPasses` times, so a steady
 * stream of work is still flushed.
 */
export class MicrotaskSettle {
  readonly #count: () => number;
  readonly #done: () => void;
  readonly #minPasses: number;
  readonly #maxPasses: number;
  #scheduled = false;
  #passes = 0;
  #countAtPass = 0;

  /**
   * @param count How much work was gathered so far.
   * @param done Called once the queue settled (not after {@link MicrotaskSettle.cancel}).
   * @param minPasses Microtask passes to wait at least.
   * @param maxPasses Microtask passes after which `done` runs even while work keeps coming.
   */
  constructor(count: () => number, done: () => void, minPasses: number, maxPasses: number) {
    this.#count = count;
    this.#done = done;
    this.#minPasses = minPasses;
    this.#maxPasses = maxPasses;
  }

  /** True from {@link MicrotaskSettle.schedule} until `done` runs or the wait is cancelled. */
  get scheduled(): boolean {
    return this.#scheduled;
  }

  /** Starts waiting, unless a wait is under way already. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#passes = 0;
    this.#countAtPass = this.#count();
    queueMicrotask(this.#pass);
  }

  /** Ends the wait under way without calling `done` (the work was flushed another way). */
  cancel(): void {
    this.#scheduled = false;
  }

  readonly #pass = (): void => {
    if (!this.#scheduled) return;
    const count = this.#count();
    const grew = count !== this.#countAtPass;
    if ((grew || this.#passes < this.#minPasses) && ++this.#passes < this.#maxPasses) {
      this.#countAtPass = count;
      queueMicrotask(this.#pass);
      return;
    }
    this.#scheduled = false;
    this.#done();
  };
}
