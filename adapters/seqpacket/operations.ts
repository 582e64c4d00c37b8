/**
 * The seqpacket operations of a runtime adapter, built once per runtime from
 * its {@link SeqpacketPlatform}: checks the platform before anything touches
 * FFI, loads the runtime's bindings on first use, and resolves the options'
 * defaults. The options' ranges were checked where they entered (the public
 * entry points); only what the system itself limits is checked here (see
 * `SeqpacketSystem.prepare`).
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { RuntimeAdapter, SeqpacketOptions } from "../../src/transport/runtime_adapter.ts";
import { DEFAULT_SOCKET_MODE } from "../../src/transport/unix_listener.ts";
import type { SeqpacketPlatform } from "./libc.ts";
import { layoutFor, type StructLayout, unsupportedPlatform } from "./layout.ts";
import { SeqpacketSystem, type SocketLimits } from "./system.ts";
import { adopt, listen } from "./listener.ts";
import { adoptConnected, childChannel, closeOnExec, connect, pair } from "./connect.ts";

/** The seqpacket operations of a runtime adapter. */
export type SeqpacketOperations = Pick<
  RuntimeAdapter,
  | "listenSeqpacket"
  | "connectSeqpacket"
  | "seqpacketPair"
  | "adoptSeqpacket"
  | "seqpacketChildChannel"
  | "adoptSeqpacketConnection"
  | "closeOnExec"
>;

/** Default `maxPacketSize`: 64 KiB, which fits in the kernel's default send buffer. */
export const DEFAULT_MAX_PACKET_SIZE = 65536;

/** Default `maxFds`. */
export const DEFAULT_MAX_FDS = 16;

/** Default `backlog` of a listener. */
export const DEFAULT_BACKLOG = 128;

/**
 * Builds the seqpacket operations of one runtime.
 *
 * @param platform How to query the platform and load the FFI bindings.
 * @returns The operations; each throws `UsageError` `ERR_UNSUPPORTED_PLATFORM` off Linux on x86_64 or aarch64,
 *   before loading anything, and `ERR_PERMISSION_DENIED` when the runtime refuses to load libc (Deno without
 *   `--allow-ffi`).
 */
export function createSeqpacketOperations(platform: SeqpacketPlatform): SeqpacketOperations {
  let system: Promise<SeqpacketSystem> | undefined;

  function load(): Promise<SeqpacketSystem> {
    if (system === undefined) {
      const layout = checkPlatform(platform);
      const loading = platform.loadBackend().then(
        (backend) => new SeqpacketSystem(backend, layout),
        (error: unknown) => {
          throw permissionProblem(error) ?? error;
        },
      );
      loading.catch(() => {
        if (system === loading) system = undefined;
      });
      system = loading;
    }
    return system;
  }

  return {
    async listenSeqpacket(address, options) {
      const settings = {
        ...limits(options),
        mode: options.mode ?? DEFAULT_SOCKET_MODE,
        backlog: options.backlog ?? DEFAULT_BACKLOG,
      };
      return listen(await load(), address, settings);
    },
    async adoptSeqpacket(fd, shown, options) {
      const settings = { ...limits(options), mode: DEFAULT_SOCKET_MODE, backlog: DEFAULT_BACKLOG };
      return adopt(await load(), fd, shown, settings);
    },
    async connectSeqpacket(address, options) {
      return connect(await load(), address, limits(options));
    },
    async seqpacketPair(options) {
      return pair(await load(), limits(options));
    },
    async seqpacketChildChannel(options) {
      return childChannel(await load(), limits(options));
    },
    async adoptSeqpacketConnection(fd, shown, options) {
      return adoptConnected(await load(), fd, shown, limits(options));
    },
    async closeOnExec(fd) {
      return closeOnExec(await load(), fd);
    },
  };
}

/** A runtime's refusal to load libc (Deno's `NotCapable` without `--allow-ffi`) as a `UsageError`. */
function permissionProblem(error: unknown): UsageError | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  if (name !== "NotCapable" && name !== "PermissionDenied") return undefined;
  return new UsageError(
    "ERR_PERMISSION_DENIED",
    `Seqpacket sockets need this runtime's FFI, which it may not use (on Deno, add --allow-ffi): ${
      (error as Error).message
    }`,
    { cause: error },
  );
}

function checkPlatform(platform: SeqpacketPlatform): StructLayout {
  const arch = platform.arch();
  const problem = unsupportedPlatform(platform.os(), arch);
  if (problem !== undefined) throw new UsageError("ERR_UNSUPPORTED_PLATFORM", problem);
  return layoutFor(arch)!;
}

function limits(options: SeqpacketOptions): SocketLimits {
  return {
    maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
    maxFds: options.maxFds ?? DEFAULT_MAX_FDS,
  };
}
