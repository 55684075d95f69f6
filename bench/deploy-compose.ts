// actions/deploy-compose against the local rig (OpenSSH's sshd, a dockerd of its own, docker-compose
// v1, docker-registry): a project of 3 services, deployed by the built action under Node 24, next to
// a bare `docker-compose up -d` of the same project run directly on the host, in the same run.
// A TCP proxy in front of sshd counts the SSH connections each deploy opens.
// Goals: an overhead of at most 1.5 s over the bare `up -d`; one SSH connection per deploy.
//
// It also measures, for a one-service web project (busybox httpd with a healthcheck) deployed with
// the action.yml defaults, what the later zero-downtime work starts from, under a loop of requests to
// 127.0.0.1 (a fresh connection every 20 ms, 250 ms timeout):
// - the unavailability window of a redeploy (release A → B): the longest gap between two successful
//   responses that spans the deploy, next to the same redeploy by a bare `docker-compose up -d`;
// - a failed health gate (B deployed, then C whose healthcheck fails, rolled back to B): from the
//   moment the gate failed (the end of the health phase, and the `[phase] rollback` line) to the
//   first response served by B again (each release serves its own name), and the whole failed
//   deploy's duration; next to a bare `docker-compose up -d` of B over C.
//
//   pnpm build && node --import ./bench/ts-loader.mjs bench/deploy-compose.ts   (RUNS=3 by default)
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
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
import { builtAction, fmtMB, intro, verdict } from './support/bench.mjs';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const min = (values: number[]) => Math.min(...values);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What 127.0.0.1:`port` answers with 200 over a fresh connection, trimmed; '' for anything else. */
function get(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(response.statusCode === 200 ? body.trim() : ''));
      response.on('error', () => resolve(''));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(''));
  });
}

/** A request every 20 ms (250 ms timeout) until stopped; each success is recorded with what served it. */
function poll(port: number) {
  const successes: { at: number; text: string }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const began = performance.now();
      const text = await get(port, 250);
      if (text) successes.push({ at: performance.now(), text });
      const wait = 20 - (performance.now() - began);
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    successes,
    /** The first success after `after` served by `text`; waits up to 30 s for one. */
    async first(text: string, after: number): Promise<number> {
      const deadline = performance.now() + 30_000;
      for (;;) {
        const found = successes.find((success) => success.at > after && success.text === text);
        if (found) return found.at;
        if (performance.now() > deadline) throw new Error(`127.0.0.1:${port} did not serve ${text} within 30 s`);
        await sleep(10);
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      await loop;
    },
  };
}

