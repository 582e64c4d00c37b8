/**
 * The RPC connection: named calls, streams, client streaming, notifications
 * and handlers, over a {@link Peer}. Both ends of a connection are
 * `RpcConnection`s, so either side may call the other.
 *
 * @module
 */

import { cborCodec, type Codec, encodeForSend } from "../wire/codec.ts";
import { callSafely } from "../base/call_safely.ts";
import { CancelledError, ConnectionClosedError, ProtocolError, RemoteError, SessionError } from "../base/errors.ts";
import { closeUnclaimed } from "../base/fd_handle.ts";
import type { Message } from "../wire/message.ts";
import { Peer } from "../peer/peer.ts";
import type { Call, CallOptions, RpcCaller } from "./caller.ts";
import { dispatchRequest } from "./dispatch.ts";
import { type NotificationListener, type Notifications, type Router, routerOf } from "./router.ts";
import { OpenCall } from "./open_call.ts";
import { CallItems, type ItemSource } from "./call_items.ts";
import { remoteErrorFrom } from "./error_body.ts";
import { STATUS_ERROR, UPDATE_CANCEL, UPDATE_END_OF_INPUT, UPDATE_ITEM } from "./protocol.ts";
import type { CallArgs, Handler, InputOf, ItemOf, NotifyArgs, ResultOf, Service } from "./service.ts";
import { type FlowOptions, flowOptionsOf } from "../peer/read_gate.ts";
import type { ConnectionInfo, MessageTransport } from "../transport/types.ts";
import { type Received, sendUnwrapped, WithFds } from "./with_fds.ts";
import { callLimitsOf } from "./call_limits.ts";
import { type Reconnection, Redialer } from "./reconnect.ts";
import { SessionTransport } from "../session/session_transport.ts";
import { encodeWithCallContext } from "../session/call_context.ts";
import type { SessionInfo } from "../session/options.ts";
import { DESCRIBE_SERVICE_ID } from "../session/session_protocol.ts";
import { descriptionFrom, type ServiceDescription } from "./describe.ts";

export type { Call, CallContext, CallOptions } from "./caller.ts";

/** Method names whose plain-call response handler is kept (more are made per call). */
const MAX_VALUE_HANDLERS = 256;

/** Options of an {@link RpcConnection}. */
export interface RpcConnectionOptions extends FlowOptions {
  /** Body codec; default CBOR. Both ends must use the same. */
  codec?: Codec;
  /** Explicit method name → service id mapping (fizyr interop), ids from −2^31 to 2^31 − 1; other names are hashed. */
  serviceIds?: Readonly<Record<string, number>>;
  /** Handlers this side offers to the peer. */
  handlers?: Service;
  /** Listeners for the notifications the peer sends, by name; more can be added with `onNotify()`. */
  notifications?: Notifications;
  /**
   * Answer the peer's `describe` requests with this side's methods and
   * notifications. Default true; false answers them `ERR_METHOD_NOT_FOUND`.
   */
  describe?: boolean;
  /**
   * A router shared with other connections (servers use this); overrides
   * `handlers`, `notifications`, `serviceIds` and `describe`.
   */
  router?: Router;
  /** Called once the connection closed for good, with the error that closed it, if any. */
  onClose?: (error: unknown) => void;
  /**
   * Reconnect when the connection is lost (not when `close()` is called):
   * how to dial again, and the back-off. `connect` fills in `redial`.
   */
  reconnect?: Reconnection;
}

/**
 * One end of an RPC connection.
 *
 * @typeParam Remote The service the other end offers: `call`, `stream` and
 *   `open` check method names, parameters, results and sent items against it.
 * @typeParam RemoteNotifications The notification listeners the other end
 *   registered: `notify` checks names and parameters against them.
 *
 * @example
 * ```ts ignore
 * import { connect, type HandlerContext } from "../../mod.ts";
 * const handlers = {
 *   add: ([a, b]: [number, number]) => a + b,
 *   sum: async (_: undefined, context: HandlerContext<number>) => {
 *     let total = 0;
 *     for await (const n of context.input) total += n;
 *     return total;
 *   },
 * };
 * const notifications = { log: (line: string) => console.log(line) };
 * const client = await connect<typeof handlers, typeof notifications>("unix:/tmp/app.sock");
 * console.log(await client.call("add", [1, 2], { timeout: 1000 }));
 * const call = await client.open("sum");
 * await call.send(1);
 * await call.end();
 * console.log(await call.result);
 * await client.notify("log", "done");
 * await client.close();
 * ```
 */
