/**
 * How `pdm` reports a failed command: one line on stderr naming the error, and a non-zero exit; the
 * stack only with `--debug` (or PDM_DEBUG=1). Errors of the file system become named errors that say
 * which file, instead of Node's stack trace.
 */

/** A path the command was given does not exist. */
export class FileNotFoundError extends Error {
  override readonly name = 'FileNotFoundError';
}
/** A path the command was given cannot be read or written with the current permissions. */
export class PermissionDeniedError extends Error {
  override readonly name = 'PermissionDeniedError';
}
/** A path the command was given is a folder where a file was expected, or the reverse. */
export class WrongFileTypeError extends Error {
  override readonly name = 'WrongFileTypeError';
}

interface SystemError extends Error {
  code?: string;
  path?: string;
  syscall?: string;
  exitCode?: number;
}

/** Node's errno errors as the named errors above; any other value as it is. */
export function namedError(e: unknown): Error {
  if (!(e instanceof Error)) return new Error(String(e));
  const s = e as SystemError;
  const where = s.path ?? '';
  switch (s.code) {
    case 'ENOENT':
      return Object.assign(new FileNotFoundError(`no such file or folder: ${where}`), { stack: e.stack });
    case 'EACCES':
    case 'EPERM':
      return Object.assign(new PermissionDeniedError(`permission denied: ${where}`), { stack: e.stack });
    case 'EISDIR':
      return Object.assign(new WrongFileTypeError(`is a folder, expected a file: ${where}`), { stack: e.stack });
    case 'ENOTDIR':
      return Object.assign(new WrongFileTypeError(`not a folder: ${where}`), { stack: e.stack });
    default:
      return e;
  }
}

/** The one line printed for `e` while running `command` (e.g. "evaluate ai4i"). */
export function errorLine(e: unknown, command: string): string {
  const err = namedError(e);
  const message = err.message.replace(/\s*\n\s*/g, ' ').trim();
  const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `pdm${command ? ` ${command}` : ''}: ${name}${message}`;
}

/** The exit code for `e`: its own when it carries one (commander's errors do), else 1. */
export function exitCodeOf(e: unknown): number {
  const code = (e as SystemError | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 ? code : 1;
}
