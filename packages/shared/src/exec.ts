import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
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
 * How long a process that has exited may keep its output pipes open (a daemon it started holds
 * them) before the run counts as over, as @actions/exec allows.
 */
const STDIO_GRACE_MS = 10_000;

/**
 * Node's own `spawn`, with no shell: a bare name is looked up on PATH by the exec call itself.
 * @actions/exec, used before, loads @actions/io (and `assert`) at start, looks the name up on PATH
 * in JavaScript before each run, and costs a few milliseconds more a process; an action that runs
 * git four times at start-up paid for each (docs/performance.md).
 */
export const runCommand: CommandRunner = (file, args, options = {}) => {
  const display = displayCommand(file, args);
  // The runner hides debug lines unless debug logging is on; elsewhere (the CLI, tests) print none.
  if (core.isDebug()) core.debug(`$ ${display}`);
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: 'pipe',
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', options.onStdout ?? ((chunk: Buffer) => stdout.push(chunk)));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A process that exits before it read all its input closes the pipe: that is its own business.
    // With no input, stdin is closed at once: a read gets end of file, never a wait on nobody.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    let grace: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      // Killed by a signal: the shell's convention, 128 + its number.
      const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      const result = { exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (exitCode !== 0 && !options.allowFailure) reject(new CommandError([file, ...args], exitCode, result.stderr, display));
      else resolve(result);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      const reason =
        error.code === 'ENOENT' ? (file.includes('/') ? 'it does not exist' : 'it is not on PATH') : (error.code ?? error.message);
      reject(new Error(`Cannot run ${display}: ${reason}.`, { cause: error }));
    });
    child.on('exit', (code, signal) => {
      grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, STDIO_GRACE_MS);
      grace.unref();
    });
    child.on('close', finish);
  });
};

/**
 * The first executable file called `name` in PATH's folders, or undefined: what `command -v` finds
 * for a bare name (`version: system` tools).
 */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Windows finds `git` as git.exe: each of PATHEXT's extensions is tried after the name itself.
  const extensions = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';')] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const extension of extensions) {
      const candidate = path.resolve(dir, name + extension);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not there, or not executable: on to the next.
      }
    }
  }
  return undefined;
}

/** A command as a person would retype it; used only for messages, never executed. */
export function displayCommand(file: string, args: readonly string[]): string {
  return quoteForRemoteShell([file, ...args.map((arg) => arg.replaceAll('\0', '\\0'))]);
}
