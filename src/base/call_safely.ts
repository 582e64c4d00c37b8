/**
 * Guarding user callbacks.
 *
 * @module
 */

/**
 * Runs a user callback; what it throws is dropped, since a failing callback
 * must not crash the process or break the connection.
 */
export function callSafely<A extends unknown[]>(callback: ((...args: A) => unknown) | undefined, ...args: A): void {
  try {
    const result = callback?.(...args);
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // Deliberately ignored: see above.
  }
}
