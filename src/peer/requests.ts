/**
 * The two sides of a fizyr-rpc request as the {@link Peer} hands them out:
 * a request this side sent ({@link SentRequest}) and one it received
 * ({@link ReceivedRequest}), each with its queue of updates, counted against
 * the connection's flow control until they are read.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import { closeUnclaimed, type FdHandle } from "../base/fd_handle.ts";
import { ownBytes } from "../base/byte_slab.ts";
import type { ConnectionInfo } from "../transport/types.ts";
import { ERROR_TEXT_SERVICE_ID, type Message, type MessageHeader, MessageType } from "../wire/message.ts";
import { CountedQueue } from "./counted_queue.ts";
import type { ReadGate } from "./read_gate.ts";

/** Options for sending a message. */
export interface SendOptions {
  /** File descriptors to pass with the message (seqpacket only). They stay open on the sender. */
  fds?: readonly number[];
}

/** A request this side sent and is waiting on. */
export interface SentRequest {
  /** The request id on the wire. */
  readonly requestId: number;
  /** The service id the request was sent to. */
  readonly serviceId: number;
  /** Resolves with the response message (success or error status); rejects if the connection closes first. */
  readonly response: Promise<Message>;
  /** True once the response arrived or the request was abandoned. */
  readonly finished: boolean;
  /**
   * Sends a requester update.
   *
   * @param serviceId Update kind.
   * @param body Update body.
   * @param options Descriptors to pass.
   */
  sendUpdate(serviceId: number, body: Uint8Array, options?: SendOptions): Promise<void>;
  /**
   * Waits for the next responder update.
   *
   * @returns The update, or `null` once the response arrived.
   */
  nextUpdate(): Promise<Message | null>;
  /**
   * Takes a responder update that already arrived, without waiting.
   *
   * @returns The update, or `undefined` when none is queued (`nextUpdate` then waits, or reports the end).
   */
  takeUpdate(): Message | undefined;
  /**
   * Stops waiting: later updates and the response are dropped (their
   * descriptors closed). The request id stays reserved until the response
   * arrives, so a late response is not a protocol error.
   */
  abandon(): void;
}

/** A request the peer sent to this side. */
export interface ReceivedRequest {
  /** The request id on the wire. */
  readonly requestId: number;
  /** The service id requested. */
  readonly serviceId: number;
  /**
   * The request body. It may be a view of memory shared with other small
   * messages received (a 16 KiB slab): copy it (`body.slice()`) to keep it
   * longer than the request, or call `releaseBody()` once it is decoded.
   */
  readonly body: Uint8Array;
  /** Descriptors that came with the request; the handler owns them. */
  readonly fds: FdHandle[];
  /** When the request arrived (`Date.now()`), which may be well before its handler starts. */
  readonly receivedAt: number;
  /** The connection the request came in on. */
  readonly info: ConnectionInfo;
  /** Aborted when the connection closes before a response was sent. */
  readonly signal: AbortSignal;
  /** True once a response was sent. */
  readonly responded: boolean;
  /**
   * Sends a responder update.
   *
   * @param serviceId Update kind.
   * @param body Update body.
   * @param options Descriptors to pass.
   */
  sendUpdate(serviceId: number, body: Uint8Array, options?: SendOptions): Promise<void>;
  /**
   * Sends the response, which closes the request.
   *
   * @param status Service id of the response: 0 or more for success, negative for an error.
   * @param body Response body.
   * @param options Descriptors to pass.
   */
  respond(status: number, body: Uint8Array, options?: SendOptions): Promise<void>;
  /**
   * Sends a fizyr-style error response: status -1 with a UTF-8 message.
   *
   * @param message The error text.
   */
  respondError(message: string): Promise<void>;
  /**
   * Waits for the next requester update.
   *
   * @returns The update, or `null` once the request was answered or the connection closed.
   */
  nextUpdate(): Promise<Message | null>;
  /**
   * Lets go of the body (`body` is empty from now on), so that a request
   * that stays open long (a stream, a long poll) does not keep the memory
   * its body shares with other messages.
   */
  releaseBody(): void;
  /**
   * Hands the updates to `watcher` as they arrive instead, the ones queued
   * so far first, with no promise per update; `nextUpdate` then resolves
   * `null`. Updates that arrive once the request was answered are dropped
   * (their descriptors closed), as they are without a watcher.
   *
   * @param watcher Receives the updates, and the failure of the request.
   */
  watch(watcher: RequestWatcher): void;
}

