import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LocalRunResult } from '@toolkit/cli';
import { type DockerDaemon, pushBusyboxImage, startDockerd } from '../support/dockerd.js';
import { runBuiltAction } from '../support/harness.js';
import { freePort } from '../support/net.js';
import { type Registry, startRegistry } from '../support/registry.js';
import { type SshServer, generateKey, startSshServer } from '../support/sshd.js';
import { tempDir } from '../support/temp.js';

/**
 * deploy-compose end to end, through real parts only: the built action under Node 24, OpenSSH's
 * sshd on 127.0.0.1, a dockerd of the test's own, Debian's docker-compose v1 on the "server" side,
 * and docker-registry serving busybox images made with `docker import`. The server is this machine,
 * so the test checks what landed on it directly.
 */

interface Rig {
  ssh: SshServer;
  daemon: DockerDaemon;
  registry: Registry;
  work: string;
  image: { reference: string; digest: string };
  /** In the registry, but not on the server: a deploy pinned to it must pull it. */
  absentImage: { reference: string; digest: string };
  webPort: number;
}

let rig: Rig;
let workDir: string | undefined;
let setupError: Error | undefined;

beforeAll(async () => {
  try {
    // Not a tempDir: it must outlive dockerd, whose mounts live under it, and is removed after it.
    const work = await mkdtemp(path.join(os.tmpdir(), 'deploy-compose-'));
    workDir = work;
    const registry = await startRegistry(await mkdirIn(work, 'registry'));
    const daemon = await startDockerd(path.join(work, 'docker'));
    const ssh = await startSshServer(path.join(work, 'sshd'), { env: { DOCKER_HOST: daemon.host } });
    const image = await pushBusyboxImage(daemon, work, `${registry.address}/web:1`, 'image-one');
    const absentImage = await pushBusyboxImage(daemon, work, `${registry.address}/web:2`, 'image-two');
    await daemon.docker(['rmi', absentImage.reference]);
    rig = { ssh, daemon, registry, work, image, absentImage, webPort: await freePort() };
  } catch (error) {
    // Loud, never a silent pass: every test below fails with this.
    setupError = error as Error;
    console.error(`deploy-compose rig could not start: ${setupError.message}`);
  }
}, 120_000);

