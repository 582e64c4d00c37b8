/**
 * The warning the CLI prints when it serves or calls plain `tcp://` on an
 * address other machines can reach.
 *
 * @module
 */

import process from "node:process";

/** Whether a `tcp://` host can only be reached from this machine. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(host);
}

/**
 * Warns on stderr when `address` is plain TCP that other machines can reach.
 *
 * @param address The address served or called.
 * @param role Which side this process is: the risks differ.
 *
 * @example
 * ```ts
 * import { warnIfExposed } from "./exposed_tcp.ts";
 * warnIfExposed("tcp://127.0.0.1:4000", "call"); // loopback: prints nothing
 * ```
 */
export function warnIfExposed(address: string, role: "serve" | "call"): void {
  const match = /^tcp:\/\/(?:\[([^\]]*)\]|([^:]*)):/.exec(address);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || isLoopback(host)) return;
  const risk = role === "serve"
    ? "anyone who can reach it can call every method, and nothing is encrypted"
    : "nothing is encrypted and the server is not authenticated";
  process.stderr.write(`peerlink: warning: ${address} is plain TCP: ${risk}; use tls:// to protect it\n`);
}
