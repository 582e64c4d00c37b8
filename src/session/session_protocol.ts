/**
 * The bytes of a peerlink session: the reserved service ids, the limits and
 * defaults, and the handshake bodies (hello, challenge, proof, error,
 * GOAWAY), which are CBOR maps with text keys whatever codec the
 * application uses. docs/PROTOCOL.md section 8 describes every byte.
 *
 * Decoding is defensive: a body that is not exactly what this version
 * sends is a {@link SessionError}, never an exception of the CBOR library.
 *
 * @module
 */

import { decode, encode } from "cborg";
import { SessionError, type SessionErrorCode } from "../base/errors.ts";

/** Service id of the handshake request (request id 0), sent before the peer starts. */
export const HANDSHAKE_SERVICE_ID: number = -0x80000000;
/** Stream kind of a keepalive ping (empty body); the other side answers with a pong. */
export const PING_STREAM_ID: number = -0x7fffffff;
/** Stream kind of a keepalive pong (empty body), the answer to a ping. */
export const PONG_STREAM_ID: number = -0x7ffffffe;
/** Stream kind of a GOAWAY: no new calls, please; the body is `{ code, message, grace? }`. */
export const GOAWAY_STREAM_ID: number = -0x7ffffffd;
/**
 * Service id of a `describe` request (any connection, session or plain
 * fizyr-rpc): the RPC layer answers with the methods and notifications it
 * serves. docs/PROTOCOL.md section 8 has the body.
 */
export const DESCRIBE_SERVICE_ID: number = -0x7ffffffc;

/**
 * The service ids peerlink keeps for itself: -2^31 to -2^31 + 255. Method
 * name hashing never produces them (its ids are >= 0), and explicit
 * `serviceIds` in this range are refused.
 */
export const RESERVED_SERVICE_IDS: { readonly min: number; readonly max: number } = {
  min: -0x80000000,
  max: -0x80000000 + 255,
};

/**
 * Whether `id` lies in {@link RESERVED_SERVICE_IDS}.
 *
 * @param id A service id or stream kind.
 * @returns True for the ids peerlink keeps for itself.
 * @example
 * ```ts
 * import { HANDSHAKE_SERVICE_ID, isReservedServiceId } from "./session_protocol.ts";
 * console.assert(isReservedServiceId(HANDSHAKE_SERVICE_ID) && !isReservedServiceId(0));
 * ```
 */
export function isReservedServiceId(id: number): boolean {
  return id >= RESERVED_SERVICE_IDS.min && id <= RESERVED_SERVICE_IDS.max;
}

/** The request id of the handshake request. */
export const HANDSHAKE_REQUEST_ID = 0;
/** Responder update kind of the server's challenge. */
export const CHALLENGE_UPDATE_KIND = 0;
/** Requester update kind of the client's proof. */
export const PROOF_UPDATE_KIND = 0;
/** Response status of an accepted handshake; the body is the server hello. */
export const HANDSHAKE_STATUS_OK = 0;
/**
 * Response status of a refused handshake; the body is `{ code, message, data? }`.
 * Equals the RPC layer's `STATUS_ERROR` (`src/rpc/protocol.ts`), which this
 * layer may not import: a refusal reads like any structured RPC error.
 */
export const HANDSHAKE_STATUS_ERROR: number = -2;

/** The peerlink protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;
/** The capabilities this version offers. */
export const CAPABILITIES: readonly string[] = Object.freeze(["call-context", "keepalive", "goaway"]);
/** The largest message (header included) either side accepts until the handshake is over. */
export const HANDSHAKE_RECEIVE_LIMIT = 4096;
/** Default `handshakeTimeout`, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10000;
/** Default keepalive: a ping every 15 s, dead after 45 s of silence. */
export const DEFAULT_KEEPALIVE: { readonly interval: number; readonly timeout: number } = Object.freeze({
  interval: 15000,
  timeout: 45000,
});
/** Default `authFailureDelay`, in milliseconds. */
export const DEFAULT_AUTH_FAILURE_DELAY = 1000;
/** Bytes of a nonce and of a proof (HMAC-SHA256). */
export const NONCE_SIZE = 32;
/** The most names a `caps` or `requires` list may hold. */
export const MAX_CAPABILITIES = 32;
/** The longest capability name, in characters. */
export const MAX_CAPABILITY_LENGTH = 64;

/** A hello, as both sides send it (the server's never has a nonce). */
export interface Hello {
  /** The protocol version. */
  peerlink: number;
  /** The capabilities the sender offers. */
  caps: readonly string[];
  /** The capabilities the sender will not do without. */
  requires: readonly string[];
  /** The sender's keepalive interval in milliseconds; 0 for none. */
  keepalive: number;
  /** The client's nonce, present when it has a secret. */
  nonce?: Uint8Array;
}

/** The server's challenge: its nonce and its proof that it knows the secret. */
export interface Challenge {
  /** 32 random bytes. */
  nonce: Uint8Array;
  /** HMAC-SHA256 of the server proof label and both nonces. */
  proof: Uint8Array;
}

