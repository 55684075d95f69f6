import * as core from '@actions/core';
import { isUserError } from './errors.js';

/**
 * What a failure is, as it is reported: `user` (a UserError: something the person running the
 * action can fix, and nothing else) or `internal` (everything else: a bug, an outage, a command that
 * failed for a reason the inputs do not explain). One is never reported as the other.
 */
export type FailureKind = 'user' | 'internal';

export interface FailureReporter {
  setFailed(message: string, kind: FailureKind): void;
  debug(message: string): void;
}

/** The titles of the step's error annotation, which is how GitHub shows the two kinds apart. */
export const FAILURE_TITLES: Readonly<Record<FailureKind, string>> = {
  user: 'Refused: fix what the message names',
  internal: 'Internal failure: not caused by the inputs or files (the stack is in the debug log)',
};

/** The runner's: `core.setFailed`, with the annotation titled by kind. */
export const runnerReporter: FailureReporter = {
  setFailed(message, kind) {
    process.exitCode = core.ExitCode.Failure;
    core.error(message, { title: FAILURE_TITLES[kind] });
  },
  debug: (message) => core.debug(message),
};

/**
 * The one wrapper every action's entry point uses. It never rejects: whatever `main` throws ends
 * the step through `setFailed`. A `UserError` is reported as a user error, its message alone;
 * anything else as an internal failure, with its message and, in debug output, its stack and causes.
 */
export async function runAction(main: () => Promise<void>, reporter: FailureReporter = runnerReporter): Promise<void> {
  try {
    await main();
  } catch (error) {
    reportFailure(error, reporter);
  }
}

export function reportFailure(error: unknown, reporter: FailureReporter = runnerReporter): void {
  if (isUserError(error)) {
    reporter.setFailed(error.message, 'user');
    return;
  }
  if (error instanceof Error) {
    reporter.setFailed(error.message || error.name, 'internal');
    for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
      if (cause.stack) reporter.debug(cause.stack);
    }
    return;
  }
  // A thrown non-error is a bug: no user error is ever thrown that way.
  reporter.setFailed(String(error), 'internal');
  reporter.debug(`A value that is not an Error was thrown: ${typeof error} ${String(error)}`);
}
