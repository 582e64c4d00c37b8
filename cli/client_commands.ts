/**
 * The commands that connect to a server: `call` (also `--raw`), `stream`,
 * `describe` and `info`. Each prints to stdout for a program (JSON lines)
 * or, on a terminal, for a person.
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import process from "node:process";
import { type CallOptions, type ClientTlsOptions, connect, type RpcConnection, spawn, UsageError } from "../mod.ts";
import { splitCommandLine } from "./command_words.ts";
import { describeAsText, inReadingOrder } from "./describe_output.ts";
import { warnIfExposed } from "./exposed_tcp.ts";
import { type ConnectionReport, reportAsText } from "./info_output.ts";
import { untilInterrupted } from "./interrupt.ts";
import { BODY_ENCODINGS, type BodyEncoding, decodeBody, encodeBody, rawRequest, serviceIdOf } from "./raw_request.ts";
import { readStandardInput } from "./standard_input.ts";

/** How the client commands connect, from their command-line options. */
export interface ClientSettings {
  /** How to check a `tls://` server (and the client certificate to show it). */
  tls: ClientTlsOptions | undefined;
  /** The shared secret's file, for servers that require one. */
  secretFile: string | undefined;
  /** Milliseconds each call may take. */
  timeout: number | undefined;
  /** Plain fizyr-rpc: no peerlink handshake. */
  fizyr: boolean;
}

/** The options of the client commands, as `node:util` `parseArgs` returns them. */
export interface ClientValues {
  "secret-file"?: string;
  timeout?: string;
  fizyr?: boolean;
  pin?: string;
  ca?: string[];
  "server-name"?: string;
  "client-cert"?: string;
  "client-key"?: string;
}

/** How a command prints: `json` (one line per value) for programs, `table` for a person. */
export type OutputFormat = "json" | "table";

/**
 * The settings of a client command, from its command-line options.
 *
 * @param values What `parseArgs` found.
 * @returns The settings.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a `--timeout` that is not a whole number.
 *
 * @example
 * ```ts
 * import { clientSettings } from "./client_commands.ts";
 * console.assert(clientSettings({ timeout: "50" }).timeout === 50);
 * ```
 */
export function clientSettings(values: ClientValues): ClientSettings {
  return {
    tls: clientTls(values),
    secretFile: values["secret-file"],
    timeout: timeoutOf(values.timeout),
    fizyr: values.fizyr === true,
  };
}

/** The client's `tls` from the command line, or undefined when no TLS option was given. */
function clientTls(options: ClientValues): ClientTlsOptions | undefined {
  const tls: ClientTlsOptions = {};
  if (options.pin !== undefined) tls.pin = options.pin;
  if (options.ca !== undefined) tls.ca = options.ca;
  if (options["server-name"] !== undefined) tls.serverName = options["server-name"];
  if (options["client-cert"] !== undefined) tls.cert = options["client-cert"];
  if (options["client-key"] !== undefined) tls.key = options["client-key"];
  return Object.keys(tls).length === 0 ? undefined : tls;
}

