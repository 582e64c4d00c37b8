/**
 * Reading `PEERLINK_CHANNEL` in a child that a peerlink parent started with
 * a seqpacket channel at descriptor 3 (`./node_spawn.ts` starts it). Kept
 * apart from `node_spawn.ts` so that every process can read the variable
 * without loading `node:child_process`.
 *
 * @module
 */

import { readVariable, unsetVariable } from "./environment.ts";
import { CHANNEL_VARIABLE } from "../src/transport/child_channel.ts";

/** What `takeChannelVariable` read, once it was called. */
let channelVariable: { value: string | undefined } | undefined;

/**
 * Reads `PEERLINK_CHANNEL` and removes it from the environment, with
 * `DENO_EXTRA_STDIO_FDS` when it was set; the first call reads, later
 * calls return what it read.
 *
 * @returns The value, or `undefined` when it is not set or may not be read (Deno without `--allow-env`).
 */
export function takeChannelVariable(): string | undefined {
  if (channelVariable === undefined) {
    const value = readVariable(CHANNEL_VARIABLE);
    channelVariable = { value };
    if (value !== undefined) {
      unsetVariable(CHANNEL_VARIABLE);
      if (readVariable(DENO_EXTRA_STDIO_FDS) !== undefined) unsetVariable(DENO_EXTRA_STDIO_FDS);
    }
  }
  return channelVariable.value;
}

/** The variable a Deno parent's `node:child_process` sets for descriptors beyond stdio. */
const DENO_EXTRA_STDIO_FDS = "DENO_EXTRA_STDIO_FDS";
