/**
 * Keeps a runtime's own listener working when the process runs out of
 * descriptors. At RLIMIT_NOFILE, `accept` fails with EMFILE and leaves the
 * connection queued, and two runtimes then go wrong without telling
 * JavaScript (measured with `prlimit --nofile=64` and 100 connections):
 *
 * - Bun's loop gives up on the listening socket until the next turn, which
 *   reports it ready again at once: the process burns a whole core
 *   (98-100%, `Bun.listen` on Unix and TCP alike).
 * - Deno 2.9's `node:net` servers (Unix and TCP, so `node:tls` too) stop
 *   accepting for good: no event, and not one connection more once
 *   descriptors are free again.
 *
 * (Node's libuv accepts and closes connections at the limit; Deno's own
 * `Deno.listen` and the seqpacket layer throw EMFILE from `accept`, which
 * the RPC server retries with a back-off. Neither needs this.)
 *
 * The guard keeps a duplicate of the listening descriptor and looks, with
 * a zero-timeout `poll`, whether connections wait: every 100 ms, every
 * 10 ms while some do. Connections that waited at two looks in a row with
 * no accept between them mean that the listener cannot accept: the guard
 * stops it (which closes the listener's descriptor; the socket stays open
 * through the duplicate, and the kernel goes on queueing connections) and
 * tries again after a back-off (10 ms doubling to 1 s), serving the socket
 * anew with a new listener on a duplicate (`Bun.listen({ fd })`,
 * `server.listen({ fd })`) only once two descriptors are free: one for the
 * listener and one for a connection. While stopped, the retry timer keeps
 * the process alive, as the listener would.
 *
 * @module
 */

import type { Libc } from "./seqpacket/libc.ts";
import { pollfdFor } from "./seqpacket/layout.ts";
import { F_DUPFD_CLOEXEC } from "./seqpacket/linux.ts";

/** A runtime's listener, as far as the guard handles it. */
export interface WatchedListener {
  /** The listening socket's descriptor; `stop` closes it. */
  readonly fd: number;
  /** Stops listening and closes the descriptor; accepted connections stay open. */
  stop(): void;
}

/** Loads libc for a guard, where it can be loaded (`undefined`: the listener is not watched). */
export type GuardLibc = () => Promise<Libc | undefined>;

/** How often to look while no connection waits. */
const IDLE_CHECK_MS = 100;
/** How often to look while connections wait (each look is one `poll` call). */
const BUSY_CHECK_MS = 10;
/** The first and the longest wait before serving a stopped listener again. */
const MIN_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 1000;

/** Serves the listening socket `fd` (a duplicate of the first listener's) with a new listener. */
export type RestartListener = (fd: number) => WatchedListener;

/** A listener that stops serving while the process has no descriptor to spare. */
export class GuardedListener {
  readonly #restart: RestartListener;
  readonly #libc: Libc | undefined;
  #current: WatchedListener | undefined;
  #socket = -1;
  #pollfd: Uint8Array | undefined;
  #accepts = 0;
  #waitedBefore = false;
  #backoff = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /**
   * Takes over a listener and, if `libc` is given and a descriptor can be
   * spared for the duplicate, watches it.
   *
   * @param listener The listener as the runtime first started it; owned from now on.
   * @param restart Serves the socket again after a pause.
   * @param libc The shared libc bindings, or `undefined` where they cannot be loaded (the listener is not watched).
   */
  constructor(listener: WatchedListener, restart: RestartListener, libc: Libc | undefined) {
    this.#restart = restart;
    this.#libc = libc;
    this.#current = listener;
    const socket = libc?.fcntl(listener.fd, F_DUPFD_CLOEXEC, 0) ?? -1;
    if (socket >= 0) {
      this.#socket = socket;
      this.#pollfd = pollfdFor(socket);
      this.#schedule(IDLE_CHECK_MS, false);
    }
  }

  /** Counts a connection the listener accepted (its `open` handler or `connection` event calls this). */
  accepted(): void {
    this.#accepts++;
  }

  /** Stops listening for good and closes the socket. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#current?.stop();
    this.#current = undefined;
    if (this.#socket >= 0) this.#libc?.close(this.#socket);
    this.#socket = -1;
  }

  #schedule(ms: number, keepAlive: boolean): void {
    this.#timer = setTimeout(() => this.#current === undefined ? this.#resume() : this.#check(), ms);
    if (!keepAlive) (this.#timer as { unref?: () => void }).unref?.();
  }

  #check(): void {
    const waiting = this.#libc!.poll(this.#pollfd!, 1, 0) > 0;
    const stuck = waiting && this.#waitedBefore && this.#accepts === 0;
    this.#waitedBefore = waiting;
    this.#accepts = 0;
    if (stuck) return this.#pause();
    // Everything that waited was accepted: the next pause starts with a short back-off again.
    if (!waiting) this.#backoff = 0;
    this.#schedule(waiting ? BUSY_CHECK_MS : IDLE_CHECK_MS, false);
  }

  #pause(): void {
    this.#current?.stop();
    this.#current = undefined;
    this.#retryLater();
  }

  #retryLater(): void {
    this.#backoff = Math.min(Math.max(this.#backoff * 2, MIN_BACKOFF_MS), MAX_BACKOFF_MS);
    this.#schedule(this.#backoff, true);
  }

  #resume(): void {
    const libc = this.#libc!;
    const fd = libc.fcntl(this.#socket, F_DUPFD_CLOEXEC, 0);
    const spare = fd < 0 ? -1 : libc.fcntl(this.#socket, F_DUPFD_CLOEXEC, 0);
    if (spare >= 0) libc.close(spare);
    if (spare < 0) {
      if (fd >= 0) libc.close(fd);
      return this.#retryLater();
    }
    try {
      this.#current = this.#restart(fd);
    } catch {
      libc.close(fd);
      return this.#retryLater();
    }
    this.#waitedBefore = false;
    this.#accepts = 0;
    this.#schedule(BUSY_CHECK_MS, false);
  }
}
