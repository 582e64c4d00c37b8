/**
 * Error classes thrown by peerlink. Every error has a stable string `code`
 * that programs can switch on; messages are for people and may change.
 *
 * @module
 */

/** The codes of a {@link ProtocolError}: which rule of the protocol the peer broke. */
export type ProtocolErrorCode =
  | "ERR_FRAME_TOO_SMALL"
  | "ERR_FRAME_TOO_LARGE"
  | "ERR_INVALID_MESSAGE_TYPE"
  | "ERR_DECODE"
  | "ERR_UNKNOWN_REQUEST"
  | "ERR_DUPLICATE_REQUEST"
  | "ERR_TRUNCATED"
  | "ERR_HANDSHAKE"
  /** A frame was started and not finished within `frameTimeout`. */
  | "ERR_FRAME_TIMEOUT";

/** The codes of a {@link UsageError}: what was refused locally, before anything was sent. */
export type UsageErrorCode =
  | "ERR_INVALID_ADDRESS"
  | "ERR_ADDRESS_IN_USE"
  | "ERR_PERMISSION_DENIED"
  | "ERR_PATH_TOO_LONG"
  | "ERR_UNSUPPORTED_PLATFORM"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_MESSAGE_TOO_LARGE"
  | "ERR_ENCODE"
  | "ERR_FDS_NOT_SUPPORTED"
  | "ERR_TOO_MANY_FDS"
  | "ERR_CONNECTION_FAILED"
  | "ERR_CLOSED"
  /** A file that must be new (a secret file) already exists; nothing was changed. */
  | "ERR_FILE_EXISTS"
  /** A child process could not be started: no such command or directory, not executable, not permitted. */
  | "ERR_SPAWN_FAILED";

/** The codes of a {@link TlsError}: why a TLS connection was refused. */
export type TlsErrorCode =
  /** The handshake failed: the other side speaks no TLS, or no common protocol, or it refused us. */
  | "ERR_TLS_HANDSHAKE"
  /** The server's certificate is not signed by a trusted CA (or is self-signed and not pinned). */
  | "ERR_TLS_CERT_UNTRUSTED"
  /** The server's certificate is not valid for the name connected to. */
  | "ERR_TLS_CERT_NAME"
  /** The server's certificate has expired or is not valid yet. */
  | "ERR_TLS_CERT_EXPIRED"
  /** The server's certificate is not the pinned one. */
  | "ERR_TLS_PIN_MISMATCH"
  /** The server requires a client certificate and none (or an unaccepted one) was presented. */
  | "ERR_TLS_CLIENT_CERT";

/**
 * The codes of a {@link SessionError}: why a peerlink session could not
 * start, or why it ended. Each one closes the connection.
 */
export type SessionErrorCode =
  /** The other side did not finish the handshake within `handshakeTimeout`. */
  | "ERR_HANDSHAKE_TIMEOUT"
  /** The other side answered the handshake like a plain fizyr-rpc peer (connect with `protocol: "fizyr"`). */
  | "ERR_NOT_PEERLINK"
  /** The two sides speak different peerlink protocol versions; the message names both. */
  | "ERR_VERSION_MISMATCH"
  /** One side requires a capability the other lacks; the message names both lists. */
  | "ERR_CAPABILITY_MISMATCH"
  /** Authentication failed: a wrong secret on either side, or a server that could not prove it knows the secret. */
  | "ERR_AUTH_FAILED"
  /** The server requires a secret and the client has none (or the client requires one and the server has none). */
  | "ERR_AUTH_REQUIRED"
  /** The server's `allow` policy or `accept` filter refused this peer. */
  | "ERR_PEER_REFUSED"
  /** The server is at `maxConnections`; try again later. */
  | "ERR_TOO_MANY_CONNECTIONS"
  /** Keepalive: nothing arrived from the other side within the keepalive timeout. */
  | "ERR_PEER_UNRESPONSIVE"
  /** The server is shutting down (it said so before closing). */
  | "ERR_SERVER_CLOSING"
  /** The server closed a connection that had no calls for `idleTimeout`. */
  | "ERR_IDLE_TIMEOUT"
  /** The child process at the other end of a `spawn` connection exited (a {@link ChildExitedError}). */
  | "ERR_CHILD_EXITED";