afterAll(async () => {
  await rig?.daemon.close();
  await rig?.ssh.close();
  await rig?.registry.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 60_000);

async function mkdirIn(parent: string, name: string): Promise<string> {
  await mkdir(path.join(parent, name), { recursive: true });
  return path.join(parent, name);
}

function requireRig(): Rig {
  if (setupError) throw new Error(`the deploy rig (sshd, dockerd, registry) did not start: ${setupError.message}`);
  return rig;
}

/**
 * A compose project of one busybox httpd on the host network. It serves `RELEASE_TEXT` (from .env)
 * on `webPort`; its healthcheck asks `healthPort`, so a different port makes a release unhealthy.
 */
function composeFile(options: { webPort: number; healthPort?: number; image?: string }): string {
  const health = options.healthPort ?? options.webPort;
  return `services:
  web:
    image: ${options.image ?? requireRig().image.reference}
    network_mode: host
    # docker-init as PID 1, so that httpd stops on SIGTERM at once rather than after the 10 s grace.
    init: true
    environment:
      RELEASE_TEXT: \${RELEASE_TEXT}
    command: ["sh", "-c", "mkdir -p /tmp/www && echo \\"$$RELEASE_TEXT\\" > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:${options.webPort} -h /tmp/www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${health}/"]
      interval: 1s
      timeout: 2s
      retries: 2
`;
}

interface DeployOptions {
  inputs?: Record<string, string>;
  compose?: string;
  onStart?: (pid: number) => void;
}

async function deploy(project: string, remoteDir: string, options: DeployOptions = {}): Promise<LocalRunResult> {
  const { ssh } = requireRig();
  const workspace = await tempDir('deploy-workspace-');
  await writeFile(path.join(workspace, 'compose.yaml'), options.compose ?? composeFile({ webPort: requireRig().webPort }));
  return runBuiltAction('deploy-compose', {
    workspace,
    env: { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' },
    timeoutMs: 180_000,
    ...(options.onStart ? { onStart: options.onStart } : {}),
    inputs: {
      host: ssh.host,
      port: String(ssh.port),
      user: ssh.user,
      'ssh-key': ssh.clientKey,
      'known-hosts': ssh.knownHosts,
      project,
      'remote-dir': remoteDir,
      timeout: '30s',
      ...options.inputs,
    },
  });
}

async function served(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  return (await response.text()).trim();
}

function expectSuccess(result: LocalRunResult): void {
  if (result.exitCode !== 0) {
    // A crash prints the bundle's minified line; only its ends are worth reading.
    const log = result.log.map((line) => (line.length > 300 ? `${line.slice(0, 100)} … ${line.slice(-200)}` : line));
    throw new Error(`the action failed (exit ${result.exitCode}):\n${log.join('\n')}`);
  }
}

/** Everything a run let out: its log before and after masking, its summary and its outputs. */
function everythingCaptured(result: LocalRunResult): string {
  return [...result.rawLog, ...result.log, result.summary, ...Object.values(result.outputs)].join('\n');
}

function failureOf(result: LocalRunResult): string {
  return result.log.filter((line) => line.startsWith('::error') || line.startsWith('Error')).join('\n') || result.log.join('\n');
}

async function acceptedConnections(): Promise<number> {
  return ((await requireRig().ssh.log()).match(/Accepted publickey/g) ?? []).length;
}

describe('deploy-compose over real sshd, dockerd and docker-compose', () => {
  let remoteDir: string;
  const project = 'shop';
  const secret = 'sup3r-s3cret-token-9f8e7d';

  beforeAll(async () => {
    if (!setupError) remoteDir = path.join(await tempDir('deploy-server-'), 'deployments', project);
  });

  it('1. deploys a first release: uploaded, healthy, current, .env 0600 holding a secret no log shows, pinned by digest', async () => {
    const { image, webPort } = requireRig();
    const before = await acceptedConnections();
    const result = await deploy(project, remoteDir, {
      inputs: {
        release: 'r1',
        env: `RELEASE_TEXT=one\nAPI_TOKEN=${secret}`,
        images: `web=${image.reference.replace(/:1$/, '')}@${image.digest}`,
      },
    });
    expectSuccess(result);
    expect(result.outputs).toMatchObject({ release: 'r1', 'previous-release': '', 'rolled-back': 'false' });
    expect(Number(result.outputs.duration)).toBeGreaterThan(0);
    expect(await served(webPort)).toBe('one');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r1');
    const envFile = path.join(remoteDir, 'releases', 'r1', '.env');
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(envFile, 'utf8')).toContain(`API_TOKEN=${secret}`);
    expect(await readFile(path.join(remoteDir, 'releases', 'r1', 'toolkit.images.yml'), 'utf8')).toContain(image.digest);
    expect(result.summary).toContain(requireRig().ssh.fingerprint);
    expect(result.summary).toContain(image.digest);
    expect(result.summary).toMatch(/running, healthy/);
    // Every service pinned to an image the server has: no pull.
    expect(result.log).toContain('Every service is pinned by digest to an image the server has: nothing to pull.');
    expect(everythingCaptured(result)).not.toContain(secret);
    expect(result.masks).toContain(secret);
    // One SSH connection for the whole deploy.
    expect((await acceptedConnections()) - before).toBe(1);
  });

  it('9. secrets in env appear in no log line, output or summary of a plan either (before masking, too)', async () => {
    const result = await deploy(project, remoteDir, {
      inputs: { release: 'r1b', env: `RELEASE_TEXT=one\nAPI_TOKEN=${secret}`, operation: 'plan' },
    });
    expect(result.exitCode).toBe(0);
    expect(everythingCaptured(result)).not.toContain(secret);
    expect(result.masks).toContain(secret);
  });

  it('2. deploys a second release and moves current; the host may be trusted by fingerprint', async () => {
    const { ssh, webPort } = requireRig();
    const result = await deploy(project, remoteDir, {
      inputs: { release: 'r2', env: 'RELEASE_TEXT=two', 'known-hosts': '', 'host-fingerprint': ssh.fingerprint },
    });
    expectSuccess(result);
    expect(result.outputs).toMatchObject({ release: 'r2', 'previous-release': 'r1', 'rolled-back': 'false' });
    expect(await served(webPort)).toBe('two');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r2');
    expect(existsSync(path.join(remoteDir, 'releases', 'r1'))).toBe(true);
  });

  it('3. a release that fails its healthcheck is rolled back: the previous one serves again and the step fails', async () => {
    const { webPort } = requireRig();
    const result = await deploy(project, remoteDir, {
      compose: composeFile({ webPort, healthPort: await freePort() }),
      inputs: { release: 'r3', env: 'RELEASE_TEXT=three', timeout: '20s' },
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs).toMatchObject({ release: 'r3', 'previous-release': 'r2', 'rolled-back': 'true' });
    expect(failureOf(result)).toMatch(/Release r3 failed.*web \(running, unhealthy\)/s);
    expect(failureOf(result)).toContain('Rolled back: r2 is running again and healthy.');
    expect(await served(webPort)).toBe('two');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r2');
    expect(result.summary).toContain('Last 50 log lines of web');
  });

  it('10. operation rollback returns to the previous healthy release without naming it', async () => {
    const { webPort } = requireRig();
    const result = await deploy(project, remoteDir, { inputs: { operation: 'rollback' } });
    expectSuccess(result);
    expect(result.outputs).toMatchObject({ release: 'r1', 'previous-release': 'r2', 'rolled-back': 'true' });
    expect(await served(webPort)).toBe('one');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r1');
  });

  it('11. plan connects, checks and says what it would do, and writes nothing', async () => {
    const listing = async () => (await readdir(path.join(remoteDir, 'releases'))).sort();
    const before = await listing();
    const result = await deploy(project, remoteDir, { inputs: { release: 'r9', env: 'RELEASE_TEXT=nine', operation: 'plan' } });
    expectSuccess(result);
    const log = result.log.join('\n');
    expect(log).toContain('Current release: r1.');
    expect(log).toContain('The deploy lock is free.');
    expect(log).toMatch(/Upload compose\.yaml and \.env \(mode 0600\) to .*releases\/r9/);
    expect(log).toContain('docker-compose -p shop up -d --remove-orphans');
    expect(await listing()).toEqual(before);
    expect(existsSync(path.join(remoteDir, '.lock'))).toBe(false);
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r1');
  });

  it('keeps only keep-releases release directories, the current one among them', async () => {
    const { absentImage } = requireRig();
    const pin = `web=${absentImage.reference.replace(/:2$/, '')}@${absentImage.digest}`;
    const result = await deploy(project, remoteDir, {
      inputs: { release: 'r4', env: 'RELEASE_TEXT=four', 'keep-releases': '2', images: pin },
    });
    expectSuccess(result);
    // Pinned, but not on the server yet: pulled before anything was touched.
    expect(result.log.join('\n')).not.toContain('nothing to pull');
    expect(result.summary).toContain(absentImage.digest);
    expect((await readdir(path.join(remoteDir, 'releases'))).length).toBe(2);
    expect(existsSync(path.join(remoteDir, 'releases', 'r4'))).toBe(true);
  });

  it('4. two deploys at once: the second waits for the lock, and they do not interleave', async () => {
    const { webPort } = requireRig();
    const first = deploy(project, remoteDir, { inputs: { release: 'r5', env: 'RELEASE_TEXT=five' } });
    // The first holds the lock (its file is on the server) before the second starts.
    await waitFor(() => existsSync(path.join(remoteDir, '.lock')));
    const second = deploy(project, remoteDir, { inputs: { release: 'r6', env: 'RELEASE_TEXT=six' } });
    const [a, b] = await Promise.all([first, second]);
    expectSuccess(a);
    expectSuccess(b);
    expect(b.log.join('\n')).toMatch(/Waiting for the deploy lock, held by local run .*pid \d+/);
    expect(b.outputs['previous-release']).toBe('r5');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r6');
    expect(await served(webPort)).toBe('six');
    expect(existsSync(path.join(remoteDir, '.lock'))).toBe(false);
  });

  it('4b. a deploy that cannot get the lock within lock-timeout fails naming the holder', async () => {
    const lock = path.join(remoteDir, '.lock');
    await writeFile(
      lock,
      JSON.stringify({ runUrl: 'https://github.com/o/r/actions/runs/77', pid: 4242, startedAt: new Date().toISOString(), id: 'other' }),
    );
    try {
      const result = await deploy(project, remoteDir, { inputs: { release: 'r7', env: 'RELEASE_TEXT=seven', 'lock-timeout': '1s' } });
      expect(result.exitCode).not.toBe(0);
      expect(failureOf(result)).toMatch(/held by https:\/\/github\.com\/o\/r\/actions\/runs\/77 \(pid 4242/);
      expect(existsSync(path.join(remoteDir, 'releases', 'r7'))).toBe(false);
    } finally {
      await import('node:fs/promises').then(({ rm }) => rm(lock, { force: true }));
    }
  });

  it('5. a deploy cancelled midway (SIGTERM) releases its lock; one killed (SIGKILL) is taken over after lock-ttl', async () => {
    const { webPort } = requireRig();
    const slow = composeFile({ webPort, healthPort: await freePort() });
    const lock = path.join(remoteDir, '.lock');
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      let pid = 0;
      const killed = deploy(project, remoteDir, {
        compose: slow,
        inputs: { release: `killed-${signal.toLowerCase()}`, env: 'RELEASE_TEXT=x', timeout: '120s' },
        onStart: (started) => (pid = started),
      });
      // Killed midway: its container is up (serving "x") but not yet healthy, so current has not moved.
      await waitFor(async () => (await served(webPort).catch(() => '')) === 'x');
      process.kill(pid, signal);
      const result = await killed;
      expect(result.exitCode).not.toBe(0);
      if (signal === 'SIGTERM') {
        expect(result.log.join('\n')).toContain('Cancelled (SIGTERM): releasing the deploy lock');
        expect(result.log.join('\n')).toContain('Cancelled while starting killed-sigterm: starting r6 again');
        await waitFor(() => !existsSync(lock));
        // No half-started release is left running: the previous one serves again.
        expect(await served(webPort)).toBe('six');
        expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r6');
      } else {
        expect(existsSync(lock)).toBe(true);
      }
    }
    const recovered = await deploy(project, remoteDir, { inputs: { release: 'r8', env: 'RELEASE_TEXT=eight', 'lock-ttl': '1s' } });
    expectSuccess(recovered);
    expect(recovered.log.join('\n')).toMatch(/Took over the deploy lock held by local run/);
    expect(await served(webPort)).toBe('eight');
    expect(existsSync(lock)).toBe(false);
  }, 120_000);

  it('a failed redeploy of the current release goes back to the release before it, and current follows', async () => {
    const { webPort } = requireRig();
    const current = path.basename(await readlink(path.join(remoteDir, 'current')));
    const result = await deploy(project, remoteDir, {
      compose: composeFile({ webPort, healthPort: await freePort() }),
      inputs: { release: current, env: 'RELEASE_TEXT=broken', timeout: '20s' },
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(await served(webPort)).toBe('six');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r6');
    expect(existsSync(path.join(remoteDir, 'releases', current, '.toolkit-deployed'))).toBe(false);
  });

  it('6. a host-key mismatch is refused before authenticating, showing both fingerprints; nothing reaches the server', async () => {
    const { ssh } = requireRig();
    const otherKeyFile = path.join(await tempDir('other-host-key-'), 'key');
    await generateKey(otherKeyFile);
    const otherPublic = (await readFile(`${otherKeyFile}.pub`, 'utf8')).trim();
    const untouched = path.join(await tempDir('deploy-server-'), 'never');
    const before = await acceptedConnections();
    const wrongLine = `[127.0.0.1]:${ssh.port} ${otherPublic.split(' ').slice(0, 2).join(' ')}`;
    const byKnownHosts = await deploy('never', untouched, { inputs: { release: 'x1', 'known-hosts': wrongLine } });
    expect(byKnownHosts.exitCode).not.toBe(0);
    expect(failureOf(byKnownHosts)).toMatch(
      /Host key verification failed for 127\.0\.0\.1:\d+: the offered key is not in known-hosts\. Expected SHA256:\S+, offered SHA256:\S+/,
    );
    expect(failureOf(byKnownHosts)).toContain(`offered ${ssh.fingerprint}`);
    const byFingerprint = await deploy('never', untouched, {
      inputs: { release: 'x1', 'known-hosts': '', 'host-fingerprint': 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(failureOf(byFingerprint)).toContain(`Expected SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, offered ${ssh.fingerprint}`);
    expect(existsSync(untouched)).toBe(false);
    expect(await acceptedConnections()).toBe(before);
    const noTrust = await deploy('never', untouched, { inputs: { release: 'x1', 'known-hosts': '' } });
    expect(failureOf(noTrust)).toContain('Invalid input "known-hosts": a value is required');
  });

  it('7. a wrong key gets a clear authentication error', async () => {
    const wrongKey = await generateKey(path.join(await tempDir('wrong-key-'), 'key'));
    const untouched = path.join(await tempDir('deploy-server-'), 'never');
    const result = await deploy('never', untouched, { inputs: { release: 'x1', 'ssh-key': wrongKey } });
    expect(result.exitCode).not.toBe(0);
    expect(failureOf(result)).toMatch(/SSH authentication failed for \S+@127\.0\.0\.1:\d+: the server refused ssh-key/);
    expect(existsSync(untouched)).toBe(false);
    const encrypted = await generateKey(path.join(await tempDir('encrypted-key-'), 'key'), { passphrase: 'correct horse' });
    const noPassphrase = await deploy('never', untouched, { inputs: { release: 'x1', 'ssh-key': encrypted } });
    expect(failureOf(noPassphrase)).toContain('Invalid input "ssh-key": it is encrypted; give key-passphrase');
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
