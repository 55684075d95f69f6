import * as core from '@actions/core';
import { isUserError } from './errors.js';

export interface FailureReporter {
  setFailed(message: string): void;
  debug(message: string): void;
}

/**
 * The one wrapper every action's entry point uses. It never rejects: whatever `main` throws ends
 * the step through `setFailed`. A `UserError` is reported as its message alone; anything else is
 * our failure, reported with its message and, in debug output, its stack and causes.
 */
export async function runAction(main: () => Promise<void>, reporter: FailureReporter = core): Promise<void> {
  try {
    await main();
  } catch (error) {
    reportFailure(error, reporter);
  }
}

export function reportFailure(error: unknown, reporter: FailureReporter = core): void {
  if (isUserError(error)) {
    reporter.setFailed(error.message);
    return;
  }
  if (error instanceof Error) {
    reporter.setFailed(error.message || error.name);
    for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
      if (cause.stack) reporter.debug(cause.stack);
    }
    return;
  }
  reporter.setFailed(String(error));
}
