/**
 * Peer credentials on Node: SO_PEERCRED through koffi (an optional peer
 * dependency), loaded when the first `unix:` socket is made, and whether
 * they (and seqpacket sockets) are available at all, answered without
 * loading anything: koffi must resolve, and the OS must be Linux.
 *
 * @module
 */

import process from "node:process";
import { isMainThread } from "node:worker_threads";
import { lazyCredentials, type StreamCredentials } from "../lazy_credentials.ts";
import { unsupportedPlatform } from "../seqpacket/layout.ts";

/** Why koffi cannot be loaded, or `undefined` if it resolves. */
function koffiMissing(): string | undefined {
  try {
    import.meta.resolve("koffi");
    return undefined;
  } catch {
    return "Node without the koffi package (run `npm install koffi`)";
  }
}

function ffiUnavailable(): string | undefined {
  if (process.platform !== "linux") {
    return `peer credentials (SO_PEERCRED) are read on Linux only, not on ${process.platform}`;
  }
  return koffiMissing();
}

/** The credentials of Node's Unix stream sockets. */
export const nodeStreamCredentials: StreamCredentials = lazyCredentials({
  unavailable: ffiUnavailable,
  loadLibc: async () => (await import("./seqpacket_ffi.ts")).loadLibc(),
});

/**
 * Why connections of `transport` carry no peer credentials on this Node.
 *
 * @param transport `"unix"` or `"seqpacket"`.
 * @returns The reason, or `undefined` when every connection carries them.
 */
export function nodeCredentialsUnavailable(transport: "unix" | "seqpacket"): string | undefined {
  if (transport === "unix") return nodeStreamCredentials.unavailable();
  return unsupportedPlatform(process.platform, process.arch) ??
    (isMainThread ? undefined : "seqpacket sockets are not available in Node worker threads") ?? koffiMissing();
}
