import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './net.js';
import { requireTool } from './system-tools.js';

export interface DockerRegistry {
  /** host:port on 127.0.0.1 */
  address: string;
  close(): Promise<void>;
}

/**
 * The real docker-registry (Debian's, the CNCF distribution) on 127.0.0.1, storing under `dir`.
 * `auth` is a section of its configuration (`auth:` and below), for a registry that wants tokens.
 */
export async function startDockerRegistry(dir: string, options: { auth?: string } = {}): Promise<DockerRegistry> {
  const binary = requireTool('docker-registry');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'registry.yml');
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'storage')}\nhttp:\n  addr: 127.0.0.1:${port}\n${options.auth ?? ''}`,
  );
  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    if (response && (response.ok || response.status === 401)) break;
    if (attempt > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start on 127.0.0.1:${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
