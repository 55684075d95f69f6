// actions/deploy-compose against the local rig (OpenSSH's sshd, a dockerd of its own, docker-compose
// v1, docker-registry): a project of 3 services, deployed by the built action under Node 24, next to
// a bare `docker-compose up -d` of the same project run directly on the host, in the same run.
// A TCP proxy in front of sshd counts the SSH connections each deploy opens.
// Goals: an overhead of at most 1.5 s over the bare `up -d`; one SSH connection per deploy.
//
//   pnpm build && node --import ./bench/ts-loader.mjs bench/deploy-compose.ts   (RUNS=3 by default)
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { pushBusyboxImage, startDockerd } from '../test/support/dockerd.js';
import { runBuiltAction } from '../test/support/harness.js';
import { freePort } from '../test/support/net.js';
import { startRegistry } from '../test/support/registry.js';
import { startSshServer } from '../test/support/sshd.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const work = await mkdtemp(path.join(os.tmpdir(), 'bench-deploy-'));
await mkdir(path.join(work, 'registry'));
const registry = await startRegistry(path.join(work, 'registry'));
const daemon = await startDockerd(path.join(work, 'docker'));
const ssh = await startSshServer(path.join(work, 'sshd'), { env: { DOCKER_HOST: daemon.host } });

// Every connection to sshd goes through here, and is counted.
let connections = 0;
const proxy = net.createServer((client) => {
  connections += 1;
  const upstream = net.connect(ssh.port, '127.0.0.1');
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyPort = (proxy.address() as net.AddressInfo).port;

try {
  const image = await pushBusyboxImage(daemon, work, `${registry.address}/bench:1`, 'bench');
  const ports = [await freePort(), await freePort(), await freePort()];
  const compose = `services:\n${ports
    .map(
      (port, index) => `  web${index + 1}:
    image: ${image.reference}
    network_mode: host
    init: true
    command: ["httpd", "-f", "-p", "127.0.0.1:${port}", "-h", "/www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"]
      interval: 1s
      timeout: 2s
      retries: 3
`,
    )
    .join('')}`;
  const project = path.join(work, 'project');
  await mkdir(project);
  await writeFile(path.join(project, 'compose.yaml'), compose);
  const dockerEnv = { ...process.env, DOCKER_HOST: daemon.host };
  const composeCli = (args: string[]) => run('docker-compose', args, { cwd: project, env: dockerEnv });

  const bare: number[] = [];
  const actionRuns: Record<'none' | 'compose', number[]> = { none: [], compose: [] };
  const connectionsPerDeploy: number[] = [];
  const lastPhases: Record<string, string> = {};
  for (let round = 0; round < RUNS; round++) {
    await composeCli(['-p', 'bench', 'down', '--remove-orphans']);
    let started = performance.now();
    await composeCli(['-p', 'bench', 'up', '-d', '--remove-orphans']);
    bare.push(performance.now() - started);
    await composeCli(['-p', 'bench', 'down', '--remove-orphans']);

    for (const health of ['none', 'compose'] as const) {
      await composeCli(['-p', 'bench', 'down', '--remove-orphans']);
      const before = connections;
      started = performance.now();
      const result = await runBuiltAction('deploy-compose', {
        workspace: project,
        inputs: {
          host: '127.0.0.1',
          port: String(proxyPort),
          user: ssh.user,
          'ssh-key': ssh.clientKey,
          'host-fingerprint': ssh.fingerprint,
          project: 'bench',
          'remote-dir': path.join(work, 'server', 'bench'),
          release: `r${round}-${health}`,
          health,
        },
      });
      actionRuns[health].push(performance.now() - started);
      if (result.exitCode !== 0) throw new Error(`the deploy failed:\n${result.log.join('\n')}`);
      connectionsPerDeploy.push(connections - before);
      lastPhases[health] = [...result.summary.matchAll(/<tr><td>([a-z]+)<\/td><td>([\d.]+) s<\/td><\/tr>/g)]
        .map((match) => `${match[1]} ${match[2]} s`)
        .join(', ');
    }
  }
  await composeCli(['-p', 'bench', 'down', '--remove-orphans']);

  const baseline = median(bare);
  const rows: [string, number, string][] = [
    ['bare docker-compose up -d (baseline)', baseline, '1.00×'],
    ['deploy-compose, health: none', median(actionRuns.none), `${(median(actionRuns.none) / baseline).toFixed(2)}×`],
    ['deploy-compose, health: compose', median(actionRuns.compose), `${(median(actionRuns.compose) / baseline).toFixed(2)}×`],
  ];
  console.log(`deploy-compose: 3 services, median of ${RUNS} runs each, on ${os.cpus().length} cores\n`);
  console.log('| what | wall time | ratio to baseline |');
  console.log('| --- | ---: | ---: |');
  for (const [what, ms, ratio] of rows) console.log(`| ${what} | ${(ms / 1000).toFixed(2)} s | ${ratio} |`);
  const overhead = median(actionRuns.none) - baseline;
  console.log(
    `\nOverhead of the action (health: none) over the bare up -d: ${(overhead / 1000).toFixed(2)} s (goal: at most 1.5 s) — ${overhead <= 1500 ? 'met' : 'NOT met'}.`,
  );
  console.log(
    `(health: compose adds the wait for the healthchecks, which the bare up -d does not do: ${((median(actionRuns.compose) - median(actionRuns.none)) / 1000).toFixed(2)} s.)`,
  );
  console.log(`Phases of the last deploy (health: none): ${lastPhases.none}; the action's own start and connect come before them.`);
  const most = Math.max(...connectionsPerDeploy);
  console.log(
    `SSH connections per deploy: ${[...new Set(connectionsPerDeploy)].join(', ')} (goal: 1) — ${most === 1 ? 'met' : 'NOT met'}.`,
  );
} finally {
  proxy.close();
  await daemon.close();
  await ssh.close();
  await registry.close();
  await rm(work, { recursive: true, force: true });
}