/** `--timeout MS` as a number of milliseconds. */
function timeoutOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected --timeout to be milliseconds (a whole number), found "${text}"`,
    );
  }
  return ms;
}

/**
 * The output format: `--json` or `--table` if given, else a table on a terminal and JSON elsewhere.
 *
 * @param values The two flags.
 * @returns The format.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when both flags are given.
 *
 * @example
 * ```ts
 * import { outputFormat } from "./client_commands.ts";
 * console.assert(outputFormat({ json: true }) === "json");
 * ```
 */
export function outputFormat(values: { json?: boolean; table?: boolean }): OutputFormat {
  if (values.json && values.table) {
    throw new UsageError("ERR_INVALID_ARGUMENT", "Expected --json or --table, found both");
  }
  return values.json ? "json" : values.table || process.stdout.isTTY ? "table" : "json";
}

/** JSON for values CBOR can carry and JSON cannot; indented when `indent`. */
function toJson(value: unknown, indent = false): string {
  return JSON.stringify(value, (_key, item) => {
    if (typeof item === "bigint") return item.toString();
    if (item instanceof Uint8Array) return Array.from(item);
    return item;
  }, indent ? 2 : undefined) ?? "null";
}

/** An argument's text, or standard input's when the argument is `-`. */
async function argumentText(text: string): Promise<string> {
  return text === "-" ? new TextDecoder().decode(await readStandardInput()) : text;
}

/**
 * Call parameters from the command line: JSON, or `-` for JSON on stdin.
 *
 * @param text The argument, or undefined when none was given (no parameters).
 * @returns The parsed parameters.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when the text is not JSON.
 *
 * @example
 * ```ts
 * import { callParams } from "./client_commands.ts";
 * console.assert((await callParams("[1, 2]") as number[]).length === 2);
 * ```
 */
export async function callParams(text: string | undefined): Promise<unknown> {
  if (text === undefined) return undefined;
  const json = await argumentText(text);
  try {
    return JSON.parse(json);
  } catch (error) {
    const from = text === "-" ? " (read from stdin)" : "";
    throw new UsageError("ERR_INVALID_ARGUMENT", `Parameters${from} are not valid JSON: ${(error as Error).message}`);
  }
}

/** Starts the command of an `exec:` address and connects to it. */
function spawnFrom(address: string, settings: ClientSettings): Promise<RpcConnection> {
  if (settings.tls !== undefined || settings.secretFile !== undefined) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "--secret-file and the TLS options do not apply to exec: (the pipes to the child reach nobody else)",
    );
  }
  const [command, ...args] = splitCommandLine(address.slice("exec:".length));
  return spawn(command!, args, settings.fizyr ? { protocol: "fizyr" } : {});
}

/** Connects to `address` (or starts the command of an `exec:` address) for one command. */
async function openClient(address: string, settings: ClientSettings): Promise<RpcConnection> {
  warnIfExposed(address, "call");
  const { tls, secretFile } = settings;
  return address.startsWith("exec:") ? await spawnFrom(address, settings) : await connect(address, {
    ...(tls === undefined ? {} : { tls }),
    ...(secretFile === undefined ? {} : { secretFile }),
    ...(settings.fizyr ? { protocol: "fizyr" as const } : {}),
    // A one-shot command needs no keepalive timer.
    keepalive: false,
  });
}

/** Runs `work` with a connection to `address`, closed afterwards. */
async function withClient<T>(
  address: string,
  settings: ClientSettings,
  work: (client: RpcConnection) => Promise<T>,
): Promise<T> {
  const client = await openClient(address, settings);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/** Opens each `--fd` file read-only for `work`, closing them afterwards; only seqpacket carries them. */
async function withOpenFiles<T>(address: string, paths: readonly string[], work: (fds: number[]) => Promise<T>) {
  if (paths.length > 0 && !address.startsWith("seqpacket:")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `--fd needs a seqpacket: address (only seqpacket sockets carry file descriptors), found ${address}`,
    );
  }
  const fds: number[] = [];
  try {
    for (const path of paths) {
      try {
        fds.push(openSync(path, "r"));
      } catch (cause) {
        throw new UsageError("ERR_INVALID_ARGUMENT", `Cannot open --fd ${path}: ${(cause as Error).message}`, {
          cause,
        });
      }
    }
    return await work(fds);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** What `call` and `stream` send. */
export interface CallRequest {
  /** The method called. */
  method: string;
  /** Its parameters (undefined: none). */
  params: unknown;
  /** Files whose descriptors travel with the request. */
  fdPaths: readonly string[];
  /** Print each item of a stream as it comes, rather than one result. */
  streaming: boolean;
}

/**
 * `peerlink call` and `peerlink stream`: calls, prints the result (indented
 * on a terminal) or each item on a line of its own. Ctrl-C cancels the call.
 *
 * @param address Where the server is.
 * @param request What to call.
 * @param settings How to connect.
 * @throws {Interrupted} When Ctrl-C cancelled the call.
 *
 * @example
 * ```ts ignore
 * import { callServer, clientSettings } from "./client_commands.ts";
 * await callServer("unix:/tmp/demo.sock", { method: "add", params: [1, 2], fdPaths: [], streaming: false }, clientSettings({}));
 * ```
 */
export async function callServer(address: string, request: CallRequest, settings: ClientSettings): Promise<void> {
  const { method, params, streaming } = request;
  const terminal = process.stdout.isTTY === true;
  await withOpenFiles(
    address,
    request.fdPaths,
    (fds) =>
      withClient(address, settings, (client) =>
        untilInterrupted(async (signal) => {
          const options: CallOptions = {
            signal,
            ...(settings.timeout === undefined ? {} : { timeout: settings.timeout }),
            ...(fds.length === 0 ? {} : { fds }),
          };
          if (streaming) {
            for await (const item of client.stream(method, params, options)) process.stdout.write(`${toJson(item)}\n`);
          } else {
            process.stdout.write(`${toJson(await client.call(method, params, options), terminal)}\n`);
          }
        })),
  );
}

/** What `call --raw` sends. */
export interface RawCall {
  /** `--raw`: a service id, or a method name to hash. */
  serviceId: string;
  /** The body as given (`-` for stdin), or undefined for an empty one. */
  body: string | undefined;
  /** `--encoding`, or undefined for hex. */
  encoding: string | undefined;
  /** Files whose descriptors travel with the request. */
  fdPaths: readonly string[];
}

/**
 * `peerlink call --raw`: one plain fizyr-rpc request; prints the response's
 * status and body, as one JSON line (or two lines on a terminal).
 *
 * @param address Where the fizyr-rpc peer is.
 * @param raw The request.
 * @param settings How to connect (`--secret-file` needs a handshake, so it is refused).
 * @returns The exit code: 0 when the status is 0, else 1.
 *
 * @example
 * ```ts ignore
 * import { callRaw, clientSettings } from "./client_commands.ts";
 * await callRaw("unix:/tmp/fizyr.sock", { serviceId: "21", body: "48656c6c6f", encoding: undefined, fdPaths: [] }, clientSettings({}));
 * ```
 */
export async function callRaw(address: string, raw: RawCall, settings: ClientSettings): Promise<number> {
  const encoding = (raw.encoding ?? "hex") as BodyEncoding;
  if (!BODY_ENCODINGS.includes(encoding)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected --encoding to be ${BODY_ENCODINGS.join(", ")}, found "${raw.encoding}"`,
    );
  }
  if (settings.secretFile !== undefined || address.startsWith("exec:")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "--raw speaks plain fizyr-rpc to a socket: it takes neither --secret-file (which needs the peerlink handshake) nor exec: addresses",
    );
  }
  const serviceId = serviceIdOf(raw.serviceId);
  const body = raw.body === undefined
    ? new Uint8Array(0)
    : raw.body === "-" && encoding === "text"
    ? await readStandardInput()
    : decodeBody(await argumentText(raw.body), encoding);
  warnIfExposed(address, "call");
  const response = await withOpenFiles(
    address,
    raw.fdPaths,
    (fds) =>
      untilInterrupted((signal) =>
        rawRequest(address, serviceId, body, { tls: settings.tls, timeout: settings.timeout, fds, signal })
      ),
  );
  const text = encodeBody(response.body, encoding);
  process.stdout.write(
    process.stdout.isTTY
      ? `STATUS  ${response.status}\nBODY    ${text}\n`
      : `${toJson({ status: response.status, encoding, body: text })}\n`,
  );
  return response.status === 0 ? 0 : 1;
}

