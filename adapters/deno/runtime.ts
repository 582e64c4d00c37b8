/**
 * Deno's socket operations: `Deno.listen` / `Deno.connect` for Unix stream
 * sockets and TCP, node:tls for TLS servers and `Deno.startTls` or node:tls
 * for TLS clients (`tcp_listener.ts` and `tcp_connect.ts` say which case
 * takes which path, and why), `Deno.readTextFile` for certificate files, and
 * `Deno.dlopen` (loaded on first use) for seqpacket sockets.
 *
 * @module
 */

import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { listenUnix } from "../../src/transport/unix_listener.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { denoStreamListener } from "./stream_listener.ts";
import { connectDenoStream } from "./stream_socket.ts";
import { connectDenoTcp } from "./tcp_connect.ts";
import { listenDenoTcp } from "./tcp_listener.ts";
import { readDenoTextFile } from "./text_file.ts";

/** Deno's socket operations. */
export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  listenStream: (address, options) => listenUnix(address, denoStreamListener, options),
  connectStream: connectDenoStream,
  ...lazySeqpacket(() => import("./seqpacket_ffi.ts")),
  listenTcp: listenDenoTcp,
  connectTcp: connectDenoTcp,
  readTextFile: readDenoTextFile,
};
