#!/usr/bin/env node
// semantic-tag on a synthetic repository of 100,000 commits and 5,000 tags (releases every 20
// commits, plus moving tags, pre-releases and another component's tags), at 20,000 and at 1,000
// commits since the last release: the built action (dist/index.js, Node 24) as a fresh process
// with its action.yml defaults (dry-run, to leave the repository as it is), interleaved with its
// baseline: `node -e 0` plus a bare `git log --format=%H%x00%B <last tag>..HEAD`, each measured in
// the same round (the baseline is the sum of the two).
// Goal: at most 1.5x the baseline; peak RSS under 100 MB. In-process runSemanticTag (warm, after
// the first call) is printed beside, labelled. Needs `pnpm build` first.
//   node bench/semantic-tag.mjs     (RUNS=7, COMMITS=100000 by default)
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Git, InputReader } from '../packages/shared/lib/index.js';
import { getInputs } from '../actions/semantic-tag/lib/main.js';
import { runSemanticTag } from '../actions/semantic-tag/lib/semantic-tag.js';
import {
  builtAction,
  fmtMB,
  fmtMs,
  interleave,
  intro,
  measure,
  median,
  min,
  nodeStart,
  sandbox,
  table,
  verdict,
} from './support/bench.mjs';

const COMMITS = Number(process.env.COMMITS ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 7);
const work = sandbox('semantic-tag');
const repo = path.join(work, 'repo');
const git = (...args) => execFileSync('git', args, { cwd: repo, maxBuffer: 1 << 30 }).toString();

const TYPES = ['feat', 'fix', 'chore', 'docs', 'fix', 'refactor', 'perf', 'test', 'build', 'fix'];

/** The fast-import stream: a main line of commits, a release tag every 20 of them up to `lastRelease`, and noise tags. */
function stream(lastRelease) {
  const parts = [];
  let tags = 0;
  let version = [1, 0, 0];
  for (let n = 1; n <= COMMITS; n++) {
    const type = TYPES[n % TYPES.length];
    const body = n % 7 === 0 ? `\n\nA body for commit ${n}, explaining why.\nRefs: #${n}` : '';
    const message = `${type}${n % 3 === 0 ? '(core)' : ''}: change number ${n}${body}`;
    parts.push(
      `commit refs/heads/main\nmark :${n}\ncommitter Bench <bench@example.test> ${1_500_000_000 + n} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n`,
    );
    if (n > 1) parts.push(`from :${n - 1}\n`);
    parts.push('\n');
    if (n % 20 === 0 && n <= lastRelease) {
      version = n % 400 === 0 ? [version[0], version[1] + 1, 0] : [version[0], version[1], version[2] + 1];
      parts.push(`reset refs/tags/v${version.join('.')}\nfrom :${n}\n\n`);
      tags++;
      if (n % 400 === 0) {
        // Moving tags, a pre-release and another component's release: 1,000 tags that are not releases here.
        parts.push(`reset refs/tags/v${version[0]}.${version[1]}\nfrom :${n}\n\n`);
        parts.push(`reset refs/tags/v${version[0]}.${version[1] + 1}.0-rc.1\nfrom :${n}\n\n`);
        parts.push(`reset refs/tags/web/v${version[1]}.0.0\nfrom :${n}\n\n`);
        parts.push(`reset refs/tags/web/v${version[1]}.0.1\nfrom :${n}\n\n`);
        parts.push(`reset refs/tags/v${version[0]}.${version[1]}-latest\nfrom :${n}\n\n`);
        tags += 5;
      }
    }
  }
  return { text: parts.join(''), tags, lastVersion: version.join('.') };
}

const gitPath = execFileSync('sh', ['-c', 'command -v git']).toString().trim();

execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
const started = Date.now();
const { text, tags, lastVersion } = stream(COMMITS - 20_000);
const imported = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: text, maxBuffer: 1 << 30 });
if (imported.status !== 0) throw new Error(imported.stderr.toString());
git('checkout', '--quiet', 'main');
// A clone has its refs packed; fast-import leaves them loose.
git('pack-refs', '--all');
console.log(
  `Built ${COMMITS.toLocaleString('en')} commits and ${tags.toLocaleString('en')} tags in ${((Date.now() - started) / 1000).toFixed(1)} s (last release v${lastVersion}).\n`,
);
intro(
  'the built semantic-tag action as a fresh process, action.yml defaults with dry-run: true, spawn to exit',
  '`node -e 0` + a bare `git log --format=%H%x00%B <last release>..HEAD` (their sum), interleaved',
);

const scenarios = [
  { name: '20,000 commits since the last release', lastTag: `v${lastVersion}` },
  { name: '1,000 commits since the last release', lastTag: 'v9999.0.0', setup: () => git('tag', 'v9999.0.0', 'main~1000') },
];
const rows = [];
for (const scenario of scenarios) {
  scenario.setup?.();
  const action = await builtAction('semantic-tag', { inputs: { 'dry-run': 'true', 'repository-path': repo }, workspace: repo });
  const config = getInputs(new InputReader({ source: (name) => action.inputs[name] ?? '' }));
  const results = await interleave(
    {
      'node -e 0': nodeStart,
      'git log': () => measure([gitPath, 'log', '--format=%H%x00%B', `${scenario.lastTag}..HEAD`], { cwd: repo }),
      action: () => action.run(),
      'in process': async () => {
        const at = performance.now();
        const computed = await runSemanticTag(config, { git: new Git({ cwd: repo }) });
        if (computed.previousTag !== scenario.lastTag)
          throw new Error(`in process: found ${computed.previousTag}, not ${scenario.lastTag}`);
        return { ms: performance.now() - at, rssMB: NaN };
      },
    },
    { runs: RUNS },
  );
  const found = results.action.last.outputs['previous-tag'];
  if (found !== scenario.lastTag) throw new Error(`the action found ${found}, not ${scenario.lastTag}`);
  const baseline = results['node -e 0'].ms.map((ms, index) => ms + results['git log'].ms[index]);
  const ratio = median(results.action.ms) / median(baseline);
  const rss = Math.max(...results.action.rssMB);
  rows.push([
    scenario.name,
    `${fmtMs(min(baseline))} / ${fmtMs(median(baseline))}`,
    `${fmtMs(min(results.action.ms))} / ${fmtMs(median(results.action.ms))}`,
    `${ratio.toFixed(2)}× — ${verdict(ratio, 1.5, (x) => `${x.toFixed(2)}×`)}`,
    `${fmtMB(rss)} — ${verdict(rss, 100, fmtMB)}`,
    `${fmtMs(median(results['git log'].ms))}`,
    `${fmtMs(median(results['in process'].ms))}`,
  ]);
}
console.log(
  table(
    [
      'scenario',
      'baseline min / median',
      'action min / median',
      'ratio (medians)',
      'action peak RSS',
      'git log alone (median)',
      'in process, warm (median)',
    ],
    rows,
  ),
);
