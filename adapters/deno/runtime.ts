/**
 * Deno's socket operations: Unix stream sockets through `node:net` when
 * `--allow-ffi` was given (a `Deno.UnixConn` shows no descriptor, so only
 * `node:net` sockets get peer credentials; README.md says what that costs)
 * and through `Deno.listen` / `Deno.connect` otherwise; `Deno.listen` /
 * `Deno.connect` for TCP, node:tls for TLS servers and `Deno.startTls` or
 * node:tls for TLS clients (`tcp_listener.ts` and `tcp_connect.ts` say
 * which case takes which path, and why); `Deno.*` for files; and
 * `Deno.dlopen` for seqpacket sockets, peer credentials and the guard of
 * `node:net` servers at the descriptor limit; `Deno.Command` for children.
 * TCP and TLS, children and `Deno.dlopen` are loaded on first use
 * (`../lazy_import.ts` says why).
 * The first listener sets up Deno's signal handling early
 * (`signal_setup.ts`).
 *
 * @module
 */

import type { RuntimeAdapter } from "../../src/transport/runtime_adapter.ts";
import { adoptUnix, listenUnix } from "../../src/transport/unix_listener.ts";
import { activationOperations } from "../socket_activation.ts";
import { lazySeqpacket } from "../lazy_seqpacket.ts";
import { takeChannelVariable } from "../channel_variable.ts";
import { lazyImport } from "../lazy_import.ts";
import { connectNodeUnix, nodeUnixListener } from "../node_net/unix_socket.ts";
import { denoCredentialsUnavailable, denoFfiUsable, denoGuardLibc, denoStreamCredentials } from "./credentials.ts";
import { createDenoFile, denoFileStatus, readDenoTextFile } from "./files.ts";
import { connectDenoUnix, denoNativeUnixListener } from "./native_unix.ts";
import { denoProcessIds } from "./process_ids.ts";
import { setUpSignalsEarly } from "./signal_setup.ts";
import { closeDenoStdioCopy, denoStdio } from "./stdio.ts";
import { denoSocketFiles } from "./socket_files.ts";

const tcpListener = lazyImport(() => import("./tcp_listener.ts"));
const tcpConnect = lazyImport(() => import("./tcp_connect.ts"));
const children = lazyImport(() => import("./child_process.ts"));

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
  async listenTcp(address, settings) {
    setUpSignalsEarly();
    return (await tcpListener()).listenDenoTcp(address, settings, denoGuardLibc);
  },
  connectTcp: async (address, settings) => (await tcpConnect()).connectDenoTcp(address, settings),
  readTextFile: readDenoTextFile,
  credentialsUnavailable: denoCredentialsUnavailable,
  processIds: denoProcessIds,
  createFile: createDenoFile,
  fileStatus: denoFileStatus,
  spawnChild: async (command, settings) => (await children()).spawnDenoChild(command, settings),
  stdio: denoStdio,
};
