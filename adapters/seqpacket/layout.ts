/**
 * Byte layouts of the C structures the seqpacket layer hands to libc, for the
 * two 64-bit Linux ABIs it supports. msghdr, iovec, cmsghdr, ucred,
 * sockaddr_un, pollfd and statx are identical on x86_64 and aarch64 (LP64,
 * little endian); only epoll_event differs: glibc packs it on x86_64.
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { SeqpacketAddress } from "./types.ts";
import { AF_UNIX } from "./linux.ts";

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

const LAYOUTS: Record<SupportedArch, StructLayout> = {
  x86_64: { arch: "x86_64", epollEventSize: 12, epollDataOffset: 4 },
  aarch64: { arch: "aarch64", epollEventSize: 16, epollDataOffset: 8 },
};

/**
 * Returns the layout of `arch`.
 *
 * @param arch The architecture, in Deno's spelling (`x86_64`, `aarch64`).
 * @returns The layout, or `undefined` for an architecture without one.
 */
export function layoutFor(arch: string): StructLayout | undefined {
  return arch === "x86_64" || arch === "aarch64" ? LAYOUTS[arch] : undefined;
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

/** struct iovec (16 bytes). */
export const IOVEC_SIZE = 16;
export const IOV_BASE = 0;
export const IOV_LEN = 8;

/** struct cmsghdr: a size_t length, then level and type, then 8-byte aligned data. */
export const CMSG_HEADER_SIZE = 16;
export const CMSG_LEN_OFFSET = 0;
export const CMSG_LEVEL_OFFSET = 8;
export const CMSG_TYPE_OFFSET = 12;

/** struct ucred (12 bytes): pid, uid, gid. */
export const UCRED_SIZE = 12;

/** struct pollfd (8 bytes): fd, events, revents. */
export const POLLFD_SIZE = 8;

/** struct statx (256 bytes): the fields read here. */
export const STATX_SIZE = 256;
export const STX_MODE = 28;
export const STX_INO = 32;
export const STX_DEV_MAJOR = 136;
export const STX_DEV_MINOR = 140;

/** sizeof(sun_path) on Linux. */
export const SUN_PATH_SIZE = 108;

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
 * Packs `address` into a sockaddr_un.
 *
 * Filesystem paths need a terminating NUL inside sun_path, so at most 107
 * bytes fit; abstract names take the leading NUL instead, also leaving 107.
 * Abstract addresses must be passed with their exact length: the kernel
 * treats every byte up to the length as part of the name.
 *
 * @param address The address.
 * @returns The packed structure.
 * @throws {UsageError} `ERR_INVALID_ADDRESS` for an empty path or one holding a NUL byte.
 * @throws {UsageError} `ERR_PATH_TOO_LONG` above 107 bytes.
 */
export function packSockaddr(address: SeqpacketAddress): SockaddrUn {
  const shown = address.abstract ? `@${address.path}` : address.path;
  if (address.path.length === 0) {
    throw new UsageError("ERR_INVALID_ADDRESS", "Expected a non-empty seqpacket path or name, found an empty one");
  }
  if (address.path.includes("\0")) {
    throw new UsageError("ERR_INVALID_ADDRESS", `Seqpacket address "${shown}" contains a NUL byte`);
  }
  const name = encoder.encode(address.path);
  const limit = SUN_PATH_SIZE - 1;
  if (name.length > limit) {
    throw new UsageError(
      "ERR_PATH_TOO_LONG",
      `Seqpacket address "${shown}" is ${name.length} bytes long and exceeds the ${limit}-byte limit of Unix socket addresses`,
    );
  }
  const bytes = new Uint8Array(2 + SUN_PATH_SIZE);
  new DataView(bytes.buffer).setUint16(0, AF_UNIX, true);
  if (address.abstract) {
    bytes.set(name, 3);
    return { bytes, length: 3 + name.length };
  }
  bytes.set(name, 2);
  return { bytes, length: 3 + name.length };
}

/**
 * Encodes a path as a NUL-terminated C string.
 *
 * @param path The path.
 * @returns The bytes, ending with NUL.
 */
export function cString(path: string): Uint8Array {
  const bytes = new Uint8Array(encoder.encode(path).length + 1);
  encoder.encodeInto(path, bytes);
  return bytes;
}