/** The refusal body of a handshake error response, or of a GOAWAY (with `grace`). */
export interface RefusalBody {
  /** Stable error code. */
  code: string;
  /** Human-readable message. */
  message: string;
  /** Extra data, such as both versions. */
  data?: unknown;
}

/** A GOAWAY as received. */
export interface GoAway {
  /** Why the other side goes away. */
  code: SessionErrorCode;
  /** Human-readable message. */
  message: string;
  /** Milliseconds the sender gives in-flight calls before it closes, if it said. */
  grace?: number;
}

/** Which side sent a body; names it in error messages. */
export type HandshakeSide = "client" | "server";

/**
 * Encodes a hello.
 *
 * @param hello The hello to send.
 * @returns The CBOR body.
 */
export function encodeHello(hello: Hello): Uint8Array {
  const body: Record<string, unknown> = {
    peerlink: hello.peerlink,
    caps: hello.caps,
    requires: hello.requires,
    keepalive: hello.keepalive,
  };
  if (hello.nonce !== undefined) body.nonce = hello.nonce;
  return encode(body);
}

/**
 * Decodes a hello and checks its version.
 *
 * @param body The body of the handshake request or of the accepting response.
 * @param from Which side sent it.
 * @returns The hello.
 * @throws {SessionError} `ERR_NOT_PEERLINK` for anything but a hello of this
 *   format, `ERR_VERSION_MISMATCH` (naming both versions, with `data
 *   { server, client }`) for a hello of another version.
 */
export function decodeHello(body: Uint8Array, from: HandshakeSide): Hello {
  const map = decodeMap(body, `the ${from}'s hello`);
  const version = map.get("peerlink");
  if (!Number.isSafeInteger(version) || (version as number) < 0) {
    throw notPeerlink(`the ${from}'s hello has no protocol version`);
  }
  if (version !== PROTOCOL_VERSION) throw versionMismatch(from, version as number);
  const caps = nameList(map.get("caps"), from, "caps");
  const requires = nameList(map.get("requires"), from, "requires");
  const keepalive = map.get("keepalive");
  if (!Number.isSafeInteger(keepalive) || (keepalive as number) < 0 || (keepalive as number) > 0x7fffffff) {
    throw notPeerlink(`the ${from}'s hello has no valid keepalive interval`);
  }
  const hello: Hello = { peerlink: version, caps, requires, keepalive: keepalive as number };
  if (map.has("nonce")) hello.nonce = fixedBytes(map.get("nonce"), `the ${from}'s nonce`);
  return hello;
}

/**
 * Encodes the server's challenge.
 *
 * @param challenge Its nonce and proof.
 * @returns The CBOR body.
 */
export function encodeChallenge(challenge: Challenge): Uint8Array {
  return encode({ nonce: challenge.nonce, proof: challenge.proof });
}

/**
 * Decodes the server's challenge.
 *
 * @param body The responder update's body.
 * @returns The nonce and proof, 32 bytes each.
 * @throws {SessionError} `ERR_NOT_PEERLINK` for anything else.
 */
export function decodeChallenge(body: Uint8Array): Challenge {
  const map = decodeMap(body, "the server's challenge");
  return {
    nonce: fixedBytes(map.get("nonce"), "the server's nonce"),
    proof: fixedBytes(map.get("proof"), "the server's proof"),
  };
}

/**
 * Encodes the client's proof.
 *
 * @param proof 32 bytes of HMAC.
 * @returns The CBOR body.
 */
export function encodeProof(proof: Uint8Array): Uint8Array {
  return encode({ proof });
}

/**
 * Decodes the client's proof.
 *
 * @param body The requester update's body.
 * @returns The 32 proof bytes.
 * @throws {SessionError} `ERR_NOT_PEERLINK` for anything else.
 */
export function decodeProof(body: Uint8Array): Uint8Array {
  return fixedBytes(decodeMap(body, "the client's proof").get("proof"), "the client's proof");
}

/**
 * Encodes a handshake refusal (an error response body).
 *
 * @param refusal Code, message and optional data.
 * @returns The CBOR body.
 */
export function encodeRefusal(refusal: RefusalBody): Uint8Array {
  return encode(
    refusal.data === undefined
      ? { code: refusal.code, message: refusal.message }
      : { code: refusal.code, message: refusal.message, data: refusal.data },
  );
}

/**
 * Decodes a handshake refusal.
 *
 * @param body An error response body.
 * @returns The refusal, or `undefined` when the body is not `{ code, message, data? }`.
 */
export function decodeRefusal(body: Uint8Array): RefusalBody | undefined {
  let map: Map<unknown, unknown>;
  try {
    map = decodeMap(body, "the refusal");
  } catch {
    return undefined;
  }
  const code = map.get("code");
  const message = map.get("message");
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return map.has("data") ? { code, message, data: plainValue(map.get("data")) } : { code, message };
}

