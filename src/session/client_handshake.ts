/**
 * The client's side of the peerlink handshake: send the hello, answer the
 * server's challenge if both have a secret (after checking the server's
 * proof, so a client never proves anything to an impostor), and take the
 * server's hello or refusal. docs/PROTOCOL.md section 8 has the bytes.
 *
 * @module
 */

import {
  ConnectionClosedError,
  ProtocolError,
  type ProtocolErrorCode,
  SessionError,
  type SessionErrorCode,
} from "../base/errors.ts";
import type { MessageTransport } from "../transport/types.ts";
import { type Message, MessageType } from "../wire/message.ts";
import { clientProof, constantTimeEqual, createNonce, serverProof } from "./auth.ts";
import { HandshakeDeadline } from "./handshake_deadline.ts";
import { agreedKeepaliveInterval, agreeOnCapabilities } from "./negotiation.ts";
import type { SessionInfo } from "./options.ts";
import {
  CAPABILITIES,
  CHALLENGE_UPDATE_KIND,
  decodeChallenge,
  decodeGoAway,
  decodeHello,
  decodeRefusal,
  encodeHello,
  encodeProof,
  GOAWAY_STREAM_ID,
  HANDSHAKE_RECEIVE_LIMIT,
  HANDSHAKE_REQUEST_ID,
  HANDSHAKE_SERVICE_ID,
  HANDSHAKE_STATUS_ERROR,
  HANDSHAKE_STATUS_OK,
  NOT_PEERLINK_PREFIX,
  PROOF_UPDATE_KIND,
  PROTOCOL_VERSION,
} from "./session_protocol.ts";

/** What {@link clientHandshake} needs, defaults already applied. */
export interface ClientHandshakeSettings {
  /** The shared secret's bytes, if this client has one. */
  secret?: Uint8Array;
  /** Milliseconds the whole handshake may take. */
  handshakeTimeout: number;
  /** This side's keepalive, or `false` for none. */
  keepalive: { interval: number; timeout: number } | false;
  /** The receive limit to restore once the handshake is over. */
  maxMessageSize: number;
  /** The server's address, for messages. */
  address?: string;
}

/** The codes a server's refusal may carry; any other means the server is no peerlink server. */
const REFUSAL_CODES: ReadonlySet<string> = new Set<SessionErrorCode>([
  "ERR_VERSION_MISMATCH",
  "ERR_CAPABILITY_MISMATCH",
  "ERR_AUTH_FAILED",
  "ERR_AUTH_REQUIRED",
  "ERR_NOT_PEERLINK",
  "ERR_PEER_REFUSED",
  "ERR_TOO_MANY_CONNECTIONS",
  "ERR_SERVER_CLOSING",
]);

const FIZYR_HINT = 'connect with protocol: "fizyr"';

/**
 * Runs the client's handshake on a fresh connection.
 *
 * @param transport The connection; nothing else may use it meanwhile. On
 *   failure it is left open: the caller closes it.
 * @param settings Secret, timeout, keepalive, limit.
 * @returns What both sides agreed on, and the interval to ping at (0 for none).
 * @throws {SessionError} `ERR_HANDSHAKE_TIMEOUT`, `ERR_NOT_PEERLINK`,
 *   `ERR_VERSION_MISMATCH`, `ERR_CAPABILITY_MISMATCH`, `ERR_AUTH_FAILED`,
 *   `ERR_AUTH_REQUIRED`, or the code of a GOAWAY the server refused us with.
 * @throws {ConnectionClosedError} when the server closed without an answer.
 * @throws {ProtocolError} for a frame the transport refused (such as one above 4 KiB).
 */
export async function clientHandshake(
  transport: MessageTransport,
  settings: ClientHandshakeSettings,
): Promise<SessionInfo & { keepaliveInterval: number }> {
  const server = settings.address ?? "The server";
  const deadline = new HandshakeDeadline(
    settings.handshakeTimeout,
    () =>
      new SessionError(
        "ERR_HANDSHAKE_TIMEOUT",
        `${server} did not answer the peerlink handshake within ${settings.handshakeTimeout} ms; a plain fizyr-rpc server never does: ${FIZYR_HINT}`,
      ),
  );
  try {
    transport.setReceiveLimit(HANDSHAKE_RECEIVE_LIMIT);
    const session = await exchange(transport, settings, deadline, server);
    transport.setReceiveLimit(settings.maxMessageSize);
    return session;
  } finally {
    deadline.clear();
  }
}

