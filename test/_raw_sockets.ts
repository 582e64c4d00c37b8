/**
 * Raw byte streams of the runtime running the tests, below the message
 * layer: for tests that write hand-made (or malformed) frames, or play a
 * server that misbehaves.
 *
 * @module
 */

import { loadRuntimeAdapter } from "../adapters/detect.ts";
import { parseUnixAddress } from "../src/transport/address.ts";
import type { ByteStream, Listener } from "../src/transport/types.ts";

/**
 * Connects a raw stream socket.
 *
 * @param address A `unix:` address.
 */
export async function connectRawStream(address: string): Promise<ByteStream> {
  return (await loadRuntimeAdapter()).connectStream(parseUnixAddress(address));
}

/**
 * Listens for raw stream sockets.
 *
 * @param address A `unix:` address.
 */
export async function listenRawStream(address: string): Promise<Listener<ByteStream>> {
  return (await loadRuntimeAdapter()).listenStream(parseUnixAddress(address), {});
}
