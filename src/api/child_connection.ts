/**
 * The connection `spawn` returns: an {@link RpcConnection} to a child
 * process over its stdin and stdout (or a seqpacket socket), which ends
 * the child whenever the connection ends (`close()`, a protocol error, the child going away) and
 * shows the child as `connection.child`.
 *
 * @module
 */

import type { ChildExit } from "../base/errors.ts";
import { RpcConnection, type RpcConnectionOptions } from "../rpc/connection.ts";
import type { Notifications } from "../rpc/router.ts";
import type { Service } from "../rpc/service.ts";
import type { SpawnedChild } from "../transport/runtime_adapter.ts";
import type { MessageTransport } from "../transport/types.ts";

/** Default `killGrace` of `spawn`, in milliseconds. */
export const DEFAULT_KILL_GRACE = 2000;

/** The child process of a {@link ChildConnection}. */
export interface ChildHandle {
  /** Its process id. */
  readonly pid: number;
  /** Resolves (never rejects) once it exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<ChildExit>;
  /** Its stderr, when spawned with `stderr: "pipe"`. Read it: a child blocks once the pipe is full. */
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  /**
   * Sends it a signal at once (the connection then ends when it exits);
   * does nothing once it exited.
   *
   * @param signal `"SIGTERM"` (the default) or `"SIGKILL"`.
   */
  kill(signal?: "SIGTERM" | "SIGKILL"): void;
}

/**
 * Waits up to `ms` for the child to exit.
 *
 * @returns True if it did.
 */
async function exitsWithin(child: SpawnedChild, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.exited.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return exited;
}

/**
 * Ends a child whose channel (stdin, or the seqpacket socket) was just
 * closed: `grace` milliseconds to exit on its own, then SIGTERM and `grace` more, then SIGKILL. Resolves once it
 * exited; no timer is left behind.
 *
 * @param child The child.
 * @param grace Milliseconds each step waits.
 */
export async function endChild(child: SpawnedChild, grace: number): Promise<void> {
  if (await exitsWithin(child, grace)) return;
  child.kill("SIGTERM");
  if (await exitsWithin(child, grace)) return;
  child.kill("SIGKILL");
  await child.exited;
}

/**
 * An RPC connection to a child process. Everything of {@link RpcConnection}
 * applies; `close()` also ends the child (see `killGrace`) and resolves once
 * it exited.
 *
 * @typeParam Remote The service the child offers.
 * @typeParam RemoteNotifications The notification listeners the child registered.
 */
export class ChildConnection<Remote = Service, RemoteNotifications = Notifications>
  extends RpcConnection<Remote, RemoteNotifications> {
  /** The child process: pid, exit, stderr, kill. */
  readonly child: ChildHandle;
  readonly #ended: () => Promise<void>;

  /**
   * Starts serving; the connection owns the transport and the child.
   *
   * @param transport The transport over the child's pipes or seqpacket socket, handshake done.
   * @param child The child.
   * @param options The connection's options, and the grace of each step that ends the child.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if two names map to the same service id (nothing is closed).
   */
  constructor(
    transport: MessageTransport,
    child: SpawnedChild,
    options: Omit<RpcConnectionOptions, "reconnect" | "router"> & { killGrace: number },
  ) {
    const { killGrace, onClose, ...rest } = options;
    let ending: Promise<void> | undefined;
    const end = (): Promise<void> => (ending ??= endChild(child, killGrace));
    super(transport, {
      ...rest,
      onClose: (error) => {
        // However the connection ended, its transport is closed (the child's stdin or socket ended): end the child too.
        void end();
        onClose?.(error);
      },
    });
    this.#ended = end;
    this.child = {
      pid: child.pid,
      exited: child.exited,
      stderr: child.stderr,
      kill: (signal = "SIGTERM") => child.kill(signal),
    };
  }

  /**
   * Closes the connection (pending calls reject with `ERR_CONNECTION_CLOSED`),
   * ends the child's stdin (or closes the seqpacket socket), and ends the child: `killGrace` milliseconds to
   * exit, then SIGTERM, `killGrace` more, then SIGKILL. Resolves once the
   * child exited.
   */
  override async close(): Promise<void> {
    await super.close();
    await this.#ended();
  }
}
