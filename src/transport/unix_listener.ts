/**
 * The one listener skeleton for Unix sockets, shared by the stream sockets
 * of every runtime and by the seqpacket layer. A runtime supplies small
 * operation objects ({@link UnixSocketOps}); this file owns the socket file:
 *
 * - **staging**: the socket is bound inside a fresh private directory next
 *   to the path (`.pl-XXXXXX`, mode 0700, made by `mkdtemp`), gets its
 *   `mode` there (default 0o600), starts listening, and only then is
 *   hard-linked into place. `link(2)` never replaces a file, so two servers
 *   cannot both claim one path; nobody can connect before the mode is set;
 *   and a prober never meets a socket that is bound but not yet listening
 *   (which it would take for stale). The private directory is removed at
 *   once, so when a runtime removes the path it bound on close (Deno, Bun
 *   and Node all do), it finds nothing.
 * - **claiming** the path: a socket file whose connections are refused is
 *   stale; it is moved into the private directory with `rename(2)` (atomic)
 *   and removed there only if it is still the file that was probed, so a
 *   server that took the path in the meantime keeps it. A live socket, or a
 *   file that is not a socket, is refused with `ERR_ADDRESS_IN_USE`.
 * - **identity**: the device and inode of the bound socket, taken inside the
 *   private directory, where no other process can have replaced it.
 * - an idempotent **`close()`** that removes the path while the socket is
 *   still listening (so nobody can have judged it stale and replaced it),
 *   and only if it is still that same file, then closes the socket.
 *
 * Abstract names (`unix:@name`) have no file, and all of this is skipped.
 * Where no private directory can be made next to the path (the runtime may
 * not write there: Deno's `--allow-write=/run/app.sock` names the socket
 * alone), or its name would not fit `sun_path` (a path within about 14 bytes
 * of the 107-byte limit), the socket is bound at the path directly: the
 * mode is then set right after binding, and a runtime that removes its
 * bound path on close removes whatever is there by then.
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
  /**
   * Creates a new directory named `prefix` followed by six random
   * characters, with mode 0700.
   *
   * @param prefix The directory and the start of the new name (`/run/.pl-`).
   * @returns The path of the new directory.
   */
  mkdtemp(prefix: string): Promise<string>;
  /**
   * Renames `from` to `to` in one step.
   *
   * @param from The file.
   * @param to The new path (here always inside a fresh private directory).
   */
  rename(from: string, to: string): Promise<void>;
  /**
   * Removes an empty directory.
   *
   * @param path The directory.
   */
  rmdir(path: string): Promise<void>;
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
   * Serves a socket that is already bound and listening (inherited, see
   * `socket_activation.ts`); absent where the runtime cannot.
   *
   * @param fd The listening descriptor.
   * @param address The listener's address in peerlink syntax (`fd:3`, `systemd:`).
   * @returns The socket.
   */
  adopt?(fd: number, address: string): Promise<BoundSocket<T>>;
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

/** A private directory next to the socket path, where the socket is bound and stale files are moved. */
interface Stage {
  /** The directory. */
  readonly directory: string;
  /** Where the socket is bound, or `null` when that path would not fit `sun_path`. */
  readonly socket: string | null;
}

/**
 * Listens on a Unix socket address.
 *
 * @param address A parsed path or abstract address.
 * @param ops How the runtime binds this kind of socket.
 * @param options The socket file's mode.
 * @returns The listener; its `address` is in peerlink syntax.
 * @throws {UsageError} `ERR_ADDRESS_IN_USE`, `ERR_INVALID_ADDRESS`, `ERR_PERMISSION_DENIED` or `ERR_CONNECTION_FAILED` (see `socket_errors.ts`).
 *
 * @example
 * ```ts ignore
 * import { listenUnix } from "./unix_listener.ts";
 * declare const ops: import("./unix_listener.ts").UnixSocketOps<unknown>;
 * const listener = await listenUnix({ transport: "unix", path: "/run/app.sock", abstract: false }, ops, { mode: 0o660 });
 * await listener.close(); // removes /run/app.sock, unless it is no longer this listener's file
 * ```
 */
export async function listenUnix<T>(
  address: SocketAddress,
  ops: UnixSocketOps<T>,
  options: UnixListenOptions = {},
): Promise<Listener<T>> {
  const shown = formatAddress(address);
  if (address.abstract) {
    const socket = await bindOrMap(ops, socketPathOf(address), shown);
    try {
      await socket.listen?.();
    } catch (error) {
      await socket.close();
      throw mapped(error, shown);
    }
    return listenerOf(socket, shown, async () => {});
  }
  const file = address.path;
  const files = ops.files;
  const stage = await openStage(file, files);
  let socket: BoundSocket<T> | undefined;
  let identity: FileIdentity | null = null;
  try {
    if (stage?.socket) {
      socket = await ops.bind(stage.socket, shown).catch(() => undefined);
      if (socket !== undefined) {
        identity = await files.lstat(stage.socket);
        await files.chmod(stage.socket, options.mode ?? DEFAULT_SOCKET_MODE);
        await socket.listen?.();
        if (!(await publish(stage, file, ops, shown))) {
          // This filesystem gives sockets no second name: bind the path itself instead.
          await socket.close();
          socket = undefined;
          identity = null;
        }
      }
    }
    if (socket === undefined) {
      await claimPath(file, ops, shown, stage);
      socket = await ops.bind(file, shown);
      identity = await files.lstat(file);
      await files.chmod(file, options.mode ?? DEFAULT_SOCKET_MODE);
      await socket.listen?.();
    }
  } catch (error) {
    if (identity !== null) await removeIfSame(file, identity, files).catch(() => {});
    await socket?.close();
    throw mapped(error, shown);
  } finally {
    if (stage !== null) await closeStage(stage, files);
  }
  const owned = identity;
  return listenerOf(socket, shown, async () => {
    // While the socket still listens, nobody can have taken the path for stale: remove it first, then close.
    if (owned !== null) await removeIfSame(file, owned, files).catch(() => {});
  });
}

