/**
 * Bun's socket operations: `Bun.listen` / `Bun.connect` for Unix stream
 * sockets, TCP and TLS, `bun:ffi` (loaded on first use) for seqpacket
 * sockets, peer credentials and the listeners' guard against spinning at
 * the descriptor limit, and `node:fs` for files.
 *
 * @module
 */

import process from "node:process";
import { UsageError } from "../../src/base/errors.ts";
import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { errnoOf } from "../../src/transport/socket_errors.ts";
import { adoptUnix, listenUnix } from "../../src/transport/unix_listener.ts";
import { activationOperations } from "../socket_activation.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { takeChannelVariable } from "../node_spawn.ts";
import { createNodeFile, nodeFileStatus } from "../node_fs.ts";
import { bunGlobal } from "./bun_api.ts";
import { bunCredentialsUnavailable } from "./credentials.ts";
import { bunLibcIfAvailable } from "./lazy_libc.ts";
import { bunStreamListener } from "./stream_listener.ts";
import { connectBunStream } from "./stream_socket.ts";
import { listenBunTcp } from "./tcp_listener.ts";
import { connectBunTcp } from "./tcp_socket.ts";
import { bunStdio, spawnBunChild } from "./child_process.ts";

/**
 * Reads a UTF-8 text file with `Bun.file`.
 *
 * @param path The file.
 * @returns Its text.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the file, with Bun's error as `cause`.
 */
async function readTextFile(path: string): Promise<string> {
  try {
    return await bunGlobal().file(path).text();
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const errno = errnoOf(cause);
    const reason = errno === undefined || message.includes(errno) ? message : `${message} (${errno})`;
    throw new UsageError("ERR_INVALID_ARGUMENT", `Cannot read ${path}: ${reason}`, { cause });
  }
}

/** Bun's socket operations. */
export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  listenStream: (address, options) => listenUnix(address, bunStreamListener, options),
  adoptStream: (fd, shown) => adoptUnix(fd, bunStreamListener, shown),
  connectStream: connectBunStream,
  ...activationOperations(bunLibcIfAvailable),
  listenTcp: listenBunTcp,
  connectTcp: connectBunTcp,
  readTextFile,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
  credentialsUnavailable: bunCredentialsUnavailable,
  processIds: () => ({ pid: process.pid, uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 }),
  createFile: createNodeFile,
  fileStatus: nodeFileStatus,
  takeChannelVariable,
  spawnChild: spawnBunChild,
  stdio: bunStdio,
};
