/**
 * The options of every entry point, checked before anything is opened: the
 * one list of names each entry point knows, and the values each accepts.
 * Every entry point checks the same way for `unix:` and `seqpacket:`
 * addresses; an option that only one of those two uses is range-checked on
 * both, so one options object can serve either address. The TCP options are
 * different: they are refused with any other address, and `tls` with
 * `tcp://` (see {@link checkAddressOptions}), so that asking for TLS on a
 * socket that would not use it is an error rather than a plaintext surprise.
 *
 * | option | accepted | used by |
 * |---|---|---|
 * | `maxMessageSize` | integer, 12 (the header) to 2^32 − 1 (the u32 length prefix) | `unix:`, `tcp://`, `tls://` |
 * | `maxPacketSize` | integer, 12 (the header) to 2^31 − 33 | `seqpacket:` |
 * | `maxFds` | integer, 0 to 253 (SCM_MAX_FD) | `seqpacket:` |
 * | `mode` | integer, 0 to 0o7777 | listening on a path |
 * | `backlog` | integer, 1 to 65535 | `seqpacket:` (stream listeners use the runtime's) |
 * | `tls` (listening) | `{ cert, key, clientCa? }`: PEM texts or paths, `clientCa` one or an array | `tls://`, required there |
 * | `tls` (connecting) | `{ ca?, pin?, serverName?, checkServerName?, cert?, key? }`, see below | `tls://` |
 * | `noDelay` | boolean | `tcp://`, `tls://` |
 * | `connectTimeout` | integer, 1 to 2^31 − 1 (milliseconds) | connecting to `tcp://`, `tls://` |
 * | `maxConcurrentRequests` | integer, 1 to 2^32 − 1 | RPC |
 * | `maxBufferedBytes` | integer, 0 to 2^53 − 1 | RPC |
 * | `handlers`, `notifications` | object whose values are functions | RPC |
 * | `serviceIds` | object whose values are integers, −2^31 to 2^31 − 1 | RPC |
 * | `codec` | object with `encode` and `decode` functions | RPC |
 * | `describe` | boolean | RPC |
 * | `accept`, `handshake`, `onError`, `onConnection`, `onClose` | function | RPC |
 * | `frameTimeout` | integer, 1 to 2^31 − 1 (milliseconds) | `unix:`, `tcp://`, `tls://` |
 * | `secret` | string or Uint8Array (at least 16 bytes, checked when resolved) | `listen`, `connect` |
 * | `secretFile` | non-empty string | `listen`, `connect` |
 * | `handshakeTimeout` | integer, 1 to 2^31 − 1 | `listen`, `connect`; `listenTransport` on `tls://` (the TLS handshake) |
 * | `keepalive` | `false` or `{ interval?, timeout? }`, integers from 10 to 2^31 − 1, `timeout` ≥ `interval` | `listen`, `connect` |
 * | `protocol` | `"auto"`, `"peerlink"` or `"fizyr"` (`connect`: the last two) | `listen`, `connect` |
 * | `authFailureDelay` | integer, 0 to 60 000 | `listen` |
 * | `maxConnections`, `idleTimeout` | integer, 1 to 2^31 − 1 | `listen` |
 * | `allow` | `{ uid?, gid? }`: an id (0 to 2^32 − 1), an array of ids, or `"self"` | `listen` on `unix:`, `seqpacket:` |
 * | `reconnect` | boolean or `{ initialDelay?, maxDelay?, attempts?, whileDisconnected?, onDisconnect?, onReconnect? }` | `connect` |
 * | `env` | object whose values are strings | `spawn` |
 * | `cwd` | non-empty string | `spawn` |
 * | `stderr` | `"inherit"`, `"pipe"` or `"ignore"` | `spawn` |
 * | `killGrace` | integer, 0 to 2^31 − 1 (milliseconds) | `spawn` |
 * | `channel` | `"stdio"` or `"seqpacket"` | `spawn` |
 * | `redirectConsole` | boolean | `serveStdio` |
 *
 * `spawn` and `serveStdio` take the framing options of a stream
 * (`maxMessageSize`, `frameTimeout`) and of a seqpacket socket
 * (`maxPacketSize`, `maxFds`: a seqpacket channel), the RPC options, `handshakeTimeout`,
 * `keepalive` and `protocol` (`spawn`: `"peerlink"` or `"fizyr"`;
 * `serveStdio`: also `"auto"`), and no secret: the pipes reach nobody else.
 *
 * `secret` and `secretFile` exclude each other, and neither (nor `allow`)
 * goes with `protocol: "fizyr"`, which has no handshake.
 *
 * A client's `tls`: `ca` is a PEM text or path, or an array of them; `pin`
 * a fingerprint (64 hex digits, colons between pairs optional) or a
 * certificate's PEM text or path; `serverName` a host name or IP address;
 * `checkServerName` a boolean that may be false only together with `pin`;
 * `cert` and `key` non-empty strings, both or neither. Whether the texts
 * and files hold what they should is checked when they are read
 * (`tcp_settings.ts`), still before any socket exists.
 *
 * An option set to `undefined` counts as absent; a name an entry point does
 * not know is refused, with the closest known name as a suggestion, and so
 * is an unknown member of `tls`.
 *
 * @module
 */

