/**
 * Runs a handler for a received request: decodes parameters, feeds client
 * items, streams generator output, answers exactly once.
 *
 * @module
 */

import { CountedQueue } from "../peer/counted_queue.ts";
import { type Codec, encodeForSend } from "../wire/codec.ts";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { CancelledError, DataError, TimeoutError, UsageError } from "../base/errors.ts";
import { closeUnclaimed, type FdHandle } from "../base/fd_handle.ts";
import type { Peer, ReceivedRequest } from "../peer/peer.ts";
import type { RequestWatcher } from "../peer/requests.ts";
import type { Message } from "../wire/message.ts";
import type { ConnectionInfo } from "../transport/types.ts";
import type { RpcCaller } from "./caller.ts";
import type { Router } from "./router.ts";
import { errorBodyFrom } from "./error_body.ts";
import {
  STATUS_ERROR,
  STATUS_ERROR_TEXT,
  STATUS_OK,
  UPDATE_CANCEL,
  UPDATE_END_OF_INPUT,
  UPDATE_ITEM,
} from "./protocol.ts";
import type { HandlerContext } from "./service.ts";
import { type Received, releaseUnsent, sendUnwrapped, WithFds } from "./with_fds.ts";
import { decodeCallContext } from "../session/call_context.ts";
import { DESCRIBE_SERVICE_ID } from "../session/session_protocol.ts";
import { MAX_TIMEOUT } from "./call_limits.ts";
import { describeRouter } from "./describe.ts";
import { invalidParamsBody } from "./validation.ts";

/** What the dispatcher needs from the connection. */
export interface DispatchScope {
  /** The low-level peer. */
  readonly peer: Peer;
  /** The RPC connection handed to handlers. */
  readonly connection: RpcCaller;
  /** Where handlers are looked up. */
  readonly router: Router;
  /** Body codec. */
  readonly codec: Codec;
  /** True when request bodies start with the call context (a peerlink session with "call-context"). */
  readonly callContext: boolean;
}

/**
 * Handles one received request to completion. Never throws: failures become
 * error responses, and malformed input closes the connection.
 *
 * @param request The request.
 * @param scope Connection, router and codec.
 */
export async function dispatchRequest(request: ReceivedRequest, scope: DispatchScope): Promise<void> {
  const { peer, codec } = scope;
  const route = scope.router.method(request.serviceId);
  if (route === undefined) {
    closeUnclaimed(request.fds);
    if (request.serviceId === DESCRIBE_SERVICE_ID && scope.router.describes) {
      await respondDescription(request, scope);
      return;
    }
    await respondError(request, scope, {
      code: "ERR_METHOD_NOT_FOUND",
      message: `No method is registered for service id ${request.serviceId}`,
    });
    return;
  }
  let params: unknown;
  let msLeft: number | undefined;
  try {
    const context = scope.callContext ? decodeCallContext(request.body) : { msLeft: undefined, body: request.body };
    msLeft = context.msLeft;
    params = codec.decode(context.body);
    // The body may share a slab with other messages; the handler may run long, and needs only the params.
    request.releaseBody();
  } catch (error) {
    closeUnclaimed(request.fds);
    // A value the codec cannot represent fails this call; bytes that are not the codec's close the connection.
    if (error instanceof DataError) await respondError(request, scope, errorBodyFrom(error));
    else await peer.close(error);
    return;
  }

  const call = new HandlerCall(request, scope, route.name, msLeft);
  if (route.params !== undefined) {
    // Declared with method({ params }): the handler runs only with parameters the schema takes, and gets its output.
    let checked: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
    try {
      checked = route.params["~standard"].validate(params);
      // Most schemas check synchronously: a promise is awaited only when the schema returned one.
      if (isThenable(checked)) checked = await checked;
    } catch (error) {
      call.finish();
      if (!request.responded) await respondError(request, scope, errorBodyFrom(error));
      return;
    }
    if (request.responded || checked.issues) {
      // Refused, or cancelled (or past its deadline) while an asynchronous schema checked: already answered then.
      call.finish();
      if (checked.issues) await respondError(request, scope, invalidParamsBody(route.name, checked.issues));
      return;
    }
    params = checked.value;
  }
  let outcome: unknown;
  try {
    outcome = route.target(params, call);
  } catch (error) {
    outcome = Promise.reject(error);
  }
  if (isAsyncIterator(outcome) || isThenable(outcome) || outcome instanceof WithFds) {
    await answerLater(request, scope, call, outcome);
    return;
  }
  // A plain value, as most handlers return: answered now, with no promise in between.
  try {
    if (!request.responded) respondWith(request, scope, encodeForSend(codec, outcome));
  } catch (error) {
    await respondError(request, scope, errorBodyFrom(error));
  } finally {
    call.finish();
  }
}

