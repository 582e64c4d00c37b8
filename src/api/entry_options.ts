/**
 * The options and signatures of the functions every entry point exports:
 * `listen` and `connect` (RPC), and `listenTransport`, `connectTransport`
 * and `transportPair` (raw message transports for the `Peer` API).
 *
 * @module
 */

import type { RpcConnection, RpcConnectionOptions } from "../rpc/connection.ts";
import type { Notifications } from "../rpc/router.ts";
import type { Handshake, RpcServer, RpcServerOptions } from "../rpc/server.ts";
import type { Service } from "../rpc/service.ts";
import type { SeqpacketListenOptions, SeqpacketOptions } from "../transport/runtime_adapter.ts";
import type { Listener, MessageTransport } from "../transport/types.ts";

/** Options for connecting a transport (no RPC layer). */
export interface TransportOptions extends SeqpacketOptions {
  /** Largest message (header + body) on stream sockets: an integer from 12 to 2^32 − 1. Default 16 MiB. */
  maxMessageSize?: number;
}

/** Options for listening for transports (no RPC layer). */
export interface ListenTransportOptions extends TransportOptions, SeqpacketListenOptions {}

/** Options of `listen`. */
export interface ListenOptions<S extends Service = Service> extends ListenTransportOptions, RpcServerOptions<S> {}

/** Options of `connect`. */
export interface ConnectOptions extends TransportOptions, Omit<RpcConnectionOptions, "router"> {
  /** Handshake run before the RPC layer starts; throwing refuses the server. */
  handshake?: Handshake;
}

/** Starts an RPC server on an address. */
export type ListenFunction = <S extends Service>(address: string, options?: ListenOptions<S>) => Promise<RpcServer>;
/**
 * Connects to an RPC server. `Remote` is the server's service type (the type
 * of its `handlers`), `RemoteNotifications` the type of its `notifications`;
 * calls and notifications are checked against them. Without them any name
 * and any parameters are accepted.
 */
export type ConnectFunction = <Remote = Service, RemoteNotifications = Notifications>(
  address: string,
  options?: ConnectOptions,
) => Promise<RpcConnection<Remote, RemoteNotifications>>;
/** Listens for raw message transports (for the low-level `Peer` API). */
export type ListenTransportFunction = (
  address: string,
  options?: ListenTransportOptions,
) => Promise<Listener<MessageTransport>>;
/** Connects a raw message transport (for the low-level `Peer` API). */
export type ConnectTransportFunction = (address: string, options?: TransportOptions) => Promise<MessageTransport>;
/** Creates two connected seqpacket transports in this process. */
export type TransportPairFunction = (options?: SeqpacketOptions) => Promise<[MessageTransport, MessageTransport]>;
