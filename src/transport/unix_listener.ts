/**
 * The one listener skeleton for Unix sockets, shared by the stream sockets
 * of every runtime and by the seqpacket layer. A runtime supplies small
 * operation objects ({@link UnixSocketOps}); this file owns the socket file:
 *
 * - claiming the path: a socket file whose connections are refused is
 *   stale and is removed; a live socket, or a file that is not a socket,
 *   is refused with `ERR_ADDRESS_IN_USE`;
 * - its permissions (`mode`, default 0o600), set before anyone can connect
 *   through the path;
 * - its identity (device and inode), taken right after binding;
 * - an idempotent `close()` that closes the socket and removes the file
 *   only while it is still that same file, so stopping a server never
 *   removes the file of a newer server on the same path.
 *
 * Abstract names (`unix:@name`) have no file, and all of this is skipped.
 *
 * Deno, Bun and Node remove the path a stream listener was bound to when it
 * closes, whatever file is there by then. Their sockets are therefore bound
 * to a temporary name in the same directory, given their mode there, and
 * hard-linked into place (link(2) never replaces an existing file); the
 * temporary name is then removed, so what the runtime removes on close is
 * already gone. A path whose directory leaves no room for the 12-byte
 * temporary name within the 107-byte limit, or where the temporary name
 * cannot be bound, is bound directly, and there the runtime's removal on
 * close stays.
 *
 * @module
 */

import { UsageError } from "../base/errors.ts";
import { formatAddress, type SocketAddress, socketPathOf, SUN_PATH_SIZE } from "./address.ts";
import { errnoOf, listenError } from "./socket_errors.ts";
import type { Listener } from "./types.ts";

/** Default permissions of a new socket file: owner read and write only. */
export const DEFAULT_SOCKET_MODE = 0o600;

/** What makes a file the same file: its device and inode. */
export interface FileIdentity {
  /** Device number (`st_dev`). */
  readonly device: bigint;
  /** Inode number (`st_ino`). */
  readonly inode: bigint;
}

/** What `lstat` tells about a path. */
export interface FileStatus extends FileIdentity {
  /** True for a socket file. */
  readonly isSocket: boolean;
}

/**
 * A runtime's file operations. They reject with the runtime's own errors,
 * whose errno name `socket_errors.ts` reads.
 */
export interface SocketFileOps {
  /**
   * Describes `path` itself (a symbolic link is not followed).
   *
   * @param path The path.
   * @returns Its status, or `null` if nothing is there.
   */
  lstat(path: string): Promise<FileStatus | null>;
  /**
   * Sets the permission bits of `path`.
   *
   * @param path The path.
   * @param mode The bits.
   */
  chmod(path: string, mode: number): Promise<void>;
  /**
   * Gives the file at `existing` the second name `path`.
   *
   * @param existing The file.
   * @param path The new name.
   * @throws the runtime's error with errno `EEXIST` if something is at `path` already.
   */
  link(existing: string, path: string): Promise<void>;
  /**
   * Removes `path`; nothing happens if nothing is there.
   *
   * @param path The path.
   */
  unlink(path: string): Promise<void>;
}

/** A socket that is bound, as a runtime's {@link UnixSocketOps.bind} returns it. */
export interface BoundSocket<T> {
  /**
   * Starts accepting connections, for sockets whose bind does not do that
   * already; called once the socket file has its mode.
   */
  listen?(): void | Promise<void>;
  /**
   * Waits for the next connection.
   *
   * @returns The connection, or `null` once the socket is closed.
   */
  accept(): Promise<T | null>;
  /** Closes the socket; a pending `accept` resolves `null`. Called once. */
  close(): void | Promise<void>;
}

/** How one runtime binds one kind of Unix socket. */
export interface UnixSocketOps<T> {
  /** The runtime's file operations. */
  readonly files: SocketFileOps;
  /** True if closing the socket makes the runtime remove the path it was bound to. */
  readonly removesPathOnClose: boolean;
  /**
   * Binds a new socket (and listens, unless the socket has {@link BoundSocket.listen}).
   *
   * @param path The filesystem path, or a NUL byte and the abstract name.
   * @param address The listener's address in peerlink syntax, for the info of accepted connections.
   * @returns The bound socket.
   * @throws the runtime's error (mapped by `listenError`), or a {@link UsageError}, passed on as it is.
   */
  bind(path: string, address: string): Promise<BoundSocket<T>>;
  /**
   * Connects a throw-away client to the socket file at `path`.
   *
   * @param path The socket file.
   * @returns True only if the connection was refused: nobody listens there.
   */
  isStale(path: string): Promise<boolean>;
}

