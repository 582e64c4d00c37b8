/**
 * Bun's socket operations: `Bun.listen` / `Bun.connect` for Unix stream
 * sockets and `bun:ffi` (loaded on first use) for seqpacket sockets.
 *
 * @module
 */

import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { listenUnix } from "../../src/transport/unix_listener.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { bunStreamListener } from "./stream_listener.ts";
import { connectBunStream } from "./stream_socket.ts";

/** Bun's socket operations. */
export const bunRuntime: RuntimeAdapter = {
  name: "bun",
  listenStream: (address, options) => listenUnix(address, bunStreamListener, options),
  connectStream: connectBunStream,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
};
