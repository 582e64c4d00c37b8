#!/usr/bin/env node
/**
 * The `peerlink` command line:
 *
 * ```sh
 * peerlink serve ADDRESS [--secret-file F] [--cert F --key F [--client-ca F]...]   # demo server
 * peerlink serve stdio                                                      # demo server on stdin/stdout
 * peerlink call ADDRESS METHOD [JSON | -] [--fd FILE]... [--timeout MS] [client options]  # prints JSON
 * peerlink call ADDRESS --raw SERVICE_ID [BODY | -] [--encoding E] [client options]  # plain fizyr-rpc
 * peerlink stream ADDRESS METHOD [JSON | -] [--fd FILE]... [client options]   # one JSON line per item
 * peerlink describe ADDRESS [--json | --table] [--timeout MS] [client options]
 * peerlink info ADDRESS [--json | --table] [client options]               # session, transport, credentials
 * peerlink cert (--out DIR | --cert F --key F) [--host H]... [--ip IP]... [--days N] [--force]
 * peerlink secret FILE                                                      # a new secret file (0600)
 * peerlink --version
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
import { createSecretFile, generateCertificate, listen, PeerlinkError, serveStdio, UsageError } from "../mod.ts";
import {
  callParams,
  callRaw,
  callServer,
  clientSettings,
  describeServer,
  outputFormat,
  showConnection,
} from "./client_commands.ts";
import { demoService } from "./demo_service.ts";
import { warnIfExposed } from "./exposed_tcp.ts";
import { Interrupted, INTERRUPTED_EXIT_CODE } from "./interrupt.ts";
import { packageVersion } from "./version.ts";
import { currentRuntime } from "../adapters/detect.ts";

const USAGE = `Usage:
  peerlink serve ADDRESS [--secret-file FILE] [--cert FILE --key FILE [--client-ca FILE]...]
      serve the demo methods (echo, add, sleep, count, sum, connection, runtime);
      --secret-file serves only clients that know the secret in FILE;
      tls:// needs --cert and --key; --client-ca requires client certificates signed by it
  peerlink serve stdio
      serve the demo methods on stdin and stdout, for a parent that spawned this process
      (peerlink call 'exec:peerlink serve stdio' add '[1, 2]')
  peerlink call ADDRESS METHOD [JSON | -] [--fd FILE]... [--timeout MS] [OPTIONS]
      call METHOD with JSON params (- reads them from stdin), print the result as JSON
      (indented on a terminal); Ctrl-C cancels the call on the server and exits 130
  peerlink call ADDRESS --raw SERVICE_ID [BODY | -] [--encoding hex|base64|text] [OPTIONS]
      send one plain fizyr-rpc request (no handshake) to SERVICE_ID (a number, or a method
      name hashed as peerlink does) with BODY (default empty; - reads it from stdin), written
      in --encoding (default hex); print the response status and body in the same encoding;
      exit 1 when the status is not 0
  peerlink stream ADDRESS METHOD [JSON | -] [--fd FILE]... [OPTIONS]
      call a streaming METHOD, print one JSON line per item as it comes, until the stream ends
      or Ctrl-C (which cancels the call on the server, prints nothing more and exits 130)
  peerlink describe ADDRESS [--json | --table] [--timeout MS] [OPTIONS]
      list the server's methods and notifications: kind, service id, parameter and result
      schemas, description; a table on a terminal, else JSON (--json and --table choose)
  peerlink info ADDRESS [--json | --table] [OPTIONS]
      connect and show the session (protocol version, capabilities, authenticated), the
      transport, both addresses, the server's credentials (pid, uid, gid on unix: and
      seqpacket:) and TLS; a table on a terminal, else one line of JSON
  peerlink cert (--out DIR | --cert FILE --key FILE) [--host NAME]... [--ip IP]... [--days N] [--force]
      write a self-signed certificate and its key (mode 0600; existing files only with --force),
      print its SHA-256 fingerprint (for --pin); default --host localhost --ip 127.0.0.1 --ip ::1
  peerlink secret FILE
      create FILE holding a new random secret, mode 0600 (an existing FILE is never replaced)
  peerlink --version
      print the version of peerlink

OPTIONS (call, stream, describe and info):
  --secret-file FILE         prove knowledge of the secret in FILE (and check the server knows it)
  --timeout MS               give up (and cancel the call) after MS milliseconds
  --fizyr                    plain fizyr-rpc: no peerlink handshake
  --fd FILE                  (call and stream, repeatable) open FILE read-only and pass its
                             descriptor with the request; seqpacket: addresses only

OPTIONS for tls:// (call, stream, describe and info), besides those above:
  --pin FINGERPRINT|FILE     accept exactly this certificate (as peerlink cert printed it)
  --ca FILE                  trust this CA instead of the system's (repeatable)
  --server-name NAME         the name the certificate must be valid for (default: the host)
  --client-cert FILE --client-key FILE   present a client certificate

ADDRESS is unix:/path/to.sock, unix:@name, seqpacket:/path, seqpacket:@name,
tcp://HOST:PORT or tls://HOST:PORT (port 0 when serving: any free port); for call,
stream, describe and info also exec:COMMAND, which starts COMMAND and calls it over
its stdin and stdout (its stderr is this one's; it is ended after the call). COMMAND
is split into words like a shell's simple words ('...' and "..." quote, \\ escapes),
but no shell runs: no variables, globs, pipes or redirections.
Put -- before JSON params that start with a dash.
Output is JSON (one line per value) when stdout is not a terminal; on a terminal
results are indented and describe and info print tables.`;

/** The options of the commands that connect to a server: `call`, `stream`, `describe` and `info`. */
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
  call: {
    ...CLIENT_OPTIONS,
    fd: { type: "string", multiple: true },
    raw: { type: "string" },
    encoding: { type: "string" },
  },
  describe: { ...CLIENT_OPTIONS, json: { type: "boolean" }, table: { type: "boolean" } },
  info: { ...CLIENT_OPTIONS, json: { type: "boolean" }, table: { type: "boolean" } },
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

