/**
 * Child processes on Node: `node:child_process` `spawn` (no shell) with
 * stdin and stdout piped, or with a seqpacket channel at descriptor 3
 * (`../node_spawn.ts`). Loaded when the first child is spawned.
 *
 * @module
 */

import type { ChildSpawnSettings, SpawnedChild } from "../../src/transport/runtime_adapter.ts";
import { spawnChannelChild, startNodeChild } from "../node_spawn.ts";
import { NodePipeStream } from "./pipe_stream.ts";

/**
 * Starts a child process with `node:child_process`.
 *
 * @param command The program (looked up in `PATH` when it has no slash).
 * @param settings Arguments, environment, working directory, stderr, the channel if any.
 * @returns The running child, once Node reported it spawned.
 * @throws {UsageError} `ERR_SPAWN_FAILED` when Node reports an error instead (ENOENT, EACCES, ...).
 */
export async function spawnNodeChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild> {
  if (settings.channel !== undefined) return spawnChannelChild(command, settings);
  const child = await startNodeChild(command, settings, ["pipe", "pipe", settings.stderr]);
  // Piped, so present.
  const stdin = child.process.stdin!;
  const stdout = child.process.stdout!;
  // EPIPE once the child is gone must not crash this process.
  const ignore = (): void => {};
  stdin.on("error", ignore);
  stdout.on("error", ignore);
  const stdio = new NodePipeStream(stdout, stdin, { transport: "stdio" }, () => {
    stdin.end();
    stdout.destroy();
  });
  return { pid: child.process.pid!, stdio, stderr: child.stderr, exited: child.exited, kill: child.kill };
}
