/**
 * A {@link MessageTransport} over a {@link PacketSocket}: one message per
 * datagram (header + body, no length prefix), descriptors alongside.
 *
 * @module
 */

import { closeUnclaimed } from "../base/fd_handle.ts";
import { frameTooLarge } from "../wire/frame_decoder.ts";
import { HEADER_SIZE, type Message, type OutgoingMessage, readHeader, writeHeader } from "../wire/message.ts";
import { releaseSent } from "../base/buffer_pool.ts";
import type { ConnectionInfo, MessageTransport, Packet, PacketSocket } from "./types.ts";

/**
 * A packet socket that may also hand over a datagram that already arrived
 * without waiting (the seqpacket sockets of every runtime do).
 */
export interface PollablePacketSocket extends PacketSocket {
  /**
   * Takes the next datagram if it already arrived. Not called while a `receive` is pending.
   *
   * @returns The packet, or `undefined` when `receive` has to be called (to wait, or to see the end).
   */
  poll?(): Packet | undefined;
  /**
   * Sends `head` and `body` as one datagram, as `send` would their
   * concatenation. Both are copied (or sent) before it returns: the caller
   * may reuse their memory at once.
   *
   * @param head The first bytes.
   * @param body The rest.
   * @param fds Descriptors to pass.
   */
  sendParts?(head: Uint8Array, body: Uint8Array, fds: readonly number[]): Promise<void>;
}

const NO_FDS: readonly number[] = [];

/** Carries messages over a seqpacket socket, with file descriptors. */
export class PacketMessageTransport implements MessageTransport {
  readonly #socket: PollablePacketSocket;
  #receiveLimit: number;
  readonly #head = new Uint8Array(HEADER_SIZE);

  /**
   * Creates the instance.
   *
   * @param socket The connected packet socket; the transport owns it from now on.
   */
  constructor(socket: PollablePacketSocket) {
    this.#socket = socket;
    this.#receiveLimit = socket.maxPacketSize;
  }

  /** Information about the connection, including peer credentials. */
  get info(): ConnectionInfo {
    return this.#socket.info;
  }

  /** Largest message (header + body): the socket's datagram limit. */
  get maxMessageSize(): number {
    return this.#socket.maxPacketSize;
  }

  /** The most descriptors one message may carry. */
  get maxFds(): number {
    return this.#socket.maxFds;
  }

  /**
   * Changes the largest message `receive` accepts from now on; a longer
   * datagram is refused with `ERR_FRAME_TOO_LARGE` (and its descriptors closed).
   *
   * @param bytes The limit, header included; clamped to `maxMessageSize`.
   */
  setReceiveLimit(bytes: number): void {
    this.#receiveLimit = Math.min(bytes, this.maxMessageSize);
  }

  /**
   * Sends one message as one datagram.
   *
   * @param message The message and its descriptors.
   */
  send(message: OutgoingMessage): Promise<void> {
    const socket = this.#socket;
    const { body } = message;
    if (socket.sendParts !== undefined) {
      // The socket copies both parts before it returns, so one header buffer serves every send,
      // and the body's memory can go back to the send pool at once.
      writeHeader(message.header, this.#head);
      try {
        return socket.sendParts(this.#head, body, message.fds ?? NO_FDS);
      } finally {
        releaseSent(body);
      }
    }
    const packet = new Uint8Array(HEADER_SIZE + body.length);
    writeHeader(message.header, packet);
    packet.set(body, HEADER_SIZE);
    releaseSent(body);
    return socket.send(packet, message.fds ?? NO_FDS);
  }

  /**
   * Receives the next message.
   *
   * @returns The message, or `null` at the end of the connection.
   * @throws {ProtocolError} `ERR_FRAME_TOO_LARGE` for a datagram above the receive limit, `ERR_TRUNCATED`,
   *   `ERR_FRAME_TOO_SMALL` or `ERR_INVALID_MESSAGE_TYPE`; the datagram's descriptors are closed.
   */
  async receive(): Promise<Message | null> {
    const packet = await this.#socket.receive();
    return packet === null ? null : this.#messageOf(packet);
  }

  /**
   * Takes the next message if its datagram already arrived, without waiting.
   *
   * @returns The message, or `undefined` when `receive` has to be called.
   * @throws {ProtocolError} as `receive` would.
   */
  poll(): Message | undefined {
    const packet = this.#socket.poll?.();
    return packet === undefined ? undefined : this.#messageOf(packet);
  }

  #messageOf(packet: Packet): Message {
    try {
      if (packet.data.length > this.#receiveLimit) {
        throw frameTooLarge("Datagram", packet.data.length, this.#receiveLimit, this.maxMessageSize);
      }
      return { header: readHeader(packet.data), body: packet.data.subarray(HEADER_SIZE), fds: packet.fds };
    } catch (error) {
      closeUnclaimed(packet.fds);
      throw error;
    }
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return this.#socket.close();
  }
}