async function exchange(
  transport: MessageTransport,
  settings: ClientHandshakeSettings,
  deadline: HandshakeDeadline,
  server: string,
): Promise<SessionInfo & { keepaliveInterval: number }> {
  const { secret } = settings;
  const nonce = secret === undefined ? undefined : createNonce();
  const interval = settings.keepalive === false ? 0 : settings.keepalive.interval;
  const hello = { peerlink: PROTOCOL_VERSION, caps: CAPABILITIES, requires: [], keepalive: interval };
  await deadline.within(transport.send({
    header: { type: MessageType.Request, requestId: HANDSHAKE_REQUEST_ID, serviceId: HANDSHAKE_SERVICE_ID },
    body: encodeHello(nonce === undefined ? hello : { ...hello, nonce }),
  }));
  let challenged = false;
  for (;;) {
    const message = await receiveAnswer(transport, deadline, server);
    if (message === null) {
      throw new ConnectionClosedError(`${server} closed the connection during the peerlink handshake`);
    }
    const { type, requestId, serviceId } = message.header;
    if (type === MessageType.Stream) {
      if (serviceId === GOAWAY_STREAM_ID) {
        const goAway = decodeGoAway(message.body);
        throw new SessionError(goAway.code, `${server} refused the connection: ${goAway.message}`);
      }
      continue; // A stream message has no answer to wait for; a later version may send some.
    }
    if (requestId !== HANDSHAKE_REQUEST_ID || type === MessageType.Request || type === MessageType.RequesterUpdate) {
      throw notPeerlink(server, "it sent a message that belongs to no handshake");
    }
    if (type === MessageType.ResponderUpdate) {
      if (secret === undefined || nonce === undefined || challenged || serviceId !== CHALLENGE_UPDATE_KIND) {
        throw notPeerlink(server, "it sent an update the handshake has no place for");
      }
      challenged = true;
      await answerChallenge(transport, deadline, message, { secret, nonce, server });
      continue;
    }
    return acceptResponse(message, settings, { interval, challenged, server });
  }
}

/**
 * The server's next message. Bytes that do not frame as a message keep
 * their `ProtocolError` code, with a message that says where they came from
 * (a TLS server answers a plaintext hello with an alert, whose first bytes
 * read as an absurd length).
 */
async function receiveAnswer(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  server: string,
): Promise<Message | null> {
  try {
    return await deadline.receive(transport);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    throw new ProtocolError(
      error.code as ProtocolErrorCode,
      `${server} answered the peerlink handshake with bytes that are not a peerlink message (${error.message}); is it a TLS server (connect with tls://) or another protocol?`,
      { cause: error },
    );
  }
}

/** Checks the server's proof, and only then sends ours. */
async function answerChallenge(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  message: Message,
  { secret, nonce, server }: { secret: Uint8Array; nonce: Uint8Array; server: string },
): Promise<void> {
  const challenge = withHint(server, () => decodeChallenge(message.body));
  const expected = await serverProof(secret, nonce, challenge.nonce);
  if (!constantTimeEqual(expected, challenge.proof)) {
    throw new SessionError(
      "ERR_AUTH_FAILED",
      `${server} could not prove it knows the secret (a wrong secret, or not the server meant)`,
    );
  }
  await deadline.within(transport.send({
    header: { type: MessageType.RequesterUpdate, requestId: HANDSHAKE_REQUEST_ID, serviceId: PROOF_UPDATE_KIND },
    body: encodeProof(await clientProof(secret, nonce, challenge.nonce)),
  }));
}

/** Turns the server's response into the session, or into its refusal. */
function acceptResponse(
  message: Message,
  settings: ClientHandshakeSettings,
  { interval, challenged, server }: { interval: number; challenged: boolean; server: string },
): SessionInfo & { keepaliveInterval: number } {
  const status = message.header.serviceId;
  if (status === HANDSHAKE_STATUS_ERROR) {
    const refusal = decodeRefusal(message.body);
    if (refusal === undefined || !REFUSAL_CODES.has(refusal.code)) {
      throw notPeerlink(server, `it answered with the error ${refusal?.code ?? "of an unknown format"}`);
    }
    throw new SessionError(refusal.code as SessionErrorCode, `${server} refused the connection: ${refusal.message}`, {
      data: refusal.data,
    });
  }
  if (status !== HANDSHAKE_STATUS_OK) throw notPeerlink(server, `it answered with status ${status}`);
  const hello = withHint(server, () => decodeHello(message.body, "server"));
  if (settings.secret !== undefined && !challenged) {
    throw new SessionError(
      "ERR_AUTH_REQUIRED",
      `${server} has no secret: it accepted the connection without proving it knows one, and this client requires it`,
    );
  }
  const capabilities = agreeOnCapabilities(hello, { caps: CAPABILITIES, requires: [] });
  return {
    version: PROTOCOL_VERSION,
    capabilities,
    authenticated: challenged,
    keepaliveInterval: agreedKeepaliveInterval(capabilities, interval, hello.keepalive),
  };
}

/** Adds the hint to connect as plain fizyr-rpc to an `ERR_NOT_PEERLINK`. */
function withHint<T>(server: string, decodeBody: () => T): T {
  try {
    return decodeBody();
  } catch (error) {
    if (error instanceof SessionError && error.code === "ERR_NOT_PEERLINK") {
      throw notPeerlink(server, error.message.slice(NOT_PEERLINK_PREFIX.length));
    }
    throw error;
  }
}

function notPeerlink(server: string, detail: string): SessionError {
  return new SessionError(
    "ERR_NOT_PEERLINK",
    `${server} answered like a plain fizyr-rpc peer (${detail}); ${FIZYR_HINT}`,
  );
}
