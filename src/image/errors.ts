// The one error type of the image part: its message is a single line naming what went wrong,
// where, and how to fix it, ready for the CLI to print as is.

/** A problem with the input or the output of an image build, with a one-line message. */
export class ImageError extends Error {
  override name = "ImageError";
}

/** Turns a file system error on `path` into an ImageError that says what to do about it. */
export function fileError(action: string, path: string, error: unknown): ImageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : code === "ENOENT"
        ? "no such file or directory"
        : code === "ENOTDIR"
          ? "a parent is not a directory"
          : code === "EROFS"
            ? "read-only file system"
            : code === "ENOSPC"
              ? "no space left on device"
              : code === "EISDIR"
                ? "it is a directory"
                : String((error as Error | undefined)?.message ?? error).split("\n")[0];
  return new ImageError(`cannot ${action} ${path}: ${reason}${code ? ` (${code})` : ""}`);
}
