/**
 * `peerlink --version`: the version of the package the CLI came with.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where the package's version is written, relative to this file: `deno.json`
 * in the source tree, `package.json` in the npm build (`esm/cli/version.js`).
 */
const MANIFESTS = ["../deno.json", "../../package.json"];

/**
 * The package version from the first manifest next to this file that names
 * peerlink, or `"unknown"` when none can be read (a CLI loaded over https).
 *
 * @returns A version such as `0.1.0`.
 *
 * @example
 * ```ts
 * import { packageVersion } from "./version.ts";
 * console.assert(/^\d+\.\d+\.\d+/.test(packageVersion()));
 * ```
 */
export function packageVersion(): string {
  if (!import.meta.url.startsWith("file:")) return "unknown";
  for (const manifest of MANIFESTS) {
    try {
      const parsed = JSON.parse(readFileSync(fileURLToPath(new URL(manifest, import.meta.url)), "utf8"));
      const named = parsed.name === "peerlink" || parsed.name === "@peerlink/peerlink";
      if (named && typeof parsed.version === "string") return parsed.version;
    } catch {
      // Not this layout: try the next one.
    }
  }
  return "unknown";
}
