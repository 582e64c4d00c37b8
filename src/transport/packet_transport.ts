/**
 * A {@link MessageTransport} over a {@link PacketSocket}: one message per
 * datagram (header + body, no length prefix), descriptors alongside.
 *
 * @module
 */

import { closeUnclaimed } from "../base/fd_handle.ts";
import { frameTooLarge } from "../wire/frame_decoder.ts";
import { HEADER_SIZE, type Message, type OutgoingMessage, readHeader, writeHeader } from "../wire/message.ts";
import type { ConnectionInfo, MessageTransport, PacketSocket } from "./types.ts";

/** Carries messages over a seqpacket socket, with file descriptors. */
export class PacketMessageTransport implements MessageTransport {
  readonly #socket: PacketSocket;
  #receiveLimit: number;

  /**
   * Creates the instance.
   *
   * @param socket The connected packet socket; the transport owns it from now on.
   */
  constructor(socket: PacketSocket) {
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
    const packet = new Uint8Array(HEADER_SIZE + message.body.length);
    writeHeader(message.header, packet);
    packet.set(message.body, HEADER_SIZE);
    return this.#socket.send(packet, message.fds ?? []);
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
    if (packet === null) return null;
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
