import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '@toolkit/shared';
import { type ActionManifest, readActionManifest } from './action-manifest.js';
import { summaryToText } from './summary-text.js';

export interface LocalRunOptions {
  /** The action's folder (holding `action.yml`). */
  actionDir: string;
  /** `with:` values; names as written in `action.yml`. */
  inputs?: Record<string, string>;
  /** Extra environment, applied over the runner's own variables. */
  env?: Record<string, string>;
  /** The webhook payload file (`GITHUB_EVENT_PATH`); `{}` when not given. */
  eventPath?: string;
  /** `GITHUB_WORKSPACE` and the process's working directory; defaults to the current directory. */
  workspace?: string;
  /** The Node binary; GitHub runs `node24` actions with Node 24. */
  node?: string;
  /** Show `::debug::` lines and set `RUNNER_DEBUG=1`, as a re-run with debug logging does. */
  debug?: boolean;
  /** Called with each log line as it arrives, already masked and formatted. */
  onLine?: (line: string) => void;
  /** Kill the action after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Called with the action's process id once it has started (tests send it signals, as a cancel does). */
  onStart?: (pid: number) => void;
  /** `github.token` for inputs whose default is `${{ github.token }}` (else GITHUB_TOKEN of the environment). */
  githubToken?: string;
}

export interface LocalRunResult {
  exitCode: number;
  outputs: Record<string, string>;
  /** What the action appended to `GITHUB_STEP_SUMMARY`. */
  summary: string;
  /** Variables the action exported through `GITHUB_ENV`. */
  exportedEnv: Record<string, string>;
  /** The log as the runner would show it: workflow commands applied, secrets masked. */
  log: string[];
  /** Every value the action asked to mask. */
  masks: string[];
  /** Every line the action printed, before masking: what a test greps to prove a secret was never printed at all. */
  rawLog: string[];
}

/**
 * Runs a built JavaScript action the way GitHub's runner does: inputs as `INPUT_<NAME>` with the
 * defaults of `action.yml`, the runner's files (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `GITHUB_ENV`,
 * `GITHUB_STATE`, `GITHUB_EVENT_PATH`), workflow commands on stdout, and secret masking in the log.
 */
export async function runActionLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const manifest = await readActionManifest(options.actionDir);
  if (!manifest.runs.main) throw new UserError('INVALID_CONFIGURATION', `${manifest.file} has no runs.main to run.`);
  const main = path.resolve(options.actionDir, manifest.runs.main);
  const workspace = path.resolve(options.workspace ?? process.cwd());
  const files = await mkdtemp(path.join(os.tmpdir(), 'toolkit-run-'));
  try {
    const paths = {
      GITHUB_OUTPUT: path.join(files, 'output'),
      GITHUB_STEP_SUMMARY: path.join(files, 'step_summary'),
      GITHUB_ENV: path.join(files, 'env'),
      GITHUB_STATE: path.join(files, 'state'),
      GITHUB_PATH: path.join(files, 'path'),
      GITHUB_EVENT_PATH: path.join(files, 'event.json'),
    };
    for (const file of Object.values(paths)) await writeFile(file, '');
    if (options.eventPath) await copyFile(options.eventPath, paths.GITHUB_EVENT_PATH);
    else await writeFile(paths.GITHUB_EVENT_PATH, '{}');
    const runnerTemp = path.join(files, 'runner-temp');
    await mkdir(runnerTemp);

    const env: Record<string, string> = {
      ...inheritedEnv(),
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      GITHUB_ACTION_PATH: path.resolve(options.actionDir),
      RUNNER_TEMP: runnerTemp,
      RUNNER_TOOL_CACHE: process.env.RUNNER_TOOL_CACHE ?? path.join(os.tmpdir(), 'toolkit-tool-cache'),
      ...(options.debug ? { RUNNER_DEBUG: '1' } : {}),
      ...options.env,
      ...paths,
    };
    Object.assign(
      env,
      inputEnv(manifest, options.inputs ?? {}, options.githubToken === undefined ? env : { ...env, GITHUB_TOKEN: options.githubToken }),
    );

    const log: string[] = [];
    const rawLog: string[] = [];
    const masks: string[] = [];
    // `raw` is the line as printed, workflow command and all; `line` is what the runner shows of it.
    const emit = (line: string, raw = line) => {
      rawLog.push(raw);
      const shown = applyMasks(line, masks);
      log.push(shown);
      options.onLine?.(shown);
    };
    const node = options.node?.includes(path.sep) ? path.resolve(options.node) : (options.node ?? process.execPath);
    const exitCode = await spawnAction(
      node,
      main,
      workspace,
      env,
      options.timeoutMs ?? 600_000,
      {
        stdout: (line) => {
          const command = parseWorkflowCommand(line);
          if (!command) return emit(line);
          if (command.name === 'add-mask') {
            if (command.message !== '') masks.push(command.message);
            return;
          }
          const shown = formatCommand(command, options.debug ?? false);
          if (shown !== undefined) emit(shown, line);
          else rawLog.push(line);
        },
        stderr: emit,
      },
      options.onStart,
    );

    return {
      exitCode,
      outputs: parseFileCommand(await readFile(paths.GITHUB_OUTPUT, 'utf8')),
      summary: await readFile(paths.GITHUB_STEP_SUMMARY, 'utf8'),
      exportedEnv: parseFileCommand(await readFile(paths.GITHUB_ENV, 'utf8')),
      log,
      masks,
      rawLog,
    };
  } finally {
    await rm(files, { recursive: true, force: true });
  }
}

