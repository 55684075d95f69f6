#!/usr/bin/env node
// One UAT rehearsal (push UAT-1.0.0 through the templates, the reusable workflows and the built
// actions), from a fresh app repository each run, as `npm run demo` does it: the whole wall time,
// and its parts: the toolkit actions' own processes, the stand-ins, the `run:` steps, and the
// engine around them (loading and evaluating workflows, the world, git pushes). Prints min and
// median over RUNS (default 5). Needs `pnpm build` first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Git } from '../packages/shared/lib/index.js';
import { defaultNode, initRepository, prepareRehearsal } from '../packages/cli/lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.RUNS ?? 5);
const IDENTITY = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b.invalid', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b.invalid' };

async function oneRun() {
  const sandbox = mkdtempSync(path.join(os.tmpdir(), 'bench-rehearse-'));
  try {
    const dir = path.join(sandbox, 'shop');
    const git = new Git({ cwd: dir, env: IDENTITY });
    await new Git({ cwd: sandbox }).run(['init', '--quiet', '--initial-branch=main', dir]);
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY index.html /www/\n');
    writeFileSync(path.join(dir, 'index.html'), 'shop\n');
    await initRepository({
      root,
      dir,
      org: 'acme/toolkit',
      ref: 'v1',
      envRepo: 'acme/environments',
      chartRepository: 'https://charts.acme.example',
    });
    await git.run(['add', '--all']);
    await git.run(['commit', '--quiet', '-m', 'feat: the shop']);
    await git.run(['tag', 'UAT-1.0.0']);
    const started = performance.now();
    const rehearsal = await prepareRehearsal({ root, appDir: dir, node: defaultNode(root), scratch: path.join(sandbox, 'world') });
    const prepared = performance.now();
    const report = await rehearsal.run({ name: 'push', ref: 'refs/tags/UAT-1.0.0' });
    const finished = performance.now();
    await rehearsal.close();
    if (report.conclusion !== 'success')
      throw new Error(`the UAT rehearsal failed: ${report.jobs.map((job) => `${job.id}=${job.result}`).join(' ')}`);
    const byKind = { action: 0, 'stand-in': 0, run: 0 };
    for (const job of report.jobs) for (const step of job.steps) if (step.kind in byKind) byKind[step.kind] += step.durationMs;
    const total = finished - started;
    return {
      total,
      world: prepared - started,
      ...byKind,
      engine: total - (prepared - started) - byKind.action - byKind['stand-in'] - byKind.run,
    };
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
}

const samples = [];
for (let index = 0; index < runs; index++) samples.push(await oneRun());
const stat = (key) => {
  const values = samples.map((sample) => sample[key]).sort((a, b) => a - b);
  return `min ${(values[0] / 1000).toFixed(2)} s, median ${(values[Math.floor(values.length / 2)] / 1000).toFixed(2)} s`;
};
console.log(`One UAT rehearsal, ${runs} runs (fresh app repository and world each):`);
console.log(`  whole rehearsal                     ${stat('total')}`);
console.log(`  world (GitHub stand-in, toolkit snapshot, registry)  ${stat('world')}`);
console.log(`  toolkit actions (Node 24 processes) ${stat('action')}`);
console.log(`  stand-ins (checkout, build, …)      ${stat('stand-in')}`);
console.log(`  run: steps (bash)                   ${stat('run')}`);
console.log(`  engine overhead (the rest)          ${stat('engine')}`);
