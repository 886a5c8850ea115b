/** Why a file operation failed, in words a user can act on ("permission denied"). */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "does not exist (or a folder on its path does not)";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a folder, not a file";
    case "ENOTDIR":
      return "a part of its path is not a folder";
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "no space left on the device";
    case "EEXIST":
      return "already exists";
    case "ELOOP":
      return "is a loop of symbolic links";
    default:
      return (error as Error).message;
  }
}
