/**
 * Loads a runtime's seqpacket module on first use, so that nothing
 * FFI-related is imported until a `seqpacket:` address is used.
 *
 * @module
 */

import type { RuntimeAdapter } from "../src/transport/runtime_adapter.ts";

/** The seqpacket operations of a runtime adapter. */
export type SeqpacketOperations = Pick<RuntimeAdapter, "listenSeqpacket" | "connectSeqpacket" | "seqpacketPair">;

/**
 * Wraps a dynamic import of a seqpacket module.
 *
 * @param load Imports the runtime's module under adapters/seqpacket/.
 * @returns Operations that import it when first called.
 */
export function lazySeqpacket(load: () => Promise<SeqpacketOperations>): SeqpacketOperations {
  return {
    listenSeqpacket: async (address, options) => (await load()).listenSeqpacket(address, options),
    connectSeqpacket: async (address, options) => (await load()).connectSeqpacket(address, options),
    seqpacketPair: async (options) => (await load()).seqpacketPair(options),
  };
}