/**
 * Listens on an inherited socket: it is someone else's (systemd's), so
 * there is no file of ours to stage, chmod or remove on close.
 *
 * @param fd The listening descriptor.
 * @param ops How the runtime serves this kind of socket; must have `adopt`.
 * @param shown The listener's address in peerlink syntax (`fd:3`, `systemd:`).
 * @returns The listener.
 * @throws {UsageError} `ERR_UNSUPPORTED_PLATFORM` without `adopt`, else as {@link listenUnix}.
 */
export async function adoptUnix<T>(fd: number, ops: UnixSocketOps<T>, shown: string): Promise<Listener<T>> {
  if (ops.adopt === undefined) {
    throw new UsageError("ERR_UNSUPPORTED_PLATFORM", `Cannot listen on ${shown}: this runtime cannot adopt sockets`);
  }
  let socket: BoundSocket<T>;
  try {
    socket = await ops.adopt(fd, shown);
  } catch (error) {
    throw mapped(error, shown);
  }
  return listenerOf(socket, shown, async () => {});
}

/** The listener around a bound socket; `release` runs once, before the socket is closed. */
function listenerOf<T>(socket: BoundSocket<T>, shown: string, release: () => Promise<void>): Listener<T> {
  let closing: Promise<void> | undefined;
  return {
    address: shown,
    accept: () => closing === undefined ? socket.accept() : Promise.resolve(null),
    close: () =>
      closing ??= (async () => {
        await release();
        await socket.close();
      })(),
  };
}

async function bindOrMap<T>(ops: UnixSocketOps<T>, path: string, shown: string): Promise<BoundSocket<T>> {
  try {
    return await ops.bind(path, shown);
  } catch (error) {
    throw mapped(error, shown);
  }
}

function mapped(error: unknown, shown: string): UsageError {
  return error instanceof UsageError ? error : listenError(error, shown);
}

/** Makes the private directory next to `file`, or `null` where the runtime cannot (then the path is bound directly). */
async function openStage(file: string, files: SocketFileOps): Promise<Stage | null> {
  let directory: string;
  try {
    directory = await files.mkdtemp(`${file.slice(0, file.lastIndexOf("/") + 1)}.pl-`);
  } catch {
    return null;
  }
  const socket = `${directory}/s`;
  return { directory, socket: encoder.encode(socket).length < SUN_PATH_SIZE ? socket : null };
}

/** Removes the private directory and whatever names are left in it. */
async function closeStage(stage: Stage, files: SocketFileOps): Promise<void> {
  for (const name of ["s", "stale"]) await files.unlink(`${stage.directory}/${name}`).catch(() => {});
  await files.rmdir(stage.directory).catch(() => {});
}

/**
 * Makes `file` free: nothing there, or a stale socket file that is then
 * removed. With a private directory the stale file is first moved into it
 * (atomically) and removed only if it is still the file that was probed.
 */
async function claimPath(file: string, ops: UnixSocketOps<unknown>, shown: string, stage: Stage | null): Promise<void> {
  const files = ops.files;
  const status = await files.lstat(file);
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
  if (stage === null) return await removeIfSame(file, status, files);
  const moved = `${stage.directory}/stale`;
  try {
    await files.rename(file, moved);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return;
    throw error;
  }
  const taken = await files.lstat(moved);
  if (taken !== null && sameFile(taken, status)) return await files.unlink(moved);
  // Between the probe and the move another server published its socket here: give it back.
  await files.link(moved, file).catch(() => {});
  await files.unlink(moved);
  throw new UsageError("ERR_ADDRESS_IN_USE", `Cannot listen on ${shown}: another server started there meanwhile`);
}

/**
 * Links the bound socket from the private directory to `file`, claiming
 * `file` first if it is taken.
 *
 * @returns False if the filesystem refuses a second name for the socket (no hard links), so the caller binds `file` directly.
 */
async function publish(stage: Stage, file: string, ops: UnixSocketOps<unknown>, shown: string): Promise<boolean> {
  for (let attempt = 1;; attempt++) {
    try {
      await ops.files.link(stage.socket!, file);
      return true;
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === "EPERM" || errno === "EXDEV" || errno === "EOPNOTSUPP" || errno === "EMLINK") return false;
      if (errno !== "EEXIST") throw error;
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
    await claimPath(file, ops, shown, stage);
  }
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.device === b.device && a.inode === b.inode;
}

/** Removes `file` if it is still the file `identity` describes. */
async function removeIfSame(file: string, identity: FileIdentity, files: SocketFileOps): Promise<void> {
  const current = await files.lstat(file);
  if (current !== null && sameFile(current, identity)) await files.unlink(file);
}

const encoder = new TextEncoder();
