/**
 * Turns the checked TCP options of an entry point into the settings a
 * runtime adapter takes (`TcpListenSettings`, `TcpConnectSettings`):
 * defaults filled in, certificates and keys given as paths read through the
 * adapter's `readTextFile` (a value that starts with `-----BEGIN` is PEM
 * text itself), each text checked to hold the PEM block it should, and a
 * `pin` turned into the one fingerprint spelling the adapters compare (64
 * lowercase hex digits; a certificate given as `pin` is hashed here). All
 * of this happens before any socket exists, so a missing file or a key
 * where a certificate belongs is an `ERR_INVALID_ARGUMENT` naming the
 * option, never a handshake failure.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import type { InetAddress } from "../transport/address.ts";
import type {
  ClientTlsSettings,
  RuntimeAdapter,
  ServerTlsSettings,
  TcpConnectSettings,
  TcpListenSettings,
} from "../transport/runtime_adapter.ts";
import { certificateFingerprint, normalizeFingerprint, pemBlocks } from "../transport/tls_pin.ts";
import { DEFAULT_TLS_HANDSHAKE_TIMEOUT } from "../transport/tls_errors.ts";
import type { ClientTlsOptions, ServerTlsOptions, TcpConnectOptions, TcpListenOptions } from "./entry_options.ts";

/** How long a TCP connect (and its TLS handshake) may take by default, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

/** What a PEM text given for an option must hold. */
type Material = "certificate" | "key";

/** Reads one certificate or key option: PEM text as given, or a file's text, holding the block it must. */
async function readPem(
  runtime: RuntimeAdapter,
  value: string,
  material: Material,
  where: { option: string; entry: string },
): Promise<string> {
  const inline = value.trimStart().startsWith("-----BEGIN");
  let text = value;
  if (!inline) {
    try {
      text = await runtime.readTextFile(value);
    } catch (cause) {
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        `Expected ${where.option} in the options of ${where.entry} to be PEM text or a readable file, found "${value}" (${
          (cause as Error).message
        })`,
        { cause },
      );
    }
  }
  const labels = pemBlocks(text).map((block) => block.label);
  const holds = material === "certificate"
    ? labels.includes("CERTIFICATE")
    : labels.some((label) => label.endsWith("PRIVATE KEY"));
  if (!holds) {
    const block = material === "certificate" ? "-----BEGIN CERTIFICATE-----" : "-----BEGIN PRIVATE KEY-----";
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected ${where.option} in the options of ${where.entry} to be a PEM ${material} or the path of one, found ${
        inline ? "PEM text" : `the file "${value}"`
      } holding no ${block} block`,
    );
  }
  return text;
}

function readAll(
  runtime: RuntimeAdapter,
  value: string | string[],
  where: { option: string; entry: string },
): Promise<string[]> {
  const values = Array.isArray(value) ? value : [value];
  return Promise.all(
    values.map((item, index) =>
      readPem(runtime, item, "certificate", {
        ...where,
        option: Array.isArray(value) ? `${where.option}[${index}]` : where.option,
      })
    ),
  );
}

/**
 * The fingerprint a `pin` names: the pin itself in any hex spelling, or the
 * fingerprint of the certificate it gives.
 */
async function pinOf(runtime: RuntimeAdapter, pin: string, entry: string): Promise<string> {
  const fingerprint = normalizeFingerprint(pin);
  if (fingerprint !== undefined) return fingerprint;
  if (/^[0-9A-Fa-f:\s]+$/.test(pin)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected tls.pin in the options of ${entry} to be a SHA-256 fingerprint (64 hex digits, colons between pairs allowed) or a certificate, found "${pin}"`,
    );
  }
  const pem = await readPem(runtime, pin, "certificate", { option: "tls.pin", entry });
  return (await certificateFingerprint(pem))!;
}

