/**
 * Runs a handler for a received request: decodes parameters, feeds client
 * items, streams generator output, answers exactly once.
 *
 * @module
 */

import { CountedQueue } from "../peer/counted_queue.ts";
import type { Codec } from "../wire/codec.ts";
import { CancelledError, DataError, ProtocolError, TimeoutError, UsageError } from "../base/errors.ts";
import { closeUnclaimed, type FdHandle } from "../base/fd_handle.ts";
import type { Peer, ReceivedRequest } from "../peer/peer.ts";
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
import { type Received, releaseUnsent, sendUnwrapped } from "./with_fds.ts";
import { decodeCallContext } from "../session/call_context.ts";
import { MAX_TIMEOUT } from "./call_limits.ts";

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
  } catch (error) {
    closeUnclaimed(request.fds);
    // A value the codec cannot represent fails this call; bytes that are not the codec's close the connection.
    if (error instanceof DataError) await respondError(request, scope, errorBodyFrom(error));
    else await peer.close(error);
    return;
  }

  const abort = new AbortController();
  const onConnectionAbort = (): void => abort.abort(request.signal.reason);
  if (request.signal.aborted) onConnectionAbort();
  else request.signal.addEventListener("abort", onConnectionAbort, { once: true });
  // Client items count against the connection's flow control until the handler takes them.
  const input = new CountedQueue<Received<unknown>>(peer.flow);
  const inputFds: FdHandle[] = [];
  void pumpUpdates(request, scope, input, abort, inputFds);
  // The time left counts from the request's arrival: time spent waiting for a handler slot is spent.
  const deadline = msLeft === undefined ? undefined : request.receivedAt + msLeft;
  const deadlineTimer = deadline === undefined || msLeft! > MAX_TIMEOUT ? undefined : setTimeout(() => {
    const reason = new TimeoutError(msLeft!);
    abort.abort(reason);
    input.end(reason);
    // The caller has given up by now: answer at once, so the handler's slot frees even if it ignores its signal.
    void respondError(request, scope, { code: reason.code, message: `The deadline passed (${msLeft} ms)` });
  }, Math.max(0, deadline - Date.now()));

  const context: HandlerContext = {
    method: route.name,
    signal: abort.signal,
    deadline,
    connection: scope.connection,
    info: request.info,
    fds: request.fds,
    input: valuesOf(input),
    inputWithFds: itemsOf(input),
    send: (item: unknown) => sendItem(request, codec, item),
  };
  try {
    const outcome = route.target(params, context);
    const result = isAsyncIterator(outcome) ? await streamItems(request, codec, outcome, abort.signal) : await outcome;
    if (request.responded) releaseUnsent(result);
    else {await sendUnwrapped(result, (value, fds) =>
        respondOrReport(request, scope, STATUS_OK, codec.encode(value), fds));}
  } catch (error) {
    if (!request.responded) await respondError(request, scope, errorBodyFrom(error));
  } finally {
    clearTimeout(deadlineTimer);
    request.signal.removeEventListener("abort", onConnectionAbort);
    closeUnclaimed(request.fds);
    closeUnclaimed(inputFds);
    input.discard();
  }
}

/** Reads requester updates: items feed `input`, a cancel aborts the handler and answers at once. */
async function pumpUpdates(
  request: ReceivedRequest,
  scope: DispatchScope,
  input: CountedQueue<Received<unknown>>,
  abort: AbortController,
  inputFds: FdHandle[],
): Promise<void> {
  try {
    for (;;) {
      // Every update is read at once, so a cancel or the end of input is seen behind unread items.
      const update = await request.nextUpdate();
      if (update === null) break;
      switch (update.header.serviceId) {
        case UPDATE_ITEM: {
          inputFds.push(...update.fds);
          const value = scope.codec.decode(update.body);
          input.push({ value, fds: update.fds }, update.body.length);
          break;
        }
        case UPDATE_END_OF_INPUT:
          closeUnclaimed(update.fds);
          input.end();
          break;
        case UPDATE_CANCEL:
          closeUnclaimed(update.fds);
          abort.abort(new CancelledError("The caller cancelled the call"));
          input.end(new CancelledError("The caller cancelled the call"));
          await respondError(request, scope, { code: "ERR_CANCELLED", message: "The caller cancelled the call" });
          return;
        default:
          closeUnclaimed(update.fds);
      }
    }
  } catch (error) {
    if (error instanceof DataError) input.end(error);
    else if (error instanceof ProtocolError) await scope.peer.close(error);
  } finally {
    input.end();
  }
}

/** Drives a handler's async iterator, sending each item as a responder update; returns its return value. */
async function streamItems(
  request: ReceivedRequest,
  codec: Codec,
  iterator: AsyncIterator<unknown>,
  signal: AbortSignal,
): Promise<unknown> {
  try {
    return await streamUntilDone(request, codec, iterator, signal);
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
  signal: AbortSignal,
): Promise<unknown> {
  for (;;) {
    if (signal.aborted || request.responded) {
      await iterator.return?.();
      return undefined;
    }
    const step = await iterator.next();
    if (step.done) return step.value;
    if (signal.aborted || request.responded) {
      releaseUnsent(step.value);
      await iterator.return?.();
      return undefined;
    }
    await sendItem(request, codec, step.value);
  }
}

function sendItem(request: ReceivedRequest, codec: Codec, item: unknown): Promise<void> {
  return sendUnwrapped(item, (value, fds) => request.sendUpdate(UPDATE_ITEM, codec.encode(value), { fds }));
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

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.asyncIterator in value &&
    typeof (value as { next?: unknown }).next === "function";
}
