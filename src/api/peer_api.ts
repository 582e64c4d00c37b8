/**
 * The fizyr-rpc level of peerlink, for interop with other fizyr-rpc peers
 * and for protocols of your own: the {@link Peer} (raw service ids, request
 * ids, bodies and updates), the message types, the transports it runs on,
 * method ids and the update kinds and statuses the RPC layer uses. The
 * `peer.ts` entry point re-exports this list and adds `listenTransport`,
 * `connectTransport` and `transportPair`, bound to the runtime.
 *
 * @module
 */

export { Peer, type PeerOptions, type ReceivedRequest, type SendOptions, type SentRequest } from "../peer/peer.ts";
export {
  ERROR_TEXT_SERVICE_ID,
  HEADER_SIZE,
  type Message,
  type MessageHeader,
  MessageType,
  type OutgoingMessage,
} from "../wire/message.ts";
export { methodId } from "../wire/method_id.ts";
export { cborCodec, type Codec } from "../wire/codec.ts";
export * from "../rpc/protocol.ts";
export { DESCRIBE_SERVICE_ID } from "../session/session_protocol.ts";
export type {
  ConnectionInfo,
  InetEndpoint,
  Listener,
  MessageTransport,
  PeerCertificate,
  PeerCredentials,
  TlsInfo,
} from "../transport/types.ts";
export type {
  ClientTlsOptions,
  ConnectTransportFunction,
  ListenTransportFunction,
  ListenTransportOptions,
  ServerTlsOptions,
  TransportOptions,
  TransportPairFunction,
} from "./bind_runtime.ts";
export type { SeqpacketListenOptions, SeqpacketOptions } from "../transport/runtime_adapter.ts";
export type { FdHandle } from "../base/fd_handle.ts";
