/**
 * The runtime-agnostic core of peerlink. Runtime entry points (`mod.ts`,
 * `adapters/*.ts`) re-export all of this.
 *
 * @module
 */

export * from "./address.ts";
export * from "./api.ts";
export * from "./codec.ts";
export * from "./errors.ts";
export * from "./fd.ts";
export * from "./frame_decoder.ts";
export * from "./frame_encoder.ts";
export * from "./message.ts";
export * from "./method_id.ts";
export * from "./packet_transport.ts";
export * from "./peer.ts";
export * from "./router.ts";
export * from "./rpc_connection.ts";
export * from "./rpc_protocol.ts";
export * from "./rpc_server.ts";
export * from "./runtime.ts";
export * from "./service.ts";
export * from "./socket_file.ts";
export * from "./stream_transport.ts";
export * from "./transport.ts";
export * from "./with_fds.ts";
export * from "./chunk_queue.ts";
export * from "./accept_queue.ts";
export * from "./socket_errors.ts";
export * from "./demo_service.ts";
export * from "./read_gate.ts";
