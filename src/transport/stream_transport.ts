/**
 * A {@link MessageTransport} over a {@link ByteStream}: u32 length prefix,
 * 12-byte header, body.
 *
 * @module
 */

import { ConnectionClosedError, type PeerlinkError, ProtocolError, UsageError } from "../base/errors.ts";
import { DEFAULT_MAX_MESSAGE_SIZE, FrameDecoder, LENGTH_PREFIX_SIZE } from "../wire/frame_decoder.ts";
import { encodeFrame, encodeFrameHead } from "../wire/frame_encoder.ts";
import { HEADER_SIZE, type Message, type OutgoingMessage, readHeader } from "../wire/message.ts";
import type { ByteStream, ConnectionInfo, MessageTransport } from "./types.ts";
import { nextMacrotask, TurnBudget } from "../base/turn_budget.ts";

/** Options for {@link StreamMessageTransport}. */
export interface StreamTransportOptions {
  /** Largest message (header + body) sent or received, in bytes. Default 16 MiB. */
  maxMessageSize?: number;
  /**
   * Once the first byte of a frame arrived, the rest must arrive within this
   * many milliseconds, counted only while a `receive()` is waiting for it
   * (time the reader spends elsewhere, such as flow control holding reading
   * back, does not count); otherwise `receive()` fails with `ProtocolError`
   * `ERR_FRAME_TIMEOUT`. A peer that starts a frame and stops cannot hold
   * the connection and its buffers for ever. An integer from 1 to
   * {@link MAX_FRAME_TIMEOUT}; default {@link DEFAULT_FRAME_TIMEOUT}.
   */
  frameTimeout?: number;
}

/** Default {@link StreamTransportOptions.frameTimeout}: 30 seconds. */
export const DEFAULT_FRAME_TIMEOUT = 30_000;
/** Largest {@link StreamTransportOptions.frameTimeout}: the longest delay timers support (2^31 − 1 ms). */
export const MAX_FRAME_TIMEOUT = 0x7fffffff;

/** Bodies at least this large are written after the frame head instead of being copied next to it. */
const SEPARATE_BODY_WRITE = 64 * 1024;
/** The largest write small frames queued behind one another are gathered into. */
const GATHER_LIMIT = 64 * 1024;
/** Sends failed at once when the connection goes, before the event loop gets a turn. */
const REJECT_SLICE = 256;
/** A send waiting for its turn: one or two chunks, and its promise's settlers. */
interface QueuedWrite {
  first: Uint8Array;
  second: Uint8Array | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The running frame timer of one `receive()`: it settles `expired` with `ERR_FRAME_TIMEOUT`. */
interface FrameDeadline {
  expired: Promise<never>;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Frames messages onto a byte stream. Sends are written in call order, one
 * at a time; each `send` resolves when the stream accepted its bytes, so a
 * caller that awaits it is held back by the socket's backpressure. When the
 * connection closes or a write fails, the sends still queued are refused in
 * slices, with the event loop served between them, so that thousands of
 * queued answers to a vanished peer do not stall other connections.
 */
export class StreamMessageTransport implements MessageTransport {
  readonly #stream: ByteStream;
  readonly #decoder: FrameDecoder;
  readonly #frameTimeout: number;
  /** Sends not written yet, oldest first from `#writeHead`. */
  #writes: (QueuedWrite | undefined)[] = [];
  #writeHead = 0;
  #writing = false;
  #closed = false;
  #failure: unknown = undefined;
  #closedErrorShared: PeerlinkError | undefined;
  /** What ended receiving for good (a frame timeout); later receives throw it again. */
  #receiveFailure: ProtocolError | undefined;
  #frameDeadline: FrameDeadline | undefined;
  readonly #turns = new TurnBudget();
  /** Largest message (header + body) sent or received. */
  readonly maxMessageSize: number;
  /** Byte streams cannot carry file descriptors. */
  readonly maxFds = 0;

