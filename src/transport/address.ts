/**
 * Address strings: what users type to name a socket.
 *
 * | form | meaning |
 * |---|---|
 * | `unix:/run/app.sock`, `unix:./app.sock`, `/run/app.sock` | Unix stream socket at a filesystem path |
 * | `unix:@name` | Unix stream socket in the Linux abstract namespace |
 * | `seqpacket:/run/app.sock`, `seqpacket:@name` | Unix SOCK_SEQPACKET socket (Linux), carries file descriptors |
 * | `tcp://HOST:PORT` | TCP; HOST is an IPv4 address, `[IPv6]` or a host name; PORT 0 to 65535 (0 when listening: any free port) |
 * | `tls://HOST:PORT` | TLS over TCP |
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

/** Largest `sun_path` on Linux, including the terminating NUL (or the leading NUL of an abstract name). */
export const SUN_PATH_SIZE = 108;

/** A parsed Unix address (`unix:` or `seqpacket:`). */
export interface SocketAddress {
  /** Socket kind. */
  transport: "unix" | "seqpacket";
  /** Filesystem path, or the abstract name without its leading NUL. */
  path: string;
  /** True for a Linux abstract-namespace name. */
  abstract: boolean;
}

/** A parsed internet address (`tcp://` or `tls://`). */
export interface InetAddress {
  /** Socket kind: plain TCP, or TLS over TCP. */
  transport: "tcp" | "tls";
  /** An IPv4 address, an IPv6 address (without brackets) or a host name. */
  host: string;
  /** The port, 0 to 65535 (0 only when listening: the system picks a free port). */
  port: number;
}

/** Any parsed address. */
export type Address = SocketAddress | InetAddress;

/**
 * Whether `address` is a `tcp://` or `tls://` address.
 *
 * @param address A parsed address.
 * @returns True for internet addresses.
 */
export function isInetAddress(address: Address): address is InetAddress {
  return address.transport === "tcp" || address.transport === "tls";
}

const encoder = new TextEncoder();

/**
 * Parses an address string.
 *
 * @param address An address such as `unix:/run/app.sock`, `unix:@app`, `tcp://127.0.0.1:7000` or `tls://[::1]:7001`.
 * @returns The parsed address.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` for an unknown form, a bad host or a port outside 0 to 65535,
 *   `ERR_PATH_TOO_LONG` when the path does not fit `sun_path`.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * console.assert(parseAddress("unix:@app").transport === "unix");
 * console.assert(parseAddress("tls://[::1]:7001").transport === "tls");
 * ```
 */
export function parseAddress(address: string): Address {
  if (typeof address !== "string" || address.length === 0) {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Expected an address string such as "unix:/run/app.sock", got ${String(address)}`,
    );
  }
  if (address.startsWith("tcp://")) return parseInetAddress(address, "tcp", address.slice(6));
  if (address.startsWith("tls://")) return parseInetAddress(address, "tls", address.slice(6));
  let transport: SocketAddress["transport"];
  let rest: string;
  if (address.startsWith("unix:")) [transport, rest] = ["unix", address.slice(5)];
  else if (address.startsWith("seqpacket:")) [transport, rest] = ["seqpacket", address.slice(10)];
  else if (address.startsWith("/") || address.startsWith("./") || address.startsWith("../")) {
    [transport, rest] = ["unix", address];
  } else {
    throw new UsageError(
      "ERR_INVALID_ADDRESS",
      `Unknown address "${address}": expected unix:/path, unix:@name, seqpacket:/path, seqpacket:@name, tcp://host:port or tls://host:port`,
    );
  }
  const abstract = rest.startsWith("@");
  const path = abstract ? rest.slice(1) : rest;
  if (path.length === 0) throw new UsageError("ERR_INVALID_ADDRESS", `Address "${address}" has an empty path`);
  if (path.includes("\0")) throw new UsageError("ERR_INVALID_ADDRESS", `Address "${address}" contains a NUL byte`);
  const bytes = encoder.encode(path).length;
  const limit = SUN_PATH_SIZE - 1;
  if (bytes > limit) {
    throw new UsageError(
      "ERR_PATH_TOO_LONG",
      `Socket ${abstract ? "name" : "path"} of ${bytes} bytes exceeds the ${limit}-byte sun_path limit: "${path}"`,
    );
  }
  return { transport, path, abstract };
}

/**
 * Parses an address that must name a Unix socket (`unix:` or `seqpacket:`).
 *
 * @param address The address string.
 * @returns The parsed Unix address.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` for a `tcp://` or `tls://` address, and as {@link parseAddress}.
 */
export function parseUnixAddress(address: string): SocketAddress {
  const parsed = parseAddress(address);
  if (isInetAddress(parsed)) {
    throw new UsageError("ERR_INVALID_ADDRESS", `Expected a unix: or seqpacket: address, found "${address}"`);
  }
  return parsed;
}