/** What a request needs from its connection: to send messages, and to say what the connection is. */
export interface RequestChannel {
  /** Information about the connection. */
  readonly info: ConnectionInfo;
  /**
   * Sends a message on the connection.
   *
   * @param header Message header.
   * @param body Message body.
   * @param options Descriptors to pass.
   */
  send(header: MessageHeader, body: Uint8Array, options?: SendOptions): Promise<void>;
}

const textEncoder = new TextEncoder();
const EMPTY_BODY = new Uint8Array(0);

/** What the peer's read loop tells a request it sent: its updates, its response, or that the connection closed. */
export interface SentRecord {
  /**
   * An update that arrived for the request.
   *
   * @param message The update.
   */
  deliverUpdate(message: Message): void;
  /**
   * The response arrived.
   *
   * @param message The response.
   */
  deliverResponse(message: Message): void;
  /**
   * The connection closed first.
   *
   * @param error Why.
   */
  fail(error: unknown): void;
}

/**
 * Receives a {@link ReceivedRequest}'s updates as they arrive (see
 * {@link ReceivedRequest.watch}), and the end of the request.
 */
export interface RequestWatcher {
  /**
   * An update arrived (or was queued before `watch`); its descriptors are the watcher's.
   *
   * @param message The update.
   */
  update(message: Message): void;
  /**
   * The request failed before it was answered: the connection closed, or it was cancelled before it started.
   *
   * @param error Why.
   */
  fail(error: unknown): void;
}

/** The requester's side of a request: its response, and the responder updates that come first. */
export class OutgoingRequest implements SentRequest, SentRecord {
  readonly #channel: RequestChannel;
  readonly requestId: number;
  readonly serviceId: number;
  readonly #updates: CountedQueue<Message>;
  readonly response: Promise<Message>;
  #resolve!: (message: Message) => void;
  #reject!: (error: unknown) => void;
  #finished = false;
  #abandoned = false;

  /**
   * Creates the request's bookkeeping (the request itself is sent by the peer).
   *
   * @param channel The connection.
   * @param gate The connection's flow accounting.
   * @param requestId The request id.
   * @param serviceId The service id it was sent to.
   */
  constructor(channel: RequestChannel, gate: ReadGate, requestId: number, serviceId: number) {
    this.#channel = channel;
    this.#updates = new CountedQueue(gate);
    this.requestId = requestId;
    this.serviceId = serviceId;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only reads updates must not see an unhandled rejection.
    this.response.catch(() => {});
  }

  get finished(): boolean {
    return this.#finished || this.#abandoned;
  }

  sendUpdate(serviceId: number, body: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.finished) return refuseUpdate(this.requestId, "is finished");
    const header = { type: MessageType.RequesterUpdate, requestId: this.requestId, serviceId };
    return this.#channel.send(header, body, options);
  }

  nextUpdate(): Promise<Message | null> {
    return this.#updates.next();
  }

  takeUpdate(): Message | undefined {
    return this.#updates.take();
  }

  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#updates.discard();
  }

  /** Queues an update that arrived for this request (the peer's read loop calls this). */
  deliverUpdate(message: Message): void {
    this.#updates.push(this.#updates.hasReader ? message : unshared(message), message.body.length);
  }

  /** Settles the request with its response (the peer's read loop calls this). */
  deliverResponse(message: Message): void {
    this.#finished = true;
    this.#updates.endAndRelease();
    if (this.#abandoned) closeUnclaimed(message.fds);
    else this.#resolve(message);
  }

  /** Ends the request because the connection closed. */
  fail(error: unknown): void {
    this.#finished = true;
    this.#updates.endAndRelease(this.#abandoned ? undefined : error);
    this.#reject(error);
  }
}

/**
 * The responder's side of a request: the updates that arrive while it is
 * open, and its one response. Its abort controller and update queue are
 * made on first use: a request that waits for a handler slot, or is dropped
 * before it starts, costs little more than its message.
 */
export class IncomingRequest implements ReceivedRequest {
  readonly #channel: RequestChannel;
  readonly #gate: ReadGate;
  readonly requestId: number;
  readonly serviceId: number;
  #body: Uint8Array;
  readonly fds: FdHandle[];
  readonly receivedAt: number = Date.now();
  #updates: CountedQueue<Message> | undefined;
  /** True once the update queue was ended (before it was needed, if `#updates` is unset). */
  #updatesEnded = false;
  #abort: AbortController | undefined;
  #watcher: RequestWatcher | undefined;
  #failed = false;
  #failure: unknown = undefined;
  readonly #forget: () => void;
  #responded = false;
  /** The peer's bookkeeping: its ticket in the line of requests waiting for a handler slot, or -1. */
  lineTicket = -1;
  /** The peer's bookkeeping: true once the request was handed to a handler. */
  started = false;

