/**
 * What two hellos agree on: the capabilities both sides have (refusing a
 * required one the other lacks) and the keepalive interval both send at.
 *
 * @module
 */

import { SessionError } from "../base/errors.ts";

/** The capability part of a hello. */
export interface CapabilityOffer {
  /** What the side offers. */
  caps: readonly string[];
  /** What it will not do without. */
  requires: readonly string[];
}

/**
 * The capabilities both sides have, in the server's order.
 *
 * @param server The server's offer.
 * @param client The client's offer.
 * @returns The agreed capabilities.
 * @throws {SessionError} `ERR_CAPABILITY_MISMATCH` (naming both lists, with
 *   `data { server, client }`) when either side requires one the other lacks.
 * @example
 * ```ts
 * import { agreeOnCapabilities } from "./negotiation.ts";
 * const agreed = agreeOnCapabilities({ caps: ["a", "b"], requires: [] }, { caps: ["b"], requires: ["b"] });
 * console.assert(agreed.length === 1 && agreed[0] === "b");
 * ```
 */
export function agreeOnCapabilities(server: CapabilityOffer, client: CapabilityOffer): string[] {
  const missing = (needs: readonly string[], has: readonly string[]): string[] =>
    needs.filter((name) => !has.includes(name));
  const serverLacks = missing(client.requires, server.caps);
  const clientLacks = missing(server.requires, client.caps);
  if (serverLacks.length > 0 || clientLacks.length > 0) {
    const [side, other, lacking] = serverLacks.length > 0
      ? ["client", "server", serverLacks]
      : ["server", "client", clientLacks];
    throw new SessionError(
      "ERR_CAPABILITY_MISMATCH",
      `The ${side} requires ${list(lacking)}, which the ${other} lacks (server capabilities: ${
        list(server.caps)
      }; client capabilities: ${list(client.caps)})`,
      { data: { server: [...server.caps], client: [...client.caps] } },
    );
  }
  return server.caps.filter((name, index) => client.caps.includes(name) && server.caps.indexOf(name) === index);
}

/**
 * The interval both sides ping at: the smaller non-zero one of the two
 * hellos, or 0 when neither asks for keepalive or it was not agreed.
 *
 * @param capabilities The agreed capabilities.
 * @param mine This side's hello interval (0 for none).
 * @param theirs The other side's.
 * @returns Milliseconds between pings, 0 for none.
 */
export function agreedKeepaliveInterval(capabilities: readonly string[], mine: number, theirs: number): number {
  if (!capabilities.includes("keepalive")) return 0;
  if (mine === 0) return theirs;
  if (theirs === 0) return mine;
  return Math.min(mine, theirs);
}

function list(names: readonly string[]): string {
  return names.length === 0 ? "[]" : `[${names.join(", ")}]`;
}
