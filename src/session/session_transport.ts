/**
 * A connection after a successful handshake: the {@link MessageTransport}
 * the peer reads, with keepalive and GOAWAY handled below it. Sending is a
 * straight pass-through; receiving answers and drops the session's own
 * stream messages (pings, pongs, GOAWAY), which costs one comparison per
 * message. One interval timer per connection sends the pings and watches
 * for silence; it stops when the connection closes, ends or dies.
 *
 * @module
 */

import { callSafely } from "../base/call_safely.ts";
import { ProtocolError, SessionError, type SessionErrorCode } from "../base/errors.ts";
import { closeUnclaimed } from "../base/fd_handle.ts";
import type { ConnectionInfo, MessageTransport } from "../transport/types.ts";
import { type Message, MessageType, type OutgoingMessage } from "../wire/message.ts";
import type { SessionInfo } from "./options.ts";
import {
  decodeGoAway,
  encodeGoAway,
  GOAWAY_STREAM_ID,
  PING_STREAM_ID,
  PONG_STREAM_ID,
  RESERVED_SERVICE_IDS,
} from "./session_protocol.ts";

/** How a {@link SessionTransport} keeps the connection alive. */
export interface SessionTransportSettings {
  /** Milliseconds between the pings this side sends, as the handshake agreed (0 for none). */
  keepaliveInterval: number;
  /** This side's keepalive: with it, silence of `timeout` ms while reading kills the connection; `false`: never. */
  keepalive: { interval: number; timeout: number } | false;
}

const EMPTY = new Uint8Array(0);
const PING: OutgoingMessage = {
  header: { type: MessageType.Stream, requestId: 0, serviceId: PING_STREAM_ID },
  body: EMPTY,
};
const PONG: OutgoingMessage = {
  header: { type: MessageType.Stream, requestId: 0, serviceId: PONG_STREAM_ID },
  body: EMPTY,
};
/** Stream kinds at or below this one are the session's own. */
const LAST_RESERVED_ID = RESERVED_SERVICE_IDS.max;

/** A transport speaking a peerlink session: keepalive and GOAWAY on top of the connection. */
export class SessionTransport implements MessageTransport {
  /** What the handshake agreed on. */
  readonly session: SessionInfo;
  /**
   * Called once when the other side sends a GOAWAY (it takes no new calls);
   * what it throws is ignored.
   */
  onGoAway: ((error: SessionError) => void) | undefined = undefined;
  readonly #inner: MessageTransport;
  readonly #timeout: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #goingAway: SessionError | undefined;
  #death: SessionError | undefined;
  #receiving = false;
  /** Messages received so far: the ticks see life as a change of this count. */
  #arrivals = 0;
  #arrivalsAtTick = 0;
  #receivingAtTick = false;
  #lastTick = 0;
  /** Milliseconds of silence counted so far (only while a receive was pending). */
  #silence = 0;
  #pinging = false;
  /** True while a PONG is being written: pings that arrive meanwhile need no second one. */
  #ponging = false;
  /** The agreed interval between pings (0: none). */
  readonly #interval: number;
  /** Whether the session agreed on keepalive: pings are answered only then. */
  readonly #answersPings: boolean;

  /**
   * Wraps a connection whose handshake succeeded, and starts its keepalive timer if any.
   *
   * @param inner The connection; this transport owns it from now on.
   * @param session What the handshake agreed on.
   * @param settings The agreed ping interval and this side's keepalive.
   */
  constructor(inner: MessageTransport, session: SessionInfo, settings: SessionTransportSettings) {
    this.#inner = inner;
    this.session = session;
    this.#interval = settings.keepaliveInterval;
    this.#answersPings = session.capabilities.includes("keepalive");
    this.#timeout = settings.keepalive === false || settings.keepaliveInterval === 0 ? 0 : settings.keepalive.timeout;
    if (settings.keepaliveInterval > 0) {
      this.#lastTick = Date.now();
      this.#timer = setInterval(() => this.#tick(), settings.keepaliveInterval);
    }
  }

