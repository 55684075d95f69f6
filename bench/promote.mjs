#!/usr/bin/env node
// actions/promote:
// 1. CPU time to apply one bump to a versions.yaml of 500 services x 4 environments (git excluded),
//    next to a plain yaml.parse of the same file in the same run. Goal: at most 50 ms.
// 2. Wall time and push attempts of 20 promotions of different services started at once against
//    one local bare repository, next to the same 20 run one after another.
// Needs `pnpm build` first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { Git, writeWithGit } from '../packages/shared/lib/index.js';
import { applyRequest, promotionEdit } from '../actions/promote/lib/promote.js';

const SERVICES = 500;
const ENVIRONMENTS = ['dev', 'uat', 'staging', 'prod'];
const RUNS = Number(process.env.RUNS ?? 21);
const meta = { actor: 'bench', runUrl: 'https://github.com/acme/app/actions/runs/1', now: '2026-11-23T05:00:00Z' };
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

function cpuMs(work) {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const rows = [];

// 1. One bump on a big file.
const text = bigFile();
const bump = {
  operation: 'bump',
  environment: 'uat',
  services: [{ name: 'service-250', version: '2.0.0', digest: digest(99999) }],
  allowSkip: false,
  meta,
};
const applyTimes = [];
const parseTimes = [];
for (let i = 0; i < RUNS + 3; i++) {
  const applied = cpuMs(() => applyRequest(text, bump, 'versions.yaml'));
  const parsed = cpuMs(() => parse(text));
  if (i >= 3) {
    applyTimes.push(applied);
    parseTimes.push(parsed);
  }
}
const applyMedian = median(applyTimes);
rows.push([
  `one bump, ${SERVICES} services x ${ENVIRONMENTS.length} environments (${(text.length / 1024).toFixed(0)} KiB)`,
  `${applyMedian.toFixed(1)} ms CPU ${applyMedian <= 50 ? '(goal met)' : '(goal: <= 50 ms)'}`,
  `yaml.parse: ${median(parseTimes).toFixed(1)} ms CPU`,
  `${(applyMedian / median(parseTimes)).toFixed(2)}x`,
]);

// 2. Twenty promotions at once against one bare repository.
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'bench-promote-'));
try {
  async function environmentRepo(name) {
    const seed = path.join(sandbox, `${name}-seed`);
    const git = (...args) =>
      execFileSync('git', args, {
        cwd: seed,
        env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
      });
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', seed]);
    writeFileSync(path.join(seed, 'versions.yaml'), 'environments:\n  uat:\n    services: {}\n');
    git('add', 'versions.yaml');
    git('commit', '--quiet', '-m', 'start');
    const bare = path.join(sandbox, `${name}.git`);
    execFileSync('git', ['clone', '--quiet', '--bare', seed, bare]);
    return `file://${bare}`;
  }
  const promotion = (url, index) => {
    const request = {
      operation: 'bump',
      environment: 'uat',
      services: [{ name: `svc-${index}`, version: '1.0.0' }],
      allowSkip: false,
      meta,
    };
    return writeWithGit(new Git({ cwd: sandbox }), url, sandbox, {
      maxAttempts: 10,
      author: { name: 'bench', email: 'bench@example.test' },
      authorGiven: true,
      edit: promotionEdit(request, 'versions.yaml').edit,
      log: () => undefined,
    });
  };
  const sequentialUrl = await environmentRepo('sequential');
  let started = performance.now();
  for (let index = 0; index < 20; index++) await promotion(sequentialUrl, index);
  const sequential = performance.now() - started;

  const concurrentUrl = await environmentRepo('concurrent');
  started = performance.now();
  const results = await Promise.all(Array.from({ length: 20 }, (_, index) => promotion(concurrentUrl, index)));
  const concurrent = performance.now() - started;
  const attempts = results.reduce((sum, result) => sum + result.attempts, 0);
  const landed = parse(execFileSync('git', ['show', 'main:versions.yaml'], { cwd: path.join(sandbox, 'concurrent.git') }).toString())
    .environments.uat.services;
  if (Object.keys(landed).length !== 20) throw new Error(`only ${Object.keys(landed).length} of 20 landed`);
  rows.push([
    '20 promotions of different services at once, one bare repo',
    `${(concurrent / 1000).toFixed(1)} s wall, ${attempts} push attempts (all 20 landed)`,
    `one after another: ${(sequential / 1000).toFixed(1)} s, 20 attempts`,
    `${(concurrent / sequential).toFixed(2)}x`,
  ]);
} finally {
  rmSync(sandbox, { recursive: true, force: true });
}

const header = ['measure', 'promote', 'baseline (same run)', 'ratio'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
const line = (cells) => `| ${cells.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
console.log(`Medians of ${RUNS} runs for the CPU figures.\n`);
console.log(line(header));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const row of rows) console.log(line(row));
