#!/usr/bin/env node
/**
 * The `peerlink` command line:
 *
 * ```sh
 * peerlink serve ADDRESS [--secret-file F] [--cert F --key F [--client-ca F]...]   # demo server
 * peerlink serve stdio                                                      # demo server on stdin/stdout
 * peerlink call ADDRESS METHOD [JSON] [--secret-file F] [--timeout MS] [client TLS options]  # prints JSON
 * peerlink stream ADDRESS METHOD [JSON] [--secret-file F] [client TLS options]   # one JSON line per item
 * peerlink describe ADDRESS [--json | --table] [--secret-file F] [--timeout MS] [client TLS options]
 * peerlink cert (--out DIR | --cert F --key F) [--host H]... [--ip IP]... [--days N] [--force]
 * peerlink secret FILE                                                      # a new secret file (0600)
 * ```
 *
 * Runs under Deno (`deno run -A cli/main.ts`), Bun (`bun cli/main.ts`) and
 * Node (`npx peerlink`).
 *
 * @module
 */

import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  type ClientTlsOptions,
  connect,
  createSecretFile,
  generateCertificate,
  listen,
  PeerlinkError,
  type RpcConnection,
  serveStdio,
  spawn,
  UsageError,
} from "../mod.ts";
import { splitCommandLine } from "./command_words.ts";
import { describeAsText, inReadingOrder } from "./describe_output.ts";
import { demoService } from "./demo_service.ts";
import { currentRuntime } from "../adapters/detect.ts";

const USAGE = `Usage:
  peerlink serve ADDRESS [--secret-file FILE] [--cert FILE --key FILE [--client-ca FILE]...]
      serve the demo methods (echo, add, sleep, count, sum, connection, runtime);
      --secret-file serves only clients that know the secret in FILE;
      tls:// needs --cert and --key; --client-ca requires client certificates signed by it
  peerlink serve stdio
      serve the demo methods on stdin and stdout, for a parent that spawned this process
      (peerlink call 'exec:peerlink serve stdio' add '[1, 2]')
  peerlink call ADDRESS METHOD [JSON] [--timeout MS] [OPTIONS]
      call METHOD with JSON params, print the result as JSON
  peerlink stream ADDRESS METHOD [JSON] [OPTIONS]
      call a streaming METHOD, print one JSON line per item
  peerlink describe ADDRESS [--json | --table] [--timeout MS] [OPTIONS]
      list the server's methods and notifications: kind, service id, parameter and result
      schemas, description; a table on a terminal, else JSON (--json and --table choose)
  peerlink secret FILE
      create FILE holding a new random secret, mode 0600 (an existing FILE is never replaced)

OPTIONS (call, stream and describe):
  --secret-file FILE         prove knowledge of the secret in FILE (and check the server knows it)
  --fizyr                    plain fizyr-rpc: no peerlink handshake
  peerlink cert (--out DIR | --cert FILE --key FILE) [--host NAME]... [--ip IP]... [--days N] [--force]
      write a self-signed certificate and its key (mode 0600; existing files only with --force),
      print its SHA-256 fingerprint (for --pin); default --host localhost --ip 127.0.0.1 --ip ::1

OPTIONS for tls:// (call, stream and describe), besides those above:
  --pin FINGERPRINT|FILE     accept exactly this certificate (as peerlink cert printed it)
  --ca FILE                  trust this CA instead of the system's (repeatable)
  --server-name NAME         the name the certificate must be valid for (default: the host)
  --client-cert FILE --client-key FILE   present a client certificate

ADDRESS is unix:/path/to.sock, unix:@name, seqpacket:/path, seqpacket:@name,
tcp://HOST:PORT or tls://HOST:PORT (port 0 when serving: any free port); for call
and stream also exec:COMMAND, which starts COMMAND and calls it over its stdin and
stdout (its stderr is this one's; it is ended after the call). COMMAND is split into
words like a shell's simple words ('...' and "..." quote, \\ escapes), but no shell
runs: no variables, globs, pipes or redirections.
Put -- before JSON params that start with a dash.`;

/** The options of the commands that connect to a server: `call`, `stream` and `describe`. */
const CLIENT_OPTIONS = {
  "secret-file": { type: "string" },
  timeout: { type: "string" },
  fizyr: { type: "boolean" },
  pin: { type: "string" },
  ca: { type: "string", multiple: true },
  "server-name": { type: "string" },
  "client-cert": { type: "string" },
  "client-key": { type: "string" },
} as const;

/** The options each command takes (node:util parseArgs spelling). */
const COMMAND_OPTIONS = {
  serve: {
    "secret-file": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    "client-ca": { type: "string", multiple: true },
  },
  call: CLIENT_OPTIONS,
  describe: { ...CLIENT_OPTIONS, json: { type: "boolean" }, table: { type: "boolean" } },
  cert: {
    out: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    host: { type: "string", multiple: true },
    ip: { type: "string", multiple: true },
    days: { type: "string" },
    force: { type: "boolean" },
  },
  secret: {},
} as const;

