/**
 * The oldest Node.js peerlink runs on, checked when the Node adapter is
 * imported: on an older Node the import fails with one clear error instead of
 * a confusing one later (Node 20, for one, pads abstract socket names to 108
 * bytes, so its `unix:@name` servers cannot be reached from Deno, Bun or a
 * newer Node). Deno and Bun set `process.versions.node` too; the check skips
 * them.
 *
 * Importing this module performs the check; {@link assertSupportedNode} is
 * the check itself.
 *
 * @example
 * ```ts
 * import { assertSupportedNode, MINIMUM_NODE_MAJOR } from "./node_version.ts";
 * assertSupportedNode(`${MINIMUM_NODE_MAJOR}.0.0`);
 * ```
 *
 * @module
 */

import process from "node:process";
import { UsageError } from "../../src/base/errors.ts";

/** The oldest Node.js major release peerlink supports (the package's `engines` says the same). */
export const MINIMUM_NODE_MAJOR = 22;

/**
 * Checks that a Node.js version is one peerlink supports.
 *
 * @example
 * ```ts
 * import { assertSupportedNode } from "./node_version.ts";
 * assertSupportedNode("v24.1.0");
 * try {
 *   assertSupportedNode("20.20.2");
 * } catch (error) {
 *   console.log((error as Error).message); // "peerlink needs Node.js 22 or newer, found Node.js 20.20.2"
 * }
 * ```
 *
 * @param version A version as `process.versions.node` gives it (`"22.12.0"`) or as `node --version` prints it (`"v22.12.0"`).
 * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` if the major version is below {@link MINIMUM_NODE_MAJOR}; `ERR_INVALID_ARGUMENT` if `version` is not a version number.
 */
export function assertSupportedNode(version: string): void {
  const match = /^v?(\d+)\.\d+\.\d+(?:[-+].*)?$/.exec(version);
  if (!match) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected a Node.js version such as "22.12.0", found ${JSON.stringify(version)}`,
    );
  }
  if (Number(match[1]) < MINIMUM_NODE_MAJOR) {
    throw new UsageError(
      "ERR_UNSUPPORTED_PLATFORM",
      `peerlink needs Node.js ${MINIMUM_NODE_MAJOR} or newer, found Node.js ${version.replace(/^v/, "")}`,
    );
  }
}

// Deno and Bun report the Node release they imitate; only a real Node is checked.
const isNode = !("Deno" in globalThis) && process.versions.bun === undefined;
if (isNode && typeof process.versions.node === "string") {
  assertSupportedNode(process.versions.node);
}