import {
  aFunction,
  checkOptions,
  integerFrom,
  objectWith,
  type OptionProblem,
  type OptionRule,
  type OptionRules,
  recordOf,
} from "../base/check_option.ts";
import { UsageError } from "../base/errors.ts";
import { FLOW_OPTION_RULES } from "../peer/read_gate.ts";
import { type Address, formatAddress, isHostName, isInetAddress, isIpv4, isIpv6 } from "../transport/address.ts";
import type { SeqpacketListenOptions } from "../transport/runtime_adapter.ts";
import { HEADER_SIZE } from "../wire/message.ts";

/** The smallest `maxMessageSize` / `maxPacketSize` a session's handshake fits in. */
const MIN_SESSION_MESSAGE_SIZE = 1024;

/** The entry points whose options are checked here. */
export type EntryPoint =
  | "listen"
  | "connect"
  | "listenTransport"
  | "connectTransport"
  | "transportPair"
  | "spawn"
  | "serveStdio";

/** The kernel's limit on descriptors in one message (SCM_MAX_FD). */
const MAX_FDS = 253;
/** The kernel refuses datagrams above SO_SNDBUF − 32, and SO_SNDBUF is an int. */
const MAX_PACKET_SIZE = 0x7fffffff - 32;

const SEQPACKET: OptionRules = {
  maxPacketSize: integerFrom(HEADER_SIZE, MAX_PACKET_SIZE),
  maxFds: integerFrom(0, MAX_FDS),
};

const TRANSPORT: OptionRules = {
  ...SEQPACKET,
  maxMessageSize: integerFrom(HEADER_SIZE, 0xffffffff),
  frameTimeout: integerFrom(1, 0x7fffffff),
};

const aBoolean: OptionRule = (value, path) =>
  typeof value === "boolean" ? undefined : { path, expected: "true or false", found: value };

const aNonEmptyString: OptionRule = (value, path) =>
  typeof value === "string" && value.length > 0 ? undefined : { path, expected: "a non-empty string", found: value };

const PEM_OR_PATH = "PEM text or a file path";
const pemOrPath: OptionRule = (value, path) =>
  typeof value === "string" && value.trim().length > 0 ? undefined : { path, expected: PEM_OR_PATH, found: value };

