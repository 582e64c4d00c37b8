/**
 * The three public seqpacket functions, built once per runtime from its
 * {@link SeqpacketRuntime}. Checks the platform before anything touches FFI,
 * validates arguments, and loads the runtime's bindings on first use.
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { Listener, PacketSocket } from "../../src/transport/types.ts";
import {
  DEFAULT_BACKLOG,
  DEFAULT_MAX_FDS,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_MODE,
  type SeqpacketAddress,
  type SeqpacketListenOptions,
  type SeqpacketOptions,
} from "./types.ts";
import type { SeqpacketRuntime } from "./libc.ts";
import { layoutFor, type StructLayout } from "./layout.ts";
import { SCM_MAX_FD } from "./linux.ts";
import { SeqpacketSystem, type SocketLimits } from "./system.ts";
import { listen, type ListenerSettings } from "./listener.ts";
import { connect, pair } from "./connect.ts";

/** The functions each runtime file exports. */
export interface SeqpacketApi {
  /** See `listenSeqpacket` in the runtime files. */
  listen(address: SeqpacketAddress, options?: SeqpacketListenOptions): Promise<Listener<PacketSocket>>;
  /** See `connectSeqpacket` in the runtime files. */
  connect(address: SeqpacketAddress, options?: SeqpacketOptions): Promise<PacketSocket>;
  /** See `seqpacketPair` in the runtime files. */
  pair(options?: SeqpacketOptions): Promise<[PacketSocket, PacketSocket]>;
}

/**
 * Builds the seqpacket functions of one runtime.
 *
 * @param runtime How to query the platform and load the FFI bindings.
 * @returns The functions.
 */
export function createSeqpacketApi(runtime: SeqpacketRuntime): SeqpacketApi {
  let layout: StructLayout | undefined;
  let system: Promise<SeqpacketSystem> | undefined;

  function checkPlatform(): StructLayout {
    if (layout !== undefined) return layout;
    const os = runtime.os();
    const arch = runtime.arch();
    const found = layoutFor(arch);
    if (os !== "linux" || found === undefined) {
      throw new UsageError(
        "ERR_UNSUPPORTED_PLATFORM",
        `SOCK_SEQPACKET sockets are supported only on Linux (x86_64 or aarch64), found ${os} on ${arch}`,
      );
    }
    return layout = found;
  }

  function load(found: StructLayout): Promise<SeqpacketSystem> {
    if (system === undefined) {
      const loading = runtime.load().then((backend) => new SeqpacketSystem(backend, found));
      loading.catch(() => {
        if (system === loading) system = undefined;
      });
      system = loading;
    }
    return system;
  }

  return {
    async listen(address, options = {}) {
      const found = checkPlatform();
      checkAddress(address);
      const settings: ListenerSettings = {
        ...limits(options),
        mode: integerOption("mode", options.mode, DEFAULT_MODE, 0, 0o7777),
        backlog: integerOption("backlog", options.backlog, DEFAULT_BACKLOG, 1, 65535),
      };
      return listen(await load(found), address, settings);
    },
    async connect(address, options = {}) {
      const found = checkPlatform();
      checkAddress(address);
      const socketLimits = limits(options);
      return connect(await load(found), address, socketLimits);
    },
    async pair(options = {}) {
      const found = checkPlatform();
      const socketLimits = limits(options);
      return pair(await load(found), socketLimits);
    },
  };
}

function checkAddress(address: SeqpacketAddress): void {
  if (
    typeof address !== "object" || address === null || typeof address.path !== "string" ||
    typeof address.abstract !== "boolean"
  ) {
    throw new UsageError("ERR_INVALID_ADDRESS", "Expected a seqpacket address as { path: string, abstract: boolean }");
  }
}

function limits(options: SeqpacketOptions): SocketLimits {
  return {
    maxPacketSize: integerOption("maxPacketSize", options.maxPacketSize, DEFAULT_MAX_PACKET_SIZE, 1, 0x7fffffff - 32),
    maxFds: integerOption("maxFds", options.maxFds, DEFAULT_MAX_FDS, 0, SCM_MAX_FD),
  };
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Expected ${name} to be an integer from ${min} to ${max}, found ${value}`,
    );
  }
  return value;
}
