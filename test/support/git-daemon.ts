import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { freePort } from './net.js';

export interface GitDaemon {
  /** e.g. `git://127.0.0.1:9418/`; append a repository's path under the base. */
  url: string;
  close(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`git daemon exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`git daemon did not listen on ${port}`);
}

/**
 * The real `git daemon` serving every repository under `base` on 127.0.0.1. Read-only unless
 * `receivePack` is set, as git daemon is by default.
 */
export async function startGitDaemon(base: string, options: { receivePack?: boolean } = {}): Promise<GitDaemon> {
  const port = await freePort();
  const child = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      `--base-path=${base}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      ...(options.receivePack ? ['--enable=receive-pack'] : []),
      base,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, child);
  return {
    url: `git://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
