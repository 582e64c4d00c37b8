/**
 * The server's side of the peerlink handshake: read the first message,
 * decide between a session and (in "auto" mode) a plain fizyr-rpc
 * connection, check the client's hello, challenge a client that has a
 * secret, and answer with the server hello or a refusal; and refusing a
 * connection at once with a GOAWAY. docs/PROTOCOL.md section 8 has the bytes.
 *
 * @module
 */

import { ConnectionClosedError, SessionError, type SessionErrorCode } from "../base/errors.ts";
import { closeUnclaimed } from "../base/fd_handle.ts";
import type { MessageTransport } from "../transport/types.ts";
import { frameTooLarge } from "../wire/frame_decoder.ts";
import { HEADER_SIZE, type Message, MessageType } from "../wire/message.ts";
import { clientProof, constantTimeEqual, createNonce, serverProof } from "./auth.ts";
import { HandshakeDeadline } from "./handshake_deadline.ts";
import { agreedKeepaliveInterval, agreeOnCapabilities } from "./negotiation.ts";
import type { SessionInfo } from "./options.ts";
import { ReplayTransport } from "./replay_transport.ts";
import {
  CAPABILITIES,
  CHALLENGE_UPDATE_KIND,
  decodeHello,
  decodeProof,
  encodeChallenge,
  encodeGoAway,
  encodeHello,
  encodeRefusal,
  GOAWAY_STREAM_ID,
  HANDSHAKE_RECEIVE_LIMIT,
  HANDSHAKE_REQUEST_ID,
  HANDSHAKE_SERVICE_ID,
  HANDSHAKE_STATUS_ERROR,
  HANDSHAKE_STATUS_OK,
  type Hello,
  notPeerlink,
  PROOF_UPDATE_KIND,
  PROTOCOL_VERSION,
} from "./session_protocol.ts";
import { waitForEnd } from "./wait_for_end.ts";

/** What {@link serverHandshake} needs, defaults already applied. */
export interface ServerHandshakeSettings {
  /** `"auto"`: serve a connection without a hello as plain fizyr-rpc (unless there is a secret); `"peerlink"`: require the hello. */
  protocol: "auto" | "peerlink";
  /** The shared secret's bytes, if the server has one. */
  secret?: Uint8Array;
  /** Milliseconds the whole handshake may take. */
  handshakeTimeout: number;
  /** This side's keepalive, or `false` for none. */
  keepalive: { interval: number; timeout: number } | false;
  /** The receive limit to restore once the handshake is over. */
  maxMessageSize: number;
  /** Milliseconds to wait before answering a failed authentication. */
  authFailureDelay: number;
}

/** How a connection starts: a session, or a plain fizyr-rpc connection (auto mode). */
export type ServerHandshakeResult =
  | {
    /** The handshake succeeded. */
    kind: "session";
    /** What both sides agreed on. */
    session: SessionInfo;
    /** Milliseconds between pings (0 for none). */
    keepaliveInterval: number;
  }
  | {
    /** The client sent no hello: it speaks plain fizyr-rpc. */
    kind: "fizyr";
    /** The connection, which returns the client's first message again. */
    transport: MessageTransport;
  };

/** How long a refusal may take to send before the connection is closed anyway. */
const REFUSAL_SEND_TIMEOUT = 1000;

/** The errors of connections that closed cleanly before sending a byte. */
const closedBeforeHello = new WeakSet<object>();

/**
 * Whether a handshake failed only because the client closed the connection
 * cleanly before sending anything (a health check that connects and
 * closes): no failure worth reporting.
 *
 * @param error What `serverHandshake` threw.
 * @returns True for exactly that case.
 */
export function isClosedBeforeHello(error: unknown): boolean {
  return typeof error === "object" && error !== null && closedBeforeHello.has(error);
}

/**
 * Runs the server's handshake on a freshly accepted connection.
 *
 * @param transport The connection; nothing else may use it meanwhile. On
 *   failure it is left open: the caller closes it (any refusal was sent).
 * @param settings Protocol, secret, timeout, keepalive, limits.
 * @returns The session, or (auto mode without a secret, no hello) the connection to serve as plain fizyr-rpc.
 * @throws {SessionError} `ERR_HANDSHAKE_TIMEOUT`, `ERR_NOT_PEERLINK`,
 *   `ERR_VERSION_MISMATCH`, `ERR_CAPABILITY_MISMATCH`, `ERR_AUTH_FAILED`,
 *   `ERR_AUTH_REQUIRED`; the client was told (but of a timeout, or of
 *   `ERR_AUTH_FAILED` when it closed the connection on the challenge, which
 *   is what a client with another secret does).
 * @throws {ConnectionClosedError} when the client closed the connection before its hello.
 * @throws {ProtocolError} for a frame the transport refused (such as one above 4 KiB).
 */
