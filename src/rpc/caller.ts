/**
 * What handlers and listeners see of the connection a call came in on: an
 * untyped {@link RpcCaller}, plus the options and handle of a call. It sits
 * at the bottom of `src/rpc/` so that the service types, the router and the
 * dispatcher can name the connection without importing it; `RpcConnection`
 * implements it.
 *
 * @module
 */

import type { FdHandle } from "../base/fd_handle.ts";
import type { ConnectionInfo } from "../transport/types.ts";
import type { Received, WithFds } from "./with_fds.ts";

/** Options of one call. */
export interface CallOptions {
  /** Cancels the call: the peer is told, the call rejects with `ERR_CANCELLED`. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the answer before cancelling with `ERR_TIMEOUT`
   * (at most 2^31 - 1; `Infinity` means no limit, the default).
   */
  timeout?: number;
  /**
   * The time (milliseconds since the epoch, as `Date.now()`) by which the
   * call must finish; like `timeout`, and the earlier of the two wins. The
   * time left travels with the request, so the handler sees it as
   * `context.deadline` and is aborted when it passes.
   */
  deadline?: number;
  /**
   * The context of the handler making this call (or any `{ signal, deadline }`):
   * the call inherits its cancellation and deadline, so cancelling the outer
   * call, or its deadline passing, cancels this one too.
   */
  context?: CallContext;
  /** Descriptors to send with the request (seqpacket only). */
  fds?: readonly (number | FdHandle)[];
}

/** What a call inherits from the handler that makes it (a {@link HandlerContext} fits). */
export interface CallContext {
  /** Cancels the inheriting call when it aborts. */
  readonly signal?: AbortSignal;
  /** The inheriting call must finish by then (milliseconds since the epoch). */
  readonly deadline?: number | undefined;
}

/**
 * An open bidirectional call made with `open()`.
 *
 * @typeParam Item What the handler streams back.
 * @typeParam Result The handler's result.
 * @typeParam Input What the handler reads from its `input`.
 */
export interface Call<Item = unknown, Result = unknown, Input = unknown> extends AsyncIterable<Item> {
  /** The request id on the wire. */
  readonly requestId: number;
  /** Resolves with the result, or rejects with the remote error. */
  readonly result: Promise<Result>;
  /**
   * Sends an item to the handler's `input`.
   *
   * @param item The item, optionally wrapped with `withFds`.
   * @throws {UsageError} `ERR_MESSAGE_TOO_LARGE` / `ERR_FDS_NOT_SUPPORTED` when it cannot be sent.
   */
  send(item: Input | WithFds<Input>): Promise<void>;
  /** Tells the handler no more items will come. */
  end(): Promise<void>;
  /**
   * Cancels the call.
   *
   * @param reason Why; becomes the cause of the `ERR_CANCELLED` error.
   */
  cancel(reason?: unknown): void;
  /** Items with the descriptors that came with them. */
  withFds(): AsyncIterable<Received<Item>>;
}

/**
 * A connection seen without a service type: any method, any parameters.
 * Handlers get one as `context.connection` to call the caller back.
 *
 * @example
 * ```ts
 * import type { RpcCaller } from "./caller.ts";
 * async function askBack(connection: RpcCaller): Promise<unknown> {
 *   return await connection.call("whoami", undefined, { timeout: 1000 });
 * }
 * console.assert(typeof askBack === "function");
 * ```
 */
export interface RpcCaller {
  /** Information about the connection, including peer credentials on Unix sockets. */
  readonly info: ConnectionInfo;
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  /** True once the connection is closed. */
  readonly isClosed: boolean;
  /** The error that closed the connection, if it did not close cleanly. */
  readonly closeError: unknown;
  /**
   * Calls a method and waits for its result.
   *
   * @param method Method name.
   * @param params Parameters (wrap with `withFds` to pass descriptors).
   * @param options Signal, timeout, descriptors.
   * @returns The result.
   * @throws {RemoteError} when the handler failed or the method does not exist.
   */
  call(method: string, params?: unknown, options?: CallOptions): Promise<unknown>;
  /**
   * Like `call`, but also returns the descriptors that came with the result.
   *
   * @param method Method name.
   * @param params Parameters.
   * @param options Signal, timeout, descriptors.
   * @returns The result and its descriptors, which the caller must close.
   */
  callWithFds(method: string, params?: unknown, options?: CallOptions): Promise<Received<unknown>>;
  /**
   * Calls a streaming method and iterates over its items.
   *
   * @param method Method name.
   * @param params Parameters.
   * @param options Signal, timeout, descriptors.
   * @returns The items.
   */
  stream(method: string, params?: unknown, options?: CallOptions): AsyncIterable<unknown>;
  /**
   * Like `stream`, with each item's descriptors.
   *
   * @param method Method name.
   * @param params Parameters.
   * @param options Signal, timeout, descriptors.
   * @returns The items with descriptors, which the caller must close.
   */
  streamWithFds(method: string, params?: unknown, options?: CallOptions): AsyncIterable<Received<unknown>>;
  /**
   * Opens a call for client streaming or bidirectional streaming.
   *
   * @param method Method name.
   * @param params Parameters.
   * @param options Signal, timeout, descriptors.
   * @returns The open call.
   */
  open(method: string, params?: unknown, options?: CallOptions): Promise<Call>;
  /**
   * Sends a one-way notification.
   *
   * @param method Notification name.
   * @param params Parameters (wrap with `withFds` to pass descriptors).
   */
  notify(method: string, params?: unknown): Promise<void>;
  /** Closes the connection; pending calls reject with `ERR_CONNECTION_CLOSED`. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}