  /**
   * Wraps a received request message.
   *
   * @param channel The connection.
   * @param gate The connection's flow accounting.
   * @param message The request message.
   * @param forget Called once the request is answered, so the peer frees its id.
   */
  constructor(channel: RequestChannel, gate: ReadGate, message: Message, forget: () => void) {
    this.#channel = channel;
    this.#gate = gate;
    this.#forget = forget;
    this.requestId = message.header.requestId;
    this.serviceId = message.header.serviceId;
    this.#body = message.body;
    this.fds = message.fds;
  }

  get info(): ConnectionInfo {
    return this.#channel.info;
  }

  get body(): Uint8Array {
    return this.#body;
  }

  releaseBody(): void {
    this.#body = EMPTY_BODY;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#failed) this.#abort.abort(this.#failure);
    }
    return this.#abort.signal;
  }

  get responded(): boolean {
    return this.#responded;
  }

  sendUpdate(serviceId: number, body: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.#responded) return refuseUpdate(this.requestId, "was answered");
    const header = { type: MessageType.ResponderUpdate, requestId: this.requestId, serviceId };
    return this.#channel.send(header, body, options);
  }

  respond(status: number, body: Uint8Array, options?: SendOptions): Promise<void> {
    if (this.#responded) {
      return Promise.reject(new UsageError("ERR_CLOSED", `Request ${this.requestId} was already answered`));
    }
    this.#responded = true;
    return this.#channel.send(
      { type: MessageType.Response, requestId: this.requestId, serviceId: status },
      body,
      options,
    )
      .then(
        () => this.#finish(),
        (error: unknown) => {
          // A refused send wrote nothing: the request is still open and may be answered again.
          if (error instanceof UsageError) this.#responded = false;
          else this.#finish();
          throw error;
        },
      );
  }

  #finish(): void {
    this.#forget();
    this.#discardUpdates();
  }

  respondError(message: string): Promise<void> {
    return this.respond(ERROR_TEXT_SERVICE_ID, textEncoder.encode(message));
  }

  nextUpdate(): Promise<Message | null> {
    if (this.#updates === undefined) {
      if (this.#updatesEnded || this.#watcher !== undefined) return Promise.resolve(null);
      this.#updates = new CountedQueue(this.#gate);
    }
    return this.#updates.next();
  }

  watch(watcher: RequestWatcher): void {
    const queued = this.#updates;
    this.#watcher = watcher;
    this.#updates = undefined;
    if (queued !== undefined) { for (const message of queued.takeAll()) watcher.update(message); }
    if (this.#failed) watcher.fail(this.#failure);
  }

  /** Queues an update that arrived for this request (the peer's read loop calls this). */
  deliverUpdate(message: Message): void {
    if (this.#watcher !== undefined) {
      if (this.#updatesEnded) closeUnclaimed(message.fds);
      else this.#watcher.update(message);
      return;
    }
    if (this.#updates === undefined) {
      if (this.#updatesEnded) return closeUnclaimed(message.fds);
      this.#updates = new CountedQueue(this.#gate);
    }
    this.#updates.push(this.#updates.hasReader ? message : unshared(message), message.body.length);
  }

  /**
   * Ends the request because the connection closed, or because it was
   * cancelled before it started: queued updates are dropped (their
   * descriptors closed) and the signal aborts with `error`.
   *
   * @param error The abort reason.
   */
  fail(error: unknown): void {
    this.#discardUpdates();
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
    this.#abort?.abort(error);
    this.#watcher?.fail(error);
  }

  #discardUpdates(): void {
    this.#updatesEnded = true;
    this.#updates?.discard();
  }
}

/** A message to be kept in a queue (it may wait there long), with a body that does not keep the slab it was read into alive. */
function unshared(message: Message): Message {
  const body = ownBytes(message.body);
  return body === message.body ? message : { ...message, body };
}

/** The refusal of an update to a request that takes no more (nothing is sent). */
function refuseUpdate(requestId: number, state: string): Promise<never> {
  return Promise.reject(new UsageError("ERR_CLOSED", `Request ${requestId} ${state}; no more updates can be sent`));
}
