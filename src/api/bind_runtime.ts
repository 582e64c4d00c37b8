/**
 * `listen` and `connect`, bound to a runtime adapter.
 *
 * @module
 */

import { parseAddress, type SocketAddress } from "../transport/address.ts";
import type { Codec } from "../wire/codec.ts";
import { PacketMessageTransport } from "../transport/packet_transport.ts";
import type { RuntimeAdapter, SeqpacketListenOptions, SeqpacketOptions } from "../transport/runtime_adapter.ts";
import { Router } from "../rpc/router.ts";
import { RpcConnection } from "../rpc/connection.ts";
import { type Handshake, RpcServer, type RpcServerOptions } from "../rpc/server.ts";
import type { Service } from "../rpc/service.ts";
import { StreamMessageTransport } from "../transport/stream_transport.ts";
import { type FlowOptions, flowOptionsOf } from "../peer/read_gate.ts";
import type { Listener, MessageTransport } from "../transport/types.ts";

/** Options for connecting a transport (no RPC layer). */
export interface TransportOptions extends SeqpacketOptions {
  /** Largest message (header + body) on stream sockets. Default 16 MiB. */
  maxMessageSize?: number;
}

/** Options for listening for transports (no RPC layer). */
export interface ListenTransportOptions extends TransportOptions, SeqpacketListenOptions {}

/** Options of `listen`. */
export interface ListenOptions<S extends Service = Service> extends ListenTransportOptions, RpcServerOptions {
  /** The methods to serve. More can be added with `server.router.handle()`. */
  handlers?: S;
  /** Explicit method name → service id mapping (fizyr interop); other names are hashed. */
  serviceIds?: Readonly<Record<string, number>>;
}

/** Options of `connect`. */
export interface ConnectOptions extends TransportOptions, FlowOptions {
  /** Body codec; default CBOR. */
  codec?: Codec;
  /** Handlers this side offers to the server (calls in the other direction). */
  handlers?: Service;
  /** Explicit method name → service id mapping (fizyr interop). */
  serviceIds?: Readonly<Record<string, number>>;
  /** Handshake run before the RPC layer starts. */
  handshake?: Handshake;
  /** Called once the connection closed, with the error that closed it, if any. */
  onClose?: (error: unknown) => void;
}

/** Starts an RPC server on an address. */
export type ListenFunction = <S extends Service>(address: string, options?: ListenOptions<S>) => Promise<RpcServer>;
/** Connects to an RPC server; `Remote` is the server's service type. */
export type ConnectFunction = <Remote = Service>(address: string, options?: ConnectOptions) => Promise<RpcConnection<Remote>>;
/** Listens for raw message transports (for the low-level `Peer` API). */
export type ListenTransportFunction = (
  address: string,
  options?: ListenTransportOptions,
) => Promise<Listener<MessageTransport>>;
/** Connects a raw message transport (for the low-level `Peer` API). */
export type ConnectTransportFunction = (address: string, options?: TransportOptions) => Promise<MessageTransport>;
/** Creates two connected seqpacket transports in this process. */
export type TransportPairFunction = (options?: SeqpacketOptions) => Promise<[MessageTransport, MessageTransport]>;

/** The functions a runtime entry point exports. */
export interface BoundApi {
  /** Starts an RPC server. */
  listen: ListenFunction;
  /** Connects an RPC client. */
  connect: ConnectFunction;
  /** Listens for raw transports. */
  listenTransport: ListenTransportFunction;
  /** Connects a raw transport. */
  connectTransport: ConnectTransportFunction;
  /** A connected seqpacket pair in one process. */
  transportPair: TransportPairFunction;
  /** The runtime adapter in use. */
  detectRuntime: () => Promise<RuntimeAdapter>;
}

/**
 * Binds `listen`, `connect` and the transport functions to a runtime.
 *
 * @param loadRuntime Returns the runtime adapter (loaded lazily by `mod.ts`).
 * @returns The bound functions.
 */
export function bindRuntime(loadRuntime: () => Promise<RuntimeAdapter>): BoundApi {
  const listenTransport: ListenTransportFunction = async (address, options = {}) => {
    const parsed = parseAddress(address);
    const runtime = await loadRuntime();
    if (parsed.transport === "seqpacket") {
      return mapListener(await runtime.listenSeqpacket(parsed, seqpacketOptions(options)), (s) => new PacketMessageTransport(s));
    }
    const listener = await runtime.listenStream(parsed, options.mode === undefined ? {} : { mode: options.mode });
    return mapListener(listener, (stream) => new StreamMessageTransport(stream, streamOptions(options)));
  };

  const connectTransport: ConnectTransportFunction = async (address, options = {}) => {
    const parsed: SocketAddress = parseAddress(address);
    const runtime = await loadRuntime();
    if (parsed.transport === "seqpacket") {
      return new PacketMessageTransport(await runtime.connectSeqpacket(parsed, seqpacketOptions(options)));
    }
    return new StreamMessageTransport(await runtime.connectStream(parsed), streamOptions(options));
  };

  const listen: ListenFunction = async (address, options = {}) => {
    const router = new Router(options.serviceIds);
    for (const [name, handler] of Object.entries(options.handlers ?? {})) router.handle(name, handler);
    return new RpcServer(await listenTransport(address, options), router, options);
  };

  const connect: ConnectFunction = async <Remote>(address: string, options: ConnectOptions = {}) => {
    const transport = await connectTransport(address, options);
    try {
      await options.handshake?.(transport);
    } catch (error) {
      await transport.close().catch(() => {});
      throw error;
    }
    const { codec, handlers, serviceIds, onClose } = options;
    return new RpcConnection<Remote>(transport, {
      ...flowOptionsOf(options),
      ...(codec ? { codec } : {}),
      ...(handlers ? { handlers } : {}),
      ...(serviceIds ? { serviceIds } : {}),
      ...(onClose ? { onClose } : {}),
    });
  };

  const transportPair: TransportPairFunction = async (options = {}) => {
    const [a, b] = await (await loadRuntime()).seqpacketPair(seqpacketOptions(options));
    return [new PacketMessageTransport(a), new PacketMessageTransport(b)];
  };

  return { listen, connect, listenTransport, connectTransport, transportPair, detectRuntime: loadRuntime };
}

function streamOptions(options: TransportOptions): { maxMessageSize?: number } {
  return options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize };
}

function seqpacketOptions(options: ListenTransportOptions): SeqpacketListenOptions {
  const result: SeqpacketListenOptions = {};
  if (options.maxPacketSize !== undefined) result.maxPacketSize = options.maxPacketSize;
  if (options.maxFds !== undefined) result.maxFds = options.maxFds;
  if (options.mode !== undefined) result.mode = options.mode;
  if (options.backlog !== undefined) result.backlog = options.backlog;
  return result;
}

function mapListener<A, B>(listener: Listener<A>, wrap: (connection: A) => B): Listener<B> {
  return {
    address: listener.address,
    async accept(): Promise<B | null> {
      const connection = await listener.accept();
      return connection === null ? null : wrap(connection);
    },
    close: () => listener.close(),
  };
}
