#!/usr/bin/env node
// actions/promote:
// 1. One bump of a versions.yaml of 500 services x 4 environments in a local bare repository: the
//    built action (dist/index.js, Node 24) as a fresh process with its action.yml defaults
//    (commit-mode git: clone, edit, commit, push), interleaved with `node -e 0` + a bare
//    `git clone --depth=1` of the same repository. Beside it, labelled: the CPU time of the edit
//    alone (applyRequest: parse, locate, splice, read back) in a warm Node 24 process, next to a read of
//    the same file by the fast reader (readVersionsData: js-yaml and the generated validator). Goal: the edit at most 50 ms CPU.
// 2. Promotions of different services into one bare repository, each its own promote process:
//    20 one after another, 20 at once, 50 at once. Goals: all land; no run needs more than half its
//    default attempts (10); 20 at once at most 2x the 20 one after another.
// Needs `pnpm build` first.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import {
  builtAction,
  fmtMB,
  fmtMs,
  interleave,
  intro,
  measure,
  median,
  min,
  node24,
  nodeStart,
  root,
  sandbox,
  table,
  verdict,
} from './support/bench.mjs';

const SERVICES = 500;
const ENVIRONMENTS = ['dev', 'uat', 'staging', 'prod'];
const RUNS = Number(process.env.RUNS ?? 11);
const work = sandbox('promote');
const IDENTITY = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const gitPath = execFileSync('sh', ['-c', 'command -v git']).toString().trim();
const digest = (n) => `sha256:${n.toString(16).padStart(64, '0')}`;

