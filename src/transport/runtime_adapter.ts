/**
 * The interface every runtime adapter implements. Adapters build their
 * listeners on `unix_listener.ts` and map socket errors with
 * `socket_errors.ts`, so every runtime reports the same failure with the
 * same code.
 *
 * @module
 */

import type { InetAddress, SocketAddress } from "./address.ts";
import type { ChildExit, TlsError } from "../base/errors.ts";
import type { ByteStream, ConnectionInfo, Listener, PacketSocket } from "./types.ts";
import type { InheritedSocketType, ListenEnvironment } from "./socket_activation.ts";

/** Options for creating a stream-socket listener. */
export interface StreamListenOptions {
  /** Permissions of the socket file (path addresses only). Default `0o600`. */
  mode?: number;
}

/** Options of every seqpacket socket. */
export interface SeqpacketOptions {
  /**
   * The largest datagram (12-byte header + body) sent or received, in bytes.
   * The socket's send buffer is grown to fit it (the kernel refuses
   * datagrams above SO_SNDBUF − 32 bytes, and SO_SNDBUF is capped at
   * 2 × net.core.wmem_max). An integer from 12 to 2^31 − 33, and at most
   * what the system's send buffer allows (checked when the socket is made).
   * Default 64 KiB.
   */
  maxPacketSize?: number;
  /** The most file descriptors one message may carry: an integer from 0 to 253 (SCM_MAX_FD). Default 16. */
  maxFds?: number;
}

/** Options for creating a seqpacket listener. */
export interface SeqpacketListenOptions extends SeqpacketOptions {
  /**
   * Permissions of the socket file, applied before the listener accepts
   * anything: an integer from 0 to 0o7777. Ignored for abstract addresses.
   * Default `0o600`.
   */
  mode?: number;
  /**
   * Length of the kernel's queue of connections not yet accepted: an integer
   * from 1 to 65535. Used by seqpacket listeners; stream listeners use their
   * runtime's. Default 128.
   */
  backlog?: number;
}

/**
 * The TLS side of a TCP listener, resolved by the core: PEM texts (files
 * already read), never paths.
 */
export interface ServerTlsSettings {
  /** The server's certificate chain, PEM. */
  cert: string;
  /** The server's private key, PEM (PKCS#8, or the key type's own PEM form). */
  key: string;
  /**
   * When set, clients must present a certificate signed by one of these CAs
   * (PEM each); connections without one fail the handshake.
   */
  clientCa?: string[];
}

/** How to listen on TCP, resolved by the core. */
export interface TcpListenSettings {
  /** Set TCP_NODELAY on every accepted connection. */
  noDelay: boolean;
  /** Serve TLS with these settings; plain TCP without. */
  tls?: ServerTlsSettings;
  /**
   * Told about each connection refused before it could be accepted: a TLS
   * handshake that failed (a plaintext client, junk, a refused client
   * certificate), as a {@link TlsError} from `rejectedTlsError`. The
   * listener goes on accepting others.
   */
  onRejected?: (error: TlsError, info: ConnectionInfo) => void;
  /**
   * Milliseconds a TLS client may take from its connect to the end of its
   * handshake; its connection is then closed and reported to `onRejected`
   * (`tlsHandshakeTimeoutError`). Default `DEFAULT_TLS_HANDSHAKE_TIMEOUT`
   * (10 s). Plain TCP ignores it.
   */
  handshakeTimeout?: number;
}

/** The TLS side of a TCP connect, resolved by the core: PEM texts, never paths. */
export interface ClientTlsSettings {
  /**
   * Trust these CAs (PEM each) instead of the system's roots. Ignored when
   * `pin` is set.
   */
  ca?: string[];
  /**
   * Trust exactly the certificate whose DER bytes have this SHA-256 (64
   * lowercase hex digits), self-signed or not, and no other; the chain is
   * not checked.
   */
  pin?: string;
  /** The name the server's certificate must be valid for (SNI too). */
  serverName: string;
  /** Check that the certificate is valid for `serverName`. False only together with `pin`. */
  checkServerName: boolean;
  /** A client certificate chain to present (PEM), for servers that require one. */
  cert?: string;
  /** The private key of `cert` (PEM). */
  key?: string;
}

/** How to connect over TCP, resolved by the core. */
export interface TcpConnectSettings {
  /** Set TCP_NODELAY on the connection. */
  noDelay: boolean;
  /** Milliseconds the connect (and the TLS handshake) may take before failing with `ERR_CONNECTION_FAILED`. */
  timeout: number;
  /** Speak TLS with these settings; plain TCP without. */
  tls?: ClientTlsSettings;
}