/**
 * `peerlink describe`: what the server serves.
 *
 * @param address Where the server is.
 * @param settings How to connect.
 * @param format A table for a person, JSON for a program.
 *
 * @example
 * ```ts ignore
 * import { clientSettings, describeServer } from "./client_commands.ts";
 * await describeServer("unix:/tmp/demo.sock", clientSettings({}), "table");
 * ```
 */
export function describeServer(address: string, settings: ClientSettings, format: OutputFormat): Promise<void> {
  return withClient(address, settings, async (client) => {
    const description = await client.describe(settings.timeout === undefined ? {} : { timeout: settings.timeout });
    const text = format === "table" ? describeAsText(address, description) : `${toJson(inReadingOrder(description))}\n`;
    process.stdout.write(text);
  });
}

/**
 * `peerlink info`: the session, transport, addresses and credentials of a connection to `address`.
 *
 * @param address Where the server is.
 * @param settings How to connect.
 * @param format Aligned lines for a person, one JSON line for a program.
 *
 * @example
 * ```ts ignore
 * import { clientSettings, showConnection } from "./client_commands.ts";
 * await showConnection("unix:/tmp/demo.sock", clientSettings({}), "json");
 * ```
 */
export function showConnection(address: string, settings: ClientSettings, format: OutputFormat): Promise<void> {
  return withClient(address, settings, (client) => {
    const report: ConnectionReport = { address, ...client.info, session: client.session ?? null };
    process.stdout.write(format === "table" ? reportAsText(report) : `${toJson(report)}\n`);
    return Promise.resolve();
  });
}
