import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { LocalRunResult } from '@toolkit/cli';
import {
  type DeployOptions,
  composeFile as rigComposeFile,
  deployTo,
  everythingCaptured,
  expectSuccess,
  failureOf,
  pinnedReference,
  served,
  useDeployRig,
  waitFor,
} from '../support/deploy-rig.js';
import { pushBusyboxImage } from '../support/dockerd.js';
import { freePort } from '../support/net.js';
import { generateKey } from '../support/sshd.js';
import { tempDir } from '../support/temp.js';

/**
 * deploy-compose end to end on the real rig (test/support/deploy-rig.ts): the built action under
 * Node 24, OpenSSH's sshd, a dockerd of the test's own, docker-compose v1 and docker-registry.
 * The safety cases (service shapes, history, kills, races) are in deploy-compose.safety.test.ts.
 */

const requireRig = useDeployRig();

function composeFile(options: { webPort: number; healthPort?: number; image?: string }): string {
  return rigComposeFile(requireRig(), options);
}

function deploy(project: string, remoteDir: string, options: DeployOptions = {}): Promise<LocalRunResult> {
  return deployTo(requireRig(), project, remoteDir, options);
}

async function acceptedConnections(): Promise<number> {
  return ((await requireRig().ssh.log()).match(/Accepted publickey/g) ?? []).length;
}

describe('deploy-compose over real sshd, dockerd and docker-compose', () => {
  let remoteDir: string;
  const project = 'shop';
  const secret = 'sup3r-s3cret-token-9f8e7d';

  beforeAll(async () => {
    remoteDir = path.join(await tempDir('deploy-server-'), 'deployments', project);
  });

  it('1. deploys a first release: uploaded, healthy, current, .env 0600 holding a secret no log shows, pinned by digest', async () => {
    const { image, webPort } = requireRig();
    const before = await acceptedConnections();
    const result = await deploy(project, remoteDir, {
      inputs: {
        release: 'r1',
        env: `RELEASE_TEXT=one\nAPI_TOKEN=${secret}`,
        images: `web=${pinnedReference(image)}`,
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
    expect(failureOf(result)).toContain('Rolled back: r2 is running again and passed the gate.');
    expect(await served(webPort)).toBe('two');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r2');
    expect(result.summary).toContain('Last 50 log lines of web');
    // A failed attempt is a record in the history, not a folder: it never counts toward keep-releases.
    expect(existsSync(path.join(remoteDir, 'releases', 'r3'))).toBe(false);
    const history = JSON.parse(result.outputs.history ?? '[]') as { release: string; state: string }[];
    expect(history.slice(0, 3)).toEqual([
      expect.objectContaining({ release: 'r3', state: 'failed' }),
      expect.objectContaining({ release: 'r2', state: 'deployed' }),
      expect.objectContaining({ release: 'r1', state: 'deployed' }),
    ]);
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
    expect(log).toMatch(/Current release: r1 \(deployed \d{4}-/);
    expect(log).toContain('The deploy lock is free.');
    expect(log).toMatch(/Upload compose\.yaml and \.env \(mode 0600\) to .*releases\/r9/);
    expect(log).toContain('docker-compose -p shop up -d --remove-orphans');
    expect(await listing()).toEqual(before);
    expect(existsSync(path.join(remoteDir, '.lock'))).toBe(false);
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/r1');
  });

  it('keeps only keep-releases release directories, the current one among them', async () => {
    const { absentImage } = requireRig();
    const pin = `web=${pinnedReference(absentImage)}`;
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
    expect(recovered.log.join('\n')).toMatch(/Took over the deploy lock held by local run .*not renewed for \d+s/);
    // The killed run's release is found in the history and r6 restored before r8 is deployed.
    expect(recovered.outputs.recovered).toMatch(
      /^Release killed-sigkill was left unfinished by local run .*during (up|health)\. r6 was started again/,
    );
    expect(await served(webPort)).toBe('eight');
    expect(existsSync(lock)).toBe(false);
  }, 120_000);

  it('a failed redeploy of the current release name goes to a folder of its own: the current one serves again, untouched', async () => {
    const { webPort } = requireRig();
    const current = path.basename(await readlink(path.join(remoteDir, 'current')));
    const before = await readFile(path.join(remoteDir, 'releases', current, '.env'), 'utf8');
    const result = await deploy(project, remoteDir, {
      compose: composeFile({ webPort, healthPort: await freePort() }),
      inputs: { release: current, env: 'RELEASE_TEXT=broken', timeout: '20s' },
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(await served(webPort)).toBe('eight');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe(`releases/${current}`);
    expect(await readFile(path.join(remoteDir, 'releases', current, '.env'), 'utf8')).toBe(before);
    expect(existsSync(path.join(remoteDir, 'releases', `${current}+2`))).toBe(false);
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
  it('does not pull a service whose compose file pins its image by digest itself, once the server has that image', async () => {
    const { image, daemon, registry, work } = requireRig();
    const webPort = await freePort();
    const own = path.join(await tempDir('deploy-server-'), 'deployments', 'pinned-in-file');
    const present = await deploy('pinned-in-file', own, {
      compose: composeFile({ webPort, image: pinnedReference(image) }),
      inputs: { release: 'p1', env: 'RELEASE_TEXT=zeta-one' },
    });
    expectSuccess(present);
    expect(present.log).toContain('Every service is pinned by digest to an image the server has: nothing to pull.');
    expect(await served(webPort)).toBe('zeta-one');
    // Pinned in the file but not on the server (an image of this test's own, pushed and removed
    // here, since earlier tests pull the rig's absent image): pulled, before anything was touched.
    const absentImage = await pushBusyboxImage(daemon, work, `${registry.address}/web:pinned-in-file`, 'image-pinned-in-file');
    await daemon.docker(['rmi', absentImage.reference]);
    const absent = await deploy('pinned-in-file', own, {
      compose: composeFile({ webPort, image: pinnedReference(absentImage) }),
      inputs: { release: 'p2', env: 'RELEASE_TEXT=zeta-two' },
    });
    expectSuccess(absent);
    expect(absent.log.join('\n')).not.toContain('nothing to pull');
    expect(await served(webPort)).toBe('zeta-two');
  });
});
