/**
 * The typed errors of the file operations every runtime adapter offers
 * (`createFile`, `fileStatus`), from the errno name that
 * `src/transport/socket_errors.ts` reads out of any runtime's error, so
 * that the same condition has the same code on Deno, Bun and Node.
 *
 * | errno | code |
 * |---|---|
 * | `EEXIST` (creating: anything at the path, a dangling symbolic link too) | `ERR_FILE_EXISTS` |
 * | `EACCES`, `EPERM`, `EROFS`, a permission Deno was not given | `ERR_PERMISSION_DENIED` |
 * | anything else (`ENOENT`, `ENOTDIR`, `EISDIR`, `ELOOP`, ...) | `ERR_INVALID_ARGUMENT` |
 *
 * @module
 */

import { UsageError } from "../src/base/errors.ts";
import { errnoOf } from "../src/transport/socket_errors.ts";

/** What was being done to the file, for the message. */
export type FileAction = "create" | "examine";

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a parent of the path is not a directory",
  EISDIR: "it is a directory",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the path is too long",
};

/**
 * The typed error for a failed file operation.
 *
 * @param cause What the runtime threw.
 * @param path The file.
 * @param action What was being done.
 * @returns The error to throw; it names the file and has `cause` attached.
 *
 * @example
 * ```ts
 * import { fileError } from "./file_errors.ts";
 * const error = fileError(Object.assign(new Error("exists"), { code: "EEXIST" }), "/run/app.secret", "create");
 * console.assert(error.code === "ERR_FILE_EXISTS");
 * ```
 */
export function fileError(cause: unknown, path: string, action: FileAction): UsageError {
  const errno = errnoOf(cause);
  const prefix = `Cannot ${action} ${path}`;
  if (errno === "EEXIST" && action === "create") {
    return new UsageError("ERR_FILE_EXISTS", `${prefix}: something already exists there; nothing was changed`, {
      cause,
    });
  }
  if (errno === "EACCES" || errno === "EPERM" || errno === "EROFS") {
    // Deno's NotCapable names the flag that was not given (--allow-write, --allow-read).
    const reason = errno === "EROFS"
      ? "the file system is read-only"
      : cause instanceof Error && cause.name === "NotCapable"
      ? cause.message
      : `permission denied (${errno})`;
    return new UsageError("ERR_PERMISSION_DENIED", `${prefix}: ${reason}`, { cause });
  }
  const reason = (errno === undefined ? undefined : REASONS[errno]) ?? describe(cause, errno);
  return new UsageError("ERR_INVALID_ARGUMENT", `${prefix}: ${reason}`, { cause });
}

function describe(error: unknown, errno: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return errno === undefined || message.includes(errno) ? message : `${message} (${errno})`;
}