/** The longest interval between consecutive successes that overlaps [from, to]. */
function longestGap(successes: { at: number }[], from: number, to: number): number {
  let longest = 0;
  for (let index = 1; index < successes.length; index++) {
    const a = (successes[index - 1] as { at: number }).at;
    const b = (successes[index] as { at: number }).at;
    if (b >= from && a <= to) longest = Math.max(longest, b - a);
  }
  return longest;
}

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
  // The same project with each image pinned by digest in the compose file itself (no images input).
  const pinnedProject = path.join(work, 'project-pinned');
  await mkdir(pinnedProject);
  await writeFile(
    path.join(pinnedProject, 'compose.yaml'),
    compose.replaceAll(image.reference, `${image.reference.replace(/:1$/, '')}@${image.digest}`),
  );
  const dockerEnv = { ...process.env, DOCKER_HOST: daemon.host };
  const composeCli = (args: string[]) => run('docker-compose', args, { cwd: project, env: dockerEnv });

  // The web project: one busybox httpd serving its release's name (RELEASE_TEXT, from .env) on
  // webPort. Its healthcheck asks `healthPort`: a port nothing listens on makes the release unhealthy.
  const webCompose = (port: number, healthPort: number) => `services:
  web:
    image: ${image.reference}
    network_mode: host
    init: true
    environment:
      RELEASE_TEXT: \${RELEASE_TEXT}
    command: ["sh", "-c", "mkdir -p /tmp/www && echo \\"$$RELEASE_TEXT\\" > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /tmp/www"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${healthPort}/"]
      interval: 1s
      timeout: 2s
      retries: 3
`;
  const webPort = await freePort();
  const barePort = await freePort();
  const deadPort = await freePort();
  const webGood = path.join(work, 'web-good');
  const webBad = path.join(work, 'web-bad');
  const bareWeb = path.join(work, 'bare-web');
  for (const dir of [webGood, webBad, bareWeb]) await mkdir(dir);
  await writeFile(path.join(webGood, 'compose.yaml'), webCompose(webPort, webPort));
  await writeFile(path.join(webBad, 'compose.yaml'), webCompose(webPort, deadPort));
  await writeFile(path.join(bareWeb, 'good.yaml'), webCompose(barePort, barePort));
  await writeFile(path.join(bareWeb, 'bad.yaml'), webCompose(barePort, deadPort));
  /** The bare baseline: `docker-compose up -d` of the good or the bad file, serving `text`. */
  const bareUp = async (file: 'good.yaml' | 'bad.yaml', text: string) => {
    await writeFile(path.join(bareWeb, '.env'), `RELEASE_TEXT=${text}\n`);
    await run('docker-compose', ['-p', 'bench-bare', '-f', file, 'up', '-d', '--remove-orphans'], { cwd: bareWeb, env: dockerEnv });
  };
  const webPin = `web=${image.reference.replace(/:1$/, '')}@${image.digest}`;

  const bare: number[] = [];
  // As the toolkit recommends (release.yml, the README): every service pinned by digest. The
  // tag-only variant adds the pull a mutable tag needs.
  const variants = {
    'pinned, health: none': { health: 'none', pinned: 'input' },
    'pinned in the compose file, health: none': { health: 'none', pinned: 'file' },
    'tag only, health: none': { health: 'none', pinned: 'no' },
    'pinned, health: compose (the default)': { health: 'compose', pinned: 'input' },
  } as const;
  type Variant = keyof typeof variants;
  const actionRuns = Object.fromEntries(Object.keys(variants).map((name) => [name, [] as number[]])) as Record<Variant, number[]>;
  const pins = ports.map((_port, index) => `web${index + 1}=${image.reference.replace(/:1$/, '')}@${image.digest}`).join('\n');
  const connectionsPerDeploy: number[] = [];
  const lastPhases: Record<string, string> = {};
  const phasesOf = (summary: string) =>
    [...summary.matchAll(/<tr><td>([a-z]+)<\/td><td>([\d.]+) s<\/td><\/tr>/g)].map((match) => ({
      name: match[1] as string,
      ms: Number(match[2]) * 1000,
    }));
  const describePhases = (summary: string) =>
    phasesOf(summary)
      .map((phase) => `${phase.name} ${(phase.ms / 1000).toFixed(2)} s`)
      .join(', ');

  /** The built action against the rig (through the counting proxy), action.yml defaults otherwise. */
  const deployWeb = async (workspace: string, release: string, text: string, onLine?: (line: string) => void) => {
    const before = connections;
    const result = await runBuiltAction('deploy-compose', {
      workspace,
      ...(onLine ? { onLine } : {}),
      inputs: {
        host: '127.0.0.1',
        port: String(proxyPort),
        user: ssh.user,
        'ssh-key': ssh.clientKey,
        'host-fingerprint': ssh.fingerprint,
        project: 'bench-web',
        'remote-dir': path.join(work, 'server', 'bench-web'),
        release,
        env: `RELEASE_TEXT=${text}`,
        images: webPin,
      },
    });
    connectionsPerDeploy.push(connections - before);
    return result;
  };

  const windows = { bare: [] as number[], action: [] as number[] };
  const failed = {
    bareBack: [] as number[],
    healthEnd: [] as number[],
    rollbackLine: [] as number[],
    outage: [] as number[],
    whole: [] as number[],
  };
  let lastFailedPhases = '';

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
        workspace: variant.pinned === 'file' ? pinnedProject : project,
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
          images: variant.pinned === 'input' ? pins : '',
        },
      });
      actionRuns[name].push(performance.now() - started);
      if (result.exitCode !== 0) throw new Error(`the deploy failed:\n${result.log.join('\n')}`);
      connectionsPerDeploy.push(connections - before);
      lastPhases[name] = describePhases(result.summary);
    }
    await composeCli(['-p', 'bench', 'down', '--remove-orphans']);

    // Redeploy A → B, bare: the gap docker-compose's recreate of the container leaves.
    const [a, b, c] = [`a${round}`, `b${round}`, `c${round}`];
    await bareUp('good.yaml', a);
    let poller = poll(barePort);
    await poller.first(a, 0);
    started = performance.now();
    await bareUp('good.yaml', b);
    let ended = performance.now();
    await poller.first(b, ended);
    await poller.stop();
    windows.bare.push(longestGap(poller.successes, started, ended));

    // The same redeploy by the action.
    const first = await deployWeb(webGood, a, a);
    if (first.exitCode !== 0) throw new Error(`the deploy of ${a} failed:\n${first.log.join('\n')}`);
    poller = poll(webPort);
    await poller.first(a, 0);
    started = performance.now();
    const second = await deployWeb(webGood, b, b);
    ended = performance.now();
    if (second.exitCode !== 0) throw new Error(`the deploy of ${b} failed:\n${second.log.join('\n')}`);
    await poller.first(b, ended);
    await poller.stop();
    windows.action.push(longestGap(poller.successes, started, ended));

    // A failed gate, bare: C over B, then `up -d` of B again; from that command to B serving.
    await bareUp('bad.yaml', c);
    poller = poll(barePort);
    await poller.first(c, 0);
    started = performance.now();
    await bareUp('good.yaml', b);
    failed.bareBack.push((await poller.first(b, started)) - started);
    await poller.stop();
    await run('docker-compose', ['-p', 'bench-bare', '-f', 'good.yaml', 'down', '--remove-orphans'], { cwd: bareWeb, env: dockerEnv });

    // A failed gate by the action: B is current; C's healthcheck fails; the action brings B back.
    poller = poll(webPort);
    await poller.first(b, 0);
    const seen: Record<string, number> = {};
    started = performance.now();
    const bad = await deployWeb(webBad, c, c, (line) => {
      if (line.startsWith('[phase] ') && seen[line] === undefined) seen[line] = performance.now();
    });
    ended = performance.now();
    if (bad.exitCode === 0 || bad.outputs['rolled-back'] !== 'true')
      throw new Error(`the deploy of ${c} was meant to fail and be rolled back:\n${bad.log.join('\n')}`);
    const rollbackAt = seen['[phase] rollback'];
    const healthAt = seen['[phase] health'];
    // The phases table lists a phase when it ends: the first health is the failed gate's.
    const gateMs = phasesOf(bad.summary).find((phase) => phase.name === 'health')?.ms;
    if (rollbackAt === undefined || healthAt === undefined || gateMs === undefined)
      throw new Error(`the failed deploy did not log its health and rollback phases:\n${bad.log.join('\n')}`);
    const gateEnd = healthAt + gateMs;
    const back = await poller.first(b, gateEnd);
    const lastBefore = [...poller.successes].reverse().find((success) => success.text === b && success.at < started);
    await poller.stop();
    failed.healthEnd.push(back - gateEnd);
    failed.rollbackLine.push(back - rollbackAt);
    failed.outage.push(back - (lastBefore?.at ?? started));
    failed.whole.push(ended - started);
    lastFailedPhases = describePhases(bad.summary);
  }
  await composeCli(['-p', 'bench', 'down', '--remove-orphans']);
  await run('docker-compose', ['-p', 'bench-web', 'down', '--remove-orphans'], { cwd: webGood, env: dockerEnv });

  // One more deploy (pinned, health: none), run under bench/support for its peak RSS, and one for
  // the JS it loads (the whole default path: SSH, upload, compose).
  const probe = await builtAction('deploy-compose', {
    workspace: project,
    inputs: {
      host: '127.0.0.1',
      port: String(proxyPort),
      user: ssh.user,
      'ssh-key': ssh.clientKey,
      'host-fingerprint': ssh.fingerprint,
      project: 'bench',
      'remote-dir': path.join(work, 'server', 'bench'),
      release: 'probe',
      health: 'none',
      images: pins,
    },
  });
  await composeCli(['-p', 'bench', 'down', '--remove-orphans']);
  const probed = await probe.run();
  const loaded = await probe.loaded();
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
  intro(
    `the built deploy-compose action as a fresh process (through the local runner), 3 services, action.yml defaults but for health and images as each row says; ${RUNS} rounds, ${os.cpus().length} cores`,
    'a bare `docker-compose up -d` of the same project on the same dockerd, in the same rounds (its containers removed before each)',
  );
  console.log('| what | min | median | ratio to baseline | overhead |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  console.log(`| bare docker-compose up -d (baseline) | ${seconds(min(bare))} | ${seconds(baseline)} | 1.00× | |`);
  for (const name of Object.keys(variants) as Variant[]) {
    const ms = median(actionRuns[name]);
    console.log(
      `| deploy-compose, ${name} | ${seconds(min(actionRuns[name]))} | ${seconds(ms)} | ${(ms / baseline).toFixed(2)}× | ${seconds(ms - baseline)} |`,
    );
  }
  console.log(
    `\nPeak RSS of one deploy (pinned, health: none): ${fmtMB(probed.rssMB)}. JS it loaded: ${fmtMB(loaded.mb)} (${loaded.files.join(' ')}) — ${verdict(loaded.mb, 1.5, fmtMB)}.`,
  );
  const overhead = median(actionRuns['pinned, health: none']) - baseline;
  console.log(
    `\nOverhead of the action (pinned, health: none) over the bare up -d: ${seconds(overhead)} (goal: at most 1.5 s) — ${overhead <= 1500 ? 'met' : 'NOT met'}.`,
  );
  console.log('(health: compose adds the wait for the healthchecks, which the bare up -d does not do; a tag adds its pull.)');
  for (const name of Object.keys(variants) as Variant[]) console.log(`Phases of the last deploy (${name}): ${lastPhases[name]}`);

  const row = (what: string, values: number[], base?: number[]) =>
    console.log(
      `| ${what} | ${seconds(min(values))} | ${seconds(median(values))} | ${base ? `${(median(values) / median(base)).toFixed(2)}×` : ''} |`,
    );
  console.log(
    `\nWeb service unavailability (1 service with a healthcheck, pinned, action.yml defaults; a request to 127.0.0.1 every 20 ms, 250 ms timeout), min and median of ${RUNS} runs:\n`,
  );
  console.log('| what | min | median | ratio to baseline |');
  console.log('| --- | ---: | ---: | ---: |');
  row('redeploy A → B, bare docker-compose up -d (baseline): longest gap without a successful response', windows.bare, windows.bare);
  row('redeploy A → B, deploy-compose: longest gap without a successful response', windows.action, windows.bare);
  row('failed gate, bare docker-compose up -d of B over C (baseline): command start → B serving', failed.bareBack, failed.bareBack);
  row('failed gate (C unhealthy), deploy-compose: gate failed (end of health phase) → B serving', failed.healthEnd, failed.bareBack);
  row('failed gate (C unhealthy), deploy-compose: `[phase] rollback` logged → B serving', failed.rollbackLine, failed.bareBack);
  row('failed gate (C unhealthy), deploy-compose: B not serving (last B response → first B response again)', failed.outage);
  row('failed gate (C unhealthy), deploy-compose: the whole failed deploy (exit 1, rolled back)', failed.whole);
  console.log(`Phases of the last failed deploy (nested phases are listed before the one holding them): ${lastFailedPhases}`);

  console.log(`\nOne remote command (\`true\`) over the open connection: ${median(commandCosts).toFixed(0)} ms (median of 10).`);
  const most = Math.max(...connectionsPerDeploy);
  console.log(
    `SSH connections per deploy (${connectionsPerDeploy.length} deploys, the failed ones included): ${[...new Set(connectionsPerDeploy)].join(', ')} (goal: 1) — ${most === 1 ? 'met' : 'NOT met'}.`,
  );
} finally {
  proxy.close();
  await daemon.close();
  await ssh.close();
  await registry.close();
  await rm(work, { recursive: true, force: true });
}
