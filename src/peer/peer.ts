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
import { ConnectionClosedError, ProtocolError, UsageError } from "../base/errors.ts";
import { closeUnclaimed } from "../base/fd_handle.ts";
import { type Message, type MessageHeader, MessageType } from "../wire/message.ts";
import { DEFAULT_MAX_CONCURRENT_REQUESTS, FLOW_OPTION_RULES, type FlowOptions, ReadGate } from "./read_gate.ts";
import {
  IncomingRequest,
  OutgoingRequest,
  type ReceivedRequest,
  type RequestChannel,
  type SendOptions,
  type SentRequest,
} from "./requests.ts";
import type { ConnectionInfo, MessageTransport } from "../transport/types.ts";

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
}

/**
 * The options `new Peer()` knows and the values it accepts: the callbacks
 * are functions, `firstRequestId` an integer from 0 to 2^32 − 1, and the
 * flow options as in {@link FLOW_OPTION_RULES}.
 */
const PEER_OPTION_RULES: OptionRules = {
  onRequest: aFunction,
  onStream: aFunction,
  onClose: aFunction,
  firstRequestId: integerFrom(0, 0xffffffff),
  ...FLOW_OPTION_RULES,
};

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
  readonly #sent = new Map<number, OutgoingRequest>();
  readonly #received = new Map<number, IncomingRequest>();
  readonly #gate: ReadGate;
  readonly #maxConcurrent: number;
  /** Received requests handed to `onRequest` and not yet answered. */
  #active = 0;
  /** Received requests waiting for a handler slot, oldest first. */
  readonly #waiting: IncomingRequest[] = [];
  #nextRequestId = 1;
  #closed = false;
  #closeError: unknown = undefined;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  /**
   * Starts reading from `transport` at once.
   *
   * @param transport A connected transport; the peer owns it from now on.
   * @param options Callbacks for incoming requests, stream messages and close.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` for an unknown option or a
   *   value outside its range: the callbacks must be functions,
   *   `firstRequestId` an integer from 0 to 2^32 − 1,
   *   `maxConcurrentRequests` from 1 to 2^32 − 1 and `maxBufferedBytes` from
   *   0 to 2^53 − 1. The transport is then untouched and still the caller's.
   */
  constructor(transport: MessageTransport, given?: PeerOptions) {
    const options = checkOptions(given, PEER_OPTION_RULES, { where: "new Peer()" });
    this.#transport = transport;
    this.#options = options;
    this.#nextRequestId = (options.firstRequestId ?? 1) >>> 0;
    this.#gate = new ReadGate(options.maxBufferedBytes);
    this.#maxConcurrent = options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS;
    this.#closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
    void this.#readLoop();
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
    try {
      await this.send({ type: MessageType.Request, requestId, serviceId }, body, options);
    } catch (error) {
      if (this.#sent.get(requestId) === request) this.#sent.delete(requestId);
      throw error;
    }
    return request;
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
  send(header: MessageHeader, body: Uint8Array, options: SendOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return this.#transport.send(options.fds === undefined ? { header, body } : { header, body, fds: options.fds });
  }

  /**
   * Closes the connection. Pending sent requests reject with
   * `ERR_CONNECTION_CLOSED`; received requests see their signal abort.
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

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        await this.#gate.open();
        if (this.#closed) break;
        const message = await this.#transport.receive();
        if (message === null) break;
        if (this.#closed) {
          closeUnclaimed(message.fds);
          break;
        }
        this.#dispatch(message);
      }
      this.#shutdown(undefined);
    } catch (error) {
      this.#shutdown(error);
    }
  }

  #dispatch(message: Message): void {
    const { type, requestId } = message.header;
    switch (type) {
      case MessageType.Request: {
        if (this.#received.has(requestId)) {
          closeUnclaimed(message.fds);
          throw new ProtocolError("ERR_DUPLICATE_REQUEST", `Request id ${requestId} is already open`);
        }
        const request = new IncomingRequest(this, this.#gate, message, () => this.#finishReceived(requestId));
        this.#received.set(requestId, request);
        if (this.#active < this.#maxConcurrent) this.#start(request);
        else {
          this.#gate.add(request.body.length);
          this.#waiting.push(request);
        }
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
        else request.deliverUpdate(message);
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
  #sentRequest(message: Message, what: "Response" | "Update"): OutgoingRequest {
    const { requestId } = message.header;
    const request = this.#sent.get(requestId);
    if (request !== undefined) return request;
    closeUnclaimed(message.fds);
    throw new ProtocolError("ERR_UNKNOWN_REQUEST", `${what} for request id ${requestId}, which is not open`);
  }

  #start(request: IncomingRequest): void {
    this.#active++;
    if (this.#options.onRequest) this.#options.onRequest(request);
    else void request.respondError(`No request handler (service id ${request.serviceId})`).catch(() => {});
  }

  #finishReceived(requestId: number): void {
    if (!this.#received.delete(requestId)) return;
    this.#active--;
    const next = this.#waiting.shift();
    if (next === undefined) return;
    this.#gate.release(next.body.length);
    this.#start(next);
  }

  #shutdown(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#gate.close();
    const failure = this.#closedError();
    for (const request of this.#sent.values()) request.fail(failure);
    this.#sent.clear();
    for (const request of this.#received.values()) request.fail(failure);
    this.#received.clear();
    this.#waiting.length = 0;
    void this.#transport.close().catch(() => {}).finally(() => {
      callSafely(this.#options.onClose, error);
      this.#resolveClosed();
    });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
