import * as core from '@actions/core';
import { exec } from '@actions/exec';
import { which } from '@actions/io';
import { CommandError } from './errors.js';
import { quoteForRemoteShell } from './remote-shell.js';

export interface CommandOptions {
  cwd?: string;
  /** Added to (not replacing) the current environment. */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Return a non-zero exit instead of throwing `CommandError`. */
  allowFailure?: boolean;
  /**
   * Receives stdout as it arrives, to be parsed while the process still runs; the result's
   * `stdout` is then empty.
   */
  onStdout?: (chunk: Buffer) => void;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a local process from an argv array: no shell is ever involved. */
export type CommandRunner = (file: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

/**
 * @actions/exec looks a bare command name up on PATH before every run; an action that runs git a
 * few times at start-up pays for each. The lookup is done once per name and process.
 */
const resolved = new Map<string, Promise<string>>();
function resolveExecutable(file: string): Promise<string> {
  if (file.includes('/') || file.includes('\\')) return Promise.resolve(file);
  let found = resolved.get(file);
  if (!found) {
    found = which(file, true);
    resolved.set(file, found);
    found.catch(() => resolved.delete(file));
  }
  return found;
}

export const runCommand: CommandRunner = async (file, args, options = {}) => {
  const display = displayCommand(file, args);
  // The runner hides debug lines unless debug logging is on; elsewhere (the CLI, tests) print none.
  if (core.isDebug()) core.debug(`$ ${display}`);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const exitCode = await exec(await resolveExecutable(file), [...args], {
    cwd: options.cwd,
    env: options.env ? mergeEnv(options.env) : undefined,
    input: typeof options.input === 'string' ? Buffer.from(options.input) : options.input,
    silent: true,
    ignoreReturnCode: true,
    listeners: {
      stdout: options.onStdout ?? ((chunk: Buffer) => stdout.push(chunk)),
      stderr: (chunk: Buffer) => stderr.push(chunk),
    },
  });
  const result = { exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
  if (exitCode !== 0 && !options.allowFailure) throw new CommandError([file, ...args], exitCode, result.stderr, display);
  return result;
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
