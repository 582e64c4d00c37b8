/**
 * What every scenario provides to the benchmark's two processes: a server
 * that echoes, streams and (for peerlink) holds calls, and a client
 * connection the one client driver (`../metrics.ts`) measures. Each
 * protocol has its own module in this folder; the driver only sees these
 * interfaces, so every scenario is measured by the same code.
 *
 * @module
 */

/** The scenario names, in the order the tables show them. */
export const SCENARIOS = [
  "raw-net",
  "raw-native",
  "peerlink-unix",
  "peerlink-seqpacket",
  "peerlink-tcp",
  "peerlink-tls",
  "jsonrpc",
] as const;

/** One scenario's name. */
export type ScenarioName = typeof SCENARIOS[number];

/** Where a client finds a started server (the server's ready line). */
export interface ServerAddress {
  /** What the client connects to (a socket path or a peerlink address). */
  address: string;
  /** TLS only: the SHA-256 fingerprint of the server's certificate, for the client to pin. */
  pin?: string;
}

/** A running benchmark server. */
export interface BenchServer extends ServerAddress {
  /** Resolves every held call (peerlink's `hold` method); returns how many were held at once at most. */
  release?(): number;
  /** Resolves once the client's `arrived` notification came (peerlink only). */
  arrived?(): Promise<void>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Options every server gets. */
export interface ServeOptions {
  /** A private directory for socket files. */
  dir: string;
  /** Whether 1 MiB messages will be echoed (seqpacket then raises its packet size limit). */
  bulk: boolean;
}

/** One client connection, the same operations whatever the protocol. */
export interface BenchConnection {
  /**
   * Echoes the small payload of `tag` (`./payload.ts`) and checks that the
   * reply is byte for byte what was sent.
   *
   * @returns The tag read back from the reply.
   * @throws Error when the reply differs from what was sent.
   */
  echo(tag: number): Promise<number>;
  /**
   * Asks the server for `count` small items and consumes them all.
   *
   * @returns How many items came, and the sum of their values (`0 + 1 + … + count − 1` when none is lost).
   */
  stream(count: number): Promise<{ count: number; sum: number }>;
  /**
   * Echoes a large payload.
   *
   * @returns The bytes that came back (checked by the driver, outside the timing).
   */
  bulk(payload: Uint8Array): Promise<Uint8Array>;
  /** Peerlink only: a call the server holds until it is released; resolves with `tag`. */
  hold?(tag: number): Promise<number>;
  /** Peerlink only: tells the server that every `hold` call was sent (a notification, which is not queued behind them). */
  arrived?(): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** A scenario's two halves, as its module exports them. */
export interface Scenario {
  /** Starts the server. */
  serve(options: ServeOptions): Promise<BenchServer>;
  /** Opens one client connection to a server; `bulk` as the server's {@link ServeOptions}. */
  open(server: ServerAddress, options: { bulk: boolean }): Promise<BenchConnection>;
}
