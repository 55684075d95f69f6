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
import { connect } from '../actions/deploy-compose/src/ssh.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const work = await mkdtemp(path.join(os.tmpdir(), 'bench-deploy-'));
await mkdir(path.join(work, 'registry'));
const registry = await startRegistry(path.join(work, 'registry'));
const daemon = await startDockerd(path.join(work, 'docker'));
// The rig's sshd gives sessions an empty HOME (see test/support/sshd.ts); one remote command's cost
// is measured and printed below.
const ssh = await startSshServer(path.join(work, 'sshd'), { env: { DOCKER_HOST: daemon.host } });

// Every connection to sshd goes through here, and is counted.
let connections = 0;
const proxy = net.createServer((client) => {
  connections += 1;
  const upstream = net.connect(ssh.port, '127.0.0.1');
  // As the client does: without it, Nagle and delayed ACKs add ~40 ms to each small round trip.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
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
  // As the toolkit recommends (release.yml, the README): every service pinned by digest. The
  // tag-only variant adds the pull a mutable tag needs.
  const variants = {
    'pinned, health: none': { health: 'none', pinned: true },
    'tag only, health: none': { health: 'none', pinned: false },
    'pinned, health: compose': { health: 'compose', pinned: true },
  } as const;
  type Variant = keyof typeof variants;
  const actionRuns = Object.fromEntries(Object.keys(variants).map((name) => [name, [] as number[]])) as Record<Variant, number[]>;
  const pins = ports.map((_port, index) => `web${index + 1}=${image.reference.replace(/:1$/, '')}@${image.digest}`).join('\n');
  const connectionsPerDeploy: number[] = [];
  const lastPhases: Record<string, string> = {};
  for (let round = 0; round < RUNS; round++) {
    await composeCli(['-p', 'bench', 'down', '--remove-orphans']);
    let started = performance.now();
    await composeCli(['-p', 'bench', 'up', '-d', '--remove-orphans']);
    bare.push(performance.now() - started);
    await composeCli(['-p', 'bench', 'down', '--remove-orphans']);

    for (const [name, variant] of Object.entries(variants) as [Variant, (typeof variants)[Variant]][]) {
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
          release: `r${round}-${name.replace(/\W+/g, '-')}`,
          health: variant.health,
          images: variant.pinned ? pins : '',
        },
      });
      actionRuns[name].push(performance.now() - started);
      if (result.exitCode !== 0) throw new Error(`the deploy failed:\n${result.log.join('\n')}`);
      connectionsPerDeploy.push(connections - before);
      lastPhases[name] = [...result.summary.matchAll(/<tr><td>([a-z]+)<\/td><td>([\d.]+) s<\/td><\/tr>/g)]
        .map((match) => `${match[1]} ${match[2]} s`)
        .join(', ');
    }
  }
  await composeCli(['-p', 'bench', 'down', '--remove-orphans']);

  const host = await connect({
    host: '127.0.0.1',
    port: ssh.port,
    user: ssh.user,
    privateKey: ssh.clientKey,
    passphrase: '',
    trust: { kind: 'fingerprint', fingerprint: ssh.fingerprint },
  });
  const commandCosts: number[] = [];
  for (let index = 0; index < 10; index++) {
    const at = performance.now();
    await host.run(['true']);
    commandCosts.push(performance.now() - at);
  }
  host.close();

  const baseline = median(bare);
  console.log(`deploy-compose: 3 services, median of ${RUNS} runs each, on ${os.cpus().length} cores\n`);
  console.log('| what | wall time | ratio to baseline | overhead |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(`| bare docker-compose up -d (baseline) | ${(baseline / 1000).toFixed(2)} s | 1.00× | |`);
  for (const name of Object.keys(variants) as Variant[]) {
    const ms = median(actionRuns[name]);
    console.log(
      `| deploy-compose, ${name} | ${(ms / 1000).toFixed(2)} s | ${(ms / baseline).toFixed(2)}× | ${((ms - baseline) / 1000).toFixed(2)} s |`,
    );
  }
  const overhead = median(actionRuns['pinned, health: none']) - baseline;
  console.log(
    `\nOverhead of the action (pinned, health: none) over the bare up -d: ${(overhead / 1000).toFixed(2)} s (goal: at most 1.5 s) — ${overhead <= 1500 ? 'met' : 'NOT met'}.`,
  );
  console.log('(health: compose adds the wait for the healthchecks, which the bare up -d does not do; a tag adds its pull.)');
  for (const name of Object.keys(variants) as Variant[]) console.log(`Phases of the last deploy (${name}): ${lastPhases[name]}`);
  console.log(`One remote command (\`true\`) over the open connection: ${median(commandCosts).toFixed(0)} ms (median of 10).`);
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
