/**
 * What an application uses, besides `listen` and `connect` (which each
 * entry point binds to its runtime): the service, handler and context
 * types, descriptors, errors and options, and the certificate helper for
 * `tls://`. Every entry point of the package
 * (`mod.ts`, `adapters/<runtime>/mod.ts`) re-exports exactly this list; the
 * fizyr-level machinery is in `peer_api.ts`, and the rest is private.
 *
 * @module
 */

export type {
  ClientTlsOptions,
  ConnectFunction,
  ConnectOptions,
  CreateSecretFileFunction,
  ListenFunction,
  ListenOptions,
  PipeFramingOptions,
  ServerTlsOptions,
  ServeStdioFunction,
  ServeStdioOptions,
  SpawnFunction,
  SpawnOptions,
} from "./bind_runtime.ts";
export type { ChildConnection, ChildHandle } from "./child_connection.ts";
export type { StdioServer } from "./serve_stdio.ts";
export type { Call, CallContext, CallOptions, RpcConnection } from "../rpc/connection.ts";
export type { ReconnectOptions } from "../rpc/reconnect.ts";
export type {
  ClientSessionOptions,
  KeepaliveOptions,
  ServerSessionOptions,
  SessionInfo,
  SessionOptions,
} from "../session/options.ts";
export type { RpcCaller } from "../rpc/caller.ts";
export type { AcceptFilter, AllowPolicy, CloseOptions, Handshake, RpcServer, ServerStats } from "../rpc/server.ts";
export type { NotificationContext, NotificationListener, Router } from "../rpc/router.ts";
export type { Notifications } from "../rpc/router.ts";
export type { Handler, HandlerContext, ItemOf, MethodName, ParamsOf, ResultOf, Service } from "../rpc/service.ts";
export type { CallArgs, InputOf, NotifyArgs } from "../rpc/service.ts";
export {
  type DeclaredListener,
  type DeclaredMethod,
  type DeclaredNotification,
  type DeclaredParams,
  type DeclaredReturn,
  method,
  type MethodHandler,
  type MethodSpec,
  notification,
  type NotificationSpec,
} from "../rpc/method.ts";
export type { DeclaredJsonSchemas, JsonSchema, MethodKind } from "../rpc/declaration.ts";
export type { MethodDescription, NotificationDescription, ServiceDescription } from "../rpc/describe.ts";
export type { ParamsIssue } from "../rpc/validation.ts";
export { type Received, type WithFds, withFds, type WithFdsOptions } from "../rpc/with_fds.ts";
export type { FdHandle } from "../base/fd_handle.ts";
export type {
  ConnectionInfo,
  InetEndpoint,
  MessageTransport,
  PeerCertificate,
  PeerCredentials,
  TlsInfo,
} from "../transport/types.ts";
export { type CertificateOptions, generateCertificate, type GeneratedCertificate } from "../transport/certificate.ts";
export type { SeqpacketListenOptions, SeqpacketOptions } from "../transport/runtime_adapter.ts";
export type { FlowOptions } from "../peer/read_gate.ts";
export type { Codec } from "../wire/codec.ts";
export {
  CancelledError,
  type ChildExit,
  ChildExitedError,
  ConnectionClosedError,
  DataError,
  type DataErrorCode,
  type ErrorCode,
  PeerlinkError,
  type PeerlinkErrorOptions,
  ProtocolError,
  type ProtocolErrorCode,
  RemoteError,
  RpcError,
  SessionError,
  type SessionErrorCode,
  TimeoutError,
  TlsError,
  type TlsErrorCode,
  UsageError,
  type UsageErrorCode,
} from "../base/errors.ts";