  /** Information about the connection. */
  get info(): ConnectionInfo {
    return this.#inner.info;
  }

  /** Largest message (header + body) that may be sent or received. */
  get maxMessageSize(): number {
    return this.#inner.maxMessageSize;
  }

  /** The most descriptors one message may carry. */
  get maxFds(): number {
    return this.#inner.maxFds;
  }

  /** The GOAWAY the other side sent, as the error the end of the connection will be; `undefined` before one. */
  get goingAway(): SessionError | undefined {
    return this.#goingAway;
  }

  /**
   * Sends one message, as the inner transport does.
   *
   * @param message The message.
   */
  send(message: OutgoingMessage): Promise<void> {
    return this.#inner.send(message);
  }

  /**
   * Receives the next message of the application. Pings are answered,
   * pongs dropped, a GOAWAY remembered (and reported through
   * {@link SessionTransport.onGoAway}).
   *
   * @returns The message, or `null` at a clean end of a connection the other side did not announce leaving.
   * @throws {SessionError} `ERR_PEER_UNRESPONSIVE` when keepalive declared the other side dead, or the GOAWAY's
   *   error (such as `ERR_SERVER_CLOSING`) at the end of a connection the other side announced leaving.
   */
  receive(): Promise<Message | null> {
    if (this.#death !== undefined) return Promise.reject(this.#death);
    this.#receiving = true;
    // Promise handlers rather than an async function: a wait costs one promise, not a suspended frame.
    try {
      return this.#inner.receive().then(this.#received, this.#receiveFailed);
    } catch (error) {
      return Promise.reject(this.#failure(error));
    }
  }

  /** What the inner transport received: the application's message, or (rarely) the rest of the wait. */
  readonly #received = (message: Message | null): Message | null | Promise<Message | null> => {
    try {
      const next = this.#applicationsOf(message);
      if (next === undefined) return this.#receiveRest();
      this.#receiving = false;
      return next;
    } catch (error) {
      return this.#receiveFailed(error);
    }
  };

  /**
   * Waits on after the session's own messages (pings, pongs, a GOAWAY) with
   * nothing of the application behind them: a loop, so that however many
   * of them come, the wait stays one promise deep.
   */
  async #receiveRest(): Promise<Message | null> {
    try {
      for (;;) {
        const next = this.#applicationsOf(await this.#inner.receive());
        if (next !== undefined) {
          this.#receiving = false;
          return next;
        }
      }
    } catch (error) {
      return this.#receiveFailed(error);
    }
  }

  /**
   * What a received message means to the application: itself, the next one
   * already here, `null` at a clean end, or `undefined` when it was the
   * session's own and nothing else is here.
   *
   * @throws the death of the session, or the GOAWAY's error at the end.
   */
  #applicationsOf(message: Message | null): Message | null | undefined {
    if (this.#death !== undefined) {
      if (message !== null) closeUnclaimed(message.fds);
      throw this.#death;
    }
    if (message === null) {
      this.#stopTimer();
      if (this.#goingAway !== undefined) throw this.#goingAway;
      return null;
    }
    return this.#isApplications(message) ? message : this.poll();
  }