/** The owner and permissions of a file, as `stat` reports them. */
export interface FileStatus {
  /** The permission bits (`st_mode & 0o7777`). */
  mode: number;
  /** The owner's user id. */
  uid: number;
}

/** The ids of this process, for policies such as "same user only". */
export interface ProcessIds {
  /** This process's id. */
  pid: number;
  /** This process's effective user id. */
  uid: number;
  /** This process's effective group id. */
  gid: number;
}

/** How to start a child process, resolved by the core. */
export interface ChildSpawnSettings {
  /** The arguments after the command. */
  args: readonly string[];
  /**
   * Variables set in the child's environment on top of this process's own,
   * which it inherits without `PEERLINK_CHANNEL` (that names this
   * process's channel, if any, not the child's): the adapter removes it
   * from the inherited variables, and the core sets it here for a child
   * given a `channel`.
   */
  env?: Readonly<Record<string, string>>;
  /** The child's working directory; default this process's. */
  cwd?: string;
  /** The child's stderr: this process's own (`"inherit"`), a pipe this process reads, or `/dev/null`. */
  stderr: "inherit" | "pipe" | "ignore";
  /**
   * A descriptor of this process to give the child as its descriptor 3
   * instead of piping stdin and stdout (`spawn`'s `channel: "seqpacket"`):
   * the child's stdin is then `/dev/null` and its stdout as `stdout` says.
   * It stays open here; the caller closes it once the child runs.
   */
  channel?: number;
  /**
   * With a `channel`: the child's stdout is this process's stdout
   * (`"inherit"`, the default), or this process's stderr (`"stderr"`: this
   * process's stdout carries a connection of its own).
   */
  stdout?: "inherit" | "stderr";
}

/**
 * A running child process whose stdin and stdout are pipes to this
 * process, as an adapter hands it to the core.
 */
