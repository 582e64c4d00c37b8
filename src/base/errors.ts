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
  | "ERR_HANDSHAKE";

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
  | "ERR_CLOSED";

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

/** Every stable error code peerlink itself produces. */
export type ErrorCode =
  | ProtocolErrorCode
  | UsageErrorCode
  | TlsErrorCode
  | "ERR_CONNECTION_CLOSED"
  | "ERR_TIMEOUT"
  | "ERR_CANCELLED"
  | "ERR_METHOD_NOT_FOUND"
  | "ERR_HANDLER_FAILED"
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
   */
  constructor(message = "The connection is closed", options?: PeerlinkErrorOptions) {
    super("ERR_CONNECTION_CLOSED", message, options);
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
