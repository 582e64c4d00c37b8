/**
 * Addresses and options of the Unix SOCK_SEQPACKET transport, shared by the
 * Deno, Bun and Node bindings in this folder.
 *
 * @module
 */

/**
 * Where a seqpacket listener lives.
 *
 * @example
 * ```ts
 * import type { SeqpacketAddress } from "./types.ts";
 * const onDisk: SeqpacketAddress = { path: "/run/app.sock", abstract: false };
 * const abstract: SeqpacketAddress = { path: "app", abstract: true };
 * console.assert(onDisk.path !== abstract.path);
 * ```
 */
export interface SeqpacketAddress {
  /** A filesystem path, or for abstract addresses the name without its leading NUL byte. */
  path: string;
  /** True for the Linux abstract namespace (no file, vanishes with the listener). */
  abstract: boolean;
}

export type { SeqpacketListenOptions, SeqpacketOptions } from "../../src/transport/runtime_adapter.ts";

/** Default `maxPacketSize`: 64 KiB, which fits in the kernel's default send buffer. */
export const DEFAULT_MAX_PACKET_SIZE = 65536;

/** Default `maxFds`. */
export const DEFAULT_MAX_FDS = 16;

/** Default `mode` of a listener's socket file: owner read and write only. */
export const DEFAULT_MODE = 0o600;

/** Default `backlog` of a listener. */
export const DEFAULT_BACKLOG = 128;

/**
 * Formats an address in peerlink syntax: `seqpacket:/path` or `seqpacket:@name`.
 *
 * @param address The address to format.
 * @returns The address string.
 *
 * @example
 * ```ts
 * import { formatSeqpacketAddress } from "./types.ts";
 * console.assert(formatSeqpacketAddress({ path: "app", abstract: true }) === "seqpacket:@app");
 * ```
 */
export function formatSeqpacketAddress(address: SeqpacketAddress): string {
  return address.abstract ? `seqpacket:@${address.path}` : `seqpacket:${address.path}`;
}
