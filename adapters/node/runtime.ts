/**
 * Node's socket operations: `node:net` for Unix stream sockets, `node:net`
 * and `node:tls` for TCP and TLS (the shared modules in `../node_net/`),
 * koffi for seqpacket sockets and for the peer credentials of Unix stream
 * sockets, `node:child_process` for children, and `node:fs` for files.
 * TCP and TLS, children and seqpacket sockets are loaded on first use
 * (`../lazy_import.ts` says why).
 *
 * @module
 */

import "./node_version.ts";
import process from "node:process";
import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { adoptUnix, listenUnix } from "../../src/transport/unix_listener.ts";
import { activationOperations } from "../socket_activation.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { takeChannelVariable } from "../channel_variable.ts";
import { createNodeFile, nodeFileStatus, nodeSocketFiles, readNodeTextFile } from "../node_fs.ts";
import { lazyImport } from "../lazy_import.ts";
import { connectNodeUnix, nodeUnixListener } from "../node_net/unix_socket.ts";
import { nodeCredentialsUnavailable, nodeStreamCredentials } from "./credentials.ts";
import { nodeStdio } from "./stdio.ts";

const tcpListener = lazyImport(() => import("../node_net/tcp_listener.ts"));
const tcpConnect = lazyImport(() => import("../node_net/tcp_connect.ts"));
const children = lazyImport(() => import("./child_process.ts"));
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
  listenTcp: async (address, settings) => (await tcpListener()).listenNodeTcp(address, settings),
  connectTcp: async (address, settings) => (await tcpConnect()).connectNodeTcp(address, settings),
  readTextFile: readNodeTextFile,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
  credentialsUnavailable: nodeCredentialsUnavailable,
  processIds: () => ({ pid: process.pid, uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 }),
  createFile: createNodeFile,
  fileStatus: nodeFileStatus,
  takeChannelVariable,
  spawnChild: async (command, settings) => (await children()).spawnNodeChild(command, settings),
  stdio: nodeStdio,
};
