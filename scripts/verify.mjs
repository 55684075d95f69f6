#!/usr/bin/env node
// Everything CI checks, in order, stopping at the first failure: lint, typecheck, the generated
// validators, build with check-dist, the catalog, validation of actions and workflows, and every test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const node = process.execPath;
const jestResults = path.join(root, '.tmp', 'jest-results.json');

const steps = [
  ['lint (eslint)', [bin('eslint'), '.']],
  ['lint (prettier)', [bin('prettier'), '--check', '.']],
  ['typecheck (tsc -b)', [bin('tsc'), '-b']],
  ['generated validators current', [node, 'scripts/generate-validators.mjs', '--check']],
  ['build + check-dist', [node, 'scripts/build-actions.mjs', '--check']],
  ['toolkit catalog --check', [node, 'packages/cli/lib/bin.js', 'catalog', '--check']],
  ['toolkit validate', [node, 'packages/cli/lib/bin.js', 'validate']],
  [
    'tests (jest)',
    [
      node,
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
      'node_modules/jest/bin/jest.js',
      '--ci',
      '--json',
      `--outputFile=${jestResults}`,
      ...process.argv.slice(2),
    ],
  ],
];

mkdirSync(path.dirname(jestResults), { recursive: true });
const timings = [];
for (const [title, [command, ...args]] of steps) {
  console.log(`\n▶ ${title}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  timings.push(`  ${result.status === 0 ? 'ok  ' : 'FAIL'} ${title} (${seconds} s)`);
  if (title.startsWith('tests')) {
    try {
      const counts = JSON.parse(readFileSync(jestResults, 'utf8'));
      console.log(`\ntests: ${counts.numPassedTests} passed, ${counts.numFailedTests} failed, ${counts.numPendingTests} skipped`);
      if (counts.numTotalTests === 0) {
        console.error('No test ran.');
        process.exitCode = 1;
      }
    } catch {
      console.error('The test runner left no results.');
    }
  }
  if (result.status !== 0) {
    console.log(`\n${timings.join('\n')}\n\nverify failed at: ${title}`);
    process.exit(result.status ?? 1);
  }
}
console.log(`\n${timings.join('\n')}\n\nverify passed.`);
