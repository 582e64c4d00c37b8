/**
 * A {@link MessageTransport} over a {@link ByteStream}: u32 length prefix,
 * 12-byte header, body.
 *
 * @module
 */

import { ConnectionClosedError, type PeerlinkError, UsageError } from "../base/errors.ts";
import { DEFAULT_MAX_MESSAGE_SIZE, FrameDecoder } from "../wire/frame_decoder.ts";
import { encodeFrame, encodeFrameHead } from "../wire/frame_encoder.ts";
import { HEADER_SIZE, type Message, type OutgoingMessage, readHeader } from "../wire/message.ts";
import type { ByteStream, ConnectionInfo, MessageTransport } from "./types.ts";

/** Options for {@link StreamMessageTransport}. */
export interface StreamTransportOptions {
  /** Largest message (header + body) sent or received, in bytes. Default 16 MiB. */
  maxMessageSize?: number;
}

/** Bodies at least this large are written after the frame head instead of being copied next to it. */
const SEPARATE_BODY_WRITE = 64 * 1024;

/**
 * Frames messages onto a byte stream. Sends are written in call order, one
 * at a time; each `send` resolves when the stream accepted its bytes, so a
 * caller that awaits it is held back by the socket's backpressure.
 */
export class StreamMessageTransport implements MessageTransport {
  readonly #stream: ByteStream;
  readonly #decoder: FrameDecoder;
  #writeChain: Promise<void> = Promise.resolve();
  #closed = false;
  #failure: unknown = undefined;
  /** Largest message (header + body) sent or received. */
  readonly maxMessageSize: number;
  /** Byte streams cannot carry file descriptors. */
  readonly maxFds = 0;

  /**
   * Creates the instance.
   *
   * @param stream The connected byte stream; the transport owns it from now on.
   * @param options Size limit.
   */
  constructor(stream: ByteStream, options: StreamTransportOptions = {}) {
    this.#stream = stream;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#decoder = new FrameDecoder(this.maxMessageSize);
  }

  /** Information about the underlying connection. */
  get info(): ConnectionInfo {
    return this.#stream.info;
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
    if (this.#closed) return Promise.reject(this.#closedError());
    // Large bodies are written after the head instead of being copied next to it.
    const chunks = message.body.length >= SEPARATE_BODY_WRITE
      ? [encodeFrameHead(message.header, message.body.length), message.body]
      : [encodeFrame(message.header, message.body)];
    const write = this.#writeChain.then(async () => {
      if (this.#closed) throw this.#closedError();
      try {
        for (const chunk of chunks) await this.#stream.write(chunk);
      } catch (cause) {
        this.#failure ??= cause;
        throw this.#closedError();
      }
    });
    this.#writeChain = write.catch(() => {});
    return write;
  }

  /**
   * Reads the next message.
   *
   * @returns The message, or `null` when the peer closed the connection between messages.
   */
  async receive(): Promise<Message | null> {
    for (;;) {
      if (this.#closed) return null;
      const frame = this.#decoder.next();
      if (frame !== null) {
        return { header: readHeader(frame), body: frame.subarray(HEADER_SIZE), fds: [] };
      }
      const chunk = await this.#stream.read();
      if (chunk === null) {
        if (this.#decoder.hasPartialFrame && !this.#closed) {
          throw new ConnectionClosedError("The connection closed in the middle of a message");
        }
        return null;
      }
      this.#decoder.push(chunk);
    }
  }

  /** Closes the stream; later sends fail with `ERR_CONNECTION_CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stream.close();
  }

  #closedError(): PeerlinkError {
    return new ConnectionClosedError(
      "The connection is closed",
      this.#failure === undefined ? undefined : { cause: this.#failure },
    );
  }
}
