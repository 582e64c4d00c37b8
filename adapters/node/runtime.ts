/**
 * Node's socket operations: `node:net` for Unix stream sockets, `node:net`
 * and `node:tls` for TCP and TLS (the shared module in `../node_net/`),
 * and koffi (loaded on first use) for seqpacket sockets.
 *
 * @module
 */

import "./node_version.ts";
import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { listenUnix } from "../../src/transport/unix_listener.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { readNodeTextFile } from "../node_fs.ts";
import { connectNodeTcp, listenNodeTcp } from "../node_net/mod.ts";
import { nodeStreamListener } from "./stream_listener.ts";
import { connectNodeStream } from "./stream_socket.ts";

/** Node's socket operations. */
export const nodeRuntime: RuntimeAdapter = {
  name: "node",
  listenStream: (address, options) => listenUnix(address, nodeStreamListener, options),
  connectStream: connectNodeStream,
  listenTcp: listenNodeTcp,
  connectTcp: connectNodeTcp,
  readTextFile: readNodeTextFile,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
};