const IPV4_PART = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${IPV4_PART}(\\.${IPV4_PART}){3}$`);
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Whether `host` is an IPv4 address in dotted-decimal form (`127.0.0.1`).
 *
 * @param host A host as written in an address.
 * @returns True for four decimal parts of 0 to 255 without leading zeros.
 *
 * @example
 * ```ts
 * import { isIpv4 } from "./address.ts";
 * console.assert(isIpv4("127.0.0.1") && !isIpv4("127.1"));
 * ```
 */
export function isIpv4(host: string): boolean {
  return IPV4.test(host);
}

/**
 * Whether `host` is an IPv6 address (`::1`, `fe80::1%eth0`, `::ffff:10.0.0.1`), without brackets.
 *
 * @param host A host as written inside the brackets of an address.
 * @returns True for eight groups of 1 to 4 hex digits, or fewer with one `::`, the last two optionally an
 *   IPv4 address, and an optional `%zone`.
 *
 * @example
 * ```ts
 * import { isIpv6 } from "./address.ts";
 * console.assert(isIpv6("::1") && isIpv6("::ffff:10.0.0.1") && !isIpv6("1:2:3"));
 * ```
 */
export function isIpv6(host: string): boolean {
  const [address = "", zone, ...more] = host.split("%");
  if (more.length > 0 || (zone !== undefined && !/^[0-9A-Za-z_.-]+$/.test(zone))) return false;
  const halves = address.split("::");
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === "" ? [] : half.split(":")));
  const all = groups.flat();
  const last = all.at(-1);
  const endsInIpv4 = last !== undefined && isIpv4(last);
  const hexGroups = endsInIpv4 ? all.slice(0, -1) : all;
  if (!hexGroups.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group))) return false;
  const count = hexGroups.length + (endsInIpv4 ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * Whether `host` is a DNS host name (`localhost`, `daemon.example.`): labels of letters, digits and
 * inner hyphens, at most 63 bytes each and 253 in all, and a last label that is not all digits (such a
 * name reads as an IPv4 address).
 *
 * @param host A host as written in an address.
 * @returns True for a host name; false for IP addresses and anything else.
 *
 * @example
 * ```ts
 * import { isHostName } from "./address.ts";
 * console.assert(isHostName("daemon.example") && !isHostName("10.0.0.300") && !isHostName("a_b"));
 * ```
 */
export function isHostName(host: string): boolean {
  const labels = (host.endsWith(".") ? host.slice(0, -1) : host).split(".");
  return host.length <= 253 && labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}

function parseInetAddress(address: string, transport: InetAddress["transport"], rest: string): InetAddress {
  const invalid = (why: string): UsageError =>
    new UsageError("ERR_INVALID_ADDRESS", `Address "${address}" ${why}: expected ${transport}://host:port`);
  const bracketed = rest.startsWith("[");
  const hostEnd = bracketed ? rest.indexOf("]") : rest.lastIndexOf(":");
  if (hostEnd < 0) throw invalid(bracketed ? "has no closing ] after its IPv6 address" : "has no port");
  if (bracketed && rest[hostEnd + 1] !== ":") throw invalid("has no port after its ]");
  const host = bracketed ? rest.slice(1, hostEnd) : rest.slice(0, hostEnd);
  const portText = rest.slice(hostEnd + (bracketed ? 2 : 1));
  if (host.length === 0) throw invalid("has no host (0.0.0.0 or [::] listen on every interface)");
  if (bracketed && !isIpv6(host)) throw invalid(`has an invalid IPv6 address "${host}"`);
  if (!bracketed && host.includes(":")) throw invalid(`has an IPv6 address "${host}" outside brackets`);
  if (!bracketed && !isIpv4(host) && !isHostName(host)) {
    throw invalid(`has an invalid host "${host}" (an IPv4 address, [IPv6 address] or host name)`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw invalid(`has an invalid port "${portText}" (0 to 65535)`);
  }
  return { transport, host, port: Number(portText) };
}

/**
 * Formats a parsed address back into its string form.
 *
 * @param address The parsed address.
 * @returns The address string.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 * console.assert(formatAddress({ transport: "tcp", host: "::1", port: 80 }) === "tcp://[::1]:80");
 * ```
 */
export function formatAddress(address: Address): string {
  if (isInetAddress(address)) {
    const host = address.host.includes(":") ? `[${address.host}]` : address.host;
    return `${address.transport}://${host}:${address.port}`;
  }
  return `${address.transport}:${address.abstract ? "@" : ""}${address.path}`;
}

/**
 * The path string runtimes' socket APIs take: the filesystem path, or a NUL
 * byte followed by the name for an abstract address.
 *
 * @param address The parsed address.
 * @returns The path to hand to `listen`/`connect`.
 */
export function socketPathOf(address: SocketAddress): string {
  return address.abstract ? `\0${address.path}` : address.path;
}
