/**
 * Peer credentials (SO_PEERCRED) of Unix stream sockets, read through the
 * runtime's FFI, which is loaded only when the first `unix:` socket is
 * made: neither the runtime's binding nor the shared reader in
 * `adapters/seqpacket/` is imported before. Each accepted or connected
 * socket then costs one `getsockopt` call, when it opens; nothing per
 * message.
 *
 * Where the FFI cannot be loaded (Node without koffi, Deno without
 * `--allow-ffi`, another OS than Linux) sockets simply carry no
 * credentials, and {@link StreamCredentials.unavailable} says why.
 *
 * @module
 */

import type { PeerCredentials } from "../src/transport/types.ts";
import type { Libc } from "./seqpacket/libc.ts";

/** Reads the credentials of one connected socket; `undefined` if the kernel would not say. */
export type CredentialsReader = (fd: number) => PeerCredentials | undefined;

/** How a runtime reaches libc for credentials. */
export interface CredentialsPlatform {
  /**
   * Why the runtime's FFI cannot be used, as far as can be told without
   * loading anything (the OS, a missing package, a permission not given).
   *
   * @returns The reason, or `undefined` if loading should work.
   */
  unavailable(): string | undefined;
  /** Imports the runtime's FFI binding and binds libc (the binding does it once per process). */
  loadLibc(): Promise<Libc>;
}

/** The credentials of a runtime's Unix stream sockets. */
export interface StreamCredentials {
  /**
   * Why accepted and connected `unix:` sockets carry no credentials.
   *
   * @returns The reason, or `undefined` when they do.
   */
  unavailable(): string | undefined;
  /**
   * Loads the FFI on first call (later calls share it).
   *
   * @returns The reader, or `undefined` when credentials are unavailable (the reason is kept for `unavailable`).
   */
  reader(): Promise<CredentialsReader | undefined>;
}

/**
 * Wraps a runtime's way to libc into a lazily loaded credentials reader.
 *
 * @param platform The runtime's availability check and libc loader.
 * @returns The credentials of the runtime's stream sockets.
 *
 * @example
 * ```ts ignore
 * import { lazyCredentials } from "./lazy_credentials.ts";
 * const credentials = lazyCredentials({
 *   unavailable: () => undefined,
 *   loadLibc: async () => (await import("./deno/seqpacket_ffi.ts")).loadLibc(),
 * });
 * const read = await credentials.reader();
 * ```
 */
export function lazyCredentials(platform: CredentialsPlatform): StreamCredentials {
  let loading: Promise<CredentialsReader | undefined> | undefined;
  let failure: string | undefined;
  const load = async (): Promise<CredentialsReader | undefined> => {
    if (platform.unavailable() !== undefined) return undefined;
    try {
      const [libc, { readPeerCredentials }] = await Promise.all([
        platform.loadLibc(),
        import("./seqpacket/peer_credentials.ts"),
      ]);
      return (fd) => {
        try {
          return readPeerCredentials(libc, fd);
        } catch {
          return undefined;
        }
      };
    } catch (error) {
      failure = `the FFI could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    }
  };
  return {
    unavailable: () => platform.unavailable() ?? failure,
    reader: () => loading ??= load(),
  };
}
