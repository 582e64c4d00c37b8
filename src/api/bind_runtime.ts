/**
 * `listen` and `connect`, bound to a runtime adapter: which adapter
 * operation an address needs (`unix:` and `tcp://`/`tls://` byte streams
 * framed by `StreamMessageTransport`, the same u32 length prefix on both;
 * `seqpacket:` datagrams by `PacketMessageTransport`).
 *
 * @module
 */

import { callSafely } from "../base/call_safely.ts";
import { isInetAddress, parseAddress } from "../transport/address.ts";
import { PacketMessageTransport } from "../transport/packet_transport.ts";
import type { RuntimeAdapter, SeqpacketListenOptions } from "../transport/runtime_adapter.ts";
import { RpcConnection } from "../rpc/connection.ts";
import { RpcServer } from "../rpc/server.ts";
import { StreamMessageTransport } from "../transport/stream_transport.ts";
import type { ConnectionInfo, Listener, MessageTransport } from "../transport/types.ts";
import { tcpConnectSettings, tcpListenSettings } from "./tcp_settings.ts";
import { checkAddressOptions, checkEntryOptions } from "./validate_options.ts";
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
  ClientTlsOptions,
  ConnectFunction,
  ConnectOptions,
  ConnectTransportFunction,
  FramingOptions,
  ListenFunction,
  ListenOptions,
  ListenTransportFunction,
  ListenTransportOptions,
  ServerTlsOptions,
  TcpConnectOptions,
  TcpListenOptions,
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
    entry: "listen" | "listenTransport",
    address: string,
    options: ListenTransportOptions,
  ): Promise<Listener<MessageTransport>> => {
    const parsed = parseAddress(address);
    checkAddressOptions(entry, parsed, options);
    const runtime = await loadRuntime();
    if (parsed.transport === "seqpacket") {
      return mapListener(
        await runtime.listenSeqpacket(parsed, seqpacketOptions(options)),
        (s) => new PacketMessageTransport(s),
      );
    }
    // The server's onError hears of connections a TLS listener refused before they could be served.
    const { onError } = options as { onError?: (error: unknown, info: ConnectionInfo) => void };
    const onRejected = onError && ((error: unknown, info: ConnectionInfo) => callSafely(onError, error, info));
    const listener = isInetAddress(parsed)
      ? await runtime.listenTcp(parsed, await tcpListenSettings(runtime, options, `${entry}()`, onRejected))
      : await runtime.listenStream(parsed, options.mode === undefined ? {} : { mode: options.mode });
    return mapListener(listener, (stream) => new StreamMessageTransport(stream, streamOptions(options)));
  };

  const openTransport = async (
    entry: "connect" | "connectTransport",
    address: string,
    options: TransportOptions,
  ): Promise<MessageTransport> => {
    const parsed = parseAddress(address);
    checkAddressOptions(entry, parsed, options);
    const runtime = await loadRuntime();
    if (parsed.transport === "seqpacket") {
      return new PacketMessageTransport(await runtime.connectSeqpacket(parsed, seqpacketOptions(options)));
    }
    const stream = isInetAddress(parsed)
      ? await runtime.connectTcp(parsed, await tcpConnectSettings(runtime, parsed, options, `${entry}()`))
      : await runtime.connectStream(parsed);
    return new StreamMessageTransport(stream, streamOptions(options));
  };

  const listenTransport: ListenTransportFunction = async (address, given) => {
    const options = checkEntryOptions("listenTransport", given);
    return openListener("listenTransport", address, options);
  };

  const connectTransport: ConnectTransportFunction = async (address, given) => {
    const options = checkEntryOptions("connectTransport", given);
    return openTransport("connectTransport", address, options);
  };

  const listen: ListenFunction = async (address, given) => {
    const options = checkEntryOptions("listen", given);
    return new RpcServer(await openListener("listen", address, options), options);
  };

  const connect: ConnectFunction = async (address, given) => {
    const options = checkEntryOptions("connect", given);
    const transport = await openTransport("connect", address, options);
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

function seqpacketOptions(options: SeqpacketListenOptions): SeqpacketListenOptions {
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
