/**
 * Deno 2.9 sets up its signal handling lazily, about half a second after
 * the process started (it then installs handlers for SIGHUP and SIGUSR1),
 * and the set-up needs a descriptor (a socketpair). A process that is at
 * its descriptor limit at that moment panics ("Deno has panicked ...
 * ext/signals/lib.rs: Too many open files"): exactly what a server flooded
 * by reconnecting clients right after a restart runs into (measured with
 * `prlimit --nofile=64` and 100 connections: a panic every time). Adding
 * and removing one listener when the first listener starts makes Deno do
 * the set-up while descriptors are still free; every signal keeps its
 * default action (SIGTERM, SIGINT and SIGHUP still end the process), and
 * nothing is kept alive.
 *
 * @module
 */

let done = false;

/** Makes Deno set up its signal handling now; does something only the first time. */
export function setUpSignalsEarly(): void {
  if (done) return;
  done = true;
  const ignore = (): void => {};
  try {
    Deno.addSignalListener("SIGWINCH", ignore);
    Deno.removeSignalListener("SIGWINCH", ignore);
  } catch {
    // No SIGWINCH on this OS: nothing to set up early.
  }
}