  /** Ends a receive that failed, with the error the session makes of it. */
  readonly #receiveFailed = (error: unknown): never => {
    throw this.#failure(error);
  };

  /** The error a failed receive ends with; the receive is over. */
  #failure(error: unknown): unknown {
    this.#receiving = false;
    this.#stopTimer();
    if (this.#death !== undefined) return this.#death;
    // A connection that breaks after the GOAWAY (a reset instead of a clean close) ended as announced.
    if (this.#goingAway !== undefined && !(error instanceof ProtocolError) && error !== this.#goingAway) {
      return new SessionError(this.#goingAway.code as SessionErrorCode, this.#goingAway.message, {
        cause: error,
        data: this.#goingAway.data,
      });
    }
    return error;
  }

  /**
   * Takes the next message of the application if it is already here,
   * handling the session's own messages before it as `receive` does.
   *
   * @returns The message, or `undefined` when `receive` has to be called.
   */
  poll(): Message | undefined {
    if (this.#death !== undefined) return undefined;
    for (;;) {
      const message = this.#inner.poll?.();
      if (message === undefined || this.#isApplications(message)) return message;
    }
  }

  /** Counts an arrival; true for a message of the application, false for the session's own (handled here). */
  #isApplications(message: Message): boolean {
    this.#arrivals++;
    const { header } = message;
    if (header.serviceId > LAST_RESERVED_ID || header.type !== MessageType.Stream) return true;
    this.#handleOwn(message);
    return false;
  }

  /**
   * Tells the other side to send no new calls: calls in flight may finish.
   *
   * @param code Why this side goes away.
   * @param message Human-readable message.
   * @param grace Milliseconds in-flight calls get before this side closes, if known.
   */
  sendGoAway(code: "ERR_SERVER_CLOSING" | "ERR_IDLE_TIMEOUT", message: string, grace?: number): Promise<void> {
    return this.#inner.send({
      header: { type: MessageType.Stream, requestId: 0, serviceId: GOAWAY_STREAM_ID },
      body: encodeGoAway(code, message, grace),
    });
  }

  /**
   * Changes the largest message `receive` accepts.
   *
   * @param bytes The limit, header included.
   */
  setReceiveLimit(bytes: number): void {
    this.#inner.setReceiveLimit(bytes);
  }

  /** Stops the keepalive and closes the connection. Safe to call more than once. */
  close(): Promise<void> {
    this.#stopTimer();
    return this.#inner.close();
  }

  /** A stream message of the session itself. */
  #handleOwn(message: Message): void {
    closeUnclaimed(message.fds);
    switch (message.header.serviceId) {
      case PING_STREAM_ID:
        // One answer in flight at a time: a peer that floods pings and never reads must not grow the write queue.
        if (!this.#answersPings || this.#ponging) return;
        this.#ponging = true;
        this.#inner.send(PONG).catch(() => {}).finally(() => (this.#ponging = false));
        return;
      case GOAWAY_STREAM_ID: {
        if (this.#goingAway !== undefined) return;
        const goAway = decodeGoAway(message.body);
        this.#goingAway = new SessionError(goAway.code, `The other side is going away: ${goAway.message}`, {
          data: goAway.grace === undefined ? undefined : { grace: goAway.grace },
        });
        callSafely(this.onGoAway, this.#goingAway);
        return;
      }
      default:
        // Pongs only show life; other reserved kinds belong to later versions.
        return;
    }
  }

  #tick(): void {
    if (!this.#pinging) {
      this.#pinging = true;
      this.#inner.send(PING).catch(() => {}).finally(() => (this.#pinging = false));
    }
    if (this.#timeout === 0) return;
    const now = Date.now();
    if (this.#arrivals !== this.#arrivalsAtTick) this.#silence = 0;
    // A late tick (this side's event loop was blocked) counts one interval at most: the peer's pings may be
    // waiting unread in the socket, and the I/O that would read them runs only after this tick.
    else if (this.#receiving && this.#receivingAtTick) this.#silence += Math.min(now - this.#lastTick, this.#interval);
    // Silence is counted only between two ticks that both saw a receive pending: reading held back is no silence.
    this.#arrivalsAtTick = this.#arrivals;
    this.#receivingAtTick = this.#receiving;
    this.#lastTick = now;
    if (this.#silence >= this.#timeout) this.#die();
  }

  #die(): void {
    this.#death = new SessionError(
      "ERR_PEER_UNRESPONSIVE",
      `Nothing arrived from the peer for ${this.#timeout} ms (keepalive)`,
    );
    this.#stopTimer();
    this.#inner.close().catch(() => {});
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