export async function serverHandshake(
  transport: MessageTransport,
  settings: ServerHandshakeSettings,
): Promise<ServerHandshakeResult> {
  const deadline = new HandshakeDeadline(
    settings.handshakeTimeout,
    () =>
      new SessionError(
        "ERR_HANDSHAKE_TIMEOUT",
        `The client did not finish the peerlink handshake within ${settings.handshakeTimeout} ms`,
      ),
  );
  // Without a secret, auto mode serves plain fizyr-rpc, whose first request may be as large as any.
  const servesFizyr = settings.protocol === "auto" && settings.secret === undefined;
  try {
    if (!servesFizyr) transport.setReceiveLimit(HANDSHAKE_RECEIVE_LIMIT);
    const first = await deadline.receiveWithFds(transport);
    if (first === null) {
      const gone = new ConnectionClosedError("The client closed the connection before its hello");
      closedBeforeHello.add(gone);
      throw gone;
    }
    const { type, serviceId } = first.header;
    if (type !== MessageType.Request || serviceId !== HANDSHAKE_SERVICE_ID) {
      if (servesFizyr) return { kind: "fizyr", transport: new ReplayTransport(transport, first) };
      closeUnclaimed(first.fds);
      throw await refuse(transport, deadline, first, notHello(first, settings.secret !== undefined));
    }
    closeUnclaimed(first.fds);
    if (servesFizyr) {
      const size = HEADER_SIZE + first.body.length;
      if (size > HANDSHAKE_RECEIVE_LIMIT) {
        throw frameTooLarge("A hello", size, HANDSHAKE_RECEIVE_LIMIT, settings.maxMessageSize);
      }
      transport.setReceiveLimit(HANDSHAKE_RECEIVE_LIMIT);
    }
    const result = await greet(transport, deadline, first, settings);
    transport.setReceiveLimit(settings.maxMessageSize);
    return result;
  } finally {
    deadline.clear();
  }
}

/** Answers a hello: challenge (with a secret), then the server hello or a refusal. */
async function greet(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  request: Message,
  settings: ServerHandshakeSettings,
): Promise<ServerHandshakeResult> {
  let hello: Hello;
  let capabilities: string[];
  try {
    if (request.header.requestId !== HANDSHAKE_REQUEST_ID) {
      throw notPeerlink(`the hello has request id ${request.header.requestId}, not ${HANDSHAKE_REQUEST_ID}`);
    }
    hello = decodeHello(request.body, "client");
    capabilities = agreeOnCapabilities({ caps: CAPABILITIES, requires: [] }, hello);
  } catch (error) {
    throw error instanceof SessionError ? await refuse(transport, deadline, request, error) : error;
  }
  const { secret } = settings;
  if (secret !== undefined) {
    if (hello.nonce === undefined) {
      const error = new SessionError("ERR_AUTH_REQUIRED", "This server requires a secret, and the client has none");
      throw await refuseAfterDelay(transport, deadline, error, settings);
    }
    await authenticate(transport, deadline, { secret, clientNonce: hello.nonce, settings });
  }
  const interval = settings.keepalive === false ? 0 : settings.keepalive.interval;
  await deadline.within(transport.send({
    header: { type: MessageType.Response, requestId: HANDSHAKE_REQUEST_ID, serviceId: HANDSHAKE_STATUS_OK },
    body: encodeHello({ peerlink: PROTOCOL_VERSION, caps: CAPABILITIES, requires: [], keepalive: interval }),
  }));
  return {
    kind: "session",
    session: { version: PROTOCOL_VERSION, capabilities, authenticated: secret !== undefined },
    keepaliveInterval: agreedKeepaliveInterval(capabilities, interval, hello.keepalive),
  };
}

