/**
 * The runtime-agnostic core of peerlink. Runtime entry points (`mod.ts`,
 * `adapters/*.ts`) re-export all of this.
 *
 * @module
 */

export * from "../transport/address.ts";
export * from "./bind_runtime.ts";
export * from "../wire/codec.ts";
export * from "../base/errors.ts";
export * from "../base/fd_handle.ts";
export * from "../wire/frame_decoder.ts";
export * from "../wire/frame_encoder.ts";
export * from "../wire/message.ts";
export * from "../wire/method_id.ts";
export * from "../transport/packet_transport.ts";
export * from "../peer/peer.ts";
export * from "../rpc/router.ts";
export * from "../rpc/connection.ts";
export * from "../rpc/protocol.ts";
export * from "../rpc/server.ts";
export * from "../transport/runtime_adapter.ts";
export * from "../rpc/service.ts";
export * from "../transport/socket_file.ts";
export * from "../transport/stream_transport.ts";
export * from "../transport/types.ts";
export * from "../rpc/with_fds.ts";
export * from "../transport/chunk_queue.ts";
export * from "../transport/accept_queue.ts";
export * from "../transport/socket_errors.ts";
export * from "../peer/read_gate.ts";
