/**
 * `peerlink call ADDRESS --raw SERVICE_ID [BODY]`: one plain fizyr-rpc
 * request with a body of raw bytes, for peers that do not speak CBOR (or
 * peerlink's handshake). The body is written and printed as hex, base64 or
 * UTF-8 text (`--encoding`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { connectTransport, methodId, Peer } from "../peer.ts";
import { type ClientTlsOptions, TimeoutError, UsageError } from "../mod.ts";

/** How the body of a raw request and of its response are written on the command line. */
export type BodyEncoding = "hex" | "base64" | "text";

/** The encodings `--encoding` takes. */
export const BODY_ENCODINGS: readonly BodyEncoding[] = ["hex", "base64", "text"];

/** The answer to a raw request. */
export interface RawResponse {
  /** The response status: 0 for success, anything else an error (whose body is then usually its text). */
  status: number;
  /** The response body. */
  body: Uint8Array;
}

/** How a raw request is sent. */
export interface RawRequestOptions {
  /** How to check a `tls://` server. */
  tls?: ClientTlsOptions | undefined;
  /** Descriptors to pass with the request (seqpacket only). */
  fds?: readonly number[];
  /** Milliseconds to wait for the response. */
  timeout?: number | undefined;
  /** Gives up waiting (the connection is closed) when it aborts. */
  signal?: AbortSignal;
}

/**
 * A service id from the command line: an integer that fits the header's 32
 * bits (2^31 and above as their signed form), or a method name, which is
 * hashed as peerlink does (`methodId`).
 *
 * @param text What followed `--raw`.
 * @returns The service id.
 *
 * @example
 * ```ts
 * import { serviceIdOf } from "./raw_request.ts";
 * console.assert(serviceIdOf("21") === 21 && serviceIdOf("0xffffffff") === -1);
 * ```
 */
export function serviceIdOf(text: string): number {
  if (!/^(-?\d+|0x[0-9a-f]+)$/i.test(text)) return methodId(text);
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < -(2 ** 31) || id > 2 ** 32 - 1) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected --raw to be a service id from -2147483648 to 4294967295, found ${text}`,
    );
  }
  return id | 0;
}

/**
 * Decodes a body given on the command line (or on stdin).
 *
 * @param text The body: hex digits (spaces allowed), base64, or text.
 * @param encoding Which of these it is.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { decodeBody } from "./raw_request.ts";
 * console.assert(decodeBody("48 69", "hex").length === 2);
 * ```
 */
export function decodeBody(text: string, encoding: BodyEncoding): Uint8Array {
  if (encoding === "text") return new TextEncoder().encode(text);
  const compact = text.replace(/\s+/g, "");
  const valid = encoding === "hex"
    ? /^([0-9a-f]{2})*$/i.test(compact)
    : /^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) && compact.replace(/=+$/, "").length % 4 !== 1;
  if (!valid) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `The body is not valid ${encoding}${encoding === "hex" ? " (two digits per byte)" : ""}: "${text}"`,
    );
  }
  return new Uint8Array(Buffer.from(compact, encoding));
}

/**
 * Writes a body for printing.
 *
 * @param body The bytes.
 * @param encoding How to write them (`text` decodes UTF-8, replacing what is not).
 * @returns The text.
 *
 * @example
 * ```ts
 * import { encodeBody } from "./raw_request.ts";
 * console.assert(encodeBody(new Uint8Array([72, 105]), "base64") === "SGk=");
 * ```
 */
export function encodeBody(body: Uint8Array, encoding: BodyEncoding): string {
  if (encoding === "text") return new TextDecoder().decode(body);
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString(encoding);
}

/**
 * Connects to `address` without a handshake, sends one request and waits for
 * its response.
 *
 * @param address Any address `connectTransport` takes.
 * @param serviceId The service id of the request.
 * @param body The request body.
 * @param options TLS, descriptors, timeout and signal.
 * @returns The response's status and body.
 * @throws {TimeoutError} `ERR_TIMEOUT` when no response came within `timeout`.
 *
 * @example
 * ```ts ignore
 * import { rawRequest } from "./raw_request.ts";
 * const { status, body } = await rawRequest("unix:/tmp/fizyr.sock", 21, new TextEncoder().encode("Hello"));
 * ```
 */
export async function rawRequest(
  address: string,
  serviceId: number,
  body: Uint8Array,
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  const peer = new Peer(await connectTransport(address, options.tls === undefined ? {} : { tls: options.tls }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const giveUp = (): void => void peer.close(options.signal?.reason);
  options.signal?.addEventListener("abort", giveUp, { once: true });
  try {
    const request = await peer.sendRequest(serviceId, body, options.fds === undefined ? {} : { fds: options.fds });
    const timedOut = new Promise<never>((_, reject) => {
      if (options.timeout === undefined) return;
      const ms = options.timeout;
      timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
    });
    const response = await Promise.race([request.response, timedOut]);
    for (const handle of response.fds) handle.close();
    return { status: response.header.serviceId, body: response.body };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", giveUp);
    await peer.close();
  }
}