/** Answers with what a handler's promise, async iterator or `withFds` result gives. */
async function answerLater(request: ReceivedRequest, scope: DispatchScope, call: HandlerCall, outcome: unknown) {
  const { codec } = scope;
  try {
    const result = isAsyncIterator(outcome) ? await streamItems(request, codec, outcome, call) : await outcome;
    if (request.responded) releaseUnsent(result);
    else {await sendUnwrapped(result, (value, fds) =>
        respondOrReport(request, scope, STATUS_OK, encodeForSend(codec, value), fds));}
  } catch (error) {
    if (!request.responded) await respondError(request, scope, errorBodyFrom(error));
  } finally {
    call.finish();
  }
}

/** Answers a `describe` request with what the router serves. */
async function respondDescription(request: ReceivedRequest, scope: DispatchScope): Promise<void> {
  let body: Uint8Array;
  try {
    body = scope.codec.encode(describeRouter(scope.router));
  } catch (error) {
    // A hand-written JSON Schema the codec cannot encode.
    await respondError(request, scope, errorBodyFrom(error));
    return;
  }
  respondWith(request, scope, body);
}

/** Sends a success response; one the transport refuses (too large) becomes an error response instead. */
function respondWith(request: ReceivedRequest, scope: DispatchScope, body: Uint8Array): void {
  request.respond(STATUS_OK, body).catch((error: unknown) => {
    if (error instanceof UsageError && !request.responded) void respondError(request, scope, errorBodyFrom(error));
  });
}

/**
 * The context of one handler run, and the watcher of its request's updates.
 * What a handler may not use is made when it first asks: the abort
 * controller, the input queue and its iterators. A plain call costs this
 * object and nothing else.
 */