/**
 * The adapter settings of a TCP listener.
 *
 * @param runtime The adapter, whose `readTextFile` reads paths.
 * @param options The checked options (see `validate_options.ts`); `handshakeTimeout` bounds the TLS handshake too.
 * @param entry The entry point, as messages name it (`listen()`).
 * @param onRejected Told about connections the listener refused in the TLS handshake.
 * @returns `noDelay` (default true) and, when `tls` is given, the PEM texts and the handshake's limit.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when a file cannot be read or a text holds no certificate or key.
 */
export async function tcpListenSettings(
  runtime: RuntimeAdapter,
  options: TcpListenOptions & { handshakeTimeout?: number },
  entry: string,
  onRejected?: TcpListenSettings["onRejected"],
): Promise<TcpListenSettings> {
  const settings: TcpListenSettings = { noDelay: options.noDelay ?? true };
  if (options.tls !== undefined) {
    settings.tls = await serverTls(runtime, options.tls, entry);
    settings.handshakeTimeout = options.handshakeTimeout ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT;
  }
  if (onRejected !== undefined) settings.onRejected = onRejected;
  return settings;
}

async function serverTls(runtime: RuntimeAdapter, tls: ServerTlsOptions, entry: string): Promise<ServerTlsSettings> {
  const { cert, key, clientCa } = tls;
  const [certText, keyText, clientCaTexts] = await Promise.all([
    readPem(runtime, cert, "certificate", { option: "tls.cert", entry }),
    readPem(runtime, key, "key", { option: "tls.key", entry }),
    clientCa === undefined ? undefined : readAll(runtime, clientCa, { option: "tls.clientCa", entry }),
  ]);
  const settings: ServerTlsSettings = { cert: certText, key: keyText };
  if (clientCaTexts !== undefined) settings.clientCa = clientCaTexts;
  return settings;
}

/**
 * The adapter settings of a TCP connect.
 *
 * @param runtime The adapter, whose `readTextFile` reads paths.
 * @param address The address connected to (its host is the default `serverName`).
 * @param options The checked options (see `validate_options.ts`).
 * @param entry The entry point, as messages name it (`connect()`).
 * @returns `noDelay` (default true), `timeout` (default {@link DEFAULT_CONNECT_TIMEOUT}) and, for `tls://`,
 *   the TLS settings (`serverName` defaulting to the host, `checkServerName` to true).
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when a file cannot be read, a text holds no certificate or
 *   key, or `pin` is neither a fingerprint nor a certificate.
 */
export async function tcpConnectSettings(
  runtime: RuntimeAdapter,
  address: InetAddress,
  options: TcpConnectOptions,
  entry: string,
): Promise<TcpConnectSettings> {
  const settings: TcpConnectSettings = {
    noDelay: options.noDelay ?? true,
    timeout: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
  };
  if (address.transport === "tls") settings.tls = await clientTls(runtime, address, options.tls ?? {}, entry);
  return settings;
}

async function clientTls(
  runtime: RuntimeAdapter,
  address: InetAddress,
  tls: ClientTlsOptions,
  entry: string,
): Promise<ClientTlsSettings> {
  const { ca, pin, serverName, checkServerName, cert, key } = tls;
  const [caTexts, pinned, certText, keyText] = await Promise.all([
    ca === undefined || pin !== undefined ? undefined : readAll(runtime, ca, { option: "tls.ca", entry }),
    pin === undefined ? undefined : pinOf(runtime, pin, entry),
    cert === undefined ? undefined : readPem(runtime, cert, "certificate", { option: "tls.cert", entry }),
    key === undefined ? undefined : readPem(runtime, key, "key", { option: "tls.key", entry }),
  ]);
  const settings: ClientTlsSettings = {
    serverName: serverName ?? address.host,
    checkServerName: checkServerName ?? true,
  };
  if (caTexts !== undefined) settings.ca = caTexts;
  if (pinned !== undefined) settings.pin = pinned;
  if (certText !== undefined && keyText !== undefined) Object.assign(settings, { cert: certText, key: keyText });
  return settings;
}
