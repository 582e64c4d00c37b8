/**
 * Types that describe an RPC service, so that a client's calls are checked
 * against the server's handlers: the handler and its context, and the
 * parameter, result, item and input types derived from a handler.
 *
 * @module
 */

import type { FdHandle } from "../base/fd_handle.ts";
import type { ConnectionInfo } from "../transport/types.ts";
import type { CallOptions, RpcCaller } from "./caller.ts";
import type { Received, Unwrapped, WithFds } from "./with_fds.ts";

/**
 * What a handler receives besides its parameters. Its `signal`, `info`,
 * `input` and `inputWithFds` are getters, made when first read (a handler
 * that does not use them costs nothing for them): hand the context on as it
 * is (`{ context }`), not as a copy (`{ ...context }` leaves them out).
 *
 * @typeParam Input The type of the items the caller sends (client
 *   streaming). Declaring it types `input` here and `send` on the caller's
 *   {@link Call}.
 *
 * @example
 * ```ts
 * import type { HandlerContext } from "./service.ts";
 * const sum = async (_: undefined, context: HandlerContext<number>): Promise<number> => {
 *   let total = 0;
 *   for await (const n of context.input) total += n;
 *   return total;
 * };
 * console.assert(typeof sum === "function");
 * ```
 */
export interface HandlerContext<Input = unknown> {
  /** The method name that was called. */
  readonly method: string;
  /**
   * Aborted when the caller cancels, when the deadline passes (the reason
   * is then a `TimeoutError`), or when the connection closes.
   */
  readonly signal: AbortSignal;
  /**
   * When the caller's timeout or deadline runs out, in milliseconds since the
   * epoch by this process's clock (the time left travels, not the caller's
   * clock); `undefined` when the call has none, or the caller is a plain
   * fizyr-rpc peer. Pass `{ context }` to calls made from the handler to
   * hand it (and the cancellation) on.
   */
  readonly deadline: number | undefined;
  /** The connection the call came in on; it can call the caller back. */
  readonly connection: RpcCaller;
  /** Information about the connection, including peer credentials on Unix sockets. */
  readonly info: ConnectionInfo;
  /**
   * Descriptors that came with the request. Close them, or call `take()` to
   * keep one beyond the handler; the rest are closed when the handler ends.
   */
  readonly fds: FdHandle[];
  /** Items the caller sends while the call is open (client streaming). */
  readonly input: AsyncIterable<Input>;
  /**
   * Items the caller sends, each with the descriptors that came with it.
   * Close them or `take()` them; the rest are closed when the handler ends.
   */
  readonly inputWithFds: AsyncIterable<Received<Input>>;
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
// The context is `HandlerContext<any>` so that handlers declaring their input type (`HandlerContext<number>`) fit.
// deno-lint-ignore no-explicit-any
export type Handler = (params: any, context: HandlerContext<any>) => unknown;

/** A set of named handlers; its type is the service type clients use. */
export type Service = { [method: string]: Handler };

/** Method names of a service. */
export type MethodName<S> = keyof S & string;

/**
 * Parameter type of a handler: `undefined` for a handler that takes none,
 * `unknown` for something that is not a function.
 */
export type ParamsOf<F> = F extends (params: infer P, ...rest: never[]) => unknown
  ? Parameters<F> extends readonly [] ? undefined : P
  : unknown;

/**
 * The parameters that follow the name in a call to a handler: `params`
 * (plain or wrapped with `withFds`), required unless the handler takes none
 * or accepts `undefined`, then the call's options.
 *
 * @example
 * ```ts
 * import type { CallArgs } from "./service.ts";
 * const greet = (name: string): string => `hello ${name}`;
 * const args: CallArgs<typeof greet> = ["ada", { timeout: 100 }];
 * console.assert(args[0] === "ada");
 * ```
 */
export type CallArgs<F> = ArgsWith<NonNullable<F>, [options?: CallOptions]>;

/**
 * The parameters that follow the name in a notification to a listener:
 * `params`, required unless the listener takes none or accepts `undefined`.
 */
export type NotifyArgs<F> = ArgsWith<NonNullable<F>, []>;

/**
 * `params` followed by `Rest`; `params` is optional only when every handler
 * in `F` (a union when the method name is one) accepts `undefined`.
 */
type ArgsWith<F, Rest extends unknown[]> = [ParamsOptional<F>] extends [true]
  ? [params?: ParamsOf<F> | WithFds<ParamsOf<F>>, ...Rest]
  : [params: ParamsOf<F> | WithFds<ParamsOf<F>>, ...Rest];

/** Per handler of `F` (distributing over a union): whether it may be called without params. */
type ParamsOptional<F> = F extends unknown ? undefined extends ParamsOf<F> ? true : false : never;

/** Result type of a call to a handler (an async generator's return value for streaming handlers). */
export type ResultOf<F> = F extends (...args: never[]) => infer R ? 0 extends 1 & R ? R
  : R extends AsyncGenerator<unknown, infer Ret, unknown> ? Unwrapped<Ret>
  : R extends AsyncIterable<unknown> ? undefined
  : Unwrapped<Awaited<R>>
  : unknown;

/** Item type streamed by a handler. */
export type ItemOf<F> = F extends (...args: never[]) => infer R ? 0 extends 1 & R ? R
  : R extends AsyncIterable<infer T> ? Unwrapped<T>
  : unknown
  : unknown;

/**
 * Type of the items a handler reads from `context.input`, as its context
 * parameter declares it (`HandlerContext<number>` reads numbers); `unknown`
 * when it does not say.
 */
export type InputOf<F> = F extends (params: never, context: HandlerContext<infer I>, ...rest: never[]) => unknown ? I
  : unknown;
