import { existsSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { LocalRunResult } from '@toolkit/cli';
import {
  type DeployOptions,
  deployTo,
  everythingCaptured,
  expectSuccess,
  failureOf,
  pinnedReference,
  projectContainers,
  served,
  useDeployRig,
} from '../support/deploy-rig.js';
import { fakeTool } from '../support/fake-tools.js';
import { freePort } from '../support/net.js';
import { tempDir } from '../support/temp.js';

/**
 * deploy-compose on the Compose files teams have and under what goes wrong: services without
 * healthchecks, one-shots and restart loops; a history that failed attempts do not pollute; a lock
 * that five deploys at once cannot break; a run SIGKILLed at each phase; build contexts and bind
 * mounts; signatures; secrets in container logs. All on the real rig (sshd, dockerd, docker-compose
 * v1, docker-registry), through the built action.
 */

const requireRig = useDeployRig();

function deploy(project: string, remoteDir: string, options: DeployOptions = {}): Promise<LocalRunResult> {
  return deployTo(requireRig(), project, remoteDir, options);
}

async function newRemoteDir(project: string): Promise<string> {
  return path.join(await tempDir('deploy-server-'), 'deployments', project);
}

interface HistoryEntry {
  release: string;
  state: string;
  deployedAt: string | null;
  run: string;
  images: Record<string, { image: string; digest: string }>;
}

function historyOf(result: LocalRunResult): HistoryEntry[] {
  return JSON.parse(result.outputs.history ?? '[]') as HistoryEntry[];
}

/** A busybox service on the host network running `script` under sh. */
function service(name: string, script: string, extra = ''): string {
  return `  ${name}:
    image: ${requireRig().image.reference}
    network_mode: host
    init: true
    command: ["sh", "-c", ${JSON.stringify(script)}]
${extra}`;
}

function httpd(port: number, text: string): string {
  return `mkdir -p /tmp/www && echo ${text} > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /tmp/www`;
}

describe('every service shape passes or fails the gate as it should', () => {
  const project = 'shapes';
  let remoteDir: string;
  beforeAll(async () => {
    remoteDir = await newRemoteDir(project);
  });

  it('no healthcheck, a one-shot that exits 0, a restart: policy and depends_on conditions deploy, after settle-time', async () => {
    const port = await freePort();
    const compose = `services:
${service('migrate', 'echo migrated', '    restart: "no"\n')}${service('web', httpd(port, 'shapes-one'), '    restart: unless-stopped\n    depends_on:\n      migrate:\n        condition: service_completed_successfully\n')}${service('worker', 'exec sleep 3600', '    restart: always\n')}${service(
      'api',
      'exec sleep 3600',
      '    healthcheck:\n      test: ["CMD-SHELL", "exit 0"]\n      interval: 1s\n      retries: 3\n    depends_on:\n      worker:\n        condition: service_started\n',
    )}`;
    const started = Date.now();
    const result = await deploy(project, remoteDir, { compose, inputs: { release: 's1', 'settle-time': '3s' } });
    expectSuccess(result);
    // Services without a healthcheck are watched for settle-time before the release counts as deployed.
    expect(Date.now() - started).toBeGreaterThan(3000);
    expect(await served(port)).toBe('shapes-one');
    const states = Object.fromEntries(
      (await projectContainers(requireRig(), project)).map((container) => [container.service, container.state]),
    );
    expect(states).toEqual({ migrate: 'exited', web: 'running', worker: 'running', api: 'running' });
    expect(/<tr><td>migrate<\/td>.*?<\/tr>/.exec(result.summary)?.[0]).toContain('<td>exited 0</td>');
    expect(historyOf(result)[0]).toMatchObject({ release: 's1', state: 'deployed' });
  }, 90_000);

  it('a service that exits non-zero during the gate fails it, and the release before it serves again', async () => {
    const port = await freePort();
    const good = `services:\n${service('web', httpd(port, 'shapes-good'))}`;
    expectSuccess(await deploy(project, remoteDir, { compose: good, inputs: { release: 's2' } }));
    const crashing = `services:\n${service('web', httpd(port, 'shapes-bad'))}${service('job', 'sleep 1; echo giving up; exit 3', '    restart: "no"\n')}`;
    const result = await deploy(project, remoteDir, { compose: crashing, inputs: { release: 's3', 'settle-time': '4s' } });
    expect(result.exitCode).not.toBe(0);
    expect(failureOf(result)).toMatch(/Release s3 failed .*Not healthy: job \(exited 3\)/s);
    expect(result.outputs['rolled-back']).toBe('true');
    expect(result.summary).toContain('giving up');
    expect(await served(port)).toBe('shapes-good');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/s2');
    // The failed release's job container is gone with it (--remove-orphans when s2 came back).
    expect((await projectContainers(requireRig(), project)).map((container) => container.service)).toEqual(['web']);
  }, 90_000);

  it('a service that restarts during the gate (restart: always, crashing) fails it', async () => {
    const port = await freePort();
    const looping = `services:\n${service('web', httpd(port, 'shapes-loop'))}${service('flaky', 'sleep 1; exit 1', '    restart: always\n')}`;
    const result = await deploy(project, remoteDir, { compose: looping, inputs: { release: 's4', 'settle-time': '5s' } });
    expect(result.exitCode).not.toBe(0);
    expect(failureOf(result)).toMatch(/Not healthy: flaky \((restarted \(restart count \d+|exited 1)/);
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/s2');
  }, 90_000);
});

describe('releases are a history: failed attempts do not count, rollback walks back', () => {
  const project = 'history';
  let remoteDir: string;
  let port: number;
  beforeAll(async () => {
    remoteDir = await newRemoteDir(project);
    port = await freePort();
  });
  const good = (text: string) => `services:\n${service('web', httpd(port, text))}`;
  const broken = () => `services:\n${service('web', 'exit 1', '    restart: "no"\n')}`;

  it('keep-releases keeps deployed releases; four failed attempts never push out the one current before', async () => {
    for (const release of ['h1', 'h2', 'h3'])
      expectSuccess(await deploy(project, remoteDir, { compose: good(release), inputs: { release } }));
    for (const attempt of [1, 2, 3, 4]) {
      const failed = await deploy(project, remoteDir, { compose: broken(), inputs: { release: `bad${attempt}`, 'keep-releases': '3' } });
      expect(failed.exitCode).not.toBe(0);
      expect(failed.summary).toContain('Last 50 log lines of web');
    }
    const result = await deploy(project, remoteDir, { compose: good('h4'), inputs: { release: 'h4', 'keep-releases': '3' } });
    expectSuccess(result);
    expect(result.outputs['previous-release']).toBe('h3');
    expect((await readdir(path.join(remoteDir, 'releases'))).sort()).toEqual(['h2', 'h3', 'h4']);
    expect(result.summary).toContain('Removed old releases: h1.');
    const history = historyOf(result);
    expect(history.filter((entry) => entry.state === 'deployed').map((entry) => entry.release)).toEqual(['h4', 'h3', 'h2']);
    expect(history.filter((entry) => entry.state === 'failed').map((entry) => entry.release)).toEqual(['bad4', 'bad3', 'bad2', 'bad1']);
    // The manifest on the server records each release's images by digest, when and by which run.
    const manifest = JSON.parse(await readFile(path.join(remoteDir, 'releases.json'), 'utf8')) as {
      current: string;
      releases: { release: string; state: string; deployedAt?: string; run: string; images: Record<string, { digest: string }> }[];
    };
    expect(manifest.current).toBe('h4');
    const h4 = manifest.releases.find((entry) => entry.release === 'h4');
    expect(h4).toMatchObject({
      state: 'deployed',
      run: expect.stringContaining('local run'),
      images: { web: { digest: requireRig().image.digest } },
    });
    expect(Date.parse(h4?.deployedAt ?? '')).toBeGreaterThan(Date.now() - 120_000);
    expect(result.summary).toContain('Release history on');
  }, 180_000);

  it('rollback goes to the previous deployed release, run again one further back; release: names one', async () => {
    const first = await deploy(project, remoteDir, { inputs: { operation: 'rollback' } });
    expectSuccess(first);
    expect(first.outputs).toMatchObject({ release: 'h3', 'previous-release': 'h4', 'rolled-back': 'true' });
    expect(await served(port)).toBe('h3');
    const second = await deploy(project, remoteDir, { inputs: { operation: 'rollback' } });
    expectSuccess(second);
    expect(second.outputs).toMatchObject({ release: 'h2', 'previous-release': 'h3' });
    expect(await served(port)).toBe('h2');
    expect(await readlink(path.join(remoteDir, 'current'))).toBe('releases/h2');
    const none = await deploy(project, remoteDir, { inputs: { operation: 'rollback' } });
    expect(none.exitCode).not.toBe(0);
    expect(failureOf(none)).toMatch(/There is no earlier deployed release to roll back to .*releases kept: h2 \(current\), h3, h4/);
    const named = await deploy(project, remoteDir, { inputs: { operation: 'rollback', release: 'h4' } });
    expectSuccess(named);
    expect(named.outputs).toMatchObject({ release: 'h4', 'previous-release': 'h2' });
    expect(await served(port)).toBe('h4');
    expect(
      historyOf(named)
        .map((entry) => `${entry.release}:${entry.state}`)
        .slice(0, 3),
    ).toEqual(['h4:deployed', 'h2:rolled-back', 'h3:rolled-back']);
  }, 120_000);
});

describe('the lock cannot be stolen from a live deploy', () => {
  it('five deploys started at once run one after another; each leaves one whole release', async () => {
    const project = 'race';
    const remoteDir = await newRemoteDir(project);
    const port = await freePort();
    const windows: { release: string; start: number; end: number }[] = [];
    const runs = ['x1', 'x2', 'x3', 'x4', 'x5'].map((release) => {
      const window = { release, start: 0, end: 0 };
      windows.push(window);
      // Two services, so that a mixed state (web of one release, worker of another) would show.
      const compose = `services:\n${service('web', httpd(port, release))}${service('worker', `echo ${release} > /tmp/which; exec sleep 3600`)}`;
      return deploy(project, remoteDir, {
        compose,
        inputs: { release, env: `RELEASE=${release}`, 'lock-timeout': '3m', 'lock-ttl': '3s', 'settle-time': '4s' },
        // Upload begins once the lock is held; cleanup is the last step under it.
        onLine: (line) => {
          if (line === '[phase] upload') window.start = Date.now();
          if (line === '[phase] cleanup') window.end = Date.now();
        },
      });
    });
    const results = await Promise.all(runs);
    for (const result of results) expectSuccess(result);
    // A deploy's gate (4 s of settle-time) outlasts lock-ttl (3 s): only the heartbeat keeps waiters off.
    for (const result of results) expect(result.log.join('\n')).not.toContain('Took over the deploy lock');
    const ordered = [...windows].sort((a, b) => a.start - b.start);
    for (let index = 1; index < ordered.length; index += 1) {
      expect(ordered[index]?.start).toBeGreaterThanOrEqual(ordered[index - 1]?.end ?? Infinity);
    }
    const last = ordered.at(-1)?.release ?? '';
    expect(await served(port)).toBe(last);
    expect(await readlink(path.join(remoteDir, 'current'))).toBe(`releases/${last}`);
    const worker = (await projectContainers(requireRig(), project)).find((container) => container.service === 'worker');
    expect((await requireRig().daemon.docker(['exec', worker?.name ?? '', 'cat', '/tmp/which'])).trim()).toBe(last);
    const history = JSON.parse(await readFile(path.join(remoteDir, 'releases.json'), 'utf8')) as {
      releases: { release: string; state: string }[];
    };
    expect(history.releases.map((entry) => entry.release)).toEqual(ordered.map((window) => window.release));
    expect(history.releases.every((entry) => entry.state === 'deployed')).toBe(true);
  }, 300_000);
});

describe('a run killed (SIGKILL) at any phase is put right by the next deploy', () => {
  const project = 'kills';
  let remoteDir: string;
  let port: number;
  beforeAll(async () => {
    remoteDir = await newRemoteDir(project);
    port = await freePort();
  });
  const compose = (text: string, options: { healthy?: boolean; image?: string } = {}) =>
    `services:\n${service(
      'web',
      httpd(port, text),
      `    healthcheck:\n      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${options.healthy === false ? 1 : port}/"]\n      interval: 1s\n      retries: 2\n`,
    ).replace(requireRig().image.reference, options.image ?? requireRig().image.reference)}`;

  /** Starts a deploy and SIGKILLs it as soon as it says it begins `phase`. */
  async function killAt(phase: string, release: string, options: DeployOptions): Promise<LocalRunResult> {
    let pid = 0;
    let killed = false;
    const result = await deploy(project, remoteDir, {
      ...options,
      inputs: { release, ...options.inputs },
      onStart: (started) => (pid = started),
      onLine: (line) => {
        if (!killed && line === `[phase] ${phase}`) {
          killed = true;
          process.kill(pid, 'SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(result.exitCode).not.toBe(0);
    return result;
  }

  beforeAll(async () => {
    expectSuccess(await deploy(project, remoteDir, { compose: compose('k0'), inputs: { release: 'k0' } }));
  }, 60_000);

  const cases: { phase: string; options: () => DeployOptions }[] = [
    { phase: 'upload', options: () => ({ compose: compose('killed') }) },
    // A tag, not a digest: pull runs.
    { phase: 'pull', options: () => ({ compose: compose('killed', { image: requireRig().absentImage.reference }) }) },
    { phase: 'up', options: () => ({ compose: compose('killed') }) },
    { phase: 'health', options: () => ({ compose: compose('killed', { healthy: false }), inputs: { timeout: '2m' } }) },
    { phase: 'rollback', options: () => ({ compose: compose('killed', { healthy: false }), inputs: { timeout: '3s' } }) },
  ];
  for (const [index, { phase, options }] of cases.entries()) {
    it(`killed during ${phase}: the next deploy restores the last good release first, says so, then deploys`, async () => {
      const before = `k${index}`;
      const next = `k${index + 1}`;
      await killAt(phase, `killed-${phase}`, options());
      const result = await deploy(project, remoteDir, { compose: compose(next), inputs: { release: next, 'lock-ttl': '1s' } });
      expectSuccess(result);
      expect(result.outputs.recovered).toContain(`Release killed-${phase} was left unfinished`);
      expect(result.outputs.recovered).toContain(`during ${phase}.`);
      if (phase === 'upload' || phase === 'pull') expect(result.outputs.recovered).toContain('Nothing running had changed');
      else expect(result.outputs.recovered).toContain(`${before} was started again from its folder, passed the gate`);
      expect(result.summary).toContain('Recovered first:');
      expect(await served(port)).toBe(next);
      expect(await readlink(path.join(remoteDir, 'current'))).toBe(`releases/${next}`);
      expect(await projectContainers(requireRig(), project)).toEqual([{ name: expect.any(String), state: 'running', service: 'web' }]);
      expect(existsSync(path.join(remoteDir, 'releases', `killed-${phase}`))).toBe(false);
      expect(historyOf(result).find((entry) => entry.release === `killed-${phase}`)?.state).toBe('failed');
    }, 180_000);
  }

  it('killed during operation: rollback: the next deploy starts the release it was leaving again', async () => {
    const from = path.basename(await readlink(path.join(remoteDir, 'current')));
    await killAt('up', '', { inputs: { operation: 'rollback' } });
    const result = await deploy(project, remoteDir, {
      compose: compose('after-rollback'),
      inputs: { release: 'k-after', 'lock-ttl': '1s' },
    });
    expectSuccess(result);
    expect(result.outputs.recovered).toMatch(
      new RegExp(
        `^A rollback to k\\d was left unfinished by local run .*${from} was started again from its folder and passed the gate\\.$`,
      ),
    );
    expect(result.outputs['previous-release']).toBe(from);
    expect(await served(port)).toBe('after-rollback');
    expect(await projectContainers(requireRig(), project)).toEqual([{ name: expect.any(String), state: 'running', service: 'web' }]);
  }, 180_000);
});

describe('what cannot run on the server is refused before anything is uploaded', () => {
  const project = 'shapes-refused';
  let remoteDir: string;
  beforeAll(async () => {
    remoteDir = await newRemoteDir(project);
  });

  it('build: without an images pin, and relative bind mounts that nothing uploads, are refused; plan lists them', async () => {
    const compose = `services:
  app:
    build:
      context: ./app
  db:
    image: ${requireRig().image.reference}
    volumes:
      - ./data:/var/lib/data
      - ../../shared/db:/keep
      - named:/other
volumes:
  named:
`;
    const result = await deploy(project, remoteDir, { compose, inputs: { release: 'b1' } });
    expect(result.exitCode).not.toBe(0);
    const failure = failureOf(result);
    expect(failure).toContain('Nothing was uploaded');
    expect(failure).toContain('service app has build: (context ./app) and no images: pin');
    expect(failure).toContain('build the image in CI');
    expect(failure).toContain('service db, volume ./data:/var/lib/data: the relative path ./data would resolve inside releases/<release>/');
    expect(failure).not.toContain('../../shared/db');
    expect(existsSync(remoteDir)).toBe(false);

    // Plan says all of it, and fails as the deploy would: a workflow plans before it records a release.
    const plan = await deploy(project, remoteDir, { compose, inputs: { release: 'b1', operation: 'plan' } });
    expect(plan.exitCode).not.toBe(0);
    expect(failureOf(plan)).toContain('A deploy of b1 would be refused');
    expect(plan.log.join('\n')).toContain('Refused: service app has build:');
    expect(plan.log.join('\n')).toContain('A deploy would stop here, before uploading anything.');
    expect(plan.log.join('\n')).toMatch(/volume \.\.\/\.\.\/shared\/db:\/keep: in the deployment's shared\/ folder/);
  });

  it('with the image pinned and the bind-mounted file in files, the same project deploys, and the container reads the file', async () => {
    const { image } = requireRig();
    const port = await freePort();
    const compose = `services:
  app:
    build: ./app
    image: ${image.reference}
    network_mode: host
    init: true
    volumes:
      - ./conf/site.txt:/etc/site.txt:ro
      - ../../shared/data:/data
    command: ["sh", "-c", "mkdir -p /tmp/www && cat /etc/site.txt > /tmp/www/index.html && echo kept > /data/kept && exec httpd -f -p 127.0.0.1:${port} -h /tmp/www"]
`;
    const result = await deploy(project, remoteDir, {
      compose,
      files: { 'conf/site.txt': 'from the files input\n', 'app/Dockerfile': 'FROM scratch\n' },
      inputs: { release: 'b2', images: `app=${pinnedReference(image)}`, files: 'conf' },
    });
    expectSuccess(result);
    expect(await served(port)).toBe('from the files input');
    expect(await readFile(path.join(remoteDir, 'releases', 'b2', 'conf', 'site.txt'), 'utf8')).toBe('from the files input\n');
    expect(await readFile(path.join(remoteDir, 'shared', 'data', 'kept'), 'utf8')).toBe('kept\n');
  }, 90_000);

  it('a compose file docker-compose rejects is reported as invalid, its folder removed, the running release untouched', async () => {
    const port = await freePort();
    const good = `services:\n${service('web', httpd(port, 'valid'))}`;
    expectSuccess(
      await deploy('schema', await newRemoteDir('schema').then((dir) => (remoteDir = dir)), { compose: good, inputs: { release: 'v1' } }),
    );
    const invalid = `services:\n${service('web', httpd(port, 'invalid'))}    ports: 12\n`;
    const result = await deploy('schema', remoteDir, { compose: invalid, inputs: { release: 'v2' } });
    expect(result.exitCode).not.toBe(0);
    expect(failureOf(result)).toMatch(
      /The compose files of release v2 are not valid for docker-compose 1\.\d+\.\d+ on .*nothing running was touched/s,
    );
    expect(failureOf(result)).toMatch(/ports/);
    expect(failureOf(result)).not.toContain('Pulling');
    expect(existsSync(path.join(remoteDir, 'releases', 'v2'))).toBe(false);
    expect(await served(port)).toBe('valid');
  }, 90_000);
});

describe('secrets leave nothing behind', () => {
  it('a secret a container prints is masked in the summary; registry credentials are gone from the server after the deploy', async () => {
    const { registry } = requireRig();
    const project = 'secrets';
    const remoteDir = await newRemoteDir(project);
    const secret = 'tok-4f2a9c1e7b3d';
    const password = 'registry-pass-8c1d2e';
    const leaky = `services:\n${service('web', 'echo "connecting with $API_TOKEN"; exit 1', '    restart: "no"\n    environment:\n      API_TOKEN: ${API_TOKEN}\n')}`;
    const result = await deploy(project, remoteDir, {
      compose: leaky,
      inputs: {
        release: 'l1',
        env: `API_TOKEN=${secret}`,
        registry: registry.address,
        'registry-username': 'deployer',
        'registry-password': password,
      },
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.summary).toContain('connecting with ***');
    expect(everythingCaptured(result)).not.toContain(secret);
    expect(everythingCaptured(result)).not.toContain(password);
    expect((await readdir(remoteDir)).filter((name) => name.startsWith('.docker'))).toEqual([]);

    const good = `services:\n${service('web', 'exec sleep 3600')}`;
    const deployed = await deploy(project, remoteDir, {
      compose: good,
      inputs: { release: 'l2', registry: registry.address, 'registry-username': 'deployer', 'registry-password': password },
    });
    expectSuccess(deployed);
    expect(deployed.log.join('\n')).toContain('[phase] pull');
    expect((await readdir(remoteDir)).filter((name) => name.startsWith('.docker'))).toEqual([]);
  }, 90_000);
});

describe('verify-signature', () => {
  it('refuses an unsigned image by digest before the server changes; deploys once cosign verifies it', async () => {
    const { image } = requireRig();
    const project = 'signed';
    const remoteDir = await newRemoteDir(project);
    const bin = await tempDir('cosign-shim-');
    const cosign = await fakeTool(bin, 'cosign', {
      exitCode: 10,
      stderr: `Error: no signatures found\nmain.go:74: error during command execution: no signatures found\n`,
    });
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const inputs = {
      release: 'g1',
      images: `web=${pinnedReference(image)}`,
      'verify-signature': 'true',
      'certificate-identity': 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main',
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      'cosign-version': 'system',
    };
    const refused = await deploy(project, remoteDir, { env, inputs });
    expect(refused.exitCode).not.toBe(0);
    expect(failureOf(refused)).toContain(image.digest);
    expect(failureOf(refused)).toMatch(/web/);
    expect(existsSync(remoteDir)).toBe(false);
    const calls = await cosign.calls();
    expect(calls.at(-1)).toEqual(expect.arrayContaining(['verify', '--', pinnedReference(image)]));

    await fakeTool(bin, 'cosign', { exitCode: 0, stdout: '[{"critical":{"image":{"docker-manifest-digest":"' + image.digest + '"}}}]\n' });
    const deployed = await deploy(project, remoteDir, { env, inputs });
    expectSuccess(deployed);
    expect(deployed.summary).toContain(`Signature verified: web`);
  }, 90_000);
});