const onePemOrMore: OptionRule = (value, path) => {
  if (!Array.isArray(value)) return pemOrPath(value, path);
  if (value.length === 0) return { path, expected: `${PEM_OR_PATH}, or a non-empty array of them`, found: value };
  for (const [index, item] of value.entries()) {
    const problem = pemOrPath(item, `${path}[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
};

const aHost: OptionRule = (value, path) =>
  typeof value === "string" && (isHostName(value) || isIpv4(value) || isIpv6(value))
    ? undefined
    : { path, expected: "a host name or an IP address", found: value };

/**
 * A rule for an options object nested in an option (`tls`): each member
 * passes its rule, the `required` ones are present, no other member is set,
 * and `together` (checked last) holds for the whole object.
 */
function membersOf(
  members: OptionRules,
  required: readonly string[],
  together: (value: Record<string, unknown>, path: string) => OptionProblem | undefined = () => undefined,
): OptionRule {
  const names = Object.keys(members);
  const shape = `an object with ${names.map((name) => required.includes(name) ? name : `${name}?`).join(", ")}`;
  return (value, path) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { path, expected: shape, found: value };
    }
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).find((name) => !Object.hasOwn(members, name));
    if (unknown !== undefined) {
      return { path: `${path}.${unknown}`, expected: `absent (${path} is ${shape})`, found: record[unknown] };
    }
    for (const [name, rule] of Object.entries(members)) {
      const member = record[name];
      if (member === undefined && required.includes(name)) {
        return { path: `${path}.${name}`, expected: PEM_OR_PATH, found: member };
      }
      const problem = member === undefined ? undefined : rule(member, `${path}.${name}`);
      if (problem !== undefined) return problem;
    }
    return together(record, path);
  };
}

const SERVER_TLS: OptionRule = membersOf({ cert: pemOrPath, key: pemOrPath, clientCa: onePemOrMore }, ["cert", "key"]);

const CLIENT_TLS: OptionRule = membersOf(
  {
    ca: onePemOrMore,
    pin: aNonEmptyString,
    serverName: aHost,
    checkServerName: aBoolean,
    cert: pemOrPath,
    key: pemOrPath,
  },
  [],
  (tls, path) => {
    if (tls.checkServerName === false && tls.pin === undefined) {
      return {
        path: `${path}.checkServerName`,
        expected: `true or absent unless ${path}.pin is set (names are only left unchecked for a pinned certificate)`,
        found: false,
      };
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      const [given, missing] = tls.cert === undefined ? ["key", "cert"] : ["cert", "key"];
      return {
        path: `${path}.${missing}`,
        expected: `${PEM_OR_PATH}, since ${path}.${given} is set`,
        found: undefined,
      };
    }
    return undefined;
  },
);

const MAX_MS = 0x7fffffff;

/** One of the given strings. */
function oneOf(...choices: string[]): OptionRule {
  const expected = choices.map((choice) => `"${choice}"`).join(" or ");
  return (value, path) =>
    typeof value === "string" && choices.includes(value) ? undefined : { path, expected, found: value };
}

const aSecret: OptionRule = (value, path) =>
  typeof value === "string" || value instanceof Uint8Array
    ? undefined
    : { path, expected: "a string or a Uint8Array of at least 16 bytes", found: value };

const KEEPALIVE_MEMBERS: OptionRule = membersOf(
  { interval: integerFrom(10, MAX_MS), timeout: integerFrom(10, MAX_MS) },
  [],
  (keepalive, path) =>
    typeof keepalive.timeout === "number" && keepalive.timeout < ((keepalive.interval as number | undefined) ?? 15_000)
      ? { path: `${path}.timeout`, expected: `at least ${path}.interval`, found: keepalive.timeout }
      : undefined,
);
const KEEPALIVE: OptionRule = (value, path) => value === false ? undefined : KEEPALIVE_MEMBERS(value, path);

const anId: OptionRule = integerFrom(0, 0xffffffff);
const ids: OptionRule = (value, path) => {
  if (value === "self") return undefined;
  if (!Array.isArray(value)) {
    const problem = anId(value, path);
    return problem && { ...problem, expected: `"self", an id from 0 to 2^32 − 1, or an array of ids` };
  }
  for (const [index, item] of value.entries()) {
    const problem = anId(item, `${path}[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
};
const ALLOW: OptionRule = membersOf({ uid: ids, gid: ids }, []);

const RECONNECT_MEMBERS: OptionRule = membersOf({
  initialDelay: integerFrom(0, MAX_MS),
  maxDelay: integerFrom(1, MAX_MS),
  attempts: (value, path) =>
    value === Infinity || (Number.isInteger(value) && (value as number) >= 1)
      ? undefined
      : { path, expected: "a positive integer or Infinity", found: value },
  whileDisconnected: oneOf("wait", "fail"),
  onDisconnect: aFunction,
  onReconnect: aFunction,
}, []);
const RECONNECT: OptionRule = (value, path) => typeof value === "boolean" ? undefined : RECONNECT_MEMBERS(value, path);

/** Session options both sides take. */
const SESSION: OptionRules = {
  secret: aSecret,
  secretFile: aNonEmptyString,
  handshakeTimeout: integerFrom(1, MAX_MS),
  keepalive: KEEPALIVE,
};

const TCP_LISTENER: OptionRules = { tls: SERVER_TLS, noDelay: aBoolean };
const TCP_CONNECT: OptionRules = { tls: CLIENT_TLS, noDelay: aBoolean, connectTimeout: integerFrom(1, 0x7fffffff) };

const LISTENER: OptionRules = {
  ...TRANSPORT,
  ...TCP_LISTENER,
  mode: integerFrom(0, 0o7777),
  backlog: integerFrom(1, 65535),
};

const CONNECTOR: OptionRules = { ...TRANSPORT, ...TCP_CONNECT };

const RPC: OptionRules = {
  ...FLOW_OPTION_RULES,
  handlers: recordOf(aFunction),
  notifications: recordOf(aFunction),
  serviceIds: recordOf(integerFrom(-0x80000000, 0x7fffffff)),
  codec: objectWith({ encode: aFunction, decode: aFunction }),
  handshake: aFunction,
  describe: aBoolean,
};

const aString: OptionRule = (value, path) =>
  typeof value === "string" ? undefined : { path, expected: "a string", found: value };

/**
 * What a channel to or from a child process takes: stream framing (pipes), seqpacket limits (a seqpacket
 * channel), RPC, the session without a secret.
 */
const PIPE: OptionRules = {
  maxMessageSize: TRANSPORT.maxMessageSize!,
  frameTimeout: TRANSPORT.frameTimeout!,
  ...SEQPACKET,
  ...RPC,
  handshakeTimeout: SESSION.handshakeTimeout!,
  keepalive: KEEPALIVE,
};

const ENTRY_RULES: Readonly<Record<EntryPoint, OptionRules>> = {
  listen: {
    ...LISTENER,
    ...RPC,
    ...SESSION,
    notify: aBoolean,
    protocol: oneOf("auto", "peerlink", "fizyr"),
    authFailureDelay: integerFrom(0, 60_000),
    maxConnections: integerFrom(1, MAX_MS),
    idleTimeout: integerFrom(1, MAX_MS),
    allow: ALLOW,
    accept: aFunction,
    onError: aFunction,
    onConnection: aFunction,
  },
  connect: {
    ...CONNECTOR,
    ...RPC,
    ...SESSION,
    protocol: oneOf("peerlink", "fizyr"),
    reconnect: RECONNECT,
    onClose: aFunction,
  },
  listenTransport: { ...LISTENER, handshakeTimeout: SESSION.handshakeTimeout! },
  connectTransport: CONNECTOR,
  transportPair: SEQPACKET,
  spawn: {
    ...PIPE,
    protocol: oneOf("peerlink", "fizyr"),
    onClose: aFunction,
    env: recordOf(aString),
    cwd: aNonEmptyString,
    stderr: oneOf("inherit", "pipe", "ignore"),
    killGrace: integerFrom(0, MAX_MS),
    channel: oneOf("stdio", "seqpacket"),
  },
  serveStdio: {
    ...PIPE,
    protocol: oneOf("auto", "peerlink", "fizyr"),
    onError: aFunction,
    redirectConsole: aBoolean,
  },
};

/**
 * Checks the options given to an entry point.
 *
 * @param entry The entry point.
 * @param options The options as the caller gave them; `undefined` means none.
 * @returns A checked snapshot of the options (see `checkOptions`), which the entry point uses instead of `options`.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` when `options` is not an
 *   object, names an option `entry` does not know, or holds a value outside
 *   the range in the table above; the message names the option, what it
 *   accepts and what it found.
 *
 * @example
 * ```ts
 * import { checkEntryOptions } from "./validate_options.ts";
 * let code = "";
 * try {
 *   checkEntryOptions("listen", { maxConcurrentRequests: 0 });
 * } catch (error) {
 *   code = (error as { code: string }).code;
 * }
 * console.assert(code === "ERR_INVALID_ARGUMENT");
 * ```
 */
export function checkEntryOptions<T extends object>(entry: EntryPoint, options: T | undefined): T {
  const checked = checkOptions(options, ENTRY_RULES[entry], { where: `${entry}()`, elsewhere: ownersOf(entry) });
  checkSessionOptions(entry, checked as Record<string, unknown>);
  return checked;
}

/** The entry points that start a peerlink session (unless `protocol: "fizyr"`). */
const SESSION_ENTRIES: ReadonlySet<EntryPoint> = new Set<EntryPoint>(["listen", "connect", "spawn", "serveStdio"]);

/** The session options that exclude each other: `secret` and `secretFile`; either with `protocol: "fizyr"`. */
function checkSessionOptions(entry: EntryPoint, options: Record<string, unknown>): void {
  const refuse = (message: string): never => {
    throw new UsageError("ERR_INVALID_ARGUMENT", `${entry}(): ${message}`);
  };
  if (options.secret !== undefined && options.secretFile !== undefined) {
    refuse("give either secret or secretFile, not both");
  }
  const limit = Math.min(
    (options.maxMessageSize as number | undefined) ?? Infinity,
    (options.maxPacketSize as number | undefined) ?? Infinity,
  );
  if (SESSION_ENTRIES.has(entry) && options.protocol !== "fizyr" && limit < MIN_SESSION_MESSAGE_SIZE) {
    refuse(
      `a peerlink session needs messages of at least ${MIN_SESSION_MESSAGE_SIZE} bytes for its handshake, and the limit is ${limit}; raise it, or set protocol: "fizyr"`,
    );
  }
  if (options.protocol === "fizyr") {
    const sessionOnly = ["secret", "secretFile", "allow"].find((name) => options[name] !== undefined);
    if (sessionOnly !== undefined) {
      refuse(`${sessionOnly} needs a peerlink session, and protocol is "fizyr" (plain fizyr-rpc has no handshake)`);
    }
  }
}

/** For each option other entry points know and `entry` does not, the entry points that take it. */
function ownersOf(entry: EntryPoint): Record<string, string> {
  const owners: Record<string, EntryPoint[]> = {};
  // Entry points of the same kind (sockets, or child processes) are named first; the other kind only when none
  // of the same kind takes the option.
  const family = (name: EntryPoint): boolean => CHILD_ENTRIES.has(name) === CHILD_ENTRIES.has(entry);
  const entries = Object.keys(ENTRY_RULES) as EntryPoint[];
  for (const other of [...entries.filter(family), ...entries.filter((name) => !family(name))]) {
    for (const name of Object.keys(ENTRY_RULES[other])) {
      if (Object.hasOwn(ENTRY_RULES[entry], name)) continue;
      const known = owners[name];
      if (known === undefined) owners[name] = [other];
      else if (family(known[0]!) === family(other)) known.push(other);
    }
  }
  return Object.fromEntries(
    Object.entries(owners).map(([name, entries]) => [name, entries.map((owner) => `${owner}()`).join(", ")]),
  );
}

/** The entry points of child processes, whose options differ from the sockets' ones. */
const CHILD_ENTRIES: ReadonlySet<EntryPoint> = new Set<EntryPoint>(["spawn", "serveStdio"]);

/** The options that only `tcp://` and `tls://` addresses take. */
const INET_OPTIONS: readonly string[] = [...new Set([...Object.keys(TCP_LISTENER), ...Object.keys(TCP_CONNECT)])];

/**
 * Checks what depends on the address, once it is parsed: the TCP options
 * (`tls`, `noDelay`, `connectTimeout`) are refused with `unix:` and
 * `seqpacket:` addresses, `tls` with `tcp://`, a `tls://` listener needs
 * `tls`, a connect needs a port other than 0, and `listenTransport` takes
 * `handshakeTimeout` (the TLS handshake's) with `tls://` only.
 *
 * @param entry The entry point.
 * @param address The parsed address.
 * @param options The checked options of {@link checkEntryOptions}.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the option and the address; `ERR_INVALID_ADDRESS` for
 *   a connect to port 0.
 *
 * @example
 * ```ts
 * import { checkAddressOptions } from "./validate_options.ts";
 * let code = "";
 * try {
 *   checkAddressOptions("connect", { transport: "unix", path: "/run/app.sock", abstract: false }, { noDelay: true });
 * } catch (error) {
 *   code = (error as { code: string }).code;
 * }
 * console.assert(code === "ERR_INVALID_ARGUMENT");
 * ```
 */
export function checkAddressOptions(entry: EntryPoint, address: Address, options: object): void {
  const given = (name: string): boolean => (options as Record<string, unknown>)[name] !== undefined;
  const text = formatAddress(address);
  if (entry === "listenTransport" && address.transport !== "tls" && given("handshakeTimeout")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Option "handshakeTimeout" of listenTransport() bounds a TLS handshake and applies to tls:// addresses only, found it with "${text}"`,
    );
  }
  if (isInetAddress(address) && given("allow")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Option "allow" of ${entry}() needs peer credentials, which only unix: and seqpacket: connections have; found it with "${
        formatAddress(address)
      }" (use secret, or TLS client certificates, there)`,
    );
  }
  if (!isInetAddress(address)) {
    const misplaced = INET_OPTIONS.find(given);
    if (misplaced === undefined) return;
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Option "${misplaced}" of ${entry}() applies to tcp:// and tls:// addresses only, found it with "${text}"`,
    );
  }
  const listening = entry === "listen" || entry === "listenTransport";
  if (address.transport === "tcp" && given("tls")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Option "tls" of ${entry}() applies to tls:// addresses only, found it with "${text}" (write tls://${
        text.slice(6)
      } to use TLS)`,
    );
  }
  if (address.transport === "tls" && listening && !given("tls")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected tls in the options of ${entry}() to be { cert, key } for "${text}", found none`,
    );
  }
  if (!listening && address.port === 0) {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Cannot connect to "${text}": expected a port from 1 to 65535, found 0`,
    );
  }
}

/**
 * The seqpacket settings among checked options (`maxPacketSize`, `maxFds`,
 * and a listener's `mode` and `backlog`), for the runtime's seqpacket layer.
 *
 * @param options Options checked by {@link checkEntryOptions}.
 * @returns Only those of them that are set.
 *
 * @example
 * ```ts
 * import { seqpacketOptions } from "./validate_options.ts";
 * console.assert(JSON.stringify(seqpacketOptions({ maxFds: 4, keepalive: false } as object)) === '{"maxFds":4}');
 * ```
 */
export function seqpacketOptions(options: SeqpacketListenOptions): SeqpacketListenOptions {
  const result: SeqpacketListenOptions = {};
  if (options.maxPacketSize !== undefined) result.maxPacketSize = options.maxPacketSize;
  if (options.maxFds !== undefined) result.maxFds = options.maxFds;
  if (options.mode !== undefined) result.mode = options.mode;
  if (options.backlog !== undefined) result.backlog = options.backlog;
  return result;
}