/** JSON for values CBOR can carry and JSON cannot. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (typeof item === "bigint") return item.toString();
    if (item instanceof Uint8Array) return Array.from(item);
    return item;
  }) ?? "null";
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PeerlinkError("ERR_INVALID_ARGUMENT", `Parameters are not valid JSON: ${(error as Error).message}`);
  }
}

/** Whether a `tcp://` host can only be reached from this machine. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(host);
}

/** Warns on stderr when `address` is plain TCP that other machines can reach. */
function warnIfExposed(address: string, role: "serve" | "call"): void {
  const match = /^tcp:\/\/(?:\[([^\]]*)\]|([^:]*)):/.exec(address);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || isLoopback(host)) return;
  const risk = role === "serve"
    ? "anyone who can reach it can call every method, and nothing is encrypted"
    : "nothing is encrypted and the server is not authenticated";
  process.stderr.write(`peerlink: warning: ${address} is plain TCP: ${risk}; use tls:// to protect it\n`);
}

async function serve(
  address: string,
  options: { "secret-file"?: string; cert?: string; key?: string; "client-ca"?: string[] },
): Promise<void> {
  const runtime = currentRuntime();
  warnIfExposed(address, "serve");
  const { cert, key, "client-ca": clientCa } = options;
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("ERR_INVALID_ARGUMENT", "Expected --cert and --key together, found only one of them");
  }
  const tls = cert === undefined || key === undefined ? undefined : { cert, key, ...(clientCa ? { clientCa } : {}) };
  if (tls === undefined && clientCa !== undefined) {
    throw new UsageError("ERR_INVALID_ARGUMENT", "Expected --client-ca together with --cert and --key");
  }
  const secretFile = options["secret-file"];
  const server = await listen(address, {
    handlers: demoService(runtime),
    ...(tls === undefined ? {} : { tls }),
    ...(secretFile === undefined ? {} : { secretFile }),
    onError: (error) => process.stderr.write(`peerlink: connection failed: ${(error as Error).message}\n`),
  });
  const guard = secretFile === undefined ? "" : ", secret required";
  process.stdout.write(`peerlink: serving ${server.address} on ${runtime}${guard} (Ctrl-C to stop)\n`);
  const stop = (): void => {
    // Clients are told the server is going away; calls in flight get a second to finish.
    void server.close({ grace: 1000 }).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await new Promise(() => {});
}

/** The client's `tls` from the command line, or undefined when no TLS option was given. */
function clientTls(options: {
  pin?: string;
  ca?: string[];
  "server-name"?: string;
  "client-cert"?: string;
  "client-key"?: string;
}): ClientTlsOptions | undefined {
  const tls: ClientTlsOptions = {};
  if (options.pin !== undefined) tls.pin = options.pin;
  if (options.ca !== undefined) tls.ca = options.ca;
  if (options["server-name"] !== undefined) tls.serverName = options["server-name"];
  if (options["client-cert"] !== undefined) tls.cert = options["client-cert"];
  if (options["client-key"] !== undefined) tls.key = options["client-key"];
  return Object.keys(tls).length === 0 ? undefined : tls;
}

/** How `call` and `stream` connect and call, from their command-line options. */
interface CallSettings {
  streaming: boolean;
  tls: ClientTlsOptions | undefined;
  secretFile: string | undefined;
  timeout: number | undefined;
  fizyr: boolean;
}

/** The settings of `call`, `stream` and `describe`, from their command-line options. */
function callSettings(
  values: Parameters<typeof clientTls>[0] & { "secret-file"?: string; timeout?: string; fizyr?: boolean },
  streaming: boolean,
): CallSettings {
  return {
    streaming,
    tls: clientTls(values),
    secretFile: values["secret-file"],
    timeout: timeoutOf(values.timeout),
    fizyr: values.fizyr === true,
  };
}

/** Serves the demo service on stdin and stdout until stdin ends. */
async function serveOnStdio(): Promise<void> {
  const server = await serveStdio({
    handlers: demoService(currentRuntime()),
    onError: (error) => process.stderr.write(`peerlink: serving stdio failed: ${(error as Error).message}\n`),
  });
  await server.closed;
}

