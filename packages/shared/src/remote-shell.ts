import { ToolkitError } from './errors.js';

/** Characters that no POSIX shell (nor bash or zsh) treats specially anywhere in a word. */
const PLAIN_WORD = /^[A-Za-z0-9_./:@%+,-]+$/;

/**
 * Quotes one argument for a POSIX shell: a plain word as it is, anything else in single quotes, where
 * nothing is special, with each `'` written as `'\''`. A NUL byte cannot be carried by any shell
 * string or argv, so it is refused rather than silently cut.
 */
export function quoteShellArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new ToolkitError('UNSAFE_ARGUMENT', 'An argument for a shell command contains a NUL byte, which no shell command can carry.');
  }
  if (PLAIN_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The one builder of commands for a remote shell (an SSH exec channel hands its string to the
 * user's login shell, which must be POSIX: sh, dash, bash, ksh or zsh). Every argument is quoted, so
 * whatever the inputs hold, the remote side runs exactly `argv`.
 */
export function quoteForRemoteShell(argv: readonly string[]): string {
  if (argv.length === 0) throw new ToolkitError('UNSAFE_ARGUMENT', 'A shell command needs at least one word.');
  return argv.map(quoteShellArg).join(' ');
}
