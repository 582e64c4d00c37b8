/**
 * Socket activation: listening on a socket this process inherited instead
 * of one it binds. `fd:N` names descriptor N itself; `systemd:` takes the
 * one socket systemd passed (`LISTEN_FDS` from descriptor 3 on, for this
 * process only: `LISTEN_PID`), and `systemd:NAME` the one that
 * `LISTEN_FDNAMES` calls NAME (`FileDescriptorName=` of the socket unit).
 * The rules are `sd_listen_fds(3)`'s; the adapter reads (and removes) the
 * variables, this file decides.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";

/** The first descriptor systemd passes (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;

/** Which inherited socket an address names. */
export type InheritedSelector =
  /** A descriptor given by its number (`fd:3`). */
  | { readonly kind: "fd"; readonly fd: number; readonly shown: string }
  /** A socket passed by systemd, optionally chosen by its name (`systemd:`, `systemd:web`). */
  | { readonly kind: "systemd"; readonly name?: string; readonly shown: string };

/** The socket-activation variables of this process, as the adapter found them. */
export interface ListenEnvironment {
  /** This process's id. */
  readonly pid: number;
  /** `LISTEN_PID`: the process the sockets are meant for. */
  readonly listenPid?: string;
  /** `LISTEN_FDS`: how many sockets were passed, from descriptor 3 on. */
  readonly listenFds?: string;
  /** `LISTEN_FDNAMES`: their names, separated by `:`. */
  readonly listenFdNames?: string;
}

/** What `getsockopt` says about an inherited descriptor. */
export interface InheritedSocketType {
  /** `SO_DOMAIN`: 1 for AF_UNIX. */
  readonly domain: number;
  /** `SO_TYPE`: 1 for SOCK_STREAM, 5 for SOCK_SEQPACKET. */
  readonly type: number;
  /** `SO_ACCEPTCONN`: whether it is listening. */
  readonly listening: boolean;
}

/**
 * Reads an inherited-socket address.
 *
 * @param address An address string.
 * @returns What it selects, or `undefined` when it is not an `fd:` or `systemd:` address.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` for `fd:` without a descriptor number.
 *
 * @example
 * ```ts
 * import { parseInheritedAddress } from "./socket_activation.ts";
 * console.assert(parseInheritedAddress("fd:3")?.kind === "fd");
 * console.assert(parseInheritedAddress("unix:/run/app.sock") === undefined);
 * ```
 */
export function parseInheritedAddress(address: string): InheritedSelector | undefined {
  if (typeof address !== "string") return undefined;
  if (address.startsWith("fd:")) {
    const text = address.slice(3);
    const digits = text.length > 0 && text.length < 10 && [...text].every((c) => c >= "0" && c <= "9");
    if (!digits) {
      throw new UsageError(
        "ERR_INVALID_ADDRESS",
        `Address "${address}" has an invalid descriptor "${text}": expected fd:N with N a number such as 3`,
      );
    }
    return { kind: "fd", fd: Number(text), shown: address };
  }
  if (!address.startsWith("systemd:")) return undefined;
  const name = address.slice(8);
  return name.length === 0 ? { kind: "systemd", shown: address } : { kind: "systemd", name, shown: address };
}

/**
 * The descriptor an inherited-socket address selects. For `systemd:` the
 * variables must be meant for this process (`LISTEN_PID`), as
 * `sd_listen_fds` requires; otherwise no socket was passed to it.
 *
 * @param selector What the address selects.
 * @param environment The activation variables and this process's id.
 * @returns The descriptor.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` when no socket, several sockets or no socket of that name were passed.
 *
 * @example
 * ```ts
 * import { selectInheritedFd } from "./socket_activation.ts";
 * const fd = selectInheritedFd({ kind: "systemd", name: "b", shown: "systemd:b" }, {
 *   pid: 7, listenPid: "7", listenFds: "2", listenFdNames: "a:b",
 * });
 * console.assert(fd === 4);
 * ```
 */
export function selectInheritedFd(selector: InheritedSelector, environment: ListenEnvironment): number {
  if (selector.kind === "fd") return selector.fd;
  const refuse = (why: string): UsageError =>
    new UsageError("ERR_INVALID_ADDRESS", `Cannot listen on "${selector.shown}": ${why}`);
  const { pid, listenPid, listenFds, listenFdNames } = environment;
  if (listenPid === undefined || listenFds === undefined) {
    throw refuse("no sockets were passed (LISTEN_PID and LISTEN_FDS are not set)");
  }
  if (listenPid !== String(pid)) {
    throw refuse(`the sockets passed were meant for pid ${listenPid} (LISTEN_PID), not this one (pid ${pid})`);
  }
  const count = Number(listenFds);
  if (!Number.isSafeInteger(count) || count <= 0) throw refuse(`no sockets were passed (LISTEN_FDS=${listenFds})`);
  if (selector.name === undefined) {
    if (count === 1) return LISTEN_FDS_START;
    throw refuse(`${count} sockets were passed; name one with systemd:NAME (LISTEN_FDNAMES=${listenFdNames ?? ""})`);
  }
  const names = (listenFdNames ?? "").split(":");
  const index = names.indexOf(selector.name);
  if (index < 0 || index >= count) {
    throw refuse(`no socket named "${selector.name}" was passed (LISTEN_FDNAMES=${listenFdNames ?? ""})`);
  }
  return LISTEN_FDS_START + index;
}

/**
 * Which kind of peerlink listener an inherited descriptor can become.
 *
 * @param selector The address, for the message.
 * @param fd The descriptor.
 * @param type What `getsockopt` said, or `undefined` where it cannot be asked (no FFI): then a stream socket is assumed.
 * @returns `"unix"` for a listening AF_UNIX stream socket, `"seqpacket"` for a listening AF_UNIX seqpacket socket.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` for any other descriptor.
 */
export function inheritedSocketKind(
  selector: InheritedSelector,
  fd: number,
  type: InheritedSocketType | undefined,
): "unix" | "seqpacket" {
  if (type === undefined) return "unix";
  const refuse = (why: string): UsageError =>
    new UsageError("ERR_INVALID_ADDRESS", `Cannot listen on "${selector.shown}": descriptor ${fd} ${why}`);
  if (type.domain !== 1) throw refuse(`is not a Unix socket (socket domain ${type.domain}, expected AF_UNIX)`);
  if (type.type !== 1 && type.type !== 5) {
    throw refuse(`is a Unix socket of type ${type.type} (expected SOCK_STREAM or SOCK_SEQPACKET)`);
  }
  if (!type.listening) throw refuse("is not listening (expected a socket after listen(2))");
  return type.type === 1 ? "unix" : "seqpacket";
}