/** Starts the command of an `exec:` address and connects to it. */
function spawnFrom(address: string, settings: CallSettings): Promise<RpcConnection> {
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
async function openClient(address: string, settings: CallSettings): Promise<RpcConnection> {
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

async function call(address: string, method: string, params: unknown, settings: CallSettings): Promise<void> {
  const client = await openClient(address, settings);
  const { timeout } = settings;
  const options = timeout === undefined ? {} : { timeout };
  try {
    if (settings.streaming) {
      for await (const item of client.stream(method, params, options)) process.stdout.write(`${toJson(item)}\n`);
    } else {
      process.stdout.write(`${toJson(await client.call(method, params, options))}\n`);
    }
  } finally {
    await client.close();
  }
}

/** Prints what the server at `address` serves: a table for a person, JSON for a program. */
async function describeServer(address: string, settings: CallSettings, format: "json" | "table"): Promise<void> {
  const client = await openClient(address, settings);
  try {
    const description = await client.describe(settings.timeout === undefined ? {} : { timeout: settings.timeout });
    const text = format === "table" ? describeAsText(address, description) : `${toJson(inReadingOrder(description))}\n`;
    process.stdout.write(text);
  } finally {
    await client.close();
  }
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

async function secret(path: string): Promise<void> {
  await createSecretFile(path);
  process.stderr.write(
    `peerlink: wrote a new secret to ${path} (mode 0600); give it to both sides with --secret-file\n`,
  );
}

/** Creates `path` with `text`, never replacing a file unless `force`; `O_EXCL` makes that race-free. */
function writeNew(path: string, text: string, mode: number, force: boolean): void {
  if (force) rmSync(path, { force: true });
  let fd: number;
  try {
    fd = openSync(path, "wx", mode);
  } catch (cause) {
    if ((cause as { code?: string }).code !== "EEXIST") throw cause;
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Refusing to overwrite ${path}: it exists (pass --force to replace it)`,
      {
        cause,
      },
    );
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

async function cert(options: {
  out?: string;
  cert?: string;
  key?: string;
  host?: string[];
  ip?: string[];
  days?: string;
  force?: boolean;
}): Promise<void> {
  if ((options.out === undefined) === (options.cert === undefined || options.key === undefined)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "Expected either --out DIR or both --cert FILE and --key FILE, found " +
        (options.out === undefined ? "neither" : "both"),
    );
  }
  if (options.out !== undefined) mkdirSync(options.out, { recursive: true });
  const certPath = options.cert ?? join(options.out!, "cert.pem");
  const keyPath = options.key ?? join(options.out!, "key.pem");
  const days = options.days === undefined ? undefined : Number(options.days);
  if (days !== undefined && !Number.isInteger(days)) {
    throw new UsageError("ERR_INVALID_ARGUMENT", `Expected --days to be a whole number, found "${options.days}"`);
  }
  const generated = await generateCertificate({
    ...(options.host === undefined ? {} : { hosts: options.host }),
    ...(options.ip === undefined ? {} : { ips: options.ip }),
    ...(days === undefined ? {} : { days }),
  });
  const force = options.force === true;
  writeNew(keyPath, generated.key, 0o600, force);
  try {
    writeNew(certPath, generated.cert, 0o644, force);
  } catch (error) {
    rmSync(keyPath, { force: true });
    throw error;
  }
  process.stderr.write(`peerlink: wrote ${certPath} and its key ${keyPath} (mode 0600, keep it secret)\n`);
  process.stdout.write(`${generated.fingerprint256}\n`);
}

/** Splits the arguments of one command; an unknown option or a missing value throws `ERR_PARSE_ARGS_*`. */
function parse<const O extends (typeof COMMAND_OPTIONS)[keyof typeof COMMAND_OPTIONS]>(args: string[], options: O) {
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}

/** Runs one command; false when the arguments do not form one. */
async function run(command: string | undefined, args: string[]): Promise<boolean> {
  if (command === "serve") {
    const { values, positionals: [address, ...extra] } = parse(args, COMMAND_OPTIONS.serve);
    if (address === undefined || extra.length > 0) return false;
    if (address === "stdio" || address === "stdio:") await serveOnStdio();
    else await serve(address, values);
  } else if (command === "call" || command === "stream") {
    const { values, positionals: [address, method, params, ...extra] } = parse(args, COMMAND_OPTIONS.call);
    if (address === undefined || method === undefined || extra.length > 0) return false;
    await call(address, method, parseParams(params), callSettings(values, command === "stream"));
  } else if (command === "describe") {
    const { values, positionals: [address, ...extra] } = parse(args, COMMAND_OPTIONS.describe);
    if (address === undefined || extra.length > 0) return false;
    if (values.json && values.table) {
      throw new UsageError("ERR_INVALID_ARGUMENT", "Expected --json or --table, found both");
    }
    const format = values.json ? "json" : values.table || process.stdout.isTTY ? "table" : "json";
    await describeServer(address, callSettings(values, false), format);
  } else if (command === "cert") {
    const { values, positionals } = parse(args, COMMAND_OPTIONS.cert);
    if (positionals.length > 0) return false;
    await cert(values);
  } else if (command === "secret") {
    const { positionals: [path, ...extra] } = parse(args, COMMAND_OPTIONS.secret);
    if (path === undefined || extra.length > 0) return false;
    await secret(path);
  } else {
    return false;
  }
  return true;
}

async function main([command, ...args]: string[]): Promise<number> {
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (await run(command, args)) return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw error;
    process.stderr.write(`peerlink: ${(error as Error).message}\n`);
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const code = error instanceof PeerlinkError ? ` [${error.code}]` : "";
  process.stderr.write(`peerlink: ${(error as Error).message ?? String(error)}${code}\n`);
  process.exitCode = 1;
}
