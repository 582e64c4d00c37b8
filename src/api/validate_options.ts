/**
 * The options of every entry point, checked before anything is opened: the
 * one list of names each entry point knows, and the values each accepts.
 * Every entry point checks the same way for `unix:` and `seqpacket:`
 * addresses; an option that only one transport uses is range-checked on
 * both, so one options object can serve either address.
 *
 * | option | accepted | used by |
 * |---|---|---|
 * | `maxMessageSize` | integer, 12 (the header) to 2^32 − 1 (the u32 length prefix) | `unix:` |
 * | `maxPacketSize` | integer, 12 (the header) to 2^31 − 33 | `seqpacket:` |
 * | `maxFds` | integer, 0 to 253 (SCM_MAX_FD) | `seqpacket:` |
 * | `mode` | integer, 0 to 0o7777 | listening on a path |
 * | `backlog` | integer, 1 to 65535 | `seqpacket:` (stream listeners use the runtime's) |
 * | `maxConcurrentRequests` | integer, 1 to 2^32 − 1 | RPC |
 * | `maxBufferedBytes` | integer, 0 to 2^53 − 1 | RPC |
 * | `handlers`, `notifications` | object whose values are functions | RPC |
 * | `serviceIds` | object whose values are integers, −2^31 to 2^31 − 1 | RPC |
 * | `codec` | object with `encode` and `decode` functions | RPC |
 * | `accept`, `handshake`, `onError`, `onConnection`, `onClose` | function | RPC |
 *
 * An option set to `undefined` counts as absent; a name an entry point does
 * not know is refused, with the closest known name as a suggestion.
 *
 * @module
 */

import { aFunction, checkOptions, integerFrom, objectWith, type OptionRules, recordOf } from "../base/check_option.ts";
import { FLOW_OPTION_RULES } from "../peer/read_gate.ts";
import { HEADER_SIZE } from "../wire/message.ts";

/** The entry points whose options are checked here. */
export type EntryPoint = "listen" | "connect" | "listenTransport" | "connectTransport" | "transportPair";

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
};

const LISTENER: OptionRules = {
  ...TRANSPORT,
  mode: integerFrom(0, 0o7777),
  backlog: integerFrom(1, 65535),
};

const RPC: OptionRules = {
  ...FLOW_OPTION_RULES,
  handlers: recordOf(aFunction),
  notifications: recordOf(aFunction),
  serviceIds: recordOf(integerFrom(-0x80000000, 0x7fffffff)),
  codec: objectWith({ encode: aFunction, decode: aFunction }),
  handshake: aFunction,
};

const ENTRY_RULES: Readonly<Record<EntryPoint, OptionRules>> = {
  listen: { ...LISTENER, ...RPC, accept: aFunction, onError: aFunction, onConnection: aFunction },
  connect: { ...TRANSPORT, ...RPC, onClose: aFunction },
  listenTransport: LISTENER,
  connectTransport: TRANSPORT,
  transportPair: SEQPACKET,
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
  return checkOptions(options, ENTRY_RULES[entry], { where: `${entry}()`, elsewhere: ownersOf(entry) });
}

/** For each option other entry points know and `entry` does not, the entry points that take it. */
function ownersOf(entry: EntryPoint): Record<string, string> {
  const owners: Record<string, string[]> = {};
  for (const [other, rules] of Object.entries(ENTRY_RULES)) {
    for (const name of Object.keys(rules)) {
      if (!Object.hasOwn(ENTRY_RULES[entry], name)) (owners[name] ??= []).push(`${other}()`);
    }
  }
  return Object.fromEntries(Object.entries(owners).map(([name, entries]) => [name, entries.join(", ")]));
}
