/**
 * Deno's socket operations: Unix stream sockets through `node:net` when
 * `--allow-ffi` was given (a `Deno.UnixConn` shows no descriptor, so only
 * `node:net` sockets get peer credentials; README.md says what that costs)
 * and through `Deno.listen` / `Deno.connect` otherwise; `Deno.listen` /
 * `Deno.connect` for TCP, node:tls for TLS servers and `Deno.startTls` or
 * node:tls for TLS clients (`tcp_listener.ts` and `tcp_connect.ts` say
 * which case takes which path, and why); `Deno.*` for files; and
 * `Deno.dlopen` (loaded on first use) for seqpacket sockets, peer
 * credentials and the guard of `node:net` servers at the descriptor limit.
 * The first listener sets up Deno's signal handling early
 * (`signal_setup.ts`).
 *
 * @module
 */

import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { adoptUnix, listenUnix } from "../../src/transport/unix_listener.ts";
import { activationOperations } from "../socket_activation.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { takeChannelVariable } from "../node_spawn.ts";
import { connectNodeUnix, nodeUnixListener } from "../node_net/mod.ts";
import { denoCredentialsUnavailable, denoFfiUsable, denoGuardLibc, denoStreamCredentials } from "./credentials.ts";
import { createDenoFile, denoFileStatus, readDenoTextFile } from "./files.ts";
import { connectDenoUnix, denoNativeUnixListener } from "./native_unix.ts";
import { denoProcessIds } from "./process_ids.ts";
import { setUpSignalsEarly } from "./signal_setup.ts";
import { closeDenoStdioCopy, denoStdio, spawnDenoChild } from "./child_process.ts";
import { denoSocketFiles } from "./socket_files.ts";
import { connectDenoTcp } from "./tcp_connect.ts";
import { listenDenoTcp } from "./tcp_listener.ts";

const nodeNetUnixListener = nodeUnixListener(denoSocketFiles, denoStreamCredentials, denoGuardLibc);
const seqpacket = lazySeqpacket(() => import("./seqpacket_ffi.ts"));

/** Deno's socket operations. */
export const denoRuntime: RuntimeAdapter = {
  name: "deno",
  listenStream(address, options) {
    setUpSignalsEarly();
    return listenUnix(address, denoFfiUsable() ? nodeNetUnixListener : denoNativeUnixListener, options);
  },
  // Deno.listen cannot serve a descriptor it did not open (it ignores `fd`); node:net can.
  adoptStream(fd, shown) {
    setUpSignalsEarly();
    return adoptUnix(fd, nodeNetUnixListener, shown);
  },
  ...activationOperations(denoGuardLibc),
  takeChannelVariable,
  connectStream: (address) =>
    denoFfiUsable() ? connectNodeUnix(address, denoStreamCredentials) : connectDenoUnix(address),
  ...seqpacket,
  listenSeqpacket(address, options) {
    setUpSignalsEarly();
    return seqpacket.listenSeqpacket(address, options);
  },
  async adoptSeqpacketConnection(fd, shown, options) {
    const socket = await seqpacket.adoptSeqpacketConnection(fd, shown, options);
    closeDenoStdioCopy(fd);
    return socket;
  },
  listenTcp(address, settings) {
    setUpSignalsEarly();
    return listenDenoTcp(address, settings, denoGuardLibc);
  },
  connectTcp: connectDenoTcp,
  readTextFile: readDenoTextFile,
  credentialsUnavailable: denoCredentialsUnavailable,
  processIds: denoProcessIds,
  createFile: createDenoFile,
  fileStatus: denoFileStatus,
  spawnChild: spawnDenoChild,
  stdio: denoStdio,
};