/** The caller's environment, less anything that belongs to another step. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('INPUT_') || name.startsWith('STATE_') || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return env;
}

/** `INPUT_<NAME>` for every input: given, else the `action.yml` default with `${{ github.* }}` filled in. */
function inputEnv(manifest: ActionManifest, given: Record<string, string>, env: Record<string, string>): Record<string, string> {
  const known = new Set(manifest.inputs.map((input) => input.id));
  const unknown = Object.keys(given).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const valid = [...known].join(', ') || 'none';
    throw new UserError(
      'INVALID_INPUT',
      `${manifest.name} has no input ${unknown.map((name) => `"${name}"`).join(', ')}; its inputs are: ${valid}.`,
    );
  }
  const result: Record<string, string> = {};
  for (const input of manifest.inputs) {
    const value = given[input.id] ?? evaluateDefault(input.default ?? '', env);
    result[`INPUT_${input.id.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  return result;
}

/** Fills `${{ github.x }}` and `${{ runner.x }}` in a default from the environment the runner would set. */
export function evaluateDefault(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(github|runner)\.([a-z_]+)\s*\}\}/g, (_match, context: string, name: string) => {
    if (context === 'github' && name === 'token') return env.GITHUB_TOKEN ?? '';
    return env[`${context === 'github' ? 'GITHUB' : 'RUNNER'}_${name.toUpperCase()}`] ?? '';
  });
}

function spawnAction(
  node: string,
  main: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
  on: { stdout: (line: string) => void; stderr: (line: string) => void },
  onStart?: (pid: number) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [main], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) onStart?.(child.pid);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const flushers = [lines(child.stdout, on.stdout), lines(child.stderr, on.stderr)];
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const flush of flushers) flush();
      resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): () => void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) onLine(part.replace(/\r$/, ''));
  });
  return () => {
    if (pending !== '') onLine(pending);
    pending = '';
  };
}

interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  message: string;
}

function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function unescapeProperty(text: string): string {
  return unescapeData(text).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const match = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/s.exec(line);
  if (!match) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const equals = pair.indexOf('=');
    if (equals > 0) properties[pair.slice(0, equals)] = unescapeProperty(pair.slice(equals + 1));
  }
  return { name: (match[1] as string).toLowerCase(), properties, message: unescapeData(match[3] ?? '') };
}

function formatCommand(command: WorkflowCommand, debug: boolean): string | undefined {
  const where = command.properties.file
    ? ` (${command.properties.file}${command.properties.line ? `:${command.properties.line}` : ''})`
    : '';
  switch (command.name) {
    case 'debug':
      return debug ? `##[debug]${command.message}` : undefined;
    case 'error':
      return `Error${where}: ${command.message}`;
    case 'warning':
      return `Warning${where}: ${command.message}`;
    case 'notice':
      return `Notice${where}: ${command.message}`;
    case 'group':
      return `▸ ${command.message}`;
    case 'endgroup':
      return undefined;
    default:
      return `::${command.name}::${command.message}`;
  }
}

/** What `toolkit run` prints after the log: the outputs and the job summary, masked. */
export function formatRunReport(result: LocalRunResult): string[] {
  const lines = ['', 'Outputs:'];
  for (const [name, value] of Object.entries(result.outputs)) {
    const [first, ...rest] = applyMasks(value, result.masks).trimEnd().split('\n');
    lines.push(`  ${name}=${first}`, ...rest.map((line) => `    ${line}`));
  }
  if (result.summary.trim()) lines.push('', 'Job summary:', ...applyMasks(summaryToText(result.summary), result.masks).split('\n'));
  return lines;
}

/** Replaces every masked value with `***`, longest first so that a secret's parts cannot show. */
export function applyMasks(text: string, masks: readonly string[]): string {
  let masked = text;
  for (const secret of [...masks].sort((a, b) => b.length - a.length)) masked = masked.split(secret).join('***');
  return masked;
}

/** Reads `GITHUB_OUTPUT`/`GITHUB_ENV`: `name=value` lines and `name<<DELIMITER` blocks. */
export function parseFileCommand(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const rows = text.split('\n');
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index] as string;
    if (row === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(row);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const body: string[] = [];
      for (index++; index < rows.length && rows[index] !== delimiter; index++) body.push(rows[index] as string);
      values[name] = body.join('\n');
      continue;
    }
    const equals = row.indexOf('=');
    if (equals > 0) values[row.slice(0, equals)] = row.slice(equals + 1);
  }
  return values;
}
