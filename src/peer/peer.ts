/**
 * The fizyr-rpc peer: request ids, responses, updates in both directions
 * and one-way stream messages over a {@link MessageTransport}. Bodies are raw
 * bytes at this level; the RPC layer (`src/rpc/`) adds names and encoding.
 * The requests it hands out are in `requests.ts`.
 *
 * @module
 */

import { callSafely } from "../base/call_safely.ts";
import { aFunction, checkOptions, integerFrom, type OptionRules } from "../base/check_option.ts";
import { CancelledError, ConnectionClosedError, ProtocolError, SessionError, UsageError } from "../base/errors.ts";
import { closeUnclaimed } from "../base/fd_handle.ts";
import { ownBytes } from "../base/byte_slab.ts";
import { ACCEPTED } from "../base/accepted.ts";
import { releaseSent } from "../base/buffer_pool.ts";
import { type Message, type MessageHeader, MessageType } from "../wire/message.ts";
import { CountedLine } from "./counted_queue.ts";
import { DEFAULT_MAX_CONCURRENT_REQUESTS, FLOW_OPTION_RULES, type FlowOptions, ReadGate } from "./read_gate.ts";
import {
  IncomingRequest,
  OutgoingRequest,
  type ReceivedRequest,
  type RequestChannel,
  type SendOptions,
  type SentRecord,
  type SentRequest,
} from "./requests.ts";
import type { ConnectionInfo, MessageTransport } from "../transport/types.ts";
import { nextMacrotask, TurnBudget } from "../base/turn_budget.ts";

export type { ReceivedRequest, SendOptions, SentRequest } from "./requests.ts";

/** Options for {@link Peer}. */
export interface PeerOptions extends FlowOptions {
  /**
   * Called for each request the peer sends. Without it, requests are
   * answered with a status -1 error.
   */
  onRequest?: (request: ReceivedRequest) => void;
  /** Called for each stream message. Without it, stream messages are dropped. */
  onStream?: (message: Message) => void;
  /** Called once when the peer closes, with the error that closed it (if any). */
  onClose?: (error: unknown) => void;
  /** The first request id to use; later ids count up from it, wrapping at 2^32. Default 1. */
  firstRequestId?: number;
  /**
   * The requester update kind that cancels a request (the RPC layer's is
   * −1). A cancel for a request still waiting for a handler slot (behind
   * `maxConcurrentRequests`) takes it out of the line at once: it never
   * starts, its bytes stop counting against `maxBufferedBytes`, its
   * descriptors and queued updates are dropped, and `onCancelQueued` is
   * told, to answer it. Its request id stays open until it is answered.
   * Cancels for running requests are delivered as updates like any other.
   * An integer from −2^31 to 2^31 − 1; without it, no update kind is special.
   */
  cancelKind?: number;
  /**
   * Called for each request cancelled while it waited for a handler slot
   * (see `cancelKind`); it should answer the request (`request.respond`).
   * Without it, such requests are answered with a status −1 error.
   */
  onCancelQueued?: (request: ReceivedRequest) => void;
}

/**
 * The options `new Peer()` knows and the values it accepts: the callbacks
 * are functions, `firstRequestId` an integer from 0 to 2^32 − 1,
 * `cancelKind` an integer from −2^31 to 2^31 − 1, and the flow options as in
 * {@link FLOW_OPTION_RULES}.
 */
const PEER_OPTION_RULES: OptionRules = {
  onRequest: aFunction,
  onStream: aFunction,
  onClose: aFunction,
  onCancelQueued: aFunction,
  firstRequestId: integerFrom(0, 0xffffffff),
  cancelKind: integerFrom(-0x80000000, 0x7fffffff),
  ...FLOW_OPTION_RULES,
};

/**
 * How much of a closed connection's leftovers are dropped before the event
 * loop gets a turn: failing a request that reached its handler costs
 * {@link STARTED_DROP_COST} (its signal aborts, listeners run), one that
 * never started costs 1. A client that queued tens of thousands of requests
 * and vanished must not stall every other connection while they go.
 */