export class RpcConnection<Remote = Service, RemoteNotifications = Notifications> implements RpcCaller {
  readonly #router: Router;
  readonly #codec: Codec;
  /** Response handlers of plain calls, by method name (see {@link RpcConnection.#valueHandler}). */
  readonly #valueHandlers = new Map<string, (response: Message) => unknown>();
  readonly #options: RpcConnectionOptions;
  #peer!: Peer;
  #session: SessionTransport | undefined;
  /** Whether request bodies start with the call context (a session that agreed on "call-context"). */
  #callContext = false;
  /** Set once the other side said it is going away; new calls are refused (or wait for a reconnect). */
  #goingAway: SessionError | undefined;
  readonly #redialer: Redialer | undefined;
  #userClosed = false;
  #finished = false;
  #closeError: unknown = undefined;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  /**
   * Creates the instance.
   *
   * @param transport A connected transport (handshake already done); the connection owns it. A
   *   `SessionTransport` (a peerlink session) adds deadlines that travel, keepalive and going-away.
   * @param options Codec, handlers, notification listeners, reconnection and callbacks.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if two names map to the same service id.
   */
  constructor(transport: MessageTransport, options: RpcConnectionOptions = {}) {
    this.#codec = options.codec ?? cborCodec;
    this.#router = options.router ?? routerOf(options);
    this.#options = options;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#redialer = options.reconnect && new Redialer(options.reconnect);
    this.#attach(transport);
  }

  /** The low-level fizyr peer under this connection (a new one after each reconnect). */
  get peer(): Peer {
    return this.#peer;
  }

  /** What the two sides agreed on in the handshake; `undefined` for a plain fizyr-rpc connection. */
  get session(): SessionInfo | undefined {
    return this.#session?.session;
  }

  /** Information about the connection, including peer credentials on Unix sockets. */
  get info(): ConnectionInfo {
    return this.#peer.info;
  }

  /** Resolves when the connection is closed for good (after `close()`, or when reconnecting gave up). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** True once the connection is closed for good. */
  get isClosed(): boolean {
    return this.#finished;
  }

  /** True while the connection is lost and being re-established (`reconnect`). */
  get isReconnecting(): boolean {
    return !this.#finished && this.#peer.isClosed;
  }

  /**
   * Set once the other side said it is going away (`ERR_SERVER_CLOSING`,
   * `ERR_IDLE_TIMEOUT`): new calls are refused with it (or, with
   * `reconnect`, wait for the next connection).
   */
  get goingAway(): SessionError | undefined {
    return this.#goingAway;
  }

  /** The error that closed the connection, if it did not close cleanly. */
  get closeError(): unknown {
    return this.#finished ? this.#closeError : this.#peer.closeError;
  }

  /**
   * Tells the other side this one is going away (`ERR_SERVER_CLOSING` or
   * `ERR_IDLE_TIMEOUT`): it sends no new calls. No-op on a plain fizyr-rpc connection, or a session that did not
   * agree on the "goaway" capability.
   *
   * @param code Why.
   * @param message For people.
   * @param grace Milliseconds in-flight calls have left, if known.
   */
  goAway(code: "ERR_SERVER_CLOSING" | "ERR_IDLE_TIMEOUT", message: string, grace?: number): Promise<void> {
    const session = this.#session;
    if (session === undefined || this.#peer.isClosed || !session.session.capabilities.includes("goaway")) {
      return Promise.resolve();
    }
    return session.sendGoAway(code, message, grace).catch(() => {});
  }

