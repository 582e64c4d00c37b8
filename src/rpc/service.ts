/**
 * Types that describe an RPC service, so that a client's calls are checked
 * against the server's handlers.
 *
 * @module
 */

import type { FdHandle } from "../base/fd_handle.ts";
import type { RpcConnection } from "./connection.ts";
import type { ConnectionInfo } from "../transport/types.ts";
import type { Received, Unwrapped } from "./with_fds.ts";

/** What a handler receives besides its parameters. */
export interface HandlerContext {
  /** The method name that was called. */
  readonly method: string;
  /** Aborted when the caller cancels, times out, or the connection closes. */
  readonly signal: AbortSignal;
  /** The connection the call came in on; it can call the caller back. */
  readonly connection: RpcConnection;
  /** Information about the connection, including peer credentials on Unix sockets. */
  readonly info: ConnectionInfo;
  /**
   * Descriptors that came with the request. Close them, or call `take()` to
   * keep one beyond the handler; the rest are closed when the handler ends.
   */
  readonly fds: FdHandle[];
  /** Items the caller sends while the call is open (client streaming). */
  readonly input: AsyncIterable<unknown>;
  /**
   * Items the caller sends, each with the descriptors that came with it.
   * Close them or `take()` them; the rest are closed when the handler ends.
   */
  readonly inputWithFds: AsyncIterable<Received<unknown>>;
  /**
   * Sends an item to the caller before the result (server streaming by hand).
   *
   * @param item The item, optionally wrapped with {@link WithFds}.
   */
  send(item: unknown): Promise<void>;
}

/**
 * A method handler: returns a result (or a promise of one), or is an async
 * generator whose yielded items stream to the caller and whose return value
 * is the result. Wrap any of these in `withFds` to pass descriptors.
 */
// deno-lint-ignore no-explicit-any
export type Handler = (params: any, context: HandlerContext) => unknown;

/** A set of named handlers; its type is the service type clients use. */
export type Service = { [method: string]: Handler };

/** Method names of a service. */
export type MethodName<S> = keyof S & string;

/** Parameter type of a handler. */
export type ParamsOf<F> = F extends (params: infer P, ...rest: never[]) => unknown ? P : unknown;

/** Result type of a call to a handler (an async generator's return value for streaming handlers). */
export type ResultOf<F> = F extends (...args: never[]) => infer R
  ? 0 extends 1 & R ? R
  : R extends AsyncGenerator<unknown, infer Ret, unknown> ? Unwrapped<Ret>
  : R extends AsyncIterable<unknown> ? undefined
  : Unwrapped<Awaited<R>>
  : unknown;

/** Item type streamed by a handler. */
export type ItemOf<F> = F extends (...args: never[]) => infer R
  ? 0 extends 1 & R ? R
  : R extends AsyncIterable<infer T> ? Unwrapped<T>
  : unknown
  : unknown;

