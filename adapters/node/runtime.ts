/**
 * Node's socket operations: `node:net` for Unix stream sockets, `node:net`
 * and `node:tls` for TCP and TLS (the shared modules in `../node_net/`),
 * koffi (loaded on first use) for seqpacket sockets and for the peer
 * credentials of Unix stream sockets, and `node:fs` for files.
 *
 * @module
 */

import "./node_version.ts";
import process from "node:process";
import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { adoptUnix, listenUnix } from "../../src/transport/unix_listener.ts";
import { activationOperations } from "../socket_activation.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { takeChannelVariable } from "../node_spawn.ts";
import { createNodeFile, nodeFileStatus, nodeSocketFiles, readNodeTextFile } from "../node_fs.ts";
import { connectNodeTcp, connectNodeUnix, listenNodeTcp, nodeUnixListener } from "../node_net/mod.ts";
import { nodeCredentialsUnavailable, nodeStreamCredentials } from "./credentials.ts";
import { nodeStdio, spawnNodeChild } from "./child_process.ts";

const unixListener = nodeUnixListener(nodeSocketFiles, nodeStreamCredentials);
const activation = activationOperations(async () =>
  nodeStreamCredentials.unavailable() === undefined
    ? (await import("./seqpacket_ffi.ts")).loadLibc().catch(() => undefined)
    : undefined
);

/** Node's socket operations. */
export const nodeRuntime: RuntimeAdapter = {
  name: "node",
  listenStream: (address, options) => listenUnix(address, unixListener, options),
  adoptStream: (fd, shown) => adoptUnix(fd, unixListener, shown),
  connectStream: (address) => connectNodeUnix(address, nodeStreamCredentials),
  ...activation,
  listenTcp: listenNodeTcp,
  connectTcp: connectNodeTcp,
  readTextFile: readNodeTextFile,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
  credentialsUnavailable: nodeCredentialsUnavailable,
  processIds: () => ({ pid: process.pid, uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 }),
  createFile: createNodeFile,
  fileStatus: nodeFileStatus,
  takeChannelVariable,
  spawnChild: spawnNodeChild,
  stdio: nodeStdio,
};