  #attach(transport: MessageTransport): void {
    const session = transport instanceof SessionTransport ? transport : undefined;
    this.#session = session;
    this.#goingAway = undefined;
    if (session) {
      session.onGoAway = (error) => {
        if (this.#session === session) this.#goingAway = error;
      };
    }
    this.#callContext = session?.session.capabilities.includes("call-context") ?? false;
    const scope = {
      connection: this,
      router: this.#router,
      codec: this.#codec,
      callContext: this.#callContext,
    } as const;
    const peer: Peer = new Peer(transport, {
      ...flowOptionsOf(this.#options),
      onRequest: (request) => void dispatchRequest(request, { ...scope, peer }),
      onStream: (message) => void this.#deliverNotification(message),
      cancelKind: UPDATE_CANCEL,
      onCancelQueued: (request) => {
        const body = this.#codec.encode({ code: "ERR_CANCELLED", message: "The caller cancelled the call" });
        void request.respond(STATUS_ERROR, body).catch(() => {});
      },
      onClose: (error) => this.#peerClosed(peer, error),
    });
    this.#peer = peer;
  }

  #peerClosed(peer: Peer, error: unknown): void {
    if (peer !== this.#peer || this.#finished) return;
    if (this.#userClosed || this.#redialer === undefined) {
      this.#finish(error);
      return;
    }
    this.#redialer.lost(error);
    // A server that closed an idle connection wants it gone: dial again only when a call needs it.
    if (!isSessionError(error, "ERR_IDLE_TIMEOUT")) this.#redial(error);
  }

  #redial(error: unknown): void {
    this.#redialer?.start(error, {
      attach: (transport) => {
        this.#attach(transport);
        callSafely(this.#options.reconnect?.onReconnect, this);
      },
      giveUp: (lastError) => this.#finish(lastError),
    });
  }

  #finish(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closeError = error;
    this.#redialer?.stop();
    callSafely(this.#options.onClose, error);
    this.#resolveClosed();
  }

  /**
   * Registers a handler the peer can call on this side.
   *
   * @param name Method name.
   * @param handler The handler.
   */
  handle(name: string, handler: Handler): void {
    this.#router.handle(name, handler);
  }

  /**
   * Registers a listener for notifications the peer sends.
   *
   * @param name Notification name.
   * @param listener The listener.
   */
  onNotify(name: string, listener: NotificationListener): void {
    this.#router.onNotify(name, listener);
  }

  /**
   * Calls a method and waits for its result. Items a streaming method sends
   * are skipped.
   *
   * @param method Method name.
   * @param args `params` (wrap with `withFds` to pass descriptors), required
   *   when the handler requires it, then the options: signal, timeout, descriptors.
   * @returns The result.
   * @throws {RemoteError} when the handler failed or the method does not exist.
   * @throws {CancelledError} / {TimeoutError} / {ConnectionClosedError}.
   */
  call<M extends keyof Remote & string>(method: M, ...args: CallArgs<Remote[M]>): Promise<ResultOf<Remote[M]>> {
    const response = this.#plainCall(method, args);
    if (response === undefined) {
      return this.#callWithLimits(method, args).then(({ value, fds }) => {
        closeUnclaimed(fds);
        return value as ResultOf<Remote[M]>;
      });
    }
    return response.then(this.#valueHandler(method)) as Promise<ResultOf<Remote[M]>>;
  }

  /**
   * The response handler of plain calls to `method`: the result's value
   * (descriptors closed), made once per method name, so a call allocates no
   * closure for it.
   */
  #valueHandler(method: string): (response: Message) => unknown {
    let handler = this.#valueHandlers.get(method);
    if (handler === undefined) {
      handler = (response) => this.#value(response, method);
      if (this.#valueHandlers.size < MAX_VALUE_HANDLERS) this.#valueHandlers.set(method, handler);
    }
    return handler;
  }

  /** A response's value (its descriptors closed), or the error it carries. */
  #value(response: Message, method: string): unknown {
    if (response.header.serviceId < 0 || response.fds.length > 0) {
      const { value, fds } = this.#result(response, method);
      closeUnclaimed(fds);
      return value;
    }
    try {
      return this.#codec.decode(response.body);
    } catch (error) {
      if (error instanceof ProtocolError) void this.#peer.close(error);
      throw error;
    }
  }

  /**
   * Like {@link RpcConnection.call}, but also returns the descriptors that came with the result.
   *
   * @param method Method name.
   * @param args `params`, then the options, as for `call`.
   * @returns The result and its descriptors, which the caller must close.
   */
  callWithFds<M extends keyof Remote & string>(
    method: M,
    ...args: CallArgs<Remote[M]>
  ): Promise<Received<ResultOf<Remote[M]>>> {
    const response = this.#plainCall(method, args);
    if (response === undefined) return this.#callWithLimits(method, args) as Promise<Received<ResultOf<Remote[M]>>>;
    return response.then((message) => this.#result(message, method) as Received<ResultOf<Remote[M]>>);
  }

  /**
   * A call with nothing that can end it early and no descriptors, on a
   * connection that is up: the request is sent through `Peer.request`, with
   * no call handle, timer or signal listener.
   *
   * @returns The response, or `undefined` when the call needs {@link RpcConnection.#callWithLimits}.
   */
  #plainCall(method: string, args: readonly unknown[]): Promise<Message> | undefined {
    const params = args[0];
    const options = args[1] as CallOptions | undefined;
    if (options !== undefined && !isPlainOptions(options)) return undefined;
    if (params instanceof WithFds || this.#finished || this.#goingAway !== undefined || this.#peer.isClosed) {
      return undefined;
    }
    try {
      const codec = this.#codec;
      const body = this.#callContext ? encodeWithCallContext(codec, params, undefined) : encodeForSend(codec, params);
      return this.#peer.request(this.#router.idOf(method), body);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A call through an {@link OpenCall}: signal, timeout, deadline, context, descriptors, or a connection not up. */
  async #callWithLimits(method: string, args: readonly unknown[], serviceId?: number): Promise<Received<unknown>> {
    const call = await this.#start(method, args, false, serviceId);
    try {
      for (;;) {
        const update = await call.race(call.request.nextUpdate());
        if (update === null) break;
        closeUnclaimed(update.fds);
      }
      return this.#result(await call.race(call.request.response), call.method);
    } finally {
      call.dispose();
    }
  }

  /**
   * Calls a streaming method and iterates over its items. Leaving the loop
   * early cancels the call. An error response is thrown from the loop.
   *
   * @param method Method name.
   * @param args `params`, then the options, as for `call`.
   * @returns The items.
   */
  stream<M extends keyof Remote & string>(method: M, ...args: CallArgs<Remote[M]>): AsyncIterable<ItemOf<Remote[M]>> {
    return new CallItems<ItemOf<Remote[M]>>(this.#itemSource(method, args), false);
  }

  /**
   * Like {@link RpcConnection.stream}, with each item's descriptors.
   *
   * @param method Method name.
   * @param args `params`, then the options, as for `call`.
   * @returns The items with descriptors, which the caller must close.
   */
  streamWithFds<M extends keyof Remote & string>(
    method: M,
    ...args: CallArgs<Remote[M]>
  ): AsyncIterable<Received<ItemOf<Remote[M]>>> {
    return new CallItems<Received<ItemOf<Remote[M]>>>(this.#itemSource(method, args), true);
  }

  #itemSource(method: string, args: readonly unknown[]): ItemSource {
    return {
      start: () => this.#start(method, args),
      decode: (message, call) => this.#decode(message, call),
      finish: (response, call) => closeUnclaimed(this.#result(response, call.method).fds),
    };
  }

  /**
   * Opens a call for client streaming or bidirectional streaming. The
   * call's `send` takes the item type the handler's context declares
   * (`HandlerContext<number>` takes numbers).
   *
   * @param method Method name.
   * @param args `params`, then the options, as for `call`.
   * @returns The open call.
   */
  async open<M extends keyof Remote & string>(
    method: M,
    ...args: CallArgs<Remote[M]>
  ): Promise<Call<ItemOf<Remote[M]>, ResultOf<Remote[M]>, InputOf<Remote[M]>>> {
    const call = await this.#start(method, args, true);
    const codec = this.#codec;
    const result = (async () => {
      try {
        const { value, fds } = this.#result(await call.race(call.request.response), call.method);
        closeUnclaimed(fds);
        return value;
      } finally {
        // The caller may still read the call's items after the result.
        call.dispose(false);
      }
    })() as Promise<ResultOf<Remote[M]>>;
    result.catch(() => {});
    const withFds = (): AsyncGenerator<Received<ItemOf<Remote[M]>>> =>
      this.#items(call) as AsyncGenerator<Received<ItemOf<Remote[M]>>>;
    return {
      requestId: call.request.requestId,
      result,
      send(item: unknown): Promise<void> {
        return sendUnwrapped(
          item,
          (value, fds) => call.request.sendUpdate(UPDATE_ITEM, encodeForSend(codec, value), { fds }),
        );
      },
      end(): Promise<void> {
        return call.request.sendUpdate(UPDATE_END_OF_INPUT, new Uint8Array(0));
      },
      cancel(reason?: unknown): void {
        call.cancel(new CancelledError("The call was cancelled", { cause: reason }));
      },
      withFds,
      async *[Symbol.asyncIterator](): AsyncGenerator<ItemOf<Remote[M]>> {
        for await (const item of withFds()) {
          closeUnclaimed(item.fds);
          yield item.value;
        }
      },
    };
  }

  /**
   * Sends a one-way notification to a listener the peer registered.
   *
   * @param method Notification name.
   * @param args `params` (wrap with `withFds` to pass descriptors), required
   *   when the listener requires it.
   * @throws {UsageError} `ERR_MESSAGE_TOO_LARGE` / `ERR_FDS_NOT_SUPPORTED` when it cannot be sent.
   */
  notify<N extends keyof RemoteNotifications & string>(
    method: N,
    ...args: NotifyArgs<RemoteNotifications[N]>
  ): Promise<void> {
    const send = (value: unknown, fds: readonly number[]): Promise<void> =>
      this.#peer.sendStream(this.#router.idOf(method), encodeForSend(this.#codec, value), { fds });
    return sendUnwrapped(args[0], send);
  }

  /**
   * Asks the other side what it serves: its protocol version and
   * capabilities, and each method and notification with its name, service
   * id, kind and, where the handler declared them with `method()`, its
   * description and JSON Schemas.
   *
   * @param options Signal, timeout, deadline or context, as for `call`.
   * @returns The description.
   * @throws {RemoteError} `ERR_METHOD_NOT_FOUND` when the other side does not answer `describe`
   *   (`describe: false`, or not peerlink), `ERR_REMOTE` when its answer is not a description.
   * @throws {CancelledError} / {TimeoutError} / {ConnectionClosedError}.
   */
  async describe(options: Omit<CallOptions, "fds"> = {}): Promise<ServiceDescription> {
    let answer: Received<unknown>;
    try {
      answer = await this.#callWithLimits("describe", [undefined, options], DESCRIBE_SERVICE_ID);
    } catch (error) {
      if (!(error instanceof RemoteError) || error.code !== "ERR_METHOD_NOT_FOUND") throw error;
      throw new RemoteError(
        error.code,
        "The peer does not answer describe requests (it turned them off with describe: false, or is not peerlink)",
        error.data,
      );
    }
    closeUnclaimed(answer.fds);
    return descriptionFrom(answer.value);
  }

  /** Closes the connection (and stops reconnecting); pending calls reject with `ERR_CONNECTION_CLOSED`. */
  async close(): Promise<void> {
    this.#userClosed = true;
    if (this.#peer.isClosed) this.#finish(undefined);
    else await this.#peer.close();
    await this.#closed;
  }

  /** Same as {@link RpcConnection.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #start(method: string, args: readonly unknown[], cancellable = false, serviceId?: number): Promise<OpenCall> {
    const [params, options = {}] = args as [unknown, CallOptions?];
    const started = Date.now();
    const { signals, msLeft } = callLimitsOf(options, started);
    const extraFds = (options.fds ?? []).map((fd) => (typeof fd === "number" ? fd : fd.fd));
    const call = new OpenCall(method, { signals, timeout: msLeft, cancellable });
    try {
      await this.#whenReady(call);
    } catch (error) {
      call.dispose();
      throw error;
    }
    const peer = this.#peer;
    const withContext = this.#callContext;
    // Time spent waiting for a reconnect is spent: send what is really left.
    const left = msLeft === undefined ? undefined : Math.max(0, msLeft - (Date.now() - started));
    await call.send(
      sendUnwrapped(params, (value, fds) => {
        const body = withContext ? encodeWithCallContext(this.#codec, value, left) : encodeForSend(this.#codec, value);
        return peer.sendRequest(serviceId ?? this.#router.idOf(method), body, {
          fds: [...fds, ...extraFds],
        });
      }),
    );
    return call;
  }

  /** Waits while the connection is being re-established; refuses calls once the peer said it is going away. */
  async #whenReady(call: OpenCall): Promise<void> {
    for (;;) {
      if (this.#finished) throw this.#peer.isClosed ? closedErrorOf(this.#closeError) : new ConnectionClosedError();
      const goingAway = this.#goingAway;
      const lost = this.#peer.isClosed;
      if (!lost && goingAway === undefined) return;
      if (this.#redialer === undefined) {
        throw goingAway === undefined
          ? closedErrorOf(this.#peer.closeError)
          : new SessionError(goingAway.code as "ERR_SERVER_CLOSING", goingAway.message, { data: goingAway.data });
      }
      if (this.#redialer.failFast) {
        throw new ConnectionClosedError(
          'The connection is lost and being re-established (reconnect.whileDisconnected is "fail")',
          {
            cause: goingAway ?? this.#peer.closeError,
          },
        );
      }
      // Going away: wait for the old connection to end, then for the new one.
      if (lost) this.#redial(this.#peer.closeError);
      await call.race(lost ? this.#redialer.nextAttach() : this.#peer.closed).catch((error: unknown) => {
        // Reconnecting gave up: the loop reports the closed connection; anything else (timeout, cancel) is the call's.
        if (!this.#finished) throw error;
      });
    }
  }

  async *#items(call: OpenCall): AsyncGenerator<Received<unknown>> {
    for (;;) {
      const update = await call.race(call.request.nextUpdate());
      if (update === null) return;
      if (update.header.serviceId !== UPDATE_ITEM) {
        closeUnclaimed(update.fds);
        continue;
      }
      yield { value: this.#decode(update, call), fds: update.fds };
    }
  }

  #result(response: Message, method: string): Received<unknown> {
    if (response.header.serviceId < 0) {
      closeUnclaimed(response.fds);
      const error = this.#guardDecode(() => remoteErrorFrom(response, this.#codec), response);
      if (error.code === "ERR_METHOD_NOT_FOUND") {
        throw new RemoteError(error.code, `The peer has no method "${method}" (${error.message})`, error.data);
      }
      throw error;
    }
    return { value: this.#guardDecode(() => this.#codec.decode(response.body), response), fds: response.fds };
  }

  #decode(message: Message, call: OpenCall): unknown {
    try {
      return this.#guardDecode(() => this.#codec.decode(message.body), message);
    } catch (error) {
      call.request.abandon();
      throw error;
    }
  }

  /**
   * A body that is not valid CBOR is a protocol violation: it closes the
   * connection. A value that cannot be decoded (a `DataError`) fails only
   * the call it belongs to.
   */
  #guardDecode<T>(decode: () => T, message: Message): T {
    try {
      return decode();
    } catch (error) {
      closeUnclaimed(message.fds);
      if (error instanceof ProtocolError) void this.#peer.close(error);
      throw error;
    }
  }

  async #deliverNotification(message: Message): Promise<void> {
    const route = this.#router.notification(message.header.serviceId);
    if (route === undefined) {
      closeUnclaimed(message.fds);
      return;
    }
    let params: unknown;
    try {
      params = this.#guardDecode(() => this.#codec.decode(message.body), message);
      if (route.params !== undefined) {
        // Declared with notification({ params }): parameters the schema refuses are dropped (nobody waits for an answer).
        const checked = await route.params["~standard"].validate(params);
        if (checked.issues) throw checked.issues;
        params = checked.value;
      }
    } catch {
      closeUnclaimed(message.fds);
      return;
    }
    try {
      await route.target(params, { method: route.name, connection: this, fds: message.fds });
    } catch {
      // A notification has nobody to answer; a failing listener must not break the connection.
    } finally {
      closeUnclaimed(message.fds);
    }
  }
}

/** The error a call sees on a closed connection: a session's own error, or a `ConnectionClosedError` with the cause. */
function closedErrorOf(error: unknown): ConnectionClosedError {
  if (error instanceof SessionError) return error;
  if (error === undefined) return new ConnectionClosedError();
  const text = error instanceof Error ? error.message : String(error);
  return new ConnectionClosedError(`The connection closed: ${text}`, { cause: error });
}

/**
 * Whether a call's options hold nothing that can end it early and no
 * descriptors to send; anything else (or options that are not an object)
 * takes the full path, which checks them.
 */
function isPlainOptions(options: CallOptions): boolean {
  if (typeof options !== "object" || options === null) return false;
  const { fds } = options;
  return options.signal === undefined && options.timeout === undefined && options.deadline === undefined &&
    options.context === undefined && (fds === undefined || (Array.isArray(fds) && fds.length === 0));
}

function isSessionError(error: unknown, code: string): boolean {
  return error instanceof SessionError && error.code === code;
}
