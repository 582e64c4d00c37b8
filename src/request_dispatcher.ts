/**
 * Runs a handler for a received request: decodes parameters, feeds client
 * items, streams generator output, answers exactly once.
 *
 * @module
 */

import { AsyncQueue } from "./async_queue.ts";
import type { Codec } from "./codec.ts";
import { CancelledError, ProtocolError, UsageError } from "./errors.ts";
import { closeUnclaimed, type FdHandle } from "./fd.ts";
import type { Peer, ReceivedRequest } from "./peer.ts";
import type { Router } from "./router.ts";
import type { RpcConnection } from "./rpc_connection.ts";
import {
  errorBodyFrom,
  STATUS_ERROR,
  STATUS_OK,
  UPDATE_CANCEL,
  UPDATE_END_OF_INPUT,
  UPDATE_ITEM,
} from "./rpc_protocol.ts";
import type { HandlerContext } from "./service.ts";
import { type Received, releaseUnsent, sendUnwrapped } from "./with_fds.ts";

/** Client items moved ahead of the handler's reads; the rest wait in the peer's accounted queue. */
const INPUT_READ_AHEAD = 16;

/** What the dispatcher needs from the connection. */
export interface DispatchScope {
  /** The low-level peer. */
  readonly peer: Peer;
  /** The RPC connection handed to handlers. */
  readonly connection: RpcConnection;
  /** Where handlers are looked up. */
  readonly router: Router;
  /** Body codec. */
  readonly codec: Codec;
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
  try {
    params = codec.decode(request.body);
  } catch (error) {
    closeUnclaimed(request.fds);
    await peer.close(error);
    return;
  }

  const abort = new AbortController();
  const onConnectionAbort = (): void => abort.abort(request.signal.reason);
  if (request.signal.aborted) onConnectionAbort();
  else request.signal.addEventListener("abort", onConnectionAbort, { once: true });
  const input = new AsyncQueue<Received<unknown>>();
  const inputFds: FdHandle[] = [];
  void pumpUpdates(request, scope, input, abort, inputFds);

  const context: HandlerContext = {
    method: route.name,
    signal: abort.signal,
    connection: scope.connection,
    info: request.info,
    fds: request.fds,
    input: valuesOf(input),
    inputWithFds: input,
    send: (item: unknown) => sendItem(request, codec, item),
  };
  try {
    const outcome = route.target(params, context);
    const result = isAsyncIterator(outcome) ? await streamItems(request, codec, outcome, abort.signal) : await outcome;
    if (request.responded) releaseUnsent(result);
    else await sendUnwrapped(result, (value, fds) => respondOrReport(request, scope, STATUS_OK, codec.encode(value), fds));
  } catch (error) {
    if (!request.responded) await respondError(request, scope, errorBodyFrom(error));
  } finally {
    request.signal.removeEventListener("abort", onConnectionAbort);
    closeUnclaimed(request.fds);
    closeUnclaimed(inputFds);
    input.end();
  }
}

/** Reads requester updates: items feed `input`, a cancel aborts the handler and answers at once. */
async function pumpUpdates(
  request: ReceivedRequest,
  scope: DispatchScope,
  input: AsyncQueue<Received<unknown>>,
  abort: AbortController,
  inputFds: FdHandle[],
): Promise<void> {
  try {
    for (;;) {
      // Read ahead only a little: unread items stay counted by the connection's flow control.
      await input.whenBelow(INPUT_READ_AHEAD);
      const update = await request.nextUpdate();
      if (update === null) break;
      switch (update.header.serviceId) {
        case UPDATE_ITEM: {
          inputFds.push(...update.fds);
          const value = scope.codec.decode(update.body);
          if (!input.push({ value, fds: update.fds })) closeUnclaimed(update.fds);
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
    if (error instanceof ProtocolError) await scope.peer.close(error);
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
  if (request.responded || scope.peer.isClosed) return;
  let encoded: Uint8Array;
  try {
    encoded = scope.codec.encode(body);
  } catch {
    encoded = scope.codec.encode({ code: body.code, message: body.message });
  }
  await request.respond(STATUS_ERROR, encoded).catch(() => {});
}

async function* valuesOf(queue: AsyncQueue<Received<unknown>>): AsyncGenerator<unknown, void, undefined> {
  for await (const item of queue) {
    closeUnclaimed(item.fds);
    yield item.value;
  }
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.asyncIterator in value &&
    typeof (value as { next?: unknown }).next === "function";
}
