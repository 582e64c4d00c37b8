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
import type { RuntimeAdapter } from "../transport/runtime_adapter.ts";
import { RpcConnection } from "../rpc/connection.ts";
import { RpcServer } from "../rpc/server.ts";
import { StreamMessageTransport } from "../transport/stream_transport.ts";
import type { ConnectionInfo, Listener, MessageTransport } from "../transport/types.ts";
import { tcpConnectSettings, tcpListenSettings } from "./tcp_settings.ts";
import { checkAddressOptions, checkEntryOptions, seqpacketOptions } from "./validate_options.ts";
import { clientSessionSettings, serverSessionSettings } from "./session_settings.ts";
import { generateSecretText } from "../session/secret.ts";
import { UsageError } from "../base/errors.ts";
import type { Address } from "../transport/address.ts";
import type { ServeStdioFunction, SpawnFunction } from "./child_options.ts";
import { bindChild } from "./bind_child.ts";
import { type InheritedSocket, resolveInheritedSocket } from "./inherited_socket.ts";
import { parseInheritedAddress } from "../transport/socket_activation.ts";
import { startSession, streamOptions } from "./stream_session.ts";
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
  PipeFramingOptions,
  ServeStdioFunction,
  ServeStdioOptions,
  SpawnFunction,
  SpawnOptions,
} from "./child_options.ts";
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
  /** Creates a new secret file. */
  createSecretFile: CreateSecretFileFunction;
  /** Starts a child process and connects to it over its stdin and stdout. */
  spawn: SpawnFunction;
  /** Serves the parent process over this process's stdin and stdout. */
  serveStdio: ServeStdioFunction;
}

/**
 * Creates a file holding a new random secret (32 bytes as 64 hex digits),
 * readable by its owner only (mode 0600), for `secretFile` on both sides.
 * An existing file is never overwritten: that is `ERR_FILE_EXISTS`.
 */
export type CreateSecretFileFunction = (path: string) => Promise<void>;

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
    parsed: Address,
    options: ListenTransportOptions,
    runtime: RuntimeAdapter,
    inherited?: InheritedSocket,
  ): Promise<Listener<MessageTransport>> => {
    if (parsed.transport === "seqpacket") {
      return mapListener(
        await (inherited === undefined
          ? runtime.listenSeqpacket(parsed, seqpacketOptions(options))
          : runtime.adoptSeqpacket(inherited.fd, inherited.shown, seqpacketOptions(options))),
        (s) => new PacketMessageTransport(s),
      );
    }
    // The server's onError hears of connections a TLS listener refused before they could be served.
    const { onError } = options as { onError?: (error: unknown, info: ConnectionInfo) => void };
    const onRejected = onError && ((error: unknown, info: ConnectionInfo) => callSafely(onError, error, info));
    const listener = isInetAddress(parsed)
      ? await runtime.listenTcp(parsed, await tcpListenSettings(runtime, options, `${entry}()`, onRejected))
      : inherited !== undefined
      ? await runtime.adoptStream(inherited.fd, inherited.shown)
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

  /** Parses a listen address; an inherited socket (`fd:3`, `systemd:`) is looked up and checked. */
  const listenTarget = async (
    entry: "listen" | "listenTransport",
    address: string,
    options: object,
  ): Promise<{ parsed: Address; runtime: RuntimeAdapter; inherited?: InheritedSocket }> => {
    const selector = parseInheritedAddress(address);
    const parsed = selector === undefined ? parseAddress(address) : undefined;
    if (parsed !== undefined) checkAddressOptions(entry, parsed, options);
    const runtime = await loadRuntime();
    if (selector === undefined) return { parsed: parsed!, runtime };
    const inherited = await resolveInheritedSocket(selector, runtime);
    checkAddressOptions(entry, inherited.address, options);
    return { parsed: inherited.address, runtime, inherited };
  };

  const listenTransport: ListenTransportFunction = async (address, given) => {
    const options = checkEntryOptions("listenTransport", given);
    const { parsed, runtime, inherited } = await listenTarget("listenTransport", address, options);
    return openListener("listenTransport", parsed, options, runtime, inherited);
  };

  const connectTransport: ConnectTransportFunction = async (address, given) => {
    const options = checkEntryOptions("connectTransport", given);
    return openTransport("connectTransport", address, options);
  };

  const listen: ListenFunction = async (address, given) => {
    const options = checkEntryOptions("listen", given);
    const { parsed, runtime, inherited } = await listenTarget("listen", address, options);
    // The secret file and the allow policy are checked before the socket exists.
    const settings = await serverSessionSettings(runtime, parsed, options);
    const server = new RpcServer(await openListener("listen", parsed, options, runtime, inherited), options, settings);
    if (options.notify === true) await notifyReady(runtime, server);
    return server;
  };

  const connect: ConnectFunction = async (address, given) => {
    const options = checkEntryOptions("connect", given);
    const session = await clientSessionSettings(await loadRuntime(), options);
    /** Opens the transport and runs both handshakes; a failure leaves no socket open. */
    const dial = async (signal?: AbortSignal): Promise<MessageTransport> =>
      startSession(await openTransport("connect", address, options), address, session, options.handshake, signal);
    const transport = await dial(undefined);
    const { reconnect, ...rest } = options;
    try {
      return new RpcConnection(transport, {
        ...rest,
        ...(reconnect ? { reconnect: { ...(reconnect === true ? {} : reconnect), redial: dial } } : {}),
      });
    } catch (error) {
      // Two names for one service id: do not leave the socket open.
      await transport.close().catch(() => {});
      throw error;
    }
  };

  const transportPair: TransportPairFunction = async (given) => {
    const options = checkEntryOptions("transportPair", given);
    const [a, b] = await (await loadRuntime()).seqpacketPair(seqpacketOptions(options));
    return [new PacketMessageTransport(a), new PacketMessageTransport(b)];
  };

  const createSecretFile: CreateSecretFileFunction = async (path) => {
    if (typeof path !== "string" || path.length === 0) {
      throw new UsageError("ERR_INVALID_ARGUMENT", `createSecretFile(): expected a file path, found ${String(path)}`);
    }
    await (await loadRuntime()).createFile(path, generateSecretText(), 0o600);
  };

  return {
    listen,
    connect,
    listenTransport,
    connectTransport,
    transportPair,
    createSecretFile,
    ...bindChild(loadRuntime),
  };
}

/** Tells the service manager the server is ready (`READY=1`); a failure closes the server. */
async function notifyReady(runtime: RuntimeAdapter, server: RpcServer): Promise<void> {
  try {
    await runtime.notify("READY=1");
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
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
