/**
 * Owned file descriptors received over datagram transports.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/**
 * A file descriptor received from a peer. The receiver owns it and must
 * close it (or use `using`); descriptors nobody claimed are closed by
 * peerlink when the message is dropped.
 */
export interface FdHandle {
  /**
   * The descriptor number.
   *
   * @throws {UsageError} `ERR_CLOSED` once the handle was closed or taken: the number may name another file by then.
   */
  readonly fd: number;
  /** True once the descriptor was closed or taken with {@link FdHandle.take}. */
  readonly closed: boolean;
  /** Closes the descriptor; calling it again does nothing. */
  close(): void;
  /**
   * Takes ownership of the raw descriptor: peerlink will no longer close it.
   *
   * @returns The descriptor number.
   * @throws {UsageError} `ERR_CLOSED` if the handle was already closed or taken.
   */
  take(): number;
  /** Same as {@link FdHandle.close}, for `using` declarations. */
  [Symbol.dispose](): void;
}

/**
 * Creates an {@link FdHandle} around `fd` that calls `closeFd` once.
 *
 * @param fd The descriptor number.
 * @param closeFd Closes a descriptor (the runtime adapter's `close(2)`).
 * @returns The owned handle.
 */
export function createFdHandle(fd: number, closeFd: (fd: number) => void): FdHandle {
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new UsageError("ERR_CLOSED", `File descriptor ${fd} was already closed or taken`);
  };
  const handle: FdHandle = {
    get fd(): number {
      assertOpen();
      return fd;
    },
    get closed(): boolean {
      return closed;
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeFd(fd);
    },
    take(): number {
      assertOpen();
      closed = true;
      return fd;
    },
    [Symbol.dispose](): void {
      handle.close();
    },
  };
  return handle;
}

/**
 * Closes every handle in `fds` that nobody closed or took.
 *
 * @param fds Handles to close.
 */
export function closeUnclaimed(fds: readonly FdHandle[]): void {
  for (const handle of fds) handle.close();
}
