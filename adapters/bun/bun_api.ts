/**
 * The part of Bun's socket API the Bun adapter uses, typed locally so that
 * the adapter type-checks in every toolchain (Deno's and tsc without
 * bun-types included).
 *
 * @module
 */

/** A Bun TCP/Unix socket. */
export interface BunSocket<Data> {
  /** Per-socket state. */
  data: Data;
  /**
   * Writes as much of `data` as the kernel takes now.
   *
   * @returns Bytes written, or -1 if the socket is closed.
   */
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  /** Flushes and closes the write side. */
  end(): void;
  /** Closes at once. */
  terminate(): void;
  /** Stops reading. */
  pause(): void;
  /** Starts reading again. */
  resume(): void;
}

/** Socket event handlers. */
export interface BunSocketHandler<Data> {
  /** Called when a connection opens. */
  open?(socket: BunSocket<Data>): void;
  /** Called per received chunk. */
  data?(socket: BunSocket<Data>, data: Uint8Array): void;
  /** Called when the socket can take more data. */
  drain?(socket: BunSocket<Data>): void;
  /** Called when the peer ended its side. */
  end?(socket: BunSocket<Data>): void;
  /** Called once the socket closed. */
  close?(socket: BunSocket<Data>, error?: Error): void;
  /** Called on errors. */
  error?(socket: BunSocket<Data>, error: Error): void;
  /** Chunk type. */
  binaryType?: "uint8array";
}

/** A Unix socket listener. */
export interface BunUnixListener {
  /**
   * Stops listening.
   *
   * @param closeActiveConnections Also closes accepted sockets.
   */
  stop(closeActiveConnections?: boolean): void;
}

/** The `Bun` global, as far as the adapter uses it. */
export interface BunGlobal {
  /** Starts a Unix socket server. */
  listen<Data>(options: { unix: string; socket: BunSocketHandler<Data> }): BunUnixListener;
  /** Connects a Unix socket. */
  connect<Data>(options: { unix: string; data?: Data; socket: BunSocketHandler<Data> }): Promise<BunSocket<Data>>;
}

/**
 * The `Bun` global.
 *
 * @returns Bun's API object.
 */
export function bunGlobal(): BunGlobal {
  return (globalThis as unknown as { Bun: BunGlobal }).Bun;
}
