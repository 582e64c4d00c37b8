/**
 * Loads the seqpacket layer on first use, so that nothing FFI-related is
 * imported until a `seqpacket:` address is used: neither the shared core in
 * `adapters/seqpacket/` nor the runtime's binding.
 *
 * @module
 */

import { lazyImport } from "./lazy_import.ts";
import type { SeqpacketPlatform } from "./seqpacket/libc.ts";
import type { SeqpacketOperations } from "./seqpacket/operations.ts";

/**
 * Wraps a dynamic import of a runtime's seqpacket binding.
 *
 * @param load Imports the runtime's `seqpacket_ffi.ts`.
 * @returns Operations that import the binding and the shared core when first called.
 */
export function lazySeqpacket(load: () => Promise<{ seqpacketPlatform: SeqpacketPlatform }>): SeqpacketOperations {
  const operations = lazyImport(() =>
    Promise.all([load(), import("./seqpacket/operations.ts")])
      .then(([binding, core]) => core.createSeqpacketOperations(binding.seqpacketPlatform))
  );
  return {
    listenSeqpacket: async (address, options) => (await operations()).listenSeqpacket(address, options),
    adoptSeqpacket: async (fd, shown, options) => (await operations()).adoptSeqpacket(fd, shown, options),
    connectSeqpacket: async (address, options) => (await operations()).connectSeqpacket(address, options),
    seqpacketPair: async (options) => (await operations()).seqpacketPair(options),
    seqpacketChildChannel: async (options) => (await operations()).seqpacketChildChannel(options),
    adoptSeqpacketConnection: async (fd, shown, options) =>
      (await operations()).adoptSeqpacketConnection(fd, shown, options),
    closeOnExec: async (fd) => (await operations()).closeOnExec(fd),
  };
}
