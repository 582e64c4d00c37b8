/**
 * peerlink's fizyr-rpc level: a {@link Peer} over a raw message transport,
 * speaking service ids, request ids, bodies and updates directly, for
 * interop with the Rust fizyr-rpc crate and for protocols of your own.
 * `listenTransport`, `connectTransport` and `transportPair` load the
 * adapter of the runtime they run in on first use.
 *
 * @example
 * ```ts ignore
 * import { connectTransport, Peer } from "@peerlink/peerlink/peer";
 *
 * const peer = new Peer(await connectTransport("unix:/tmp/fizyr.sock"));
 * const request = await peer.sendRequest(21, new TextEncoder().encode("Hello World"));
 * console.log(new TextDecoder().decode((await request.response).body));
 * await peer.close();
 * ```
 *
 * @module
 */

import {
  bindRuntime,
  type BoundApi,
  type ConnectTransportFunction,
  type ListenTransportFunction,
  type TransportPairFunction,
} from "./src/api/bind_runtime.ts";
import { loadRuntimeAdapter } from "./adapters/detect.ts";

export * from "./src/api/peer_api.ts";

const api: BoundApi = bindRuntime(loadRuntimeAdapter);
/** Listens for raw message transports on an address such as `unix:/run/app.sock`. */
export const listenTransport: ListenTransportFunction = api.listenTransport;
/** Connects a raw message transport. */
export const connectTransport: ConnectTransportFunction = api.connectTransport;
/** Creates a connected pair of seqpacket transports in this process (Linux). */
export const transportPair: TransportPairFunction = api.transportPair;
