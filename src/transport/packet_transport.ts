/**
 * A {@link MessageTransport} over a {@link PacketSocket}: one message per
 * datagram (header + body, no length prefix), descriptors alongside.
 *
 * @module
 */

import { closeUnclaimed } from "../base/fd_handle.ts";
import { HEADER_SIZE, type Message, type OutgoingMessage, readHeader, writeHeader } from "../wire/message.ts";
import type { ConnectionInfo, MessageTransport, PacketSocket } from "./types.ts";

/** Carries messages over a seqpacket socket, with file descriptors. */
export class PacketMessageTransport implements MessageTransport {
  readonly #socket: PacketSocket;

  /**
   * Creates the instance.
   *
   * @param socket The connected packet socket; the transport owns it from now on.
   */
  constructor(socket: PacketSocket) {
    this.#socket = socket;
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
   */
  async receive(): Promise<Message | null> {
    const packet = await this.#socket.receive();
    if (packet === null) return null;
    try {
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