/** Sends the challenge and checks the client's proof. */
async function authenticate(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  { secret, clientNonce, settings }: { secret: Uint8Array; clientNonce: Uint8Array; settings: ServerHandshakeSettings },
): Promise<void> {
  const nonce = createNonce();
  await deadline.within(transport.send({
    header: { type: MessageType.ResponderUpdate, requestId: HANDSHAKE_REQUEST_ID, serviceId: CHALLENGE_UPDATE_KIND },
    body: encodeChallenge({ nonce, proof: await serverProof(secret, clientNonce, nonce) }),
  }));
  const answer = await deadline.receive(transport);
  if (answer === null) {
    // A client closes here when the server's proof did not match its secret.
    throw new SessionError(
      "ERR_AUTH_FAILED",
      "The client closed the connection on the challenge: it holds another secret",
    );
  }
  const { type, requestId, serviceId } = answer.header;
  let proof: Uint8Array;
  try {
    if (type !== MessageType.RequesterUpdate || requestId !== HANDSHAKE_REQUEST_ID || serviceId !== PROOF_UPDATE_KIND) {
      throw notPeerlink("the client answered the challenge with something else than its proof");
    }
    proof = decodeProof(answer.body);
  } catch (error) {
    throw error instanceof SessionError ? await refuse(transport, deadline, answer, error) : error;
  }
  if (!constantTimeEqual(proof, await clientProof(secret, clientNonce, nonce))) {
    const error = new SessionError(
      "ERR_AUTH_FAILED",
      "The client's proof is wrong: it does not know this server's secret",
    );
    throw await refuseAfterDelay(transport, deadline, error, settings);
  }
}

/** The error of a first message that is not a hello, where a hello is required. */
function notHello(first: Message, hasSecret: boolean): SessionError {
  const what = first.header.type === MessageType.Request
    ? `a request for service ${first.header.serviceId}`
    : `a message of type ${first.header.type}`;
  return hasSecret
    ? new SessionError(
      "ERR_AUTH_REQUIRED",
      `This server requires a peerlink session with a secret; the client started with ${what} instead of the hello`,
    )
    : notPeerlink(`the client started with ${what} instead of the hello`);
}

/**
 * Answers `message` with the refusal if it was a request (so a plain
 * fizyr-rpc client sees an error response too), and returns the error.
 */
async function refuse(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  message: Message,
  error: SessionError,
): Promise<SessionError> {
  if (message.header.type === MessageType.Request) {
    await sendRefusal(transport, deadline, message.header.requestId, error);
  }
  return error;
}

/**
 * Waits `authFailureDelay` (less if the client leaves), answers the
 * handshake request with the refusal, and returns the error. The delay
 * slows down guessing; it is not part of the handshake's time limit.
 */
async function refuseAfterDelay(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  error: SessionError,
  settings: ServerHandshakeSettings,
): Promise<SessionError> {
  deadline.clear();
  await waitForEnd(transport, settings.authFailureDelay);
  const sending = new HandshakeDeadline(REFUSAL_SEND_TIMEOUT, () => error);
  try {
    await sendRefusal(transport, sending, HANDSHAKE_REQUEST_ID, error);
  } finally {
    sending.clear();
  }
  return error;
}

/** Sends a status −2 response carrying the error; a connection that is gone is not an error here. */
async function sendRefusal(
  transport: MessageTransport,
  deadline: HandshakeDeadline,
  requestId: number,
  error: SessionError,
): Promise<void> {
  const refusal = error.data === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, data: error.data };
  await deadline.within(transport.send({
    header: { type: MessageType.Response, requestId, serviceId: HANDSHAKE_STATUS_ERROR },
    body: encodeRefusal(refusal),
  })).catch(() => {});
}

/**
 * Refuses a connection at once (the server is full, or its policy refuses
 * the peer): sends a GOAWAY without waiting for the hello, gives the client
 * a moment to read it and leave, and closes the connection. Never throws.
 *
 * @param transport The freshly accepted connection; closed when this resolves.
 * @param code Why.
 * @param message Human-readable message for the client.
 */
export async function refuseConnection(
  transport: MessageTransport,
  code: Extract<SessionErrorCode, "ERR_TOO_MANY_CONNECTIONS" | "ERR_PEER_REFUSED">,
  message: string,
): Promise<void> {
  const sending = new HandshakeDeadline(
    REFUSAL_SEND_TIMEOUT,
    () => new SessionError(code, message),
  );
  try {
    transport.setReceiveLimit(HANDSHAKE_RECEIVE_LIMIT);
    await sending.within(transport.send({
      header: { type: MessageType.Stream, requestId: 0, serviceId: GOAWAY_STREAM_ID },
      body: encodeGoAway(code, message),
    }));
    // Closing with the client's hello unread could reset a TCP connection before the client read the GOAWAY.
    await waitForEnd(transport, REFUSAL_SEND_TIMEOUT);
  } catch {
    // The connection is being closed anyway.
  } finally {
    sending.clear();
    await transport.close().catch(() => {});
  }
}