const DROP_SLICE = 4096;
/** See {@link DROP_SLICE}: at most 256 requests that reached a handler per slice. */
const STARTED_DROP_COST = 16;

/**
 * One end of a fizyr-rpc connection.
 *
 * @example
 * ```ts ignore
 * import { Peer } from "./peer.ts";
 * declare const transport: import("../transport/types.ts").MessageTransport;
 * const peer = new Peer(transport);
 * const request = await peer.sendRequest(0, new TextEncoder().encode("Hello World"));
 * const response = await request.response;
 * ```
 */
export class Peer implements RequestChannel {
  readonly #transport: MessageTransport;
  readonly #options: PeerOptions;
  #sent = new Map<number, SentRecord>();
  /** Received requests not answered yet: running, waiting for a slot, or cancelled while waiting. */
  #received = new Map<number, IncomingRequest>();
  readonly #gate: ReadGate;
  readonly #maxConcurrent: number;
  readonly #cancelKind: number | undefined;
  /** Received requests handed to `onRequest` and not yet answered. */
  #active = 0;
  /** Received requests waiting for a handler slot, oldest first. */
  readonly #waiting: CountedLine<IncomingRequest>;
  /** Starting waiting requests as others finish runs on microtasks: it yields when this is spent. */
  readonly #turns = new TurnBudget();
  /** True while starting waiting requests waits for the next turn of the event loop. */
  #startsDeferred = false;
  #nextRequestId = 1;
  #lastActivity = Date.now();
  #closed = false;
  #closeError: unknown = undefined;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  /** Resolvers of `whenNoReceived()` calls made while requests were open. */
  #noReceivedWaiters: (() => void)[] = [];