export interface SpawnedChild {
  /** The child's process id. */
  readonly pid: number;
  /**
   * The pipes as one byte stream: `read` reads the child's stdout, `write`
   * writes its stdin (resolving once the runtime took the bytes), and
   * `close` ends the child's stdin (after what was written) and stops
   * reading its stdout. `info.transport` is `"stdio"`. `undefined` when the
   * child was given a `channel` instead of pipes.
   */
  readonly stdio: ByteStream | undefined;
  /** The child's stderr when it was spawned with `stderr: "pipe"`. */
  readonly stderr: ReadableStream<Uint8Array> | undefined;
  /** Resolves (never rejects) once the child exited, with its code or signal. */
  readonly exited: Promise<ChildExit>;
  /**
   * Sends a signal to the child; does nothing once it exited.
   *
   * @param signal The signal.
   */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

/**
 * A connected pair of SOCK_SEQPACKET sockets, one end for this process and
 * one to hand to a child process (`spawn`'s `channel: "seqpacket"`).
 */
export interface SeqpacketChildChannel {
  /** This process's end. Its `info.credentials` are this process's own: a socketpair's creator is both ends' peer. */
  readonly socket: PacketSocket;
  /**
   * The child's end as a descriptor of this process: blocking (a child that
   * reads it with plain `recv` waits, as on any inherited socket; this
   * process's end is another open file description, and stays
   * non-blocking) and close-on-exec here (a spawn that puts it at the
   * child's descriptor 3 clears close-on-exec in the child only), so that
   * no other child inherits it.
   */
  readonly childFd: number;
  /** Closes `childFd` in this process: once the child runs, or when it could not be started. Idempotent. */
  closeChildEnd(): void;
}

/** What socket activation needs of a runtime (`socket_activation.ts` decides what to do with it). */
export interface ActivationOperations {
  /**
   * Reads `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` and removes them
   * from the environment (as `sd_listen_fds(1)` does), so that child
   * processes do not take the sockets for theirs. Later calls return what
   * the first one read.
   */
  takeListenEnvironment(): ListenEnvironment;
  /**
   * Asks the kernel what an inherited descriptor is.
   *
   * @param fd The descriptor.
   * @param shown The address, for messages.
   * @returns Its domain, type and whether it listens, or `undefined` where the FFI cannot be used.
   * @throws {UsageError} `ERR_INVALID_ADDRESS` when the descriptor is not open or not a socket.
   */
  inheritedSocketType(fd: number, shown: string): Promise<InheritedSocketType | undefined>;
  /**
   * Sends `state` (`READY=1`) to the service manager at `$NOTIFY_SOCKET`, as `sd_notify` does.
   *
   * @param state The notification.
   * @returns False when `NOTIFY_SOCKET` is not set (nothing is sent).
   * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` without FFI, `ERR_CONNECTION_FAILED` when it cannot be sent.
   */
  notify(state: string): Promise<boolean>;
}

/** Socket operations of one runtime (Deno, Bun or Node). */
export interface RuntimeAdapter extends ActivationOperations {
  /** `"deno"`, `"bun"` or `"node"`. */
  readonly name: string;
  /**
   * Reads `PEERLINK_CHANNEL` (the channel a parent's `spawn` gave this
   * process, such as `seqpacket:3`) and removes it from the environment, so
   * that this process's own children do not take the descriptor for theirs;
   * removes `DENO_EXTRA_STDIO_FDS` with it when it was set (a Deno parent's
   * `node:child_process` sets it for the descriptor, and only a Deno child
   * consumes it). Later calls return what the first one read.
   *
   * @returns The value, or `undefined` when it is not set (or the runtime may not read the environment).
   */
  takeChannelVariable(): string | undefined;
  /**
   * Listens on a Unix stream socket.
   *
   * @param address Path or abstract name.
   * @param options Socket file permissions.
   * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_INVALID_ADDRESS`, `ERR_PERMISSION_DENIED` or `ERR_CONNECTION_FAILED`.
   */
  listenStream(address: SocketAddress, options: StreamListenOptions): Promise<Listener<ByteStream>>;
  /**
   * Serves an inherited Unix stream socket that is listening already; it
   * is not closed by anything but the listener, and no file is removed.
   *
   * @param fd The descriptor.
   * @param shown Its address in peerlink syntax (`fd:3`, `systemd:`).
   * @throws {UsageError} `ERR_INVALID_ADDRESS` or `ERR_CONNECTION_FAILED` when the runtime cannot serve it.
   */
  adoptStream(fd: number, shown: string): Promise<Listener<ByteStream>>;
  /**
   * Serves an inherited Unix SOCK_SEQPACKET socket that is listening already;
   * it is not closed by anything but the listener, and no file is removed.
   *
   * @param fd The descriptor.
   * @param shown Its address in peerlink syntax.
   * @param options Limits, range-checked by the caller.
   * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` where the seqpacket layer cannot load, `ERR_CONNECTION_FAILED` if the descriptor cannot be set up.
   */
  adoptSeqpacket(fd: number, shown: string, options: SeqpacketOptions): Promise<Listener<PacketSocket>>;
  /**
   * Connects to a Unix stream socket.
   *
   * @param address Path or abstract name.
   * @throws {UsageError} `ERR_CONNECTION_FAILED`.
   */
  connectStream(address: SocketAddress): Promise<ByteStream>;
  /**
   * Listens on a Unix SOCK_SEQPACKET socket.
   *
   * @param address Path or abstract name.
   * @param options Limits and permissions, range-checked by the caller.
   * @throws {UsageError} as `listenStream`, `ERR_UNSUPPORTED_PLATFORM` off Linux (or on Node without koffi), `ERR_INVALID_ARGUMENT` if the system cannot send datagrams of `maxPacketSize`.
   */
  listenSeqpacket(address: SocketAddress, options: SeqpacketListenOptions): Promise<Listener<PacketSocket>>;
  /**
   * Connects to a Unix SOCK_SEQPACKET socket.
   *
   * @param address Path or abstract name.
   * @param options Limits, range-checked by the caller.
   * @throws {UsageError} `ERR_CONNECTION_FAILED`, `ERR_UNSUPPORTED_PLATFORM`, `ERR_INVALID_ARGUMENT` as for `listenSeqpacket`.
   */
  connectSeqpacket(address: SocketAddress, options: SeqpacketOptions): Promise<PacketSocket>;
  /**
   * Creates a connected pair of SOCK_SEQPACKET sockets in this process.
   *
   * @param options Limits, range-checked by the caller.
   * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM`, `ERR_INVALID_ARGUMENT` as for `listenSeqpacket`.
   */
  seqpacketPair(options: SeqpacketOptions): Promise<[PacketSocket, PacketSocket]>;
  /**
   * Creates a connected pair of SOCK_SEQPACKET sockets whose second end is
   * for a child process.
   *
   * @param options Limits of this process's end, range-checked by the caller.
   * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` (off Linux, another architecture, Node without koffi),
   *   `ERR_PERMISSION_DENIED` (Deno without `--allow-ffi`), `ERR_INVALID_ARGUMENT` as for `listenSeqpacket`.
   */
  seqpacketChildChannel(options: SeqpacketOptions): Promise<SeqpacketChildChannel>;
  /**
   * Serves an inherited, connected SOCK_SEQPACKET socket (the channel a
   * parent process gave this one): checks what the descriptor is, makes it
   * non-blocking and close-on-exec, and owns it from then on.
   *
   * @param fd The descriptor.
   * @param shown How to name it in messages (`PEERLINK_CHANNEL=seqpacket:3`).
   * @param options Limits, range-checked by the caller.
   * @throws {UsageError} `ERR_INVALID_ADDRESS` naming the descriptor when it is not open, not a socket, not a
   *   Unix seqpacket socket, or listening; `ERR_UNSUPPORTED_PLATFORM` or `ERR_PERMISSION_DENIED` as for
   *   `seqpacketChildChannel`.
   */
  adoptSeqpacketConnection(fd: number, shown: string, options: SeqpacketOptions): Promise<PacketSocket>;
  /**
   * Marks a descriptor close-on-exec, so that no child process inherits it
   * (the channel a parent gave this process, before `serveStdio` takes it).
   *
   * @param fd The descriptor.
   * @returns `false` when it is not open.
   * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` or `ERR_PERMISSION_DENIED` as for `seqpacketChildChannel`.
   */
  closeOnExec(fd: number): Promise<boolean>;
  /**
   * Listens on TCP, with TLS when `settings.tls` is set. Port 0 picks a free
   * port; the listener's `address` names the port that was bound.
   *
   * @param address Host and port to bind.
   * @param settings TCP_NODELAY and TLS.
   * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_PERMISSION_DENIED`, `ERR_INVALID_ADDRESS` (a host that is not
   *   local or does not resolve) or `ERR_CONNECTION_FAILED`, mapped by `socket_errors.ts`.
   */
  listenTcp(address: InetAddress, settings: TcpListenSettings): Promise<Listener<ByteStream>>;
  /**
   * Connects over TCP, with TLS when `settings.tls` is set. Resolves only
   * once the TLS handshake succeeded and the server's certificate passed
   * every check asked for; nothing is sent before.
   *
   * @param address Host and port.
   * @param settings TCP_NODELAY, timeout and TLS.
   * @throws {UsageError} `ERR_CONNECTION_FAILED` (refused, unreachable, unknown host, timed out), with the cause.
   * @throws {TlsError} when the TLS handshake failed or the certificate was refused.
   */
  connectTcp(address: InetAddress, settings: TcpConnectSettings): Promise<ByteStream>;
  /**
   * Reads a UTF-8 text file (certificates and keys given as paths).
   *
   * @param path The file.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the file when it cannot be read, with the cause.
   */
  readTextFile(path: string): Promise<string>;
  /**
   * Why peer credentials (SO_PEERCRED) cannot be read on connections of
   * this transport in this runtime, or `undefined` when every accepted and
   * connected socket of it carries `info.credentials`. A server whose `allow`
   * policy needs credentials refuses to start when this returns a reason.
   *
   * @param transport `"unix"` (stream) or `"seqpacket"`.
   * @returns The reason (such as "Node without koffi"), or `undefined`.
   */
  credentialsUnavailable(transport: "unix" | "seqpacket"): string | undefined;
  /** The ids of this process (for `allow: { uid: "self" }`). */
  processIds(): ProcessIds;
  /**
   * Creates a file that must not exist yet, with exactly these permissions
   * (not widened by the umask), and writes `text` to it.
   *
   * @param path The file.
   * @param text What it holds.
   * @param mode Its permission bits, such as `0o600`.
   * @throws {UsageError} `ERR_FILE_EXISTS` when something is at `path` (nothing is changed),
   *   `ERR_PERMISSION_DENIED` / `ERR_INVALID_ARGUMENT` naming the file otherwise.
   */
  createFile(path: string, text: string, mode: number): Promise<void>;
  /**
   * The owner and permission bits of a file (symbolic links followed).
   *
   * @param path The file.
   * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the file when it cannot be examined, with the cause.
   */
  fileStatus(path: string): Promise<FileStatus>;
  /**
   * Starts a child process with its stdin and stdout piped to this process,
   * or with `settings.channel` as its descriptor 3. Resolves once the
   * process runs.
   *
   * @param command The program: a path, or a name looked up in `PATH`. No shell is involved.
   * @param settings Arguments, environment, working directory and what to do with stderr.
   * @throws {UsageError} `ERR_SPAWN_FAILED` (see `spawnFailure` in `child_stream.ts`) when it cannot be started,
   *   `ERR_PERMISSION_DENIED` when the runtime refused a permission (Deno).
   */
  spawnChild(command: string, settings: ChildSpawnSettings): Promise<SpawnedChild>;
  /**
   * This process's stdin (read) and stdout (write) as one byte stream, for
   * serving a parent over them. `close` stops reading stdin (so that it no
   * longer keeps the process alive) and leaves stdout open. `info.transport`
   * is `"stdio"`. Called at most once per process.
   */
  stdio(): ByteStream;
}