/**
 * Encodes a GOAWAY body.
 *
 * @param code Why this side goes away.
 * @param message Human-readable message.
 * @param grace Milliseconds in-flight calls get before the connection closes, if known.
 * @returns The CBOR body.
 */
export function encodeGoAway(code: SessionErrorCode, message: string, grace?: number): Uint8Array {
  return encode(grace === undefined ? { code, message } : { code, message, grace });
}

/** The codes a GOAWAY may carry; any other reads as `ERR_SERVER_CLOSING`. */
const GOAWAY_CODES: ReadonlySet<string> = new Set<SessionErrorCode>([
  "ERR_SERVER_CLOSING",
  "ERR_IDLE_TIMEOUT",
  "ERR_TOO_MANY_CONNECTIONS",
  "ERR_PEER_REFUSED",
]);

/**
 * Decodes a GOAWAY body. A body of a later version (another code, fields
 * missing) still means the other side goes away, so it never fails.
 *
 * @param body The stream message's body.
 * @returns The code, message and grace.
 */
export function decodeGoAway(body: Uint8Array): GoAway {
  const refusal = decodeRefusal(body);
  const code = refusal !== undefined && GOAWAY_CODES.has(refusal.code)
    ? refusal.code as SessionErrorCode
    : "ERR_SERVER_CLOSING";
  const goAway: GoAway = { code, message: refusal?.message ?? "The other side is going away" };
  let grace: unknown;
  try {
    grace = decodeMap(body, "the GOAWAY").get("grace");
  } catch {
    // No grace in a body that is not a map.
  }
  if (Number.isSafeInteger(grace) && (grace as number) >= 0) goAway.grace = grace as number;
  return goAway;
}

/** How the message of a {@link notPeerlink} error starts; the detail follows. */
export const NOT_PEERLINK_PREFIX = "Not a peerlink handshake: ";

/**
 * The error of a body that is not what a peerlink peer of this version sends.
 *
 * @param detail What is wrong, as a clause (`the client's hello is not a CBOR map`).
 * @returns `ERR_NOT_PEERLINK`.
 */
export function notPeerlink(detail: string): SessionError {
  return new SessionError("ERR_NOT_PEERLINK", NOT_PEERLINK_PREFIX + detail);
}

/**
 * The error of a hello of another version, naming both.
 *
 * @param from The side whose hello had the other version.
 * @param version Its version.
 * @returns `ERR_VERSION_MISMATCH` with `data { server, client }`.
 */
export function versionMismatch(from: HandshakeSide, version: number): SessionError {
  const other = from === "client" ? "server" : "client";
  const data = from === "client"
    ? { server: PROTOCOL_VERSION, client: version }
    : { server: version, client: PROTOCOL_VERSION };
  return new SessionError(
    "ERR_VERSION_MISMATCH",
    `The ${from} speaks peerlink protocol version ${version}; this ${other} speaks version ${PROTOCOL_VERSION}`,
    { data },
  );
}

const DECODE_OPTIONS = { useMaps: true, rejectDuplicateMapKeys: true } as const;

/** Decodes a CBOR map with text keys, refusing everything else. */
function decodeMap(body: Uint8Array, what: string): Map<unknown, unknown> {
  if (body.length > HANDSHAKE_RECEIVE_LIMIT) throw notPeerlink(`${what} is ${body.length} bytes long`);
  let value: unknown;
  try {
    value = decode(body, DECODE_OPTIONS);
  } catch {
    throw notPeerlink(`${what} is not valid CBOR`);
  }
  if (!(value instanceof Map)) throw notPeerlink(`${what} is not a CBOR map`);
  for (const key of value.keys()) {
    if (typeof key !== "string") throw notPeerlink(`${what} has a key that is not text`);
  }
  return value;
}

/** A list of at most 32 capability names of at most 64 characters. */
function nameList(value: unknown, from: HandshakeSide, field: string): string[] {
  const valid = Array.isArray(value) && value.length <= MAX_CAPABILITIES &&
    value.every((name) => typeof name === "string" && name.length <= MAX_CAPABILITY_LENGTH);
  if (!valid) {
    throw notPeerlink(
      `${field} of the ${from}'s hello is not a list of at most ${MAX_CAPABILITIES} names of at most ${MAX_CAPABILITY_LENGTH} characters`,
    );
  }
  return value as string[];
}

/** Exactly {@link NONCE_SIZE} bytes. */
function fixedBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== NONCE_SIZE) {
    throw notPeerlink(`${what} is not ${NONCE_SIZE} bytes`);
  }
  return value;
}

/** Turns the Maps with text keys of decoded data back into plain objects. */
function plainValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValue);
  if (!(value instanceof Map)) return value;
  if (![...value.keys()].every((key) => typeof key === "string")) return value;
  return Object.fromEntries([...value].map(([key, item]) => [key, plainValue(item)]));
}
