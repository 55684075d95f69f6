import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { requireTool } from './system-tools.js';

const run = promisify(execFile);

/**
 * A real dockerd of the test's own: no iptables, no bridge (containers use the host's network),
 * its data, state and socket in `dir`. `DOCKER_HOST` points the docker CLI and compose at it.
 */
export interface DockerDaemon {
  host: string;
  docker(args: string[], options?: { cwd?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startDockerd(dir: string): Promise<DockerDaemon> {
  const dockerd = requireTool('dockerd', 'docker.io');
  const dockerCli = requireTool('docker', 'docker.io');
  await mkdir(dir, { recursive: true });
  const socket = path.join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const logFile = path.join(dir, 'dockerd.log');
  const child: ChildProcess = spawn(
    dockerd,
    [
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      `--data-root=${path.join(dir, 'data')}`,
      `--exec-root=${path.join(dir, 'exec')}`,
      `--pidfile=${path.join(dir, 'dockerd.pid')}`,
      `--host=${host}`,
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const docker = async (args: string[], options: { cwd?: string } = {}) =>
    (await run(dockerCli, args, { env: { ...process.env, DOCKER_HOST: host }, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 })).stdout;
  for (let attempt = 0; ; attempt++) {
    try {
      await docker(['version', '--format', '{{.Server.Version}}']);
      break;
    } catch (error) {
      if (child.exitCode !== null || attempt > 150) {
        child.kill('SIGKILL');
        await writeFile(logFile, stderr);
        throw new Error(`dockerd did not start (${(error as Error).message.split('\n')[0]}):\n${stderr.slice(-3000)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    host,
    docker,
    close: async () => {
      await docker(['rm', '-f', ...(await docker(['ps', '-aq'])).split('\n').filter(Boolean)]).catch(() => undefined);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
      await unmountUnder(dir);
    },
  };
}

/** dockerd can leave mounts under its exec-root (netns/default) that would keep `dir` from being removed. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await run('umount', ['-l', point]).catch(() => undefined);
}

/**
 * A busybox image made with `docker import` from a rootfs of busybox-static (httpd, wget, sh), and
 * pushed to `registry` as `<registry>/<name>:<tag>`. Returns the pushed reference and its digest.
 */
export async function pushBusyboxImage(
  daemon: DockerDaemon,
  dir: string,
  reference: string,
  marker: string,
): Promise<{ reference: string; digest: string }> {
  const busybox = requireTool('busybox', 'busybox-static');
  const rootfs = path.join(dir, `rootfs-${marker}`);
  await mkdir(path.join(rootfs, 'bin'), { recursive: true });
  await mkdir(path.join(rootfs, 'www'), { recursive: true });
  await mkdir(path.join(rootfs, 'tmp'), { recursive: true });
  await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
  await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'httpd', 'wget', 'sleep', 'cat', 'echo', 'mkdir', 'touch', 'ls', 'env']) {
    await symlink('busybox', path.join(rootfs, 'bin', applet));
  }
  await writeFile(path.join(rootfs, 'www', 'index.html'), `${marker}\n`);
  const tar = path.join(dir, `rootfs-${marker}.tar`);
  await run('tar', ['-C', rootfs, '-cf', tar, '.']);
  await daemon.docker(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', tar, reference]);
  await daemon.docker(['push', reference]);
  const digests = JSON.parse(await daemon.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', reference])) as string[];
  const name = reference.replace(/:[^/:]+$/, '');
  const digest = (digests.find((entry) => entry.startsWith(`${name}@`)) ?? '').split('@')[1] ?? '';
  if (!digest) throw new Error(`pushed ${reference} but docker reports no digest for it: ${digests.join(' ')}`);
  return { reference, digest };
}