/** The codes of a {@link DataError}: a well-framed message held a value that could not be decoded. */
export type DataErrorCode =
  /** The body uses a CBOR tag peerlink does not know (only 2 and 3, bignums, are decoded, plus a leading 55799). */
  "ERR_UNSUPPORTED_TAG";

/** Every stable error code peerlink itself produces. */
export type ErrorCode =
  | ProtocolErrorCode
  | UsageErrorCode
  | TlsErrorCode
  | SessionErrorCode
  | DataErrorCode
  | "ERR_CONNECTION_CLOSED"
  | "ERR_TIMEOUT"
  | "ERR_CANCELLED"
  | "ERR_METHOD_NOT_FOUND"
  | "ERR_HANDLER_FAILED"
  /** Parameters refused by the schema a handler declared with `method({ params })`; `data.issues` says why. */
  | "ERR_INVALID_PARAMS"
  | "ERR_REMOTE";

/** Options accepted by every peerlink error constructor. */
export interface PeerlinkErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error peerlink throws.
 *
 * @example
 * ```ts
 * import { PeerlinkError } from "./errors.ts";
 * const err = new PeerlinkError("ERR_CLOSED", "The listener is closed");
 * console.assert(err.code === "ERR_CLOSED");
 * ```
 */
export class PeerlinkError extends Error {
  /** Stable, machine-readable error code. */
  readonly code: string;

  /**
   * Creates the instance.
   *
   * @param code Stable error code.
   * @param message Human-readable description.
   * @param options Optional cause.
   */
  constructor(code: string, message: string, options?: PeerlinkErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** The peer sent bytes or messages that break the protocol; the connection is closed. */
export class ProtocolError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param code Which protocol rule was broken.
   * @param message Human-readable description.
   * @param options Optional cause.
   */
  constructor(code: ProtocolErrorCode, message: string, options?: PeerlinkErrorOptions) {
    super(code, message, options);
  }
}

/** The connection closed (or broke) before the operation could finish. */
export class ConnectionClosedError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param message Human-readable description.
   * @param options The error that closed the connection, if any.
   * @param code The code; subclasses such as {@link SessionError} give a more precise one.
   */
  constructor(message = "The connection is closed", options?: PeerlinkErrorOptions, code = "ERR_CONNECTION_CLOSED") {
    super(code, message, options);
  }
}

/**
 * A peerlink session failed to start or ended: the handshake, authentication,
 * keepalive, a server going away, an idle or connection limit. It is a
 * {@link ConnectionClosedError} (the connection is closed), with a precise
 * `code`; calls still pending when it happened reject with it.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError, SessionError } from "./errors.ts";
 * const err = new SessionError("ERR_AUTH_FAILED", "The server refused the secret");
 * console.assert(err instanceof ConnectionClosedError && err.code === "ERR_AUTH_FAILED");
 * ```
 */
export class SessionError extends ConnectionClosedError {
  /** Extra data the other side sent with the refusal (such as its version), if any. */
  readonly data: unknown;

  /**
   * Creates the instance.
   *
   * @param code What happened.
   * @param message Human-readable description, naming both sides' values where there are two.
   * @param options The underlying error, if any, and data the other side sent.
   */
  constructor(code: SessionErrorCode, message: string, options?: PeerlinkErrorOptions & { data?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause }, code);
    this.data = options?.data;
  }
}

/** How a child process ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  /** The exit code, or `null` when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process, such as `"SIGKILL"`, or `null` when it exited. */
  signal: string | null;
}

/**
 * The child process of a `spawn` connection exited: calls still pending
 * reject with it, and it is the connection's `closeError`. `exitCode` and
 * `signal` say how it ended. It is a {@link SessionError}, and so a
 * {@link ConnectionClosedError}.
 *
 * @example
 * ```ts
 * import { ChildExitedError, ConnectionClosedError } from "./errors.ts";
 * const err = new ChildExitedError("The child exited with code 3", { code: 3, signal: null });
 * console.assert(err instanceof ConnectionClosedError && err.code === "ERR_CHILD_EXITED" && err.exitCode === 3);
 * ```
 */
