import { existsSync } from 'node:fs';
import { chmod, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { INJECTION_CORPUS, InputError, InputReader, ToolkitError, injectionCorpus } from '@toolkit/shared';
import { type DeployRequest, runDeployment } from '../../actions/deploy-compose/src/deploy.js';
import { getInputs } from '../../actions/deploy-compose/src/main.js';
import { type SshHost, connect } from '../../actions/deploy-compose/src/ssh.js';
import { type SshServer, startSshServer } from '../support/sshd.js';
import { tempDir } from '../support/temp.js';

/**
 * Hostile input against a real sshd and a real POSIX shell on the server. The server's `docker`
 * (answering as Compose v2) and `curl` are recorders put first on PATH by sshd's SetEnv: they log
 * the argv, working directory and stdin they were given. Every string of the injection corpus must
 * arrive as exactly one argument, byte for byte, and the canary file must never be created.
 */

let ssh: SshServer;
let host: SshHost;
let work: string;
let calls: string;
let canary: string;

const RECORDER = (callsFile: string) => `#!${process.execPath}
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
fs.appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify({ tool: path.basename(process.argv[1]), args, cwd: process.cwd(), stdin, dockerConfig: process.env.DOCKER_CONFIG ?? null }) + '\\n');
const out = (text) => process.stdout.write(text + '\\n');
const joined = args.join(' ');
if (path.basename(process.argv[1]) === 'curl') process.exit(0);
if (joined === 'compose version --short') out('2.29.7');
else if (args[0] === 'version') out('27.3.1');
else if (args[0] === 'ps') out('c0ffee000000000000000000000000000000000000000000000000000000000a');
else if (args[0] === 'inspect' && args[1] === '--format') out('sha256:1111');
else if (args[0] === 'inspect') out(JSON.stringify([{ Id: 'c0ffee000000000000000000000000000000000000000000000000000000000a', Name: '/app-web-1', Created: '2026-01-01T00:00:00Z', Image: 'sha256:1111', RestartCount: 0, State: { Status: 'running', ExitCode: 0, StartedAt: '2026-01-01T00:00:01Z', Health: { Status: 'healthy' } }, Config: { Image: 'registry.test/web:1', Labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '1' } }, HostConfig: { RestartPolicy: { Name: 'no' } } }]));
else if (args[0] === 'image') out('sha256:1111 ["registry.test/web@sha256:' + 'a'.repeat(64) + '"]');
process.exit(0);
`;

beforeAll(async () => {
  work = await tempDir('deploy-injection-');
  const bin = path.join(work, 'bin');
  calls = path.join(work, 'calls.jsonl');
  canary = path.join(work, 'canary');
  await import('node:fs/promises').then(({ mkdir }) => mkdir(bin));
  for (const tool of ['docker', 'curl']) {
    await writeFile(path.join(bin, tool), RECORDER(calls));
    await chmod(path.join(bin, tool), 0o755);
  }
  ssh = await startSshServer(path.join(work, 'sshd'), { env: { PATH: `${bin}:/usr/bin:/bin` } });
  host = await connect({
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: ssh.clientKey,
    passphrase: '',
    trust: { kind: 'fingerprint', fingerprint: ssh.fingerprint },
  });
}, 60_000);

afterAll(async () => {
  host?.close();
  await ssh?.close();
});

interface Call {
  tool: string;
  args: string[];
  cwd: string;
  stdin: string;
  dockerConfig: string | null;
}

async function recordedCalls(): Promise<Call[]> {
  if (!existsSync(calls)) return [];
  return (await readFile(calls, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Call);
}

function hostileRequest(index: number, hostile: string, base: string): DeployRequest {
  return {
    operation: 'deploy',
    project: 'app',
    remoteDir: `${base}/dir-${index}/${hostile}`,
    release: `r${index}`,
    composeFiles: [{ name: `compose-${hostile.replaceAll('/', '_')}.yml`, content: 'services:\n  web:\n    image: registry.test/web:1\n' }],
    env: `HOSTILE=${hostile.replace(/[\r\n]/g, ' ')}\n`,
    images: {},
    registry: { server: 'registry.test:5000', username: hostile || 'user', password: `pw-${hostile}` },
    health: {
      kind: 'url',
      url: new URL(`http://127.0.0.1:8080/health/${encodeURIComponent(hostile)}?q=${hostile.replace(/[\s#]/g, '')}`).href,
    },
    timeoutMs: 5000,
    keepReleases: 2,
    rollbackOnFailure: true,
    lock: { owner: { runUrl: hostile, pid: 1, startedAt: new Date().toISOString(), id: `lock-${index}` }, timeoutMs: 5000, ttlMs: 60_000 },
  };
}

describe('deploy-compose: hostile input reaching the server', () => {
  it('every corpus string arrives as one unchanged argument, and the canary is never created', async () => {
    const base = await tempDir('deploy-injection-server-');
    const corpus = injectionCorpus(canary);
    const quiet = { log: () => {}, warn: () => {}, pollIntervalMs: 10 };
    // Eight deploys at a time over the one connection (distinct remote dirs, so distinct locks).
    for (let start = 0; start < corpus.length; start += 8) {
      await Promise.all(
        corpus.slice(start, start + 8).map(async (hostile, offset) => {
          const index = start + offset;
          const request = hostileRequest(index, hostile, base);
          if (hostile.includes('\0')) {
            // No shell string can carry a NUL: refused, never cut short.
            await expect(runDeployment(host, request, quiet)).rejects.toMatchObject({ code: 'UNSAFE_ARGUMENT' });
            return;
          }
          const result = await runDeployment(host, request, quiet);
          expect(result.release).toBe(`r${index}`);
        }),
      );
    }
    expect(existsSync(canary)).toBe(false);

    const recorded = await recordedCalls();
    for (const [index, hostile] of corpus.entries()) {
      if (hostile.includes('\0')) continue;
      const request = hostileRequest(index, hostile, base);
      const releaseDir = path.posix.join(path.posix.normalize(request.remoteDir), 'releases', `r${index}`);
      const mine = recorded.filter(
        (call) =>
          call.cwd === releaseDir ||
          call.dockerConfig === path.posix.join(path.posix.normalize(request.remoteDir), `.docker-lock-${index}`),
      );
      const login = mine.find((call) => call.args[0] === 'login');
      expect(login?.args).toEqual(['login', '--username', request.registry?.username, '--password-stdin', '--', 'registry.test:5000']);
      expect(login?.stdin).toBe(`pw-${hostile}\n`);
      const up = mine.find((call) => call.args.includes('up'));
      expect(up?.cwd).toBe(releaseDir);
      expect(up?.args).toEqual([
        'compose',
        '-p',
        'app',
        '-f',
        request.composeFiles[0]?.name,
        '--env-file',
        '.env',
        'up',
        '-d',
        '--remove-orphans',
        '--no-build',
      ]);
      // The per-deploy credentials are gone once it ends.
      expect(existsSync(path.posix.join(path.posix.normalize(request.remoteDir), `.docker-lock-${index}`))).toBe(false);
      const envFile = await readFile(path.join(releaseDir, '.env'), 'utf8');
      expect(envFile).toBe(request.env);
    }
    const probes = recorded.filter((call) => call.tool === 'curl').map((call) => call.args.at(-1));
    for (const [index, hostile] of corpus.entries()) {
      if (!hostile.includes('\0')) expect(probes).toContain((hostileRequest(index, hostile, base).health as { url: string }).url);
    }
  }, 120_000);

  it('with compose health on v2, the gate reads docker inspect as on v1 (no --wait, which fails one-shots)', async () => {
    const base = await tempDir('deploy-v2-server-');
    const request: DeployRequest = { ...hostileRequest(99, 'plain', base), health: { kind: 'compose' }, timeoutMs: 90_000 };
    const result = await runDeployment(host, request, { log: () => {}, warn: () => {} });
    expect(result.compose).toBe('docker compose 2.29.7');
    expect(result.services).toEqual([
      expect.objectContaining({ service: 'web', status: 'running', health: 'healthy', digest: `sha256:${'a'.repeat(64)}` }),
    ]);
    const mine = (await recordedCalls()).filter((call) => call.cwd.startsWith(base));
    const up = mine.find((call) => call.args.includes('up'));
    expect(up?.args.slice(-4)).toEqual(['up', '-d', '--remove-orphans', '--no-build']);
    expect(mine.some((call) => call.args.includes('--wait'))).toBe(false);
  });

  it('compose-files and env-file are regular files inside the workspace: a link out of it is refused, naming the input', async () => {
    const workspace = await tempDir('deploy-links-workspace-');
    const outside = await tempDir('deploy-links-outside-');
    await writeFile(path.join(outside, 'compose.yaml'), 'services:\n  web:\n    image: registry.test/web:1\n');
    await writeFile(path.join(outside, 'secrets.env'), 'TOKEN=from-outside\n');
    await symlink(path.join(outside, 'compose.yaml'), path.join(workspace, 'compose.yaml'));
    const base: Record<string, string> = {
      host: '127.0.0.1',
      user: 'deploy',
      'ssh-key': 'unused',
      'host-fingerprint': ssh.fingerprint,
      project: 'app',
      release: 'r1',
    };
    const read = (values: Record<string, string>) =>
      getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => {} }), { GITHUB_WORKSPACE: workspace });
    await expect(read(base)).rejects.toMatchObject({ input: 'compose-files', message: expect.stringContaining('symbolic link') });
    await expect(read({ ...base, 'compose-files': '../outside/compose.yaml' })).rejects.toMatchObject({ input: 'compose-files' });
    await rm(path.join(workspace, 'compose.yaml'));
    await writeFile(path.join(workspace, 'compose.yaml'), 'services:\n  web:\n    image: registry.test/web:1\n');
    await symlink(path.join(outside, 'secrets.env'), path.join(workspace, 'app.env'));
    await expect(read({ ...base, 'env-file': 'app.env' })).rejects.toMatchObject({
      input: 'env-file',
      message: expect.not.stringContaining('from-outside'),
    });
    expect((await read(base)).request.composeFiles).toHaveLength(1);
  });

  it('inputs checked on the runner refuse every corpus string they cannot take, naming the input', async () => {
    const workspace = await tempDir('deploy-injection-workspace-');
    await writeFile(path.join(workspace, 'compose.yaml'), 'services:\n  web:\n    image: registry.test/web:1\n');
    const base: Record<string, string> = {
      host: '127.0.0.1',
      user: 'deploy',
      'ssh-key': 'unused here',
      'host-fingerprint': ssh.fingerprint,
      project: 'app',
      release: 'r1',
    };
    const checked = [
      'host',
      'user',
      'project',
      'release',
      'images',
      'health',
      'registry',
      'port',
      'operation',
      'keep-releases',
      'timeout',
      'settle-time',
      'files',
      'verify-signature',
    ];
    for (const input of checked) {
      for (const hostile of INJECTION_CORPUS.map((text) => text.replaceAll('CANARY', canary))) {
        if (hostile.trim() === '') continue; // an empty value is the default, not an injection
        const values: Record<string, string> = { ...base, [input]: hostile };
        const reader = new InputReader({ source: (name) => values[name] ?? '', mask: () => {} });
        const outcome = await getInputs(reader, { GITHUB_WORKSPACE: workspace }).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        expect(outcome).toBeInstanceOf(InputError);
        expect((outcome as InputError).input).toBe(input);
        expect(outcome).toBeInstanceOf(ToolkitError);
      }
    }
    // remote-dir is a path, and any path is allowed but one with a NUL: it arrives unchanged.
    for (const hostile of INJECTION_CORPUS.map((text) => text.replaceAll('CANARY', canary))) {
      const values: Record<string, string> = { ...base, 'remote-dir': hostile };
      const reader = new InputReader({ source: (name) => values[name] ?? '', mask: () => {} });
      if (hostile.includes('\0')) {
        await expect(getInputs(reader, { GITHUB_WORKSPACE: workspace })).rejects.toMatchObject({ input: 'remote-dir' });
      } else {
        const inputs = await getInputs(reader, { GITHUB_WORKSPACE: workspace });
        expect(inputs.request.remoteDir).toBe(hostile.trim() || '~/deployments/app');
      }
    }
    expect(existsSync(canary)).toBe(false);
  });
});
