import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

export interface GitDaemon {
  /** e.g. `git://127.0.0.1:9418/`; append a repository's path under the base. */
  url: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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