  /**
   * Creates the instance.
   *
   * @param stream The connected byte stream; the transport owns it from now on.
   * @param options Size limit and frame timeout.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` if `frameTimeout` is not an integer from 1 to 2^31 − 1.
   */
  constructor(stream: ByteStream, options: StreamTransportOptions = {}) {
    const frameTimeout = options.frameTimeout ?? DEFAULT_FRAME_TIMEOUT;
    if (!Number.isInteger(frameTimeout) || frameTimeout < 1 || frameTimeout > MAX_FRAME_TIMEOUT) {
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        `frameTimeout must be an integer from 1 to ${MAX_FRAME_TIMEOUT} (milliseconds), got ${options.frameTimeout}`,
      );
    }
    this.#stream = stream;
    this.#frameTimeout = frameTimeout;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#decoder = new FrameDecoder(this.maxMessageSize);
  }

  /** Information about the underlying connection. */
  get info(): ConnectionInfo {
    return this.#stream.info;
  }

  /**
   * Changes the largest message `receive` accepts from now on; a longer
   * frame is refused from its length prefix with `ERR_FRAME_TOO_LARGE`.
   *
   * @param bytes The limit, header included; clamped to `maxMessageSize`.
   */
  setReceiveLimit(bytes: number): void {
    this.#decoder.setLimit(bytes);
  }

