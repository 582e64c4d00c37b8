/**
 * A {@link MessageTransport} over a {@link ByteStream}: u32 length prefix,
 * 12-byte header, body.
 *
 * @module
 */

import { ConnectionClosedError, type PeerlinkError, ProtocolError, UsageError } from "../base/errors.ts";
import { DEFAULT_MAX_MESSAGE_SIZE, FrameDecoder, LENGTH_PREFIX_SIZE } from "../wire/frame_decoder.ts";
import { encodeFrameHead, encodeFrameInto } from "../wire/frame_encoder.ts";
import { ByteSlab } from "../base/byte_slab.ts";
import { MicrotaskSettle } from "../base/microtask_settle.ts";
import { ACCEPTED } from "../base/accepted.ts";
import { releaseSent } from "../base/buffer_pool.ts";
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
/** The largest write small frames gathered in one turn are copied into. */
const GATHER_LIMIT = 64 * 1024;
/**
 * Bytes a transport may hold (gathered for the end of the turn, or being
 * written) before `send` makes its caller wait until they are written.
 */
const HIGH_WATER_MARK = 64 * 1024;
/**
 * Where small frames are encoded, for every connection of the process (a
 * slab per connection would cost an idle one 64 KiB): frames a connection
 * sends one after another mostly lie side by side, and go out as one view.
 */
const frameSlab = new ByteSlab();
/** Microtask passes a flush waits at least for more frames (see {@link MicrotaskSettle}). */
const SETTLE_PASSES = 4;
/** Microtask passes after which a flush writes even while frames keep coming. */
const MAX_SETTLE_PASSES = 64;
/** How long `close()` waits for gathered frames to be written before it closes anyway. */
const CLOSE_FLUSH_MS = 1000;

const NO_PARTS: readonly Uint8Array[] = [];

