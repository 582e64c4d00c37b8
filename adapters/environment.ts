/**
 * Reading and removing environment variables through `node:process`, in
 * every runtime, where the runtime may refuse (Deno without `--allow-env`):
 * socket activation's `LISTEN_*` and `NOTIFY_SOCKET`, and the child
 * channel's `PEERLINK_CHANNEL`.
 *
 * @module
 */

import process from "node:process";

/**
 * Reads one environment variable.
 *
 * @param name The variable.
 * @returns Its value; `undefined` when it is not set or this process may not read it.
 */
export function readVariable(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/**
 * Removes one variable from the environment, if this process may; where it
 * may not, child processes still see it.
 *
 * @param name The variable.
 */
export function unsetVariable(name: string): void {
  try {
    delete process.env[name];
  } catch {
    // Not allowed to change the environment.
  }
}
