/**
 * The promise a transport's `send` returns for a message it took at once
 * (below its high-water mark): one shared, resolved promise, so that a
 * caller can tell by identity that there is nothing to wait for or to
 * catch, and skip the handlers it would otherwise attach.
 *
 * @module
 */

/** Resolved; returned by every send that was accepted at once. */
export const ACCEPTED: Promise<void> = Promise.resolve();
