/**
 * Peer credentials on Bun: SO_PEERCRED through `bun:ffi` on the socket's
 * `fd`, bound when the first `unix:` socket is made, and whether they (and
 * seqpacket sockets) are available at all: on Linux they are.
 *
 * @module
 */

import process from "node:process";
import { lazyCredentials, type StreamCredentials } from "../lazy_credentials.ts";
import { unsupportedPlatform } from "../seqpacket/layout.ts";
import { loadBunLibc } from "./lazy_libc.ts";

function ffiUnavailable(): string | undefined {
  return process.platform === "linux"
    ? undefined
    : `peer credentials (SO_PEERCRED) are read on Linux only, not on ${process.platform}`;
}

/** The credentials of Bun's Unix stream sockets. */
export const bunStreamCredentials: StreamCredentials = lazyCredentials({
  unavailable: ffiUnavailable,
  loadLibc: loadBunLibc,
});

/**
 * Why connections of `transport` carry no peer credentials in this Bun process.
 *
 * @param transport `"unix"` or `"seqpacket"`.
 * @returns The reason, or `undefined` when every connection carries them.
 */
export function bunCredentialsUnavailable(transport: "unix" | "seqpacket"): string | undefined {
  return transport === "unix"
    ? bunStreamCredentials.unavailable()
    : unsupportedPlatform(process.platform, process.arch);
}