  /**
   * Starts reading from `transport` at once.
   *
   * @param transport A connected transport; the peer owns it from now on.
   * @param options Callbacks for incoming requests, stream messages, queued cancels and close.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` for an unknown option or a
   *   value outside its range: the callbacks must be functions,
   *   `firstRequestId` an integer from 0 to 2^32 − 1, `cancelKind` from
   *   −2^31 to 2^31 − 1, `maxConcurrentRequests` from 1 to 2^32 − 1 and
   *   `maxBufferedBytes` from 0 to 2^53 − 1. The transport is then untouched
   *   and still the caller's.
   */
  constructor(transport: MessageTransport, given?: PeerOptions) {
    const options = checkOptions(given, PEER_OPTION_RULES, { where: "new Peer()" });
    this.#transport = transport;
    this.#options = options;
    this.#nextRequestId = (options.firstRequestId ?? 1) >>> 0;
    this.#gate = new ReadGate(options.maxBufferedBytes);
    this.#maxConcurrent = options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS;
    this.#cancelKind = options.cancelKind;
    this.#waiting = new CountedLine(this.#gate);
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    // Not a message before the constructor returned: the owner's callbacks may name the peer being made.
    queueMicrotask(this.#readMore);
  }

  /** Information about the connection. */
  get info(): ConnectionInfo {
    return this.#transport.info;
  }

  /** True once the peer is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** The error that closed the peer, if it did not close cleanly. */
  get closeError(): unknown {
    return this.#closeError;
  }

  /** Resolves once the peer is closed, for whatever reason. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** The connection's receive accounting (bytes received and not yet consumed). */
  get flow(): ReadGate {
    return this.#gate;
  }

  /** Requests this side sent whose response has not arrived (abandoned ones included: their ids stay reserved). */
  get openSent(): number {
    return this.#sent.size;
  }

  /**
   * Requests received and not answered yet: running in a handler, waiting
   * for a handler slot, or cancelled while waiting and not answered yet.
   * 0 once the peer is closed.
   */
  get openReceived(): number {
    return this.#received.size;
  }

  /** `Date.now()` when the last message arrived or this side last sent a request (or the peer started). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /**
   * Waits until no received request is open ({@link Peer.openReceived} is
   * 0), for a graceful shutdown: at once if none is, and at the latest when
   * the peer closes.
   *
   * @returns A promise that resolves then (it never rejects).
   */
  whenNoReceived(): Promise<void> {
    if (this.#received.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#noReceivedWaiters.push(resolve));
  }

  /**
   * Sends a request.
   *
   * @param serviceId The service to call.
   * @param body Request body.
   * @param options Descriptors to pass.
   * @returns A handle for updates and the response.
   */
  async sendRequest(serviceId: number, body: Uint8Array, options: SendOptions = {}): Promise<SentRequest> {
    this.#assertOpen();
    const requestId = this.#allocateRequestId();
    const request = new OutgoingRequest(this, this.#gate, requestId, serviceId);
    this.#sent.set(requestId, request);
    this.#lastActivity = Date.now();
    try {
      await this.send({ type: MessageType.Request, requestId, serviceId }, body, options);
    } catch (error) {
      if (this.#sent.get(requestId) === request) this.#sent.delete(requestId);
      throw error;
    }
    return request;
  }

  /**
   * Sends a request and waits for its response only: responder updates are
   * dropped as they arrive (their descriptors closed), and nothing is kept
   * per request but its settlers, so a plain call costs one promise here.
   * There is no handle: the request cannot be cancelled or given updates.
   *
   * @param serviceId The service to call.
   * @param body Request body.
   * @param options Descriptors to pass.
   * @returns The response message (success or error status).
   * @throws {ConnectionClosedError} if the connection is closed, or closes before the response.
   * @throws what the transport's `send` throws (`ERR_MESSAGE_TOO_LARGE`, ...), with the request id freed.
   */
  request(serviceId: number, body: Uint8Array, options?: SendOptions): Promise<Message> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const requestId = this.#allocateRequestId();
    let record!: SentRecord;
    const response = new Promise<Message>((resolve, reject) => {
      record = { deliverUpdate: dropUpdate, deliverResponse: resolve, fail: reject };
    });
    this.#sent.set(requestId, record);
    this.#lastActivity = Date.now();
    let sent: Promise<void>;
    try {
      sent = this.send({ type: MessageType.Request, requestId, serviceId }, body, options);
    } catch (error) {
      this.#requestFailed(requestId, record, error);
      return response;
    }
    // A message the transport took at once needs no handler; one it may still fail to send does.
    if (sent !== ACCEPTED) sent.catch((error: unknown) => this.#requestFailed(requestId, record, error));
    return response;
  }

  /** A request that could not be sent: its id is freed and its caller sees why. */
  #requestFailed(requestId: number, record: SentRecord, error: unknown): void {
    if (this.#sent.get(requestId) === record) this.#sent.delete(requestId);
    record.fail(error);
  }

  /**
   * Sends a one-way stream message.
   *
   * @param serviceId The stream kind.
   * @param body Message body.
   * @param options Descriptors to pass.
   */
  sendStream(serviceId: number, body: Uint8Array, options: SendOptions = {}): Promise<void> {
    return this.send({ type: MessageType.Stream, requestId: 0, serviceId }, body, options);
  }

  /**
   * Sends a raw message. Used by the request handles.
   *
   * @param header Message header.
   * @param body Message body.
   * @param options Descriptors to pass.
   */
  send(header: MessageHeader, body: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.#closed) {
      // A body from the send pool goes back to it, as the transports do with the sends they refuse.
      releaseSent(body);
      return Promise.reject(this.#closedError());
    }
    const fds = options?.fds;
    return this.#transport.send(fds === undefined ? { header, body } : { header, body, fds });
  }

  /**
   * Closes the connection. Pending sent requests reject with
   * `ERR_CONNECTION_CLOSED` (or with `error` itself if it is a
   * `SessionError`); received requests see their signal abort. A backlog of
   * many thousand open requests is dropped in slices, with the event loop
   * served between them; this resolves once all of it is released.
   *
   * @param error Why the connection is closed (becomes {@link Peer.closeError}); omit for a clean close.
   */
  async close(error?: unknown): Promise<void> {
    this.#shutdown(error);
    await this.#closedPromise;
  }

  /** Same as {@link Peer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): ConnectionClosedError {
    // A session that ended (keepalive, the server going away) is what callers should see, as it is.
    if (this.#closeError instanceof SessionError) return this.#closeError;
    return new ConnectionClosedError(
      this.#closeError === undefined
        ? "The connection is closed"
        : `The connection closed: ${errorText(this.#closeError)}`,
      this.#closeError === undefined ? undefined : { cause: this.#closeError },
    );
  }

  #allocateRequestId(): number {
    if (this.#sent.size >= 0xffffffff) throw new UsageError("ERR_INVALID_ARGUMENT", "Every request id is in use");
    let id = this.#nextRequestId;
    while (this.#sent.has(id)) id = (id + 1) >>> 0;
    this.#nextRequestId = (id + 1) >>> 0;
    return id;
  }

  /**
   * Dispatches what already arrived, then waits for more: until the gate
   * holds (then once it opens), the end, or an error. Promise handlers
   * rather than an async loop: a wait costs one promise, not a suspended frame.
   */
  readonly #readMore = (): void => {
    const transport = this.#transport;
    try {
      for (;;) {
        if (this.#gate.held) {
          this.#gate.open().then(this.#readMore, this.#readFailed);
          return;
        }
        if (this.#closed) return this.#shutdown(undefined);
        // What already arrived is taken without a turn of the promise queue; only then is there a wait.
        const message = transport.poll?.();
        if (message === undefined) {
          transport.receive().then(this.#receivedOne, this.#readFailed);
          return;
        }
        if (!this.#accept(message)) return;
      }
    } catch (error) {
      this.#shutdown(error);
    }
  };

  /** A message the transport's `receive` waited for; `null` at the end. */
  readonly #receivedOne = (message: Message | null): void => {
    try {
      if (message === null) return this.#shutdown(undefined);
      if (this.#accept(message)) this.#readMore();
    } catch (error) {
      this.#shutdown(error);
    }
  };

  readonly #readFailed = (error: unknown): void => this.#shutdown(error);

  /** Dispatches a received message; false (its descriptors closed, the peer shut down) once the peer is closed. */
  #accept(message: Message): boolean {
    if (this.#closed) {
      closeUnclaimed(message.fds);
      this.#shutdown(undefined);
      return false;
    }
    this.#lastActivity = Date.now();
    this.#dispatch(message);
    return true;
  }

  #dispatch(message: Message): void {
    const { type, requestId } = message.header;
    switch (type) {
      case MessageType.Request: {
        if (this.#received.has(requestId)) {
          closeUnclaimed(message.fds);
          throw new ProtocolError("ERR_DUPLICATE_REQUEST", `Request id ${requestId} is already open`);
        }
        const starts = this.#active < this.#maxConcurrent && this.#waiting.size === 0;
        // A request that waits for a slot may wait long: its body must not keep the slab it was read into.
        const received = starts ? message : { ...message, body: ownBytes(message.body) };
        const request: IncomingRequest = new IncomingRequest(
          this,
          this.#gate,
          received,
          () => this.#finishReceived(request),
        );
        this.#received.set(requestId, request);
        if (starts) this.#start(request);
        else request.lineTicket = this.#waiting.push(request, request.body.length);
        return;
      }
      case MessageType.Response: {
        const request = this.#sentRequest(message, "Response");
        this.#sent.delete(requestId);
        request.deliverResponse(message);
        return;
      }
      case MessageType.ResponderUpdate:
        this.#sentRequest(message, "Update").deliverUpdate(message);
        return;
      case MessageType.RequesterUpdate: {
        // The requester may send an update while our response is on its way: not an error.
        const request = this.#received.get(requestId);
        if (request === undefined) closeUnclaimed(message.fds);
        else if (message.header.serviceId === this.#cancelKind && request.lineTicket >= 0) {
          closeUnclaimed(message.fds);
          this.#cancelWaiting(request);
        } else request.deliverUpdate(message);
        return;
      }
      case MessageType.Stream: {
        if (this.#options.onStream) this.#options.onStream(message);
        else closeUnclaimed(message.fds);
        return;
      }
    }
  }

  /** The open request a response or responder update is for; anything else breaks the protocol. */
  #sentRequest(message: Message, what: "Response" | "Update"): SentRecord {
    const { requestId } = message.header;
    const request = this.#sent.get(requestId);
    if (request !== undefined) return request;
    closeUnclaimed(message.fds);
    throw new ProtocolError("ERR_UNKNOWN_REQUEST", `${what} for request id ${requestId}, which is not open`);
  }

  #start(request: IncomingRequest): void {
    this.#active++;
    request.started = true;
    if (this.#options.onRequest) this.#options.onRequest(request);
    else void request.respondError(`No request handler (service id ${request.serviceId})`).catch(() => {});
  }

  /** Takes a request out of the line of those waiting for a slot: it never starts, and is answered at once. */
  #cancelWaiting(request: IncomingRequest): void {
    this.#waiting.remove(request.lineTicket);
    request.lineTicket = -1;
    request.fail(new CancelledError("The request was cancelled before it started"));
    closeUnclaimed(request.fds);
    if (this.#options.onCancelQueued) callSafely(this.#options.onCancelQueued, request);
    else void request.respondError("The request was cancelled before it started").catch(() => {});
  }

  #finishReceived(request: IncomingRequest): void {
    // After a close the map is a new one: a late answer to a dropped request changes nothing.
    if (this.#received.get(request.requestId) !== request) return;
    this.#received.delete(request.requestId);
    if (request.started) {
      this.#active--;
      if (this.#waiting.size > 0) this.#startWaiting();
    }
    if (this.#received.size === 0 && this.#noReceivedWaiters.length > 0) this.#wakeNoReceivedWaiters();
  }

  /**
   * Hands waiting requests to handlers while slots are free. A backlog whose
   * answers finish at once (a fast handler, or a connection that broke)
   * would start one after another on microtasks alone, so this yields to
   * the event loop every slice; the end of the connection is then seen
   * between slices, and what is left is dropped instead of run.
   */
  #startWaiting(): void {
    if (this.#startsDeferred) return;
    while (this.#active < this.#maxConcurrent && this.#waiting.size > 0) {
      if (this.#turns.spent()) {
        this.#startsDeferred = true;
        void nextMacrotask().then(() => {
          this.#startsDeferred = false;
          if (!this.#closed) this.#startWaiting();
        });
        return;
      }
      const next = this.#waiting.shift()!;
      next.lineTicket = -1;
      this.#start(next);
    }
  }

  #wakeNoReceivedWaiters(): void {
    const waiters = this.#noReceivedWaiters;
    this.#noReceivedWaiters = [];
    for (const wake of waiters) wake();
  }

  #shutdown(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#gate.close();
    const sent = this.#sent;
    const received = this.#received;
    this.#sent = new Map();
    this.#received = new Map();
    this.#waiting.drain();
    this.#active = 0;
    this.#wakeNoReceivedWaiters();
    const transportClosed = this.#transport.close().catch(() => {});
    void this.#dropOpenRequests(sent, received).then(() => transportClosed).finally(() => {
      callSafely(this.#options.onClose, error);
      this.#resolveClosed();
    });
  }

  /**
   * Fails what was open when the connection closed: sent requests reject,
   * received ones see their signal abort, descriptors of requests that never
   * reached a handler are closed. The first slice runs at once, so a small
   * connection is released before `close()` returns to the event loop.
   */
  async #dropOpenRequests(sent: Map<number, SentRecord>, received: Map<number, IncomingRequest>): Promise<void> {
    const failure = this.#closedError();
    let budget = DROP_SLICE;
    for (const request of sent.values()) {
      request.fail(failure);
      if ((budget -= STARTED_DROP_COST) <= 0) {
        await nextMacrotask();
        budget = DROP_SLICE;
      }
    }
    for (const request of received.values()) {
      request.fail(failure);
      if (!request.started) closeUnclaimed(request.fds);
      if ((budget -= request.started ? STARTED_DROP_COST : 1) <= 0) {
        await nextMacrotask();
        budget = DROP_SLICE;
      }
    }
  }
}

/** What a request sent with {@link Peer.request} does with an update: drops it. */
function dropUpdate(message: Message): void {
  closeUnclaimed(message.fds);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
