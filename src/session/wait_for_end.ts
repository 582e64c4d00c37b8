/**
 * Waiting on a connection that is being refused: until the other side
 * closes it, or a time passed, whichever comes first. What arrives
 * meanwhile is dropped. It never waits longer than asked, and the timer is
 * cleared as soon as the wait ends, so it never outlives the connection.
 *
 * @module
 */

import { closeUnclaimed } from "../base/fd_handle.ts";
import type { MessageTransport } from "../transport/types.ts";

/**
 * Waits until the other side closes the connection (or it is closed here),
 * or `ms` milliseconds passed. A receive error does not end the wait early,
 * so a peer cannot shorten an authentication failure delay by sending
 * garbage. A receive may still be pending when the time is up; closing the
 * transport ends it.
 *
 * @param transport The connection; nothing else may receive from it meanwhile.
 * @param ms How long to wait at most.
 */
export async function waitForEnd(transport: MessageTransport, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  const ended = drain(transport);
  try {
    await Promise.race([elapsed, ended]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves at the end of the connection; never, after a receive error. */
async function drain(transport: MessageTransport): Promise<void> {
  try {
    for (let message = await transport.receive(); message !== null; message = await transport.receive()) {
      closeUnclaimed(message.fds);
    }
  } catch {
    await new Promise<never>(() => {});
  }
}