/** A send waiting for the transport's buffer to drain below the high-water mark. */
interface DrainWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The running frame timer of one `receive()`: it settles `expired` with `ERR_FRAME_TIMEOUT`. */
interface FrameDeadline {
  expired: Promise<never>;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Frames messages onto a byte stream.
 *
 * Writing: a message sent when the transport is idle, after at most one
 * received message and with no received bytes waiting, is written at once,
 * so a lone call costs no wait. Messages sent while a write is under way,
 * or after a batch arrived, are gathered and written together once the
 * promise continuations that may send more had their turn: a server
 * answering 64 pipelined calls makes one system call, not 64. `send`
 * resolves at once while the transport holds less than
 * {@link HIGH_WATER_MARK} bytes, and otherwise once it drained below it, so
 * a sender that awaits it is held back by the socket's backpressure.
 * Sends are written in call order. `close()` writes what was gathered
 * before it closes the stream.
 */
export class StreamMessageTransport implements MessageTransport {
  readonly #stream: ByteStream;
  readonly #decoder: FrameDecoder;
  readonly #frameTimeout: number;
  /** Frames (and large bodies) gathered for the next write, in order. */
  #gathered: Uint8Array[] = [];
  /** True while a write of the stream is under way. */
  #writing = false;
  /** Writes what is gathered once the senders queued on the promise queue had their turn. */
  readonly #settle = new MicrotaskSettle(
    () => this.#gathered.length,
    () => {
      if (!this.#writing && this.#failure === undefined) this.#flush();
    },
    SETTLE_PASSES,
    MAX_SETTLE_PASSES,
  );
  /** Bytes gathered or being written. */
  #held = 0;
  /** The parts of the write under way. */
  #writingParts: readonly Uint8Array[] = NO_PARTS;
  /** Bytes of the write under way. */
  #writingBytes = 0;
  /**
   * Messages received since the last write started. More than one, or
   * received bytes not yet handed out, mean a batch arrived (pipelined
   * calls, or the answers to them) and its answers (or the next calls) are
   * on their way: the first of them is gathered with the rest instead of
   * being written alone.
   */
  #receivedSinceWrite = 0;
  /** Where each received frame's message header is copied to be read. */
  readonly #header = new Uint8Array(HEADER_SIZE);
  /** Sends waiting until fewer than {@link HIGH_WATER_MARK} bytes are held. */
  #drainWaiters: DrainWaiter[] = [];
  /** Settles when the write under way finished (either way); set only while one is. */
  #writeDone: Promise<void> | undefined;
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
    this.#decoder = new FrameDecoder(this.maxMessageSize, stream.chunksDetachable === true);
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
    const { body } = message;
    const size = HEADER_SIZE + body.length;
    if (size > this.maxMessageSize) {
      releaseSent(body);
      return Promise.reject(
        new UsageError(
          "ERR_MESSAGE_TOO_LARGE",
          `Message of ${size} bytes exceeds the ${this.maxMessageSize}-byte limit`,
        ),
      );
    }
    if (this.#closed || this.#failure !== undefined) {
      releaseSent(body);
      return Promise.reject(this.#closedError());
    }
    const bytes = LENGTH_PREFIX_SIZE + size;
    this.#held += bytes;
    // Large bodies are written after the head instead of being copied next to it.
    const separate = body.length >= SEPARATE_BODY_WRITE;
    let first: Uint8Array;
    if (separate) first = encodeFrameHead(message.header, body.length);
    else {
      first = frameSlab.take(bytes);
      encodeFrameInto(first, message.header, body);
    }
    if (
      !this.#writing && this.#gathered.length === 0 && this.#receivedSinceWrite <= 1 && !this.#decoder.hasPartialFrame
    ) {
      this.#write(separate ? [first, body] : [first], bytes);
    } else {
      this.#gathered.push(first);
      if (separate) this.#gathered.push(body);
      if (!this.#writing) this.#settle.schedule();
    }
    if (this.#held <= HIGH_WATER_MARK) return ACCEPTED;
    return new Promise<void>((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /**
   * Takes the next message if it is already here, without waiting: the
   * frames that arrived in one chunk are handed out one after another with
   * no turn of the promise queue between them.
   *
   * @returns The message, or `undefined` when `receive` has to wait for it (or reports the end).
   * @throws {ProtocolError} as `receive` does, for a malformed frame.
   */
  poll(): Message | undefined {
    if (this.#receiveFailure !== undefined || this.#closed || this.#turns.spent()) return undefined;
    const body = this.#decoder.nextSplit(this.#header);
    if (body === null) return undefined;
    this.#receivedSinceWrite++;
    return { header: readHeader(this.#header), body, fds: [] };
  }

  /**
   * Reads the next message.
   *
   * @returns The message, or `null` when the peer closed the connection between messages.
   * @throws {ProtocolError} `ERR_FRAME_TOO_SMALL`, `ERR_FRAME_TOO_LARGE`, `ERR_INVALID_MESSAGE_TYPE`,
   *   or `ERR_FRAME_TIMEOUT` when a started frame did not complete within `frameTimeout`.
   * @throws {ConnectionClosedError} if the connection ended in the middle of a frame.
   */
  receive(): Promise<Message | null> {
    if (this.#receiveFailure !== undefined) return Promise.reject(this.#receiveFailure);
    // Between frames (the usual case: poll() took what had arrived) one read is awaited, with no frame timer.
    if (this.#closed || this.#decoder.hasPartialFrame) return this.#receiveFrame();
    return this.#stream.read().then(this.#afterIdleRead);
  }

  /** The chunk that ended a wait between frames: the next message, or the rest of the wait. */
  readonly #afterIdleRead = (chunk: Uint8Array | null): Message | null | Promise<Message | null> => {
    if (chunk === null) {
      if (this.#failure !== undefined && !this.#closed) throw this.#closedError();
      return null;
    }
    if (this.#closed) return null;
    this.#decoder.push(chunk);
    const body = this.#decoder.nextSplit(this.#header);
    if (body === null) return this.#receiveFrame();
    const message: Message = { header: readHeader(this.#header), body, fds: [] };
    this.#receivedSinceWrite++;
    return this.#turns.spent() ? nextMacrotask().then(() => message) : message;
  };

  /** Reads until a whole frame is in, a partial one within `frameTimeout`. */
  async #receiveFrame(): Promise<Message | null> {
    try {
      for (;;) {
        if (this.#closed) return null;
        const body = this.#decoder.nextSplit(this.#header);
        if (body !== null) {
          const header = readHeader(this.#header);
          if (this.#turns.spent()) await nextMacrotask();
          this.#receivedSinceWrite++;
          return { header, body, fds: [] };
        }
        // A frame is under way: the rest must come within frameTimeout (one timer per receive, not per chunk).
        const chunk = this.#decoder.hasPartialFrame
          ? await Promise.race([this.#stream.read(), (this.#frameDeadline ??= this.#startFrameDeadline()).expired])
          : await this.#stream.read();
        if (chunk === null) {
          if (this.#failure !== undefined && !this.#closed) throw this.#closedError();
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

  /**
   * Writes what was gathered (waiting up to a second for it), then closes
   * the stream; later sends fail with `ERR_CONNECTION_CLOSED`, and so do the
   * sends still waiting for the buffer to drain.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#frameDeadline !== undefined) this.#stopFrameDeadline();
    if (this.#gathered.length > 0 && this.#failure === undefined) await this.#flushBeforeClose();
    this.#dropGathered();
    this.#failWaiters();
    await this.#stream.close();
  }

  /** Hands the gathered frames to the stream behind the write under way, for a second at most. */
  async #flushBeforeClose(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_FLUSH_MS)));
    const flushed = (async () => {
      if (this.#writeDone !== undefined) await this.#writeDone;
      if (this.#gathered.length === 0 || this.#failure !== undefined) return;
      this.#flush();
      await this.#writeDone;
    })();
    await Promise.race([flushed, timeUp]);
    clearTimeout(timer);
  }

  /** Writes everything gathered: small frames copied into one buffer per {@link GATHER_LIMIT} bytes. */
  #flush(): void {
    const parts = this.#gathered;
    if (parts.length === 0) return;
    this.#gathered = [];
    this.#settle.cancel();
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    this.#write(parts.length === 1 ? parts : gatherSmall(parts), bytes);
  }

  /**
   * Writes `parts` in order; `bytes` is their total, released from
   * {@link StreamMessageTransport.#held} after. Once the write settled, no
   * part is read any more: large ones go back to the send pool.
   */
  #write(parts: readonly Uint8Array[], bytes: number): void {
    this.#writing = true;
    this.#receivedSinceWrite = 0;
    this.#writingParts = parts;
    const written = parts.length === 1 ? this.#stream.write(parts[0]!) : writeInOrder(this.#stream, parts);
    this.#writingBytes = bytes;
    this.#writeDone = written.then(this.#written, this.#writeFailed);
  }

  /** Gives the large parts of the write that just settled back to the send pool. */
  #releaseWritten(): void {
    const parts = this.#writingParts;
    this.#writingParts = NO_PARTS;
    for (const part of parts) releaseSent(part);
  }

  /** Forgets the gathered parts, which will never be written. */
  #dropGathered(): void {
    const parts = this.#gathered;
    this.#gathered = [];
    for (const part of parts) releaseSent(part);
  }

  readonly #written = (): void => {
    this.#writing = false;
    this.#writeDone = undefined;
    this.#releaseWritten();
    this.#held -= this.#writingBytes;
    if (this.#held <= HIGH_WATER_MARK && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
    if (this.#gathered.length === 0 || this.#closed) return;
    // More is gathered: write it now if it is a buffer's worth, else with the rest of the turn.
    if (this.#held >= GATHER_LIMIT) this.#flush();
    else this.#settle.schedule();
  };

  readonly #writeFailed = (cause: unknown): void => {
    this.#writing = false;
    this.#writeDone = undefined;
    this.#releaseWritten();
    this.#failure ??= cause;
    this.#dropGathered();
    this.#held = 0;
    this.#failWaiters();
    // Sends were accepted that will never go out: the connection is broken both ways, so that the reader
    // (the peer) ends and fails what it has open instead of waiting for answers to requests never written.
    this.#stream.close().catch(() => {});
  };

  #failWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    if (waiters.length === 0) return;
    const error = this.#closedError();
    for (const waiter of waiters) waiter.reject(error);
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

/** Writes `parts` one after another. */
async function writeInOrder(stream: ByteStream, parts: readonly Uint8Array[]): Promise<void> {
  for (const part of parts) await stream.write(part);
}

/**
 * The parts of a write with runs of small frames joined, into buffers of up
 * to {@link GATHER_LIMIT} bytes: frames that lie side by side in one slab
 * become one view of it, others are copied together. Large bodies stay as
 * they are.
 */
function gatherSmall(parts: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  let adjacent = true;
  const endRun = (): void => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) {
      const head = run[0]!;
      if (adjacent) out.push(new Uint8Array(head.buffer, head.byteOffset, runBytes));
      else {
        const bytes = new Uint8Array(runBytes);
        let offset = 0;
        for (const part of run) {
          bytes.set(part, offset);
          offset += part.length;
        }
        out.push(bytes);
      }
    }
    run = [];
    runBytes = 0;
    adjacent = true;
  };
  for (const part of parts) {
    if (part.length >= SEPARATE_BODY_WRITE) {
      endRun();
      out.push(part);
      continue;
    }
    if (runBytes + part.length > GATHER_LIMIT) endRun();
    if (run.length > 0) {
      const head = run[0]!;
      adjacent &&= part.buffer === head.buffer && part.byteOffset === head.byteOffset + runBytes;
    }
    run.push(part);
    runBytes += part.length;
  }
  endRun();
  return out;
}
