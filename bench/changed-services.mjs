#!/usr/bin/env node
// changed-services, as a user's step runs it: the built action (node dist/index.js under Node 24,
// a fresh process, its action.yml defaults) on a synthetic repository of 50 services, 100,000
// commits and 5,000 release tags (each service tagged about every 1,000 commits), in two shapes:
// every service released, and one service added that was never released (its range is the whole
// history). The baseline is one `git log --name-only` over the same range, interleaved in the same
// run, with `node -e 0` beside it; an in-process figure is labelled apart. Goal: at most 1.5x that
// log. Needs `pnpm build` (and tsc's lib/ for the in-process column).
//
//   SERVICES=50 COMMITS=100000 TAGS=5000 RUNS=5 node bench/changed-services.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  TIMING_HEADER,
  builtAction,
  fmtMs,
  interleave,
  intro,
  measure,
  median,
  min,
  nodeStart,
  table,
  timingRows,
  verdict,
} from './support/bench.mjs';

const SERVICES = Number(process.env.SERVICES ?? 50);
const COMMITS = Number(process.env.COMMITS ?? 100_000);
const TAGS = Number(process.env.TAGS ?? 5_000);
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

const RUNS = Number(process.env.RUNS ?? 5);
const gitPath = execFileSync('sh', ['-c', 'command -v git']).toString().trim();
intro(
  `changed-services (the built action, a fresh process, action.yml defaults) on ${SERVICES} services, ${COMMITS} commits and about ${TAGS} tags`,
  'one git log --name-only over the same range (every commit some service has not released), and node -e 0',
);

/** The commits of the range changed-services reads on the checked-out branch: HEAD minus what every service's last release has. */
function rangeOf(whole) {
  if (whole) return [];
  const lastTags = [];
  for (let s = 0; s < SERVICES; s++) {
    const tags = git('tag', '--list', '--sort=-v:refname', `service-${s}/v*`).split('\n').filter(Boolean);
    if (tags[0]) lastTags.push(tags[0]);
  }
  return [`^${git('merge-base', '--octopus', ...lastTags).trim()}`];
}

const VERSIONING = { initialVersion: '0.1.0', releaseRules: [], defaultBump: 'none', majorZero: 'breaking-is-minor', prerelease: '' };
const { detectChanges, serviceTags } = await import('../actions/changed-services/lib/changed-services.js');
const { Git, parseServicesManifest } = await import('../packages/shared/lib/index.js');

for (const shape of SHAPES) {
  git('checkout', '--quiet', shape.branch);
  const whole = shape.branch !== 'main';
  const exclude = rangeOf(whole);
  const rangeCommits = Number(git('rev-list', '--count', 'HEAD', ...exclude).trim());
  const action = await builtAction('changed-services', { workspace: repo });
  const results = await interleave(
    {
      'changed-services': () => action.run(),
      'git log --name-only': () => measure([gitPath, 'log', '--name-only', '--format=%H %P%n%B', 'HEAD', ...exclude], { cwd: repo }),
      'node -e 0': () => nodeStart(),
    },
    { runs: RUNS },
  );
  // Labelled apart: the detection alone in this warm process, without Node's start-up or the bundle's load.
  const warm = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const repoGit = new Git({ cwd: repo });
    const manifest = parseServicesManifest(readFileSync(path.join(repo, 'toolkit.yaml'), 'utf8'));
    const tags = serviceTags((await repoGit.run(['show-ref', '--tags', '--dereference'])).stdout, manifest.services);
    await detectChanges(repoGit, manifest.services, tags, (await repoGit.output(['rev-parse', 'HEAD'])).trim(), VERSIONING);
    warm.push(performance.now() - started);
  }
  const changed = JSON.parse(results['changed-services'].last.outputs.matrix).include.length;
  const actionMs = median(results['changed-services'].ms);
  const log = median(results['git log --name-only'].ms);
  const start = median(results['node -e 0'].ms);
  console.log(`\n${shape.name}: ${rangeCommits} commits in the range; ${changed} services changed.\n`);
  console.log(
    table(
      [...TIMING_HEADER, 'in-process, warm (labelled)'],
      timingRows(results, 'git log --name-only').map((row, index) => [
        ...row,
        index === 0 ? `${fmtMs(min(warm))} / ${fmtMs(median(warm))}` : '',
      ]),
    ),
  );
  console.log(
    `\nratio to the git log (medians): ${(actionMs / log).toFixed(2)}x, ${verdict(actionMs / log, 1.5, (x) => `${x.toFixed(2)}x`)}; to node -e 0 + the git log: ${(actionMs / (log + start)).toFixed(2)}x`,
  );
}
git('checkout', '--quiet', 'main');
