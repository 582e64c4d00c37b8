/**
 * `listen` and `connect`, bound to a runtime adapter.
 *
 * @module
 */

import { parseAddress, type SocketAddress } from "../transport/address.ts";
import { PacketMessageTransport } from "../transport/packet_transport.ts";
import type { RuntimeAdapter, SeqpacketListenOptions } from "../transport/runtime_adapter.ts";
import { RpcConnection } from "../rpc/connection.ts";
import { RpcServer } from "../rpc/server.ts";
import { StreamMessageTransport } from "../transport/stream_transport.ts";
import type { Listener, MessageTransport } from "../transport/types.ts";
import { checkEntryOptions } from "./validate_options.ts";
import type {
  ConnectFunction,
  ConnectTransportFunction,
  ListenFunction,
  ListenTransportFunction,
  ListenTransportOptions,
  TransportOptions,
  TransportPairFunction,
} from "./entry_options.ts";

export type {
  ConnectFunction,
  ConnectOptions,
  ConnectTransportFunction,
  ListenFunction,
  ListenOptions,
  ListenTransportFunction,
  ListenTransportOptions,
  TransportOptions,
  TransportPairFunction,
} from "./entry_options.ts";

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
}

/**
 * Binds `listen`, `connect` and the transport functions to a runtime. Each
 * checks its options first (see `validate_options.ts`), so a bad option is
 * an `ERR_INVALID_ARGUMENT` before any socket or socket file exists.
 *
 * @param loadRuntime Returns the runtime adapter (loaded lazily by `mod.ts`).
 * @returns The bound functions.
 */
export function bindRuntime(loadRuntime: () => Promise<RuntimeAdapter>): BoundApi {
  const openListener = async (
    address: string,
    options: ListenTransportOptions,
  ): Promise<Listener<MessageTransport>> => {
    const parsed = parseAddress(address);
    const runtime = await loadRuntime();
    if (parsed.transport === "seqpacket") {
      return mapListener(
        await runtime.listenSeqpacket(parsed, seqpacketOptions(options)),
        (s) => new PacketMessageTransport(s),
      );
    }
    const listener = await runtime.listenStream(parsed, options.mode === undefined ? {} : { mode: options.mode });
    return mapListener(listener, (stream) => new StreamMessageTransport(stream, streamOptions(options)));
  };

  const openTransport = async (address: string, options: TransportOptions): Promise<MessageTransport> => {
    const parsed: SocketAddress = parseAddress(address);
    const runtime = await loadRuntime();
    if (parsed.transport === "seqpacket") {
      return new PacketMessageTransport(await runtime.connectSeqpacket(parsed, seqpacketOptions(options)));
    }
    return new StreamMessageTransport(await runtime.connectStream(parsed), streamOptions(options));
  };

  const listenTransport: ListenTransportFunction = async (address, given) => {
    const options = checkEntryOptions("listenTransport", given);
    return openListener(address, options);
  };

  const connectTransport: ConnectTransportFunction = async (address, given) => {
    const options = checkEntryOptions("connectTransport", given);
    return openTransport(address, options);
  };

  const listen: ListenFunction = async (address, given) => {
    const options = checkEntryOptions("listen", given);
    return new RpcServer(await openListener(address, options), options);
  };

  const connect: ConnectFunction = async (address, given) => {
    const options = checkEntryOptions("connect", given);
    const transport = await openTransport(address, options);
    try {
      await options.handshake?.(transport);
      return new RpcConnection(transport, options);
    } catch (error) {
      // A refused handshake, or two names for one service id: do not leave the socket open.
      await transport.close().catch(() => {});
      throw error;
    }
  };

  const transportPair: TransportPairFunction = async (given) => {
    const options = checkEntryOptions("transportPair", given);
    const [a, b] = await (await loadRuntime()).seqpacketPair(seqpacketOptions(options));
    return [new PacketMessageTransport(a), new PacketMessageTransport(b)];
  };

  return { listen, connect, listenTransport, connectTransport, transportPair };
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
