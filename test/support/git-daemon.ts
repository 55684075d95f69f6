import { spawn } from 'node:child_process';
import { freePort, waitForPort } from './net.js';

export interface GitDaemon {
  /** e.g. `git://127.0.0.1:9418/`; append a repository's path under the base. */
  url: string;
  close(): Promise<void>;
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
  await waitForPort(port, child, 'git daemon');
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
