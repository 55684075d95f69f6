/**
 * Errors with codes, split the way github/codeql-action splits them: a `UserError` is something the
 * person running the action can fix (a bad input, a bad configuration, an operation we refuse), and
 * is reported as one clear line. Anything else is our failure, reported with its stack in debug.
 */

/** The codes of failures the person running the action can fix: a `UserError` carries one of these, and only these. */
export type UserErrorCode = 'INVALID_INPUT' | 'INVALID_CONFIGURATION' | 'REFUSED' | 'NOT_FOUND' | 'CHECKSUM_MISMATCH';

/** The codes of internal failures (a command, a download, a guard against a value no input allows). */
export type InternalErrorCode = 'DOWNLOAD_FAILED' | 'COMMAND_FAILED' | 'UNSAFE_ARGUMENT';

export type ErrorCode = UserErrorCode | InternalErrorCode;

export class ToolkitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A failure the user can fix. Its message is the whole story: it names what was wrong and what is
 * allowed. It is reported as a user error (run-action.ts), and only it is: an internal failure never
 * carries this class, and this class never carries an internal code.
 */
export class UserError extends ToolkitError {
  declare readonly code: UserErrorCode;

  constructor(code: UserErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A bad action input: names the input, the value (unless it is secret) and what is allowed. */
export class InputError extends UserError {
  readonly input: string;

  constructor(input: string, problem: string) {
    super('INVALID_INPUT', `Invalid input "${input}": ${problem}`);
    this.input = input;
  }
}

/** A process that exited non-zero: names the command, its exit code and the end of its stderr. */
export class CommandError extends ToolkitError {
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;

  constructor(command: readonly string[], exitCode: number, stderr: string, display: string) {
    const detail = lastLines(stderr.trim(), 20);
    super('COMMAND_FAILED', `\`${display}\` exited with code ${exitCode}${detail ? `:\n${detail}` : ''}`);
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

function lastLines(text: string, count: number): string {
  const lines = text.split('\n');
  return lines.length <= count ? text : ['…', ...lines.slice(-count)].join('\n');
}
