/**
 * Bun's socket operations: `Bun.listen` / `Bun.connect` for Unix stream
 * sockets, TCP and TLS, `bun:ffi` for seqpacket sockets, peer credentials
 * and the listeners' guard against spinning at the descriptor limit,
 * `Bun.spawn` for children, and `node:fs` for files. TCP and TLS, children
 * and `bun:ffi` are loaded on first use (`../lazy_import.ts` says why).
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
import { takeChannelVariable } from "../channel_variable.ts";
import { createNodeFile, nodeFileStatus } from "../node_fs.ts";
import { bunGlobal } from "./bun_api.ts";
import { bunCredentialsUnavailable } from "./credentials.ts";
import { bunLibcIfAvailable } from "./lazy_libc.ts";
import { bunStreamListener } from "./stream_listener.ts";
import { connectBunStream } from "./stream_socket.ts";
import { bunStdio } from "./stdio.ts";
import { lazyImport } from "../lazy_import.ts";

const tcpListener = lazyImport(() => import("./tcp_listener.ts"));
const tcpConnect = lazyImport(() => import("./tcp_socket.ts"));
const children = lazyImport(() => import("./child_process.ts"));

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
  listenTcp: async (address, settings) => (await tcpListener()).listenBunTcp(address, settings),
  connectTcp: async (address, settings) => (await tcpConnect()).connectBunTcp(address, settings),
  readTextFile,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
  credentialsUnavailable: bunCredentialsUnavailable,
  processIds: () => ({ pid: process.pid, uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 }),
  createFile: createNodeFile,
  fileStatus: nodeFileStatus,
  takeChannelVariable,
  spawnChild: async (command, settings) => (await children()).spawnBunChild(command, settings),
  stdio: bunStdio,
};
