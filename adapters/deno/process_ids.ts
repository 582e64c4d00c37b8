/**
 * The ids of a Deno process. `Deno.uid()` and `Deno.gid()` return the real
 * ids; a Deno process cannot change its ids, so they are its effective ids
 * too. Reading them needs `--allow-sys` (`uid` and `gid`).
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { ProcessIds } from "../../src/transport/runtime_adapter.ts";

/**
 * This process's pid, uid and gid.
 *
 * @returns The ids.
 * @throws {UsageError} `ERR_PERMISSION_DENIED` without `--allow-sys=uid,gid`, with Deno's error as `cause`.
 */
export function denoProcessIds(): ProcessIds {
  try {
    return { pid: Deno.pid, uid: Deno.uid() ?? -1, gid: Deno.gid() ?? -1 };
  } catch (cause) {
    throw new UsageError(
      "ERR_PERMISSION_DENIED",
      "Reading this process's user and group ids needs --allow-sys=uid,gid (Deno)",
      { cause },
    );
  }
}
