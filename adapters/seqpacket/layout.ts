/**
 * Byte layouts of the C structures the seqpacket layer hands to libc, for the
 * two 64-bit Linux ABIs it supports. msghdr, iovec, cmsghdr, ucred,
 * sockaddr_un and pollfd are identical on x86_64 and aarch64 (LP64,
 * little endian); only epoll_event differs: glibc packs it on x86_64.
 *
 * @module
 */

import { SUN_PATH_SIZE } from "../../src/transport/address.ts";
import { AF_UNIX, POLLIN } from "./linux.ts";

/** The CPU architectures whose layouts are known. */
export type SupportedArch = "x86_64" | "aarch64";

/** Offsets and sizes that depend on the architecture. */
export interface StructLayout {
  /** The architecture described. */
  readonly arch: SupportedArch;
  /** sizeof(struct epoll_event). */
  readonly epollEventSize: number;
  /** Offset of epoll_event.data. */
  readonly epollDataOffset: number;
}

const X86_64: StructLayout = { arch: "x86_64", epollEventSize: 12, epollDataOffset: 4 };
const AARCH64: StructLayout = { arch: "aarch64", epollEventSize: 16, epollDataOffset: 8 };

/** Every spelling of the supported architectures: Deno's (`x86_64`) and Node's and Bun's (`x64`). */
const LAYOUTS: Readonly<Record<string, StructLayout>> = {
  x86_64: X86_64,
  x64: X86_64,
  aarch64: AARCH64,
  arm64: AARCH64,
};

/**
 * Returns the layout of `arch`.
 *
 * @param arch The architecture, as the runtime spells it (`x86_64` or `x64`, `aarch64` or `arm64`).
 * @returns The layout, or `undefined` for an architecture without one.
 *
 * @example
 * ```ts
 * import { layoutFor } from "./layout.ts";
 * console.assert(layoutFor("x64") === layoutFor("x86_64"));
 * ```
 */
export function layoutFor(arch: string): StructLayout | undefined {
  return Object.hasOwn(LAYOUTS, arch) ? LAYOUTS[arch] : undefined;
}

/**
 * Why the seqpacket layer cannot run here.
 *
 * @param os The operating system, as the runtime names it.
 * @param arch The architecture, as the runtime spells it.
 * @returns The reason, or `undefined` on Linux on x86_64 or aarch64.
 *
 * @example
 * ```ts
 * import { unsupportedPlatform } from "./layout.ts";
 * console.assert(unsupportedPlatform("linux", "x64") === undefined);
 * console.assert(unsupportedPlatform("darwin", "arm64") !== undefined);
 * ```
 */
export function unsupportedPlatform(os: string, arch: string): string | undefined {
  return os === "linux" && layoutFor(arch) !== undefined
    ? undefined
    : `SOCK_SEQPACKET sockets are supported only on Linux (x86_64 or aarch64), found ${os} on ${arch}`;
}

/** struct msghdr (56 bytes). */
export const MSGHDR_SIZE = 56;
export const MSG_NAME = 0;
export const MSG_NAMELEN = 8;
export const MSG_IOV = 16;
export const MSG_IOVLEN = 24;
export const MSG_CONTROL = 32;
export const MSG_CONTROLLEN = 40;
export const MSG_FLAGS = 48;

/** struct mmsghdr (64 bytes): a msghdr, then the kernel's `msg_len` and padding. */
export const MMSGHDR_SIZE = 64;
export const MMSG_LEN = 56;

/** struct iovec (16 bytes). */
export const IOVEC_SIZE = 16;
export const IOV_BASE = 0;
export const IOV_LEN = 8;

/** struct cmsghdr: a size_t length, then level and type, then 8-byte aligned data. */
export const CMSG_HEADER_SIZE = 16;
export const CMSG_LEN_OFFSET = 0;
export const CMSG_LEVEL_OFFSET = 8;
export const CMSG_TYPE_OFFSET = 12;

/** struct statx (256 bytes): the fields read here. */
export const STATX_SIZE = 256;
export const STX_MODE = 28;
export const STX_INO = 32;
export const STX_DEV_MAJOR = 136;
export const STX_DEV_MINOR = 140;

/** struct ucred (12 bytes): pid, uid, gid. */
export const UCRED_SIZE = 12;

/** struct pollfd (8 bytes): fd, events, revents. */
export const POLLFD_SIZE = 8;

/**
 * A struct pollfd that waits for `fd` to become readable, in an explicit
 * ArrayBuffer: another thread reads it while poll() runs, and neither V8 nor
 * JavaScriptCore moves such memory.
 *
 * @param fd The descriptor to watch.
 * @returns The structure.
 */
export function pollfdFor(fd: number): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(POLLFD_SIZE));
  const view = new DataView(bytes.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  return bytes;
}

/**
 * Rounds a control-message length up to the kernel's 8-byte alignment.
 *
 * @param length The length.
 * @returns The aligned length.
 */
export function cmsgAlign(length: number): number {
  return (length + 7) & ~7;
}

/**
 * CMSG_SPACE: the room one control message with `dataLength` bytes takes.
 *
 * @param dataLength Payload bytes.
 * @returns The space in bytes.
 */
export function cmsgSpace(dataLength: number): number {
  return CMSG_HEADER_SIZE + cmsgAlign(dataLength);
}

/**
 * CMSG_LEN: the value of cmsg_len for `dataLength` payload bytes.
 *
 * @param dataLength Payload bytes.
 * @returns The length in bytes.
 */
export function cmsgLen(dataLength: number): number {
  return CMSG_HEADER_SIZE + dataLength;
}

/** A packed sockaddr_un and the address length to pass along with it. */
export interface SockaddrUn {
  /** The structure bytes. */
  readonly bytes: Uint8Array;
  /** The socklen_t to pass to bind/connect. */
  readonly length: number;
}

const encoder = new TextEncoder();

/**
 * Packs a socket path into a sockaddr_un. `parseAddress` has checked that
 * it fits and holds no NUL byte other than an abstract name's leading one.
 *
 * Filesystem paths get a terminating NUL inside sun_path; abstract names
 * are passed with their exact length instead, because the kernel treats
 * every byte up to the length as part of the name.
 *
 * @param path A filesystem path, or a NUL byte and the abstract name (as `socketPathOf` gives it).
 * @returns The packed structure.
 */
export function packSockaddr(path: string): SockaddrUn {
  const name = encoder.encode(path);
  const bytes = new Uint8Array(2 + SUN_PATH_SIZE);
  new DataView(bytes.buffer).setUint16(0, AF_UNIX, true);
  bytes.set(name, 2);
  return { bytes, length: 2 + name.length + (path.startsWith("\0") ? 0 : 1) };
}