  /**
   * Sends one framed message.
   *
   * @param message The message; `fds` must be empty.
   */
  send(message: OutgoingMessage): Promise<void> {
    if (message.fds !== undefined && message.fds.length > 0) {
      return Promise.reject(
        new UsageError(
          "ERR_FDS_NOT_SUPPORTED",
          `File descriptors cannot be sent over a ${this.info.transport} connection; use a seqpacket address`,
        ),
      );
    }
    const size = HEADER_SIZE + message.body.length;
    if (size > this.maxMessageSize) {
      return Promise.reject(
        new UsageError(
          "ERR_MESSAGE_TOO_LARGE",
          `Message of ${size} bytes exceeds the ${this.maxMessageSize}-byte limit`,
        ),
      );
    }
    if (this.#closed || this.#failure !== undefined) return Promise.reject(this.#closedError());
    // Large bodies are written after the head instead of being copied next to it.
    const separate = message.body.length >= SEPARATE_BODY_WRITE;
    const first = separate
      ? encodeFrameHead(message.header, message.body.length)
      : encodeFrame(message.header, message.body);
    const second = separate ? message.body : undefined;
    return new Promise<void>((resolve, reject) => {
      this.#writes.push({ first, second, resolve, reject });
      if (!this.#writing) void this.#writeQueued();
    });
  }

  /**
   * Reads the next message.
   *
   * @returns The message, or `null` when the peer closed the connection between messages.
   * @throws {ProtocolError} `ERR_FRAME_TOO_SMALL`, `ERR_FRAME_TOO_LARGE`, `ERR_INVALID_MESSAGE_TYPE`,
   *   or `ERR_FRAME_TIMEOUT` when a started frame did not complete within `frameTimeout`.
   * @throws {ConnectionClosedError} if the connection ended in the middle of a frame.
   */
  async receive(): Promise<Message | null> {
    if (this.#receiveFailure !== undefined) throw this.#receiveFailure;
    try {
      for (;;) {
        if (this.#closed) return null;
        const frame = this.#decoder.next();
        if (frame !== null) {
          if (this.#turns.spent()) await nextMacrotask();
          return { header: readHeader(frame), body: frame.subarray(HEADER_SIZE), fds: [] };
        }
        // A frame is under way: the rest must come within frameTimeout (one timer per receive, not per chunk).
        const chunk = this.#decoder.hasPartialFrame
          ? await Promise.race([this.#stream.read(), (this.#frameDeadline ??= this.#startFrameDeadline()).expired])
          : await this.#stream.read();
        if (chunk === null) {
          if (this.#decoder.hasPartialFrame && !this.#closed) {
            throw new ConnectionClosedError("The connection closed in the middle of a message");
          }
          return null;
        }
        this.#decoder.push(chunk);
      }
    } finally {
      if (this.#frameDeadline !== undefined) this.#stopFrameDeadline();
    }
  }

  /** Closes the stream; later sends fail with `ERR_CONNECTION_CLOSED`, and so do the sends still queued. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#frameDeadline !== undefined) this.#stopFrameDeadline();
    void this.#rejectQueued();
    await this.#stream.close();
  }

  /**
   * Writes the queued sends in order until the queue is empty or the
   * connection is gone. Small frames queued behind one another are gathered
   * into one write of up to {@link GATHER_LIMIT} bytes: a server answering a
   * pipelining client makes one system call per batch, not per answer.
   */
  async #writeQueued(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#writeHead < this.#writes.length) {
        if (this.#closed || this.#failure !== undefined) return;
        const batch = this.#takeBatch();
        try {
          if (batch.length === 1) {
            const write = batch[0]!;
            await this.#stream.write(write.first);
            if (write.second !== undefined) await this.#stream.write(write.second);
          } else await this.#stream.write(gathered(batch));
        } catch (cause) {
          this.#failure ??= cause;
          const error = this.#closedError();
          for (const write of batch) write.reject(error);
          void this.#rejectQueued();
          return;
        }
        for (const write of batch) write.resolve();
        this.#compactWrites();
        if (this.#turns.spent()) await nextMacrotask();
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Takes the next send off the queue, with the small ones right behind it that fit in one gathered write. */
  #takeBatch(): QueuedWrite[] {
    const first = this.#writes[this.#writeHead]!;
    this.#writes[this.#writeHead++] = undefined;
    const batch = [first];
    if (first.second !== undefined) return batch;
    let size = first.first.length;
    while (this.#writeHead < this.#writes.length) {
      const next = this.#writes[this.#writeHead]!;
      if (next.second !== undefined || size + next.first.length > GATHER_LIMIT) break;
      size += next.first.length;
      batch.push(next);
      this.#writes[this.#writeHead++] = undefined;
    }
    return batch;
  }

  /** Drops written entries from the queue's front once they are half of it, so the queue stays linear. */
  #compactWrites(): void {
    if (this.#writeHead === this.#writes.length) {
      this.#writes.length = 0;
      this.#writeHead = 0;
    } else if (this.#writeHead >= 1024 && this.#writeHead * 2 > this.#writes.length) {
      this.#writes.splice(0, this.#writeHead);
      this.#writeHead = 0;
    }
  }

  /** Refuses every queued send, a slice at a time with a macrotask between slices. */
  async #rejectQueued(): Promise<void> {
    const writes = this.#writes;
    let index = this.#writeHead;
    this.#writes = [];
    this.#writeHead = 0;
    const error = this.#closedError();
    while (index < writes.length) {
      const end = Math.min(writes.length, index + REJECT_SLICE);
      for (; index < end; index++) writes[index]!.reject(error);
      if (index < writes.length) await nextMacrotask();
    }
  }

  #startFrameDeadline(): FrameDeadline {
    const started = Date.now();
    let timer!: ReturnType<typeof setTimeout>;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const size = this.#decoder.partialFrameSize;
        const got = this.#decoder.partialBytes;
        this.#receiveFailure = new ProtocolError(
          "ERR_FRAME_TIMEOUT",
          `A frame was started ${Date.now() - started} ms ago and is still incomplete (got ${got} of ${
            size ?? `at least ${LENGTH_PREFIX_SIZE + HEADER_SIZE}`
          } bytes)`,
        );
        reject(this.#receiveFailure);
      }, this.#frameTimeout);
    });
    // Only the receive racing it may see the rejection; after a stop nobody does.
    expired.catch(() => {});
    return { expired, timer };
  }

  #stopFrameDeadline(): void {
    clearTimeout(this.#frameDeadline!.timer);
    this.#frameDeadline = undefined;
  }

  #closedError(): PeerlinkError {
    // One error for all the sends refused at once: thousands of stack traces would cost more than the sends.
    return this.#closedErrorShared ??= new ConnectionClosedError(
      "The connection is closed",
      this.#failure === undefined ? undefined : { cause: this.#failure },
    );
  }
}

/** The frames of a batch of small sends, in one buffer. */
function gathered(batch: readonly QueuedWrite[]): Uint8Array {
  let size = 0;
  for (const write of batch) size += write.first.length;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const write of batch) {
    bytes.set(write.first, offset);
    offset += write.first.length;
  }
  return bytes;
}