class HandlerCall implements HandlerContext, RequestWatcher {
  readonly method: string;
  readonly deadline: number | undefined;
  readonly connection: RpcCaller;
  readonly fds: FdHandle[];
  readonly #request: ReceivedRequest;
  readonly #scope: DispatchScope;
  #abort: AbortController | undefined;
  /** Why the call was aborted, once it was. */
  #abortReason: unknown = undefined;
  #aborted = false;
  /** Client items not taken by the handler yet; made when the first arrives or the handler asks for `input`. */
  #input: CountedQueue<Received<unknown>> | undefined;
  /** Set once the input ended before the queue was made. */
  #inputEnd: { error: unknown } | undefined;
  #values: AsyncIterable<unknown> | undefined;
  #items: AsyncIterable<Received<unknown>> | undefined;
  /** Descriptors of client items, closed after the handler unless taken. */
  readonly #inputFds: FdHandle[] = [];
  readonly #deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(request: ReceivedRequest, scope: DispatchScope, method: string, msLeft: number | undefined) {
    this.#request = request;
    this.#scope = scope;
    this.method = method;
    this.connection = scope.connection;
    this.fds = request.fds;
    // The time left counts from the request's arrival: time spent waiting for a handler slot is spent.
    this.deadline = msLeft === undefined ? undefined : request.receivedAt + msLeft;
    if (this.deadline !== undefined && msLeft! <= MAX_TIMEOUT) {
      this.#deadlineTimer = setTimeout(() => this.#deadlinePassed(msLeft!), Math.max(0, this.deadline - Date.now()));
    }
    request.watch(this);
  }

  get info(): ConnectionInfo {
    return this.#request.info;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#aborted) this.#abort.abort(this.#abortReason);
    }
    return this.#abort.signal;
  }

  /** True once the caller cancelled, the deadline passed or the connection closed. */
  get aborted(): boolean {
    return this.#aborted;
  }

  get input(): AsyncIterable<unknown> {
    return this.#values ??= valuesOf(this.#inputQueue());
  }

  get inputWithFds(): AsyncIterable<Received<unknown>> {
    return this.#items ??= itemsOf(this.#inputQueue());
  }

  /** Sends an item to the caller before the result; an own property, so that it may be taken off the context. */
  readonly send = (item: unknown): Promise<void> => sendItem(this.#request, this.#scope.codec, item);

  /** A requester update: items feed `input`, a cancel aborts the handler and answers at once. */
  update(update: Message): void {
    switch (update.header.serviceId) {
      case UPDATE_ITEM: {
        this.#inputFds.push(...update.fds);
        let value: unknown;
        try {
          value = this.#scope.codec.decode(update.body);
        } catch (error) {
          if (error instanceof DataError) this.#endInput(error);
          else void this.#scope.peer.close(error);
          return;
        }
        this.#inputQueue().push({ value, fds: update.fds }, update.body.length);
        return;
      }
      case UPDATE_END_OF_INPUT:
        closeUnclaimed(update.fds);
        this.#endInput(undefined);
        return;
      case UPDATE_CANCEL: {
        closeUnclaimed(update.fds);
        const reason = new CancelledError("The caller cancelled the call");
        this.#abortWith(reason);
        this.#endInput(reason);
        void respondError(this.#request, this.#scope, { code: "ERR_CANCELLED", message: reason.message });
        return;
      }
      default:
        closeUnclaimed(update.fds);
    }
  }

  /** The connection closed before the call was answered. */
  fail(error: unknown): void {
    this.#abortWith(error);
    this.#endInput(undefined);
  }

  /** Releases what the run holds: the timer, descriptors not taken, client items not read. */
  finish(): void {
    clearTimeout(this.#deadlineTimer);
    closeUnclaimed(this.#request.fds);
    closeUnclaimed(this.#inputFds);
    this.#inputEnd ??= { error: undefined };
    this.#input?.discard();
  }

  #deadlinePassed(msLeft: number): void {
    const reason = new TimeoutError(msLeft);
    this.#abortWith(reason);
    this.#endInput(reason);
    // The caller has given up by now: answer at once, so the handler's slot frees even if it ignores its signal.
    void respondError(this.#request, this.#scope, { code: reason.code, message: `The deadline passed (${msLeft} ms)` });
  }

  #abortWith(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#abort?.abort(reason);
  }

  #endInput(error: unknown): void {
    if (this.#input !== undefined) this.#input.end(error);
    else this.#inputEnd ??= { error };
  }

  /** The input queue, made on first use; it counts against the connection's flow control until items are taken. */
  #inputQueue(): CountedQueue<Received<unknown>> {
    if (this.#input === undefined) {
      this.#input = new CountedQueue<Received<unknown>>(this.#scope.peer.flow);
      if (this.#inputEnd !== undefined) this.#input.end(this.#inputEnd.error);
    }
    return this.#input;
  }
}

/** Drives a handler's async iterator, sending each item as a responder update; returns its return value. */
async function streamItems(
  request: ReceivedRequest,
  codec: Codec,
  iterator: AsyncIterator<unknown>,
  call: HandlerCall,
): Promise<unknown> {
  try {
    return await streamUntilDone(request, codec, iterator, call);
  } catch (error) {
    // Sending failed (connection gone, item too large): let the generator run its finally blocks.
    await Promise.resolve(iterator.return?.()).catch(() => {});
    throw error;
  }
}

async function streamUntilDone(
  request: ReceivedRequest,
  codec: Codec,
  iterator: AsyncIterator<unknown>,
  call: HandlerCall,
): Promise<unknown> {
  for (;;) {
    if (call.aborted || request.responded) {
      await iterator.return?.();
      return undefined;
    }
    const step = await iterator.next();
    if (step.done) return step.value;
    if (call.aborted || request.responded) {
      releaseUnsent(step.value);
      await iterator.return?.();
      return undefined;
    }
    await sendItem(request, codec, step.value);
  }
}

function sendItem(request: ReceivedRequest, codec: Codec, item: unknown): Promise<void> {
  return sendUnwrapped(item, (value, fds) => request.sendUpdate(UPDATE_ITEM, encodeForSend(codec, value), { fds }));
}

async function respondOrReport(
  request: ReceivedRequest,
  scope: DispatchScope,
  status: number,
  body: Uint8Array,
  fds: readonly number[],
): Promise<void> {
  try {
    await request.respond(status, body, { fds });
  } catch (error) {
    // Nothing was written (too large, descriptors unsupported): tell the caller why.
    if (error instanceof UsageError && !request.responded) await respondError(request, scope, errorBodyFrom(error));
  }
}

async function respondError(
  request: ReceivedRequest,
  scope: DispatchScope,
  body: { code: string; message: string; data?: unknown },
): Promise<void> {
  // Each fallback is smaller, so that some answer always fits: a caller must never wait forever.
  const fallbacks: (() => [number, Uint8Array])[] = [
    () => [STATUS_ERROR, scope.codec.encode(body)],
    () => [STATUS_ERROR, scope.codec.encode({ code: body.code, message: body.message.slice(0, 1024) })],
    () => [
      STATUS_ERROR,
      scope.codec.encode({ code: body.code.slice(0, 64), message: "The error was too large to send" }),
    ],
    // The header alone: a fizyr text error with no text, which fits the smallest message limit (12 bytes).
    () => [STATUS_ERROR_TEXT, new Uint8Array(0)],
  ];
  for (const fallback of fallbacks) {
    if (request.responded || scope.peer.isClosed) return;
    try {
      await request.respond(...fallback());
      return;
    } catch (error) {
      if (!(error instanceof UsageError)) return;
    }
  }
}

async function* itemsOf(queue: CountedQueue<Received<unknown>>): AsyncGenerator<Received<unknown>, void, undefined> {
  for (let item = await queue.next(); item !== null; item = await queue.next()) yield item;
}

async function* valuesOf(queue: CountedQueue<Received<unknown>>): AsyncGenerator<unknown, void, undefined> {
  for await (const item of itemsOf(queue)) {
    closeUnclaimed(item.fds);
    yield item.value;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.asyncIterator in value &&
    typeof (value as { next?: unknown }).next === "function";
}
