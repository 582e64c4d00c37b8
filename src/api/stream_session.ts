/**
 * What a client does with a fresh byte stream or transport, for `connect`
 * and `spawn` alike: the framing options its `StreamMessageTransport` gets,
 * and the session it starts on it (the peerlink handshake, then the
 * application's own).
 *
 * @module
 */

import type { Handshake } from "../rpc/server.ts";
import { clientHandshake } from "../session/client_handshake.ts";
import { SessionTransport } from "../session/session_transport.ts";
import type { StreamTransportOptions } from "../transport/stream_transport.ts";
import type { MessageTransport } from "../transport/types.ts";
import type { ClientSessionSettings } from "./session_settings.ts";

/**
 * The framing options of a stream transport, from checked entry options.
 *
 * @param options The checked options of an entry point.
 * @returns `maxMessageSize` and `frameTimeout`, where given.
 */
export function streamOptions(options: StreamTransportOptions): StreamTransportOptions {
  const result: StreamTransportOptions = {};
  if (options.maxMessageSize !== undefined) result.maxMessageSize = options.maxMessageSize;
  if (options.frameTimeout !== undefined) result.frameTimeout = options.frameTimeout;
  return result;
}

/**
 * Runs the peerlink handshake (none with `protocol: "fizyr"`) and the
 * application's handshake on a fresh client transport.
 *
 * @param transport The transport; closed when this fails.
 * @param address The other side, for messages.
 * @param session The client's session settings, or `undefined` for plain fizyr-rpc.
 * @param handshake The application's handshake, if any.
 * @param signal Aborting it closes the transport, ending a handshake under way (a reconnect stopped by close()).
 * @returns The transport to serve: a `SessionTransport` when there is a session.
 */
export async function startSession(
  transport: MessageTransport,
  address: string,
  session: ClientSessionSettings | undefined,
  handshake: Handshake | undefined,
  signal: AbortSignal | undefined,
): Promise<MessageTransport> {
  const abandon = (): void => void transport.close().catch(() => {});
  signal?.addEventListener("abort", abandon, { once: true });
  let served: MessageTransport = transport;
  try {
    if (session !== undefined) {
      const agreed = await clientHandshake(transport, {
        ...session,
        maxMessageSize: transport.maxMessageSize,
        address,
      });
      served = new SessionTransport(transport, agreed, {
        keepaliveInterval: agreed.keepaliveInterval,
        keepalive: session.keepalive,
      });
    }
    await handshake?.(served);
    signal?.throwIfAborted();
    return served;
  } catch (error) {
    // `served` is the session once there is one: closing it also stops its keepalive timer.
    await served.close().catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener("abort", abandon);
  }
}