export class ChildExitedError extends SessionError {
  /** The exit code, or `null` when a signal ended the process. */
  readonly exitCode: number | null;
  /** The signal that ended the process (`"SIGTERM"`, `"SIGKILL"`, ...), or `null` when it exited. */
  readonly signal: string | null;

  /**
   * Creates the instance.
   *
   * @param message Human-readable description, naming the command and how it ended.
   * @param exit The exit code or signal.
   * @param options The error that ended the connection, if any.
   */
  constructor(message: string, exit: ChildExit, options?: PeerlinkErrorOptions) {
    super("ERR_CHILD_EXITED", message, options);
    this.exitCode = exit.code;
    this.signal = exit.signal;
  }
}

/**
 * A well-framed message held a value that could not be decoded (a CBOR tag
 * peerlink does not know). Only the call (or item) it belongs to fails; the
 * connection stays open.
 */
export class DataError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param code What could not be decoded.
   * @param message Human-readable description.
   * @param options The codec's error, if any.
   */
  constructor(code: DataErrorCode, message: string, options?: PeerlinkErrorOptions) {
    super(code, message, options);
  }
}

/** A call did not finish within its `timeout`. */
export class TimeoutError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param ms The timeout that elapsed, in milliseconds.
   */
  constructor(ms: number) {
    super("ERR_TIMEOUT", `The call did not finish within ${ms} ms`);
  }
}

/** An operation was cancelled through its `AbortSignal` or by the peer. */
export class CancelledError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param message Human-readable description.
   * @param options The abort reason, if any.
   */
  constructor(message = "The operation was cancelled", options?: PeerlinkErrorOptions) {
    super("ERR_CANCELLED", message, options);
  }
}

/**
 * The remote side answered a request with an error. `code` is the code the
 * remote sent (`ERR_METHOD_NOT_FOUND`, `ERR_HANDLER_FAILED`, an application
 * code, or `ERR_REMOTE` for a plain-text fizyr error).
 */
export class RemoteError extends PeerlinkError {
  /** Extra CBOR data the remote attached to the error, if any. */
  readonly data: unknown;

  /**
   * Creates the instance.
   *
   * @param code The remote error code.
   * @param message The remote error message.
   * @param data Optional structured data.
   */
  constructor(code: string, message: string, data?: unknown) {
    super(code, message);
    this.data = data;
  }
}

/**
 * An error a handler can throw to answer with a chosen `code`, `message` and
 * optional `data`; the caller receives it as a {@link RemoteError}.
 *
 * @example
 * ```ts
 * import { RpcError } from "./errors.ts";
 * const err = new RpcError("ERR_NOT_FOUND", "No such job", { id: 4 });
 * console.assert(err.data !== undefined);
 * ```
 */
export class RpcError extends PeerlinkError {
  /** Extra data sent along to the caller. */
  readonly data: unknown;

  /**
   * Creates the instance.
   *
   * @param code Application error code.
   * @param message Human-readable description.
   * @param data Optional CBOR-encodable data.
   */
  constructor(code: string, message: string, data?: unknown) {
    super(code, message);
    this.data = data;
  }
}

/** Error about addresses, sockets, limits and arguments detected locally. */
export class UsageError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param code Which rule was broken.
   * @param message Human-readable description.
   * @param options Optional cause.
   */
  constructor(code: UsageErrorCode, message: string, options?: PeerlinkErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A TLS connection was refused: the handshake failed or the other side's
 * certificate did not pass a check. Nothing was sent on the connection.
 */
export class TlsError extends PeerlinkError {
  /**
   * Creates the instance.
   *
   * @param code Why the connection was refused.
   * @param message Human-readable description, naming the address.
   * @param options The runtime's error, if any.
   */
  constructor(code: TlsErrorCode, message: string, options?: PeerlinkErrorOptions) {
    super(code, message, options);
  }
}
