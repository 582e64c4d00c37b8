/**
 * Turns the checked session options of `listen` and `connect` into the
 * settings the handshake takes: the secret (read from `secretFile`, whose
 * permissions are checked first), keepalive and timeouts with their
 * defaults, and the `allow` policy with `"self"` resolved — all before any
 * socket exists, so a bad secret file is an `ERR_INVALID_ARGUMENT`, never a
 * failed handshake.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import type { Address } from "../transport/address.ts";
import type { RuntimeAdapter } from "../transport/runtime_adapter.ts";
import type { ClientHandshakeSettings } from "../session/client_handshake.ts";
import type { ServerSessionSettings } from "../rpc/server.ts";
import type { AllowPolicy } from "../rpc/server.ts";
import type { ClientSessionOptions, KeepaliveOptions, ServerSessionOptions } from "../session/options.ts";
import { parseSecretFileText, secretBytes } from "../session/secret.ts";
import {
  DEFAULT_AUTH_FAILURE_DELAY,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_KEEPALIVE,
} from "../session/session_protocol.ts";

/** A client's handshake settings without the transport's own size limit (added per connection). */
export type ClientSessionSettings = Omit<ClientHandshakeSettings, "maxMessageSize">;

/**
 * Resolves a server's session options.
 *
 * @param runtime The runtime (reads the secret file, knows whether credentials can be read).
 * @param address The parsed listen address.
 * @param options The checked options of `listen`.
 * @returns The handshake settings (none for `protocol: "fizyr"`) and the `allow` policy.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a bad secret or secret file; `ERR_UNSUPPORTED_PLATFORM`
 *   when `allow` is set and this runtime cannot read peer credentials on this transport.
 */
export async function serverSessionSettings(
  runtime: RuntimeAdapter,
  address: Address,
  options: ServerSessionOptions & { allow?: AllowPolicy },
): Promise<ServerSessionSettings> {
  const settings: ServerSessionSettings = { handshake: undefined };
  if (options.allow !== undefined) settings.allow = resolveAllow(runtime, address, options.allow);
  if (options.protocol === "fizyr") return settings;
  const secret = await secretOf(runtime, options, "listen()");
  settings.handshake = {
    protocol: secret !== undefined ? "peerlink" : options.protocol ?? "auto",
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    keepalive: keepaliveOf(options.keepalive),
    authFailureDelay: options.authFailureDelay ?? DEFAULT_AUTH_FAILURE_DELAY,
    ...(secret === undefined ? {} : { secret }),
  };
  return settings;
}

/**
 * Resolves a client's session options.
 *
 * @param runtime The runtime (reads the secret file).
 * @param options The checked options of `connect`.
 * @returns The handshake settings, or `undefined` for `protocol: "fizyr"`.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a bad secret or secret file.
 */
export async function clientSessionSettings(
  runtime: RuntimeAdapter,
  options: ClientSessionOptions,
): Promise<ClientSessionSettings | undefined> {
  if (options.protocol === "fizyr") return undefined;
  const secret = await secretOf(runtime, options, "connect()");
  return {
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    keepalive: keepaliveOf(options.keepalive),
    ...(secret === undefined ? {} : { secret }),
  };
}

function keepaliveOf(keepalive: KeepaliveOptions | false | undefined): { interval: number; timeout: number } | false {
  if (keepalive === false) return false;
  const interval = keepalive?.interval ?? DEFAULT_KEEPALIVE.interval;
  return {
    interval,
    timeout: keepalive?.timeout ?? (keepalive?.interval === undefined ? DEFAULT_KEEPALIVE.timeout : 3 * interval),
  };
}

/** The secret's bytes, from `secret` or from `secretFile` (which must be private to its owner). */
async function secretOf(
  runtime: RuntimeAdapter,
  options: { secret?: string | Uint8Array; secretFile?: string },
  entry: string,
): Promise<Uint8Array | undefined> {
  if (options.secret !== undefined) return secretBytes(options.secret);
  const path = options.secretFile;
  if (path === undefined) return undefined;
  const status = await runtime.fileStatus(path);
  if ((status.mode & 0o077) !== 0) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `${entry}: the secret file ${path} is open to group or others (mode ${
        status.mode.toString(8).padStart(4, "0")
      }); run chmod 600 ${path}`,
    );
  }
  const own = runtime.processIds().uid;
  if (status.uid !== own && status.uid !== 0) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `${entry}: the secret file ${path} belongs to uid ${status.uid}, not to this user (uid ${own}) or root`,
    );
  }
  return parseSecretFileText(await runtime.readTextFile(path), path);
}

function resolveAllow(
  runtime: RuntimeAdapter,
  address: Address,
  allow: AllowPolicy,
): { uid?: readonly number[]; gid?: readonly number[] } {
  const transport = address.transport === "seqpacket" ? "seqpacket" : "unix";
  const missing = runtime.credentialsUnavailable(transport);
  if (missing !== undefined) {
    throw new UsageError(
      "ERR_UNSUPPORTED_PLATFORM",
      `listen(): the allow policy needs peer credentials, which ${runtime.name} cannot read on ${transport} sockets here (${missing})`,
    );
  }
  const own = runtime.processIds();
  const list = (value: number | readonly number[] | "self", self: number): readonly number[] =>
    value === "self" ? [self] : typeof value === "number" ? [value] : value;
  const resolved: { uid?: readonly number[]; gid?: readonly number[] } = {};
  if (allow.uid !== undefined) resolved.uid = list(allow.uid, own.uid);
  if (allow.gid !== undefined) resolved.gid = list(allow.gid, own.gid);
  return resolved;
}