function bigFile() {
  const lines = ['# versions.yaml for the benchmark', 'promotion: [dev, uat, staging, prod]', 'environments:'];
  for (const environment of ENVIRONMENTS) {
    lines.push(`  # ${environment}`, `  ${environment}:`, '    services:');
    for (let n = 0; n < SERVICES; n++) {
      lines.push(
        `      service-${n}:`,
        `        version: 1.${n}.0 # pinned`,
        `        image: ghcr.io/acme/service-${n}`,
        `        digest: ${digest(n)}`,
        `        chart: {name: service-${n}, version: 0.${n}.0}`,
        `        commit: ${(n + 0xabc0000).toString(16)}`,
        "        deployed_at: '2026-11-01T10:00:00Z'",
        '        deployed_by: someone',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A bare repository holding `text` as versions.yaml on main; its file:// URL. */
function environmentRepo(name, text) {
  const seed = path.join(work, `${name}-seed`);
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', seed]);
  writeFileSync(path.join(seed, 'versions.yaml'), text);
  const git = (...args) => execFileSync('git', args, { cwd: seed, env: { ...process.env, ...IDENTITY } });
  git('add', 'versions.yaml');
  git('commit', '--quiet', '-m', 'start');
  const bare = path.join(work, `${name}.git`);
  execFileSync('git', ['clone', '--quiet', '--bare', seed, bare]);
  return { url: `file://${bare}`, bare };
}

// 1. One bump on the big file (ONLY=concurrency skips it).
const runner = path.join(work, 'runner');
mkdirSync(runner);
if (process.env.ONLY !== 'concurrency') {
  const text = bigFile();
  const big = environmentRepo('big', text);
  let bumpVersion = 0;
  const bumpAction = async (service) =>
    builtAction('promote', {
      inputs: { repository: big.url, environment: 'uat', service, version: '2.0.0', digest: digest(99999) },
      workspace: runner,
    });
  intro(
    `the built promote action as a fresh process, action.yml defaults (commit-mode git), bumping one service of ${SERVICES} × ${ENVIRONMENTS.length} environments (${(text.length / 1e6).toFixed(2)} MB versions.yaml) in a local bare repository`,
    '`node -e 0` + a bare `git clone --depth=1` of the same repository (their sum), interleaved',
  );
  const results = await interleave(
    {
      'node -e 0': nodeStart,
      'git clone': () => measure([gitPath, 'clone', '--quiet', '--depth=1', big.url, path.join(work, `clone-${bumpVersion++}`)]),
      action: async () => (await bumpAction(`service-${bumpVersion++ % SERVICES}`)).run(),
    },
    { runs: RUNS },
  );
  const baseline = results['node -e 0'].ms.map((ms, index) => ms + results['git clone'].ms[index]);
  const meta = { actor: 'bench', runUrl: 'https://github.com/acme/app/actions/runs/1', now: '2026-11-23T05:00:00Z' };
  const bump = {
    operation: 'bump',
    environment: 'uat',
    services: [{ name: 'service-250', version: '2.0.0', digest: digest(99999) }],
    allowSkip: false,
    meta,
  };
  // The edit alone, in a warm Node 24 process (the action's Node; bench/support/promote-edit-cpu.mjs).
  const textFile = path.join(work, 'big-versions.yaml');
  const requestFile = path.join(work, 'big-request.json');
  writeFileSync(textFile, text);
  writeFileSync(requestFile, JSON.stringify(bump));
  const edit = JSON.parse(
    execFileSync(node24, [path.join(root, 'bench', 'support', 'promote-edit-cpu.mjs'), textFile, requestFile, String(RUNS)]).toString(),
  );
  if (!edit.sameAsWholeFile) console.log('WARNING: the edit wrote other text than the whole-file editor does.');
  const applyTimes = edit.apply;
  const loadTimes = edit.read;
  console.log(
    table(
      ['one bump', 'min / median', 'ratio (medians)', 'peak RSS', 'goal'],
      [
        [`node -e 0 + git clone --depth=1 (baseline)`, `${fmtMs(min(baseline))} / ${fmtMs(median(baseline))}`, 'baseline', '', ''],
        [
          'promote, whole action (clone, edit, commit, push)',
          `${fmtMs(min(results.action.ms))} / ${fmtMs(median(results.action.ms))}`,
          `${(median(results.action.ms) / median(baseline)).toFixed(2)}×`,
          fmtMB(Math.max(...results.action.rssMB)),
          '',
        ],
        [
          'the edit alone, in a warm Node 24 process (CPU)',
          `${fmtMs(min(applyTimes))} / ${fmtMs(median(applyTimes))}`,
          `${(median(applyTimes) / median(loadTimes)).toFixed(2)}× the fast reader alone (${fmtMs(median(loadTimes))})`,
          '',
          verdict(median(applyTimes), 50, fmtMs),
        ],
      ],
    ),
  );
}

// 2. Many promotions of different services into one repository, each its own process.
// The attempt that landed, from gitops' own line (a rejection's line names the next attempt).
const attemptsOf = (result) => Number(/Pushed \w+ to \S+ \(attempt (\d+)\)/.exec(result.stdout)?.[1] ?? NaN);
async function promotions(count, concurrent) {
  const repo = environmentRepo(`many-${count}-${concurrent ? 'at-once' : 'in-turn'}`, 'environments:\n  uat:\n    services: {}\n');
  const actions = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      builtAction('promote', {
        inputs: { repository: repo.url, environment: 'uat', service: `svc-${index}`, version: '1.0.0' },
        workspace: runner,
      }),
    ),
  );
  const started = performance.now();
  const runs = concurrent ? await Promise.all(actions.map((action) => action.run())) : [];
  if (!concurrent) for (const action of actions) runs.push(await action.run());
  const wall = performance.now() - started;
  const landed = parse(execFileSync('git', ['show', 'main:versions.yaml'], { cwd: repo.bare }).toString()).environments.uat.services;
  const attempts = runs.map(attemptsOf);
  return { wall, landed: Object.keys(landed).length, attempts, rss: Math.max(...runs.map((run) => run.rssMB)) };
}
const inTurn = await promotions(20, false);
const atOnce = await promotions(20, true);
const fifty = await promotions(50, true);
const row = (name, result, count, versus = '') => [
  name,
  fmtMs(result.wall),
  `${result.landed}/${count} ${result.landed === count ? '(all landed)' : '(NOT all landed)'}`,
  `${result.attempts.reduce((sum, value) => sum + value, 0)} (most: ${Math.max(...result.attempts)}) — ${verdict(Math.max(...result.attempts), 5)}`,
  fmtMB(result.rss),
  versus,
];
const ratio = atOnce.wall / inTurn.wall;
console.log(
  `\nPromotions of different services into one bare repository, each a promote process (defaults: max-attempts 10):\n\n${table(
    ['promotions', 'wall', 'landed', 'push attempts (goal: most ≤ 5)', 'peak RSS of one', 'wall against the 20 in turn'],
    [
      row('20 one after another (baseline)', inTurn, 20),
      row('20 at once', atOnce, 20, `${ratio.toFixed(2)}× — ${verdict(ratio, 2, (x) => `${x.toFixed(2)}×`)}`),
      row('50 at once', fifty, 50),
    ],
  )}`,
);
