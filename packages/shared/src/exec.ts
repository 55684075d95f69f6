import * as core from '@actions/core';
import { getExecOutput } from '@actions/exec';
import { CommandError } from './errors.js';
import { quoteForRemoteShell } from './remote-shell.js';

export interface CommandOptions {
  cwd?: string;
  /** Added to (not replacing) the current environment. */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Return a non-zero exit instead of throwing `CommandError`. */
  allowFailure?: boolean;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a local process from an argv array: no shell is ever involved. */
export type CommandRunner = (file: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

export const runCommand: CommandRunner = async (file, args, options = {}) => {
  const display = displayCommand(file, args);
  // The runner hides debug lines unless debug logging is on; elsewhere (the CLI, tests) print none.
  if (core.isDebug()) core.debug(`$ ${display}`);
  const result = await getExecOutput(file, [...args], {
    cwd: options.cwd,
    env: options.env ? mergeEnv(options.env) : undefined,
    input: typeof options.input === 'string' ? Buffer.from(options.input) : options.input,
    silent: true,
    ignoreReturnCode: true,
  });
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw new CommandError([file, ...args], result.exitCode, result.stderr, display);
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
};

/** A command as a person would retype it; used only for messages, never executed. */
export function displayCommand(file: string, args: readonly string[]): string {
  return quoteForRemoteShell([file, ...args.map((arg) => arg.replaceAll('\0', '\\0'))]);
}

function mergeEnv(extra: Record<string, string>): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) merged[name] = value;
  return Object.assign(merged, extra);
}