/** Options of {@link listenUnix}. */
export interface UnixListenOptions {
  /** Permissions of the socket file (path addresses only). Default {@link DEFAULT_SOCKET_MODE}. */
  mode?: number;
}

/** Retries when the path is taken again between removing a stale file and linking ours. */
const PUBLISH_ATTEMPTS = 3;

/**
 * Listens on a Unix socket address.
 *
 * @param address A parsed path or abstract address.
 * @param ops How the runtime binds this kind of socket.
 * @param options The socket file's mode.
 * @returns The listener; its `address` is in peerlink syntax.
 * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_INVALID_ADDRESS`, `ERR_PERMISSION_DENIED` or `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 */
export async function listenUnix<T>(
  address: SocketAddress,
  ops: UnixSocketOps<T>,
  options: UnixListenOptions = {},
): Promise<Listener<T>> {
  const shown = formatAddress(address);
  const file = address.abstract ? null : address.path;
  let staging = file !== null && ops.removesPathOnClose ? stagingPath(file) : null;
  let socket: BoundSocket<T> | undefined;
  let identity: FileIdentity | null = null;
  try {
    // Where the temporary name cannot be bound (a Deno permission that names only the path, say), bind the path.
    if (staging !== null) socket = await ops.bind(staging, shown).catch(() => undefined);
    if (socket === undefined) {
      staging = null;
      if (file !== null) await claimPath(file, ops, shown);
      socket = await ops.bind(socketPathOf(address), shown);
    }
    const bound = staging ?? file;
    if (bound !== null) {
      identity = await ops.files.lstat(bound);
      await ops.files.chmod(bound, options.mode ?? DEFAULT_SOCKET_MODE);
    }
    await socket.listen?.();
    if (staging !== null) await publish(staging, address.path, ops, shown);
  } catch (error) {
    await socket?.close();
    if (file !== null && staging === null && identity !== null) {
      await removeIfSame(file, identity, ops.files).catch(() => {});
    }
    throw error instanceof UsageError ? error : listenError(error, shown);
  } finally {
    if (staging !== null) await ops.files.unlink(staging).catch(() => {});
  }
  const opened = socket;
  let closing: Promise<void> | undefined;
  return {
    address: shown,
    accept: () => closing === undefined ? opened.accept() : Promise.resolve(null),
    close: () =>
      closing ??= (async () => {
        await opened.close();
        if (file !== null && identity !== null) await removeIfSame(file, identity, ops.files).catch(() => {});
      })(),
  };
}

/** Makes `file` free: nothing there, or a stale socket file that is then removed. */
async function claimPath(file: string, ops: UnixSocketOps<unknown>, shown: string): Promise<void> {
  const status = await ops.files.lstat(file);
  if (status === null) return;
  if (!status.isSocket) {
    throw new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${shown}: a file that is not a socket is in the way`);
  }
  // Only a refused connection proves the file is stale: a busy server, a
  // socket of another type or a permission error all mean someone owns it.
  if (!(await ops.isStale(file))) {
    throw new UsageError(
      "ERR_ADDRESS_IN_USE",
      `Cannot listen on ${shown}: another server is accepting connections there`,
    );
  }
  await removeIfSame(file, status, ops.files);
}

/** Links the bound socket from its temporary name to `file`, claiming `file` first if it is taken. */
async function publish(staging: string, file: string, ops: UnixSocketOps<unknown>, shown: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await ops.files.link(staging, file);
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw error;
      if (attempt === PUBLISH_ATTEMPTS) {
        throw new UsageError(
          "ERR_ADDRESS_IN_USE",
          `Cannot listen on ${shown}: the path is taken again each time it is freed`,
          {
            cause: error,
          },
        );
      }
    }
    await claimPath(file, ops, shown);
  }
}

/** Removes `file` if it is still the file `identity` describes. */
async function removeIfSame(file: string, identity: FileIdentity, files: SocketFileOps): Promise<void> {
  const current = await files.lstat(file);
  if (current !== null && current.device === identity.device && current.inode === identity.inode) {
    await files.unlink(file);
  }
}

const encoder = new TextEncoder();

/** A fresh name next to `file` to bind to, or `null` if none fits in `sun_path`. */
function stagingPath(file: string): string | null {
  const directory = file.slice(0, file.lastIndexOf("/") + 1);
  const name = `${directory}.pl-${Math.random().toString(36).slice(2, 10).padEnd(8, "0")}`;
  return encoder.encode(name).length < SUN_PATH_SIZE ? name : null;
}
