/**
 * The options of a peerlink session, as `listen` and `connect` take them:
 * which protocol to speak, the shared secret, keepalive and the handshake
 * timeout. docs/PROTOCOL.md section 8 describes what travels on the wire.
 *
 * @module
 */

/**
 * Keepalive: each side that asks for it sends a ping every `interval`
 * milliseconds, and any message from the other side counts as a sign of
 * life. A side that heard nothing for `timeout` milliseconds while it was
 * reading closes the connection with `ERR_PEER_UNRESPONSIVE`, failing every
 * pending call with it. While this side holds reading back (flow control),
 * the silence is not counted.
 */
export interface KeepaliveOptions {
  /** Milliseconds between pings: an integer from 10 to 2^31 − 1. Default 15 000. */
  interval?: number;
  /** Milliseconds of silence after which the other side is declared dead: at least `interval`. Default 3 × `interval`. */
  timeout?: number;
}

/** Session options both sides take. */
export interface SessionOptions {
  /**
   * The shared secret: a string (its UTF-8 bytes) or bytes, at least 16
   * bytes long. Both sides prove they know it without sending it (HMAC-SHA256
   * over fresh nonces from both sides). Exclusive with `secretFile`.
   */
  secret?: string | Uint8Array;
  /**
   * A file holding the secret (as `peerlink secret` or `createSecretFile`
   * write it); read when `listen`/`connect` is called. Refused when the file
   * is readable or writable by group or others.
   */
  secretFile?: string;
  /**
   * Milliseconds the handshake may take before the connection is closed
   * with `ERR_HANDSHAKE_TIMEOUT`: an integer from 1 to 2^31 − 1. Default 10 000.
   * A `tls://` listener gives the TLS handshake before it as long again
   * (a client that has not finished it by then is closed and reported to
   * `onError` as `ERR_TLS_HANDSHAKE`).
   */
  handshakeTimeout?: number;
  /** Keepalive settings, or `false` for none. Default `{ interval: 15000, timeout: 45000 }`. */
  keepalive?: KeepaliveOptions | false;
}

/** Session options of a server. */
export interface ServerSessionOptions extends SessionOptions {
  /**
   * `"auto"` (the default): a connection that starts with a peerlink hello
   * gets a session, any other is served as plain fizyr-rpc — unless a
   * secret is set, which refuses it. `"peerlink"`: every connection must
   * start with the handshake. `"fizyr"`: no handshake, no keepalive, plain
   * fizyr-rpc messages only.
   */
  protocol?: "auto" | "peerlink" | "fizyr";
  /**
   * Milliseconds a server waits after a failed authentication before it
   * answers and closes: an integer from 0 to 60 000. Default 1000.
   */
  authFailureDelay?: number;
}

/** Session options of a client. */
export interface ClientSessionOptions extends SessionOptions {
  /**
   * `"peerlink"` (the default): start with the handshake; a plain fizyr-rpc
   * server is reported as `ERR_NOT_PEERLINK` (or `ERR_HANDSHAKE_TIMEOUT`
   * if it never answers). `"fizyr"`: no handshake, plain fizyr-rpc messages.
   */
  protocol?: "peerlink" | "fizyr";
}

/** What both sides agreed on in the handshake. */
export interface SessionInfo {
  /** The protocol version spoken (1). */
  version: number;
  /** The capabilities both sides have. */
  capabilities: readonly string[];
  /** True when both sides proved they know the shared secret. */
  authenticated: boolean;
}
