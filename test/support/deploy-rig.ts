import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import type { LocalRunResult } from '@toolkit/cli';
import { type DockerDaemon, pushBusyboxImage, startDockerd } from './dockerd.js';
import { runBuiltAction } from './harness.js';
import { freePort } from './net.js';
import { type Registry, startRegistry } from './registry.js';
import { type SshServer, startSshServer } from './sshd.js';
import { tempDir } from './temp.js';

/**
 * The deploy-compose rig, through real parts only: OpenSSH's sshd on 127.0.0.1, a dockerd of the
 * test's own, Debian's docker-compose v1 on the "server" side, and docker-registry serving busybox
 * images made with `docker import`. The server is this machine, so a test checks what landed on it
 * directly. Each test file starts its own (jest runs files in parallel).
 */
export interface DeployRig {
  ssh: SshServer;
  daemon: DockerDaemon;
  registry: Registry;
  work: string;
  image: { reference: string; digest: string };
  /** In the registry, but not on the server: a deploy pinned to it must pull it. */
  absentImage: { reference: string; digest: string };
  webPort: number;
  close(): Promise<void>;
}

export async function startDeployRig(): Promise<DeployRig> {
  // Not a tempDir: it must outlive dockerd, whose mounts live under it, and is removed after it.
  const work = await mkdtemp(path.join(os.tmpdir(), 'deploy-compose-'));
  await mkdir(path.join(work, 'registry'));
  const registry = await startRegistry(path.join(work, 'registry'));
  const daemon = await startDockerd(path.join(work, 'docker'));
  const ssh = await startSshServer(path.join(work, 'sshd'), { env: { DOCKER_HOST: daemon.host } });
  const image = await pushBusyboxImage(daemon, work, `${registry.address}/web:1`, 'image-one');
  const absentImage = await pushBusyboxImage(daemon, work, `${registry.address}/web:2`, 'image-two');
  await daemon.docker(['rmi', absentImage.reference]);
  return {
    ssh,
    daemon,
    registry,
    work,
    image,
    absentImage,
    webPort: await freePort(),
    close: async () => {
      await daemon.close();
      await ssh.close();
      await registry.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/**
 * One rig for a test file: started before its tests, closed after them. The returned function
 * gives the rig, or throws why it did not start, so every test fails loudly, never passes silently.
 */
export function useDeployRig(): () => DeployRig {
  let rig: DeployRig | undefined;
  let setupError: Error | undefined;
  beforeAll(async () => {
    try {
      rig = await startDeployRig();
    } catch (error) {
      setupError = error as Error;
      console.error(`deploy-compose rig could not start: ${setupError.message}`);
    }
  }, 120_000);
  afterAll(async () => {
    await rig?.close();
  }, 60_000);
  return () => {
    if (!rig) throw new Error(`the deploy rig (sshd, dockerd, registry) did not start: ${setupError?.message ?? 'not started yet'}`);
    return rig;
  };
}

/** `image` as `name@digest`, the form the images input takes. */
export function pinnedReference(image: { reference: string; digest: string }): string {
  return `${image.reference.replace(/:[^/:]+$/, '')}@${image.digest}`;
}

/**
 * A compose project of one busybox httpd on the host network. It serves `RELEASE_TEXT` (from .env)
 * on `webPort`; its healthcheck asks `healthPort`, so a different port makes a release unhealthy.
 */
export function composeFile(
  rig: DeployRig,
  options: { webPort?: number; healthPort?: number; image?: string; healthcheck?: boolean } = {},
): string {
  const webPort = options.webPort ?? rig.webPort;
  const health = options.healthPort ?? webPort;
  const healthcheck =
    options.healthcheck === false
      ? ''
      : `    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${health}/"]
      interval: 1s
      timeout: 2s
      retries: 2
`;
  return `services:
  web:
    image: ${options.image ?? rig.image.reference}
    network_mode: host
    # docker-init as PID 1, so that httpd stops on SIGTERM at once rather than after the 10 s grace.
    init: true
    environment:
      RELEASE_TEXT: \${RELEASE_TEXT}
    command: ["sh", "-c", "mkdir -p /tmp/www && echo \\"$$RELEASE_TEXT\\" > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:${webPort} -h /tmp/www"]
${healthcheck}`;
}

export interface DeployOptions {
  inputs?: Record<string, string>;
  compose?: string;
  /** Further files in the workspace, by relative path. */
  files?: Record<string, string>;
  onStart?: (pid: number) => void;
  onLine?: (line: string) => void;
  /** More environment for the action's process (PATH for a replay shim). */
  env?: Record<string, string>;
}

/** Runs the built action (under Node 24) against the rig, as a workflow step would. */
export async function deployTo(rig: DeployRig, project: string, remoteDir: string, options: DeployOptions = {}): Promise<LocalRunResult> {
  const workspace = await tempDir('deploy-workspace-');
  await writeFile(path.join(workspace, 'compose.yaml'), options.compose ?? composeFile(rig));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(workspace, name)), { recursive: true });
    await writeFile(path.join(workspace, name), content);
  }
  return runBuiltAction('deploy-compose', {
    workspace,
    env: { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', ...options.env },
    timeoutMs: 180_000,
    ...(options.onStart ? { onStart: options.onStart } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
    inputs: {
      host: rig.ssh.host,
      port: String(rig.ssh.port),
      user: rig.ssh.user,
      'ssh-key': rig.ssh.clientKey,
      'known-hosts': rig.ssh.knownHosts,
      project,
      'remote-dir': remoteDir,
      timeout: '30s',
      'settle-time': '2s',
      ...options.inputs,
    },
  });
}

/** What 127.0.0.1:`port` serves now, or '' when nothing answers. */
export async function served(port: number): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return (await response.text()).trim();
  } catch {
    return '';
  }
}

export function expectSuccess(result: LocalRunResult): void {
  if (result.exitCode !== 0) {
    // A crash prints the bundle's minified line; only its ends are worth reading.
    const log = result.log.map((line) => (line.length > 300 ? `${line.slice(0, 100)} … ${line.slice(-200)}` : line));
    throw new Error(`the action failed (exit ${result.exitCode}):\n${log.join('\n')}`);
  }
}

/** Everything a run let out: its log before and after masking, its summary and its outputs. */
export function everythingCaptured(result: LocalRunResult): string {
  return [...result.rawLog, ...result.log, result.summary, ...Object.values(result.outputs)].join('\n');
}

export function failureOf(result: LocalRunResult): string {
  return result.log.filter((line) => line.startsWith('::error') || line.startsWith('Error')).join('\n') || result.log.join('\n');
}

/** The project's containers on the rig's dockerd: name, state and compose service. */
export async function projectContainers(rig: DeployRig, project: string): Promise<{ name: string; state: string; service: string }[]> {
  const out = await rig.daemon.docker([
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--format',
    '{{.Names}}\t{{.State}}\t{{.Label "com.docker.compose.service"}}',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', state = '', service = ''] = line.split('\t');
      return { name, state, service };
    });
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
