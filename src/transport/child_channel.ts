/**
 * The seqpacket channel between a parent and its child process (`spawn`'s
 * `channel: "seqpacket"`): the environment variable and descriptor number
 * that announce it to the child, and the parent's end as a packet socket
 * that reports the child's exit as a {@link ChildExitedError}, as
 * `ChildStream` does for pipes. Also the one way a wrapper of a packet
 * socket passes on its optional fast paths (`poll`, `sendParts`).
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import { ChildExitWatch } from "./child_stream.ts";
import type { PollablePacketSocket } from "./packet_transport.ts";
import type { SpawnedChild } from "./runtime_adapter.ts";
import type { ConnectionInfo, Packet } from "./types.ts";

/**
 * The environment variable through which `spawn` tells a child which
 * channel it was given: `seqpacket:3` for a connected SOCK_SEQPACKET socket
 * at descriptor 3. Without it the channel is stdin and stdout. `spawn`
 * removes it from the environment of every child it starts (and sets it
 * again for a seqpacket channel of its own).
 */
export const CHANNEL_VARIABLE = "PEERLINK_CHANNEL";

/** The descriptor number `spawn` puts the seqpacket channel at in the child. */
export const CHANNEL_FD = 3;

/**
 * Reads the value of {@link CHANNEL_VARIABLE}.
 *
 * @param value Its value.
 * @returns The descriptor of the seqpacket channel.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` unless it is `seqpacket:` and a descriptor number.
 *
 * @example
 * ```ts
 * import { parseChannelVariable } from "./child_channel.ts";
 * console.assert(parseChannelVariable("seqpacket:3") === 3);
 * ```
 */
export function parseChannelVariable(value: string): number {
  const match = /^seqpacket:(\d{1,9})$/.exec(value);
  if (match === null) {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Expected ${CHANNEL_VARIABLE} to be seqpacket: and a descriptor number (such as seqpacket:3), found ${
        JSON.stringify(value)
      }`,
    );
  }
  return Number(match[1]);
}

/** How a wrapper changes what its socket's fast paths do; each left out is passed on as it is. */
export interface FastPathHooks {
  /**
   * Called when `poll` throws; what it returns is `poll`'s result instead.
   *
   * @param error What `poll` threw.
   */
  pollFailed?: (error: unknown) => Packet | undefined;
  /**
   * Called when `sendParts` rejects; the send rejects with what it rejects with.
   *
   * @param error The rejection.
   */
  sendFailed?: (error: unknown) => Promise<never>;
}

/**
 * The optional fast paths of a packet socket (`poll`, `sendParts`), bound to
 * it, for a wrapper to take as its own: present only where the socket has
 * them, so that the transport over the wrapper uses the same paths.
 *
 * @param socket The wrapped socket.
 * @param hooks What to do when one fails.
 * @returns `poll` and `sendParts`, each only where `socket` has it.
 *
 * @example
 * ```ts
 * import { fastPathsOf } from "./child_channel.ts";
 * const paths = fastPathsOf({ poll: () => undefined } as never);
 * console.assert(typeof paths.poll === "function" && paths.sendParts === undefined);
 * ```
 */
export function fastPathsOf(
  socket: PollablePacketSocket,
  hooks: FastPathHooks = {},
): Pick<PollablePacketSocket, "poll" | "sendParts"> {
  const paths: Pick<PollablePacketSocket, "poll" | "sendParts"> = {};
  if (socket.poll !== undefined) {
    const poll = socket.poll.bind(socket);
    const { pollFailed } = hooks;
    paths.poll = pollFailed === undefined ? poll : () => {
      try {
        return poll();
      } catch (error) {
        return pollFailed(error);
      }
    };
  }
  if (socket.sendParts !== undefined) {
    const sendParts = socket.sendParts.bind(socket);
    const { sendFailed } = hooks;
    paths.sendParts = sendFailed === undefined
      ? sendParts
      : (head, body, fds) => sendParts(head, body, fds).catch(sendFailed);
  }
  return paths;
}

/**
 * The seqpacket channel to a child as a {@link PollablePacketSocket} that
 * reports the child's exit as {@link ChildExitedError}. Its `info` names
 * the command and gives the child's pid as the peer's: the kernel records a
 * socketpair's creator (this process) as both ends' peer, so `uid` and
 * `gid` are this process's, which the child shares unless its program is
 * set-user-ID or set-group-ID.
 */
export class ChildPacketSocket implements PollablePacketSocket {
  /** `transport: "seqpacket"`, `exec:COMMAND` as `remoteAddress`, the child's pid in `credentials`. */
  readonly info: ConnectionInfo;
  readonly #socket: PollablePacketSocket;
  readonly #watch: ChildExitWatch;
  /** What `poll` met (ECONNRESET once the child exited with datagrams unread), for the next `receive`. */
  #pollError: { error: unknown } | undefined;

  /**
   * Wraps this process's end of the channel; owns it from now on.
   *
   * @param socket This process's end.
   * @param child The child that holds the other end.
   * @param label Its command line, for messages.
   */
  constructor(socket: PollablePacketSocket, child: SpawnedChild, label: string) {
    this.#socket = socket;
    const credentials = socket.info.credentials;
    this.info = {
      ...socket.info,
      transport: "seqpacket",
      remoteAddress: `exec:${label}`,
      ...(credentials === undefined ? {} : { credentials: { ...credentials, pid: child.pid } }),
    };
    this.#watch = new ChildExitWatch(child, label, () => void socket.close().catch(() => {}));
    Object.assign(
      this,
      fastPathsOf(socket, {
        // Kept for receive(), which reports it as the child's exit when it is one.
        pollFailed: (error) => {
          this.#pollError = { error };
          return undefined;
        },
        sendFailed: (error) => this.#watch.writeFailed(error),
      }),
    );
  }

  /** The largest datagram. */
  get maxPacketSize(): number {
    return this.#socket.maxPacketSize;
  }

  /** The most descriptors per datagram. */
  get maxFds(): number {
    return this.#socket.maxFds;
  }

  /** Takes a datagram that already arrived, if any; a failure is thrown by the next `receive`. */
  poll?: () => Packet | undefined;

  /** Sends `head` and `body` as one datagram. */
  sendParts?: (head: Uint8Array, body: Uint8Array, fds: readonly number[]) => Promise<void>;

  /**
   * Sends one datagram.
   *
   * @param data The datagram.
   * @param fds Descriptors to pass.
   * @throws {ChildExitedError} when the send failed because the child exited (with the socket's error as cause).
   */
  async send(data: Uint8Array, fds: readonly number[]): Promise<void> {
    try {
      await this.#socket.send(data, fds);
    } catch (error) {
      await this.#watch.writeFailed(error);
    }
  }

  /**
   * Receives the next datagram.
   *
   * @returns The packet, or `null` at the end of a channel this side closed, or whose child still runs.
   * @throws {ChildExitedError} once the child exited and what it sent has been read (also when the
   *   socket reports the exit as ECONNRESET, to `poll` or here).
   */
  async receive(): Promise<Packet | null> {
    let packet: Packet | null;
    try {
      const failed = this.#pollError;
      if (failed !== undefined) {
        this.#pollError = undefined;
        throw failed.error;
      }
      packet = await this.#socket.receive();
    } catch (error) {
      return this.#watch.readFailed(error);
    }
    return packet ?? this.#watch.atEnd();
  }

  /** Closes this process's end; ending the child is the caller's business. */
  close(): Promise<void> {
    this.#watch.close();
    return this.#socket.close();
  }
}