/** Serves the demo service on stdin and stdout until stdin ends. */
async function serveOnStdio(): Promise<void> {
  const server = await serveStdio({
    handlers: demoService(currentRuntime()),
    onError: (error) => process.stderr.write(`peerlink: serving stdio failed: ${(error as Error).message}\n`),
  });
  await server.closed;
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

/** The command line does not form a command: the CLI says what is wrong, shows that command's usage and exits 2. */
class ArgumentsError extends Error {
  /**
   * @param message What is wrong.
   * @param command The command whose usage to show, if it is one.
   */
  constructor(message: string, command?: string) {
    super(message);
    this.name = "ArgumentsError";
    this.command = command;
  }

  /** The command whose usage to show, if it is one. */
  readonly command: string | undefined;
}

/** `value`, or an {@link ArgumentsError} naming the missing argument. */
function required(value: string | undefined, command: string, what: string): string {
  if (value === undefined) throw new ArgumentsError(`${command} needs ${what}`, command);
  return value;
}

/** Throws an {@link ArgumentsError} when positional arguments are left over. */
function noMore(extra: string[], command: string): void {
  if (extra.length === 0) return;
  const words = extra.map((word) => JSON.stringify(word)).join(" ");
  throw new ArgumentsError(`${command} got more arguments than it takes: ${words}`, command);
}

/** Runs one command; resolves with the exit code. */
async function run(command: string | undefined, args: string[]): Promise<number> {
  if (command === "serve") {
    const { values, positionals: [address, ...extra] } = parse(args, COMMAND_OPTIONS.serve);
    const where = required(address, command, "an ADDRESS to serve on (or stdio)");
    noMore(extra, command);
    if (where === "stdio" || where === "stdio:") await serveOnStdio();
    else await serve(where, values);
  } else if (command === "call" || command === "stream") {
    const { values, positionals: [given, ...rest] } = parse(args, COMMAND_OPTIONS.call);
    const address = required(given, command, "an ADDRESS and a METHOD");
    const settings = clientSettings(values);
    const fdPaths = values.fd ?? [];
    if (values.raw !== undefined) {
      if (command === "stream") throw new ArgumentsError("--raw sends one request: use it with peerlink call", command);
      const [body, ...extra] = rest;
      noMore(extra, command);
      return await callRaw(address, { serviceId: values.raw, body, encoding: values.encoding, fdPaths }, settings);
    }
    if (values.encoding !== undefined) throw new ArgumentsError("--encoding goes with --raw", command);
    const [method, params, ...extra] = rest;
    const name = required(method, command, "a METHOD after the ADDRESS");
    noMore(extra, command);
    const request = { method: name, params: await callParams(params), fdPaths, streaming: command === "stream" };
    await callServer(address, request, settings);
  } else if (command === "describe" || command === "info") {
    const { values, positionals: [address, ...extra] } = parse(args, COMMAND_OPTIONS[command]);
    const target = required(address, command, "an ADDRESS");
    noMore(extra, command);
    const show = command === "describe" ? describeServer : showConnection;
    await show(target, clientSettings(values), outputFormat(values));
  } else if (command === "cert") {
    const { values, positionals } = parse(args, COMMAND_OPTIONS.cert);
    noMore(positionals, command);
    await cert(values);
  } else if (command === "secret") {
    const { positionals: [path, ...extra] } = parse(args, COMMAND_OPTIONS.secret);
    const file = required(path, command, "the FILE to write the secret to");
    noMore(extra, command);
    await secret(file);
  } else if (command === undefined) {
    throw new ArgumentsError("Expected a command");
  } else {
    throw new ArgumentsError(`Unknown command ${JSON.stringify(command)}`);
  }
  return 0;
}

/** The lines of the usage that describe `command`, or the list of commands. */
function usageOf(command: string | undefined): string {
  const lines = USAGE.split("\n");
  const known = command !== undefined && lines.some((line) => line.startsWith(`  peerlink ${command} `));
  if (!known) {
    const commands = lines.filter((line) => line.startsWith("  peerlink ")).map((line) => line.split(" ")[3]);
    return `Commands: ${[...new Set(commands)].join(", ")}`;
  }
  const shown: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith("  peerlink ")) inside = line.startsWith(`  peerlink ${command} `);
    else if (!line.startsWith("      ")) inside = false;
    if (inside) shown.push(line);
  }
  return `Usage:\n${shown.join("\n")}`;
}

async function main([command, ...args]: string[]): Promise<number> {
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    process.stdout.write(`peerlink ${packageVersion()}\n`);
    return 0;
  }
  try {
    return await run(command, args);
  } catch (error) {
    if (error instanceof Interrupted) return INTERRUPTED_EXIT_CODE;
    const code = (error as { code?: unknown }).code;
    const parseError = typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
    if (!parseError && !(error instanceof ArgumentsError)) throw error;
    const message = (error as Error).message;
    process.stderr.write(
      `peerlink: ${message}\n${usageOf(parseError ? command : (error as ArgumentsError).command)}\n`,
    );
    process.stderr.write("Run peerlink --help for every command and option.\n");
    return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const code = error instanceof PeerlinkError ? ` [${error.code}]` : "";
  process.stderr.write(`peerlink: ${(error as Error).message ?? String(error)}${code}\n`);
  process.exitCode = 1;
}
