/**
 * Deno's file operations of the runtime adapter, through `Deno.*`:
 * reading certificate and key files (TLS options given as paths),
 * creating files that must be new (secret files), and the owner and mode
 * of a file.
 *
 * @module
 */

import { UsageError } from "../../src/base/errors.ts";
import type { FileStatus } from "../../src/transport/runtime_adapter.ts";
import { fileError } from "../file_errors.ts";

/**
 * Reads a UTF-8 text file.
 *
 * @param path The file.
 * @returns Its text.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` naming the file when it is missing, unreadable or not permitted
 *   (`--allow-read`), with Deno's error as `cause`.
 */
export async function readDenoTextFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError("ERR_INVALID_ARGUMENT", `Cannot read ${path}: ${reason}`, { cause: error });
  }
}

/**
 * Creates a file that must not exist yet (`createNew`, i.e. `O_CREAT |
 * O_EXCL`, which also refuses a dangling symbolic link), gives it exactly
 * `mode` before anything is written, then writes `text`. `Deno.FsFile` has
 * no `fchmod`: when the umask narrowed the mode, it is set by path and
 * checked through the open descriptor, so a file swapped in meanwhile is
 * noticed. A file whose writing failed is removed again.
 *
 * @param path The file.
 * @param text What it holds (UTF-8).
 * @param mode Its permission bits, such as `0o600`.
 * @throws {UsageError} `ERR_FILE_EXISTS` if anything is at `path` (it is left untouched), else
 *   `ERR_PERMISSION_DENIED` (also without `--allow-write`) or `ERR_INVALID_ARGUMENT` naming the file, with the cause.
 */
export async function createDenoFile(path: string, text: string, mode: number): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { createNew: true, write: true, mode });
  } catch (cause) {
    throw fileError(cause, path, "create");
  }
  try {
    const created = await file.stat();
    if (modeOf(created) !== mode) {
      await Deno.chmod(path, mode);
      if (modeOf(await file.stat()) !== mode) throw new Error("The file was replaced while it was being created");
    }
    const bytes = new TextEncoder().encode(text);
    for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
    file.close();
  } catch (cause) {
    await removeIfSame(path, file);
    throw fileError(cause, path, "create");
  }
}

/**
 * The owner and permission bits of a file, symbolic links followed.
 *
 * @param path The file.
 * @returns Its mode (`st_mode & 0o7777`) and owner.
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` (or `ERR_PERMISSION_DENIED` without `--allow-read`) naming the file.
 */
export async function denoFileStatus(path: string): Promise<FileStatus> {
  try {
    const status = await Deno.stat(path);
    return { mode: modeOf(status), uid: status.uid ?? -1 };
  } catch (cause) {
    throw fileError(cause, path, "examine");
  }
}

function modeOf(status: Deno.FileInfo): number {
  return (status.mode ?? 0) & 0o7777;
}

/** Closes `file` and removes `path` if it is still that file. */
async function removeIfSame(path: string, file: Deno.FsFile): Promise<void> {
  try {
    const [own, named] = await Promise.all([file.stat(), Deno.lstat(path)]);
    if (own.ino === named.ino && own.dev === named.dev) await Deno.remove(path);
  } catch {
    // Gone already, or not ours to remove.
  } finally {
    try {
      file.close();
    } catch {
      // Closed already.
    }
  }
}
