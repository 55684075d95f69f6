/**
 * release-report on a synthetic environment repository whose history is made by promote's own
 * write path (writeWithGit with promotionEdit: bumps, a promotion, a rollback that reads the
 * history) plus hand commits (one breaking versions.yaml, one fixing it), at fixed times, so that
 * every metric is known by construction and asserted exactly. Then the same repository served by
 * the real git daemon: a depth-1 clone deepened only to the window.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type FileVersion, Git, InputReader, type GitOpsOptions, gitFileHistory, writeWithGit } from '@toolkit/shared';
import { commitTimeInput } from '../../actions/promote/src/main.js';
import { type PromoteRequest, promotionEdit } from '../../actions/promote/src/promote.js';
import { getInputs, runReport } from '../../actions/release-report/src/main.js';
import { renderMarkdown, renderText } from '../../actions/release-report/src/render.js';
import { type Report, buildReport, isFixRelease, quantile } from '../../actions/release-report/src/report.js';
import { reportCommand } from '../../packages/cli/src/report.js';
import { type GitDaemon, startGitDaemon } from '../support/git-daemon.js';
import { ROOT, node24, runBuiltAction } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const NOW = new Date('2026-11-30T00:00:00Z');
const IDENTITY = {
  GIT_AUTHOR_NAME: 'Release Bot',
  GIT_AUTHOR_EMAIL: 'bot@example.test',
  GIT_COMMITTER_NAME: 'Release Bot',
  GIT_COMMITTER_EMAIL: 'bot@example.test',
};
const at = (time: string) => ({ ...IDENTITY, GIT_AUTHOR_DATE: time, GIT_COMMITTER_DATE: time });

let root: string;
let bare: string;
let daemon: GitDaemon;

/** One promote run at `time` (its commit and deployed_at), through the git write path. */
async function promote(time: string, request: Omit<PromoteRequest, 'allowSkip' | 'meta'>, commitTime?: string): Promise<void> {
  const full: PromoteRequest = {
    allowSkip: false,
    ...request,
    // Each source commit its own (a commit's time names it here): the same commit again is a rebuild.
    meta: {
      actor: 'octocat',
      now: time,
      commit: commitTime ? `abc${commitTime.replace(/\D/g, '')}` : 'abc1234def',
      ...(commitTime ? { commitTime } : {}),
    },
  };
  const options: GitOpsOptions = {
    maxAttempts: 1,
    author: { name: 'Release Bot', email: 'bot@example.test' },
    authorGiven: true,
    edit: promotionEdit(full, 'versions.yaml').edit,
    log: () => undefined,
  };
  const result = await writeWithGit(new Git({ cwd: root, env: at(time) }), bare, path.join(root, 'work'), options);
  expect(result.changed).toBe(true);
}

const bump = (time: string, environment: string, service: string, version: string, commitTime?: string) =>
  promote(
    time,
    { operation: 'bump', environment, services: [{ name: service, version, digest: D(version.replace(/\D/g, '').slice(-1)) }] },
    commitTime,
  );

/** A commit made by hand at `time` that writes `text` as versions.yaml. */
async function handCommit(time: string, message: string, edit: (text: string) => string): Promise<void> {
  const dir = path.join(root, `hand-${Date.parse(time)}`);
  const git = new Git({ cwd: root, env: at(time) });
  await git.run(['clone', '--quiet', '--', bare, dir]);
  const clone = git.at(dir);
  const text = await clone.output(['show', 'HEAD:versions.yaml']);
  await writeFile(path.join(dir, 'versions.yaml'), edit(`${text}\n`));
  await clone.run(['commit', '--quiet', '--all', '-m', message]);
  await clone.run(['push', '--quiet', 'origin', 'HEAD:main']);
}

beforeAll(async () => {
  root = await tempDir('release-report-');
  bare = path.join(root, 'served', 'environments.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  // Before the window (it starts 2026-11-02T00:00:00Z, 28 days before NOW).
  await bump('2026-10-01T10:00:00Z', 'dev', 'api', '0.9.0', '2026-10-01T09:00:00Z');
  await bump('2026-10-20T10:00:00Z', 'prod', 'api', '1.0.0', '2026-10-20T08:00:00Z');
  // 1.1.0: lead 2 h, rolled back 2 h later (restored in 2 h).
  await bump('2026-11-03T10:00:00Z', 'prod', 'api', '1.1.0', '2026-11-03T08:00:00Z');
  await promote('2026-11-03T12:00:00Z', { operation: 'rollback', environment: 'prod', services: [{ name: 'api' }] });
  // 1.2.0: lead 24 h, replaced 6 h later by the fix release 1.2.1 (lead 1 h).
  await bump('2026-11-10T09:00:00Z', 'prod', 'api', '1.2.0', '2026-11-09T09:00:00Z');
  await bump('2026-11-10T15:00:00Z', 'prod', 'api', '1.2.1', '2026-11-10T14:00:00Z');
  // web: recorded without the commit's time (as promote did before committed_at).
  await bump('2026-11-15T10:00:00Z', 'prod', 'web', '2.0.0');
  // A hand edit breaks the file; the next one mends it: skipped and counted, never fatal.
  await handCommit('2026-11-16T10:00:00Z', 'edit by hand', (text) => `${text}environments: [\n`);
  await handCommit('2026-11-16T11:00:00Z', 'mend the file', (text) => text.replace(/environments: \[\n$/, ''));
  // 1.3.0 to uat (lead 26 h), then promoted to prod with its commit and committed_at (lead 48 h).
  await bump('2026-11-19T12:00:00Z', 'uat', 'api', '1.3.0', '2026-11-18T10:00:00Z');
  await promote('2026-11-20T10:00:00Z', { operation: 'promote', from: 'uat', environment: 'prod', services: [{ name: 'api' }] });
  daemon = await startGitDaemon(path.join(root, 'served'));
}, 120_000);

afterAll(async () => {
  await daemon?.close();
});

const inputs = (values: Record<string, string>) =>
  getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }), { RUNNER_TEMP: root });

async function history(since: Date): Promise<FileVersion[]> {
  const all: FileVersion[] = [];
  for await (const version of gitFileHistory(new Git({ cwd: bare }), 'main', { since })('versions.yaml', Number.POSITIVE_INFINITY))
    all.push(version);
  return all;
}

/** What the scripted history gives, by construction (see beforeAll). */
function expectKnownFigures(report: Report): void {
  expect(report.window).toEqual({ since: '2026-11-02T00:00:00Z', until: '2026-11-30T00:00:00Z', days: 28 });
  expect(report.environments.map((environment) => environment.name)).toEqual(['dev', 'uat', 'prod']);
  const prod = report.environments.find((environment) => environment.name === 'prod');
  expect(prod?.metrics).toEqual({
    deployments: 5,
    rollbacks: 1,
    deploymentFrequency: { perDay: 5 / 28, perWeek: 1.25, level: 'high' },
    // 1 h, 2 h, 24 h, 48 h; web has no committed_at.
    leadTime: { count: 4, median: 46_800, p90: 146_880, withoutCommitTime: 1, rebuilds: 0, level: 'elite' },
    changeFailureRate: { failed: 2, rate: 0.4, rolledBack: 1, fixed: 1, level: 'low' },
    // 2 h (the rollback), 6 h (the fix release).
    timeToRestore: { count: 2, median: 14_400, p90: 20_160, open: 0, level: 'high' },
    weeks: [
      { start: '2026-11-02', deployments: 1 },
      { start: '2026-11-09', deployments: 3 },
      { start: '2026-11-16', deployments: 1 },
      { start: '2026-11-23', deployments: 0 },
    ],
  });
  expect(prod?.services.map((service) => [service.name, service.metrics.deployments, service.metrics.leadTime.withoutCommitTime])).toEqual([
    ['api', 4, 0],
    ['web', 1, 1],
  ]);
  const uat = report.environments.find((environment) => environment.name === 'uat');
  expect(uat?.metrics.leadTime).toEqual({ count: 1, median: 93_600, p90: 93_600, withoutCommitTime: 0, rebuilds: 0, level: 'high' });
  // dev deployed before the window only: reported, with nothing in it.
  expect(report.environments.find((environment) => environment.name === 'dev')?.metrics).toMatchObject({
    deployments: 0,
    deploymentFrequency: { perDay: 0, level: 'low' },
    changeFailureRate: { failed: 0 },
  });
  expect(report.skipped).toHaveLength(1);
  expect(report.skipped[0]?.reason).toMatch(/^versions\.yaml:\d+:\d+: /);
  const prodApi = report.deployments.filter((change) => change.environment === 'prod' && change.service === 'api');
  expect(prodApi.map((change) => [change.version, change.kind, change.failure ?? null, change.restoreSeconds ?? null])).toEqual([
    ['1.1.0', 'deploy', 'rolled-back', 7200],
    ['1.0.0', 'rollback', null, null],
    ['1.2.0', 'deploy', 'fixed', 21_600],
    ['1.2.1', 'deploy', null, null],
    ['1.3.0', 'deploy', null, null],
  ]);
}

describe('release-report on a scripted environment repository', () => {
  it('computes the four metrics exactly, per environment and service, from what promote wrote', async () => {
    const since = new Date(NOW.getTime() - 28 * 86_400_000);
    const versions = await history(since);
    // The ten commits since the window's start, and the one before it (the file as the window found it).
    expect(versions).toHaveLength(10);
    const report = buildReport(versions, { now: NOW, windowMs: 28 * 86_400_000, fixWindowMs: 86_400_000 });
    expectKnownFigures(report);
    expect(report.versionsRead).toBe(10);
  });

  it('counts a replacement as a fix release only within the fix window, and only a patch of the same line', async () => {
    const versions = await history(new Date('2026-11-02T00:00:00Z'));
    const narrow = buildReport(versions, { now: NOW, windowMs: 28 * 86_400_000, fixWindowMs: 5 * 3_600_000 });
    const prod = narrow.environments.find((environment) => environment.name === 'prod');
    // 1.2.1 came 6 h after 1.2.0: outside a 5 h window, so only the rolled-back one failed.
    expect(prod?.metrics.changeFailureRate).toEqual({ failed: 1, rate: 0.2, rolledBack: 1, fixed: 0, level: 'high' });
    expect(prod?.metrics.timeToRestore).toMatchObject({ count: 1, median: 7200 });
    expect([
      isFixRelease('1.2.0', '1.2.1'),
      isFixRelease('1.2.0', '1.3.0'),
      isFixRelease('1.2.0', '1.2.1-rc.1'),
      isFixRelease('main-3f', '1.2.1'),
    ]).toEqual([true, false, false, false]);
    expect([quantile([], 0.5), quantile([5], 0.9), quantile([1, 2, 3, 4], 0.5)]).toEqual([undefined, 5, 2.5]);
  });

  it('says, in Markdown and text, what is counted apart and what was skipped, with a weekly xychart-beta', async () => {
    const report = buildReport(await history(new Date('2026-11-02T00:00:00Z')), {
      now: NOW,
      windowMs: 28 * 86_400_000,
      fixWindowMs: 86_400_000,
    });
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('### prod');
    expect(markdown).toContain(
      "| Lead time for changes | 13 h (p90 1.7 d) | elite | 4 with the commit's time; 1 recorded without committed_at, not counted |",
    );
    expect(markdown).toContain('| Change failure rate | 40% | low | 2 of 5 (1 rolled back, 1 replaced by a fix release) |');
    expect(markdown).toContain(
      '```mermaid\nxychart-beta\n    title "Deployments per week to prod"\n    x-axis ["11-02", "11-09", "11-16", "11-23"]\n    y-axis "Deployments" 0 --> 3\n    bar [1, 3, 1, 0]\n```',
    );
    expect(markdown).toMatch(/1 version of the file could not be read and was skipped: [0-9a-f]{12} \(versions\.yaml:\d+:\d+: /);
    expect(markdown).toContain('Accelerate State of DevOps Report 2024');
    const text = renderText(report);
    expect(text).toMatch(/prod:\n {2}Deployment frequency +0\.18 per day, 1\.3 per week +high/);
  });
});

describe('promote records committed_at for the lead time', () => {
  it('in UTC from source-commit-time; copied by a promotion; kept by a rollback with the release it restores', async () => {
    expect(commitTimeInput('2026-11-23T06:00:00+01:00')).toBe('2026-11-23T05:00:00Z');
    expect(commitTimeInput('')).toBeUndefined();
    expect(() => commitTimeInput('yesterday')).toThrow(/source-commit-time.*"yesterday" is not allowed.*RFC 3339/);
    const versions = await history(new Date('2026-11-02T00:00:00Z'));
    const report = buildReport(versions, { now: NOW, windowMs: 28 * 86_400_000, fixWindowMs: 86_400_000 });
    const prodApi = report.deployments.filter((change) => change.environment === 'prod' && change.service === 'api');
    expect(prodApi.map((change) => change.committedAt)).toEqual([
      '2026-11-03T08:00:00Z',
      '2026-10-20T08:00:00Z', // the rollback restored 1.0.0 with its own commit's time
      '2026-11-09T09:00:00Z',
      '2026-11-10T14:00:00Z',
      '2026-11-18T10:00:00Z', // promoted from uat with it
    ]);
    // A rollback is no deployment of a change: it has no lead time.
    expect(prodApi[1]).not.toHaveProperty('leadTimeSeconds');
  });
});

describe('release-report reading the environment repository', () => {
  it('clones it shallow from the git daemon and deepens only to the window', async () => {
    const clone = path.join(root, 'shallow');
    const git = new Git({ cwd: root });
    await git.run(['clone', '--quiet', '--depth=1', '--', `${daemon.url}environments.git`, clone]);
    const versions: FileVersion[] = [];
    for await (const version of gitFileHistory(git.at(clone), 'main', { since: new Date('2026-11-02T00:00:00Z') })(
      'versions.yaml',
      Infinity,
    ))
      versions.push(version);
    expect(versions).toHaveLength(10);
    // Eleven commits in all: the first (dev, 2026-10-01) was never fetched.
    expect(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim()).toBe('10');
    expect(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: bare, encoding: 'utf8' }).trim()).toBe('11');
    expect(execFileSync('git', ['rev-parse', '--is-shallow-repository'], { cwd: clone, encoding: 'utf8' }).trim()).toBe('true');
  });

  it('gives the same report cloned from a git:// URL (the action) and from a clone on disk (toolkit report)', async () => {
    const cloned = await runReport(inputs({ repository: `${daemon.url}environments.git`, since: '28d' }), NOW);
    expectKnownFigures(cloned);
    const local = path.join(root, 'local');
    execFileSync('git', ['clone', '--quiet', '--', bare, local]);
    const { report, text } = await reportCommand({
      inputs: { 'repository-path': local, since: '28d' },
      format: 'json',
      cwd: root,
      now: NOW,
    });
    expect(report).toEqual(cloned);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(cloned)));
  });

  it('toolkit report prints text, Markdown or JSON of the clone in the current directory, and refuses a bad flag', () => {
    const local = path.join(root, 'cli');
    execFileSync('git', ['clone', '--quiet', '--', bare, local]);
    const bin = path.join(ROOT, 'packages', 'cli', 'lib', 'bin.js');
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'report', ...args], { cwd: local, encoding: 'utf8' });
    const text = run('--since', '3660d', '--format', 'text', '--environment', 'prod');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Release report\n/);
    expect(text.stdout).toMatch(/\nprod:\n {2}Deployment frequency/);
    expect(text.stdout).not.toMatch(/\nuat:/);
    const markdown = run('--since', '3660d');
    expect(markdown.stdout).toContain('```mermaid\nxychart-beta');
    const json = JSON.parse(run('--since', '3660d', '--format', 'json', '--service', 'web').stdout) as Report;
    expect(json.deployments.map((change) => [change.environment, change.service, change.version])).toEqual([['prod', 'web', '2.0.0']]);
    expect(run('--format', 'html')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--format "html" is not allowed; expected markdown, json or text/),
    });
    expect(run('--since', 'soon')).toMatchObject({ status: 2, stderr: expect.stringMatching(/since.*"soon" is not a duration/) });
  });

  it('reads only the tip when nothing was committed in the window (git: "no commits selected")', async () => {
    // The history ends 2026-11-20; a window of one hour before 2027 holds none of it.
    const report = await runReport(inputs({ repository: `${daemon.url}environments.git`, since: '1h' }), new Date('2027-01-01T00:00:00Z'));
    expect(report.versionsRead).toBe(1);
    expect(report.deployments).toEqual([]);
    expect(report.environments.map((environment) => [environment.name, environment.metrics.deployments])).toEqual([
      ['dev', 0],
      ['uat', 0],
      ['prod', 0],
    ]);
  });

  it('refuses a window it cannot read, naming the input', () => {
    expect(() => inputs({ since: 'ninety days' })).toThrow(/since.*"ninety days" is not a duration/);
    expect(() => inputs({ since: '30m' })).toThrow(/since.*between 1h and 3660d/);
    expect(() => inputs({ environments: 'Prod' })).toThrow(/environments.*"Prod" is not allowed/);
    expect(() => inputs({ file: '../versions.yaml' })).toThrow(/file.*not allowed/);
  });

  it('runs as the built action under Node 24: outputs, JSON file and job summary', async () => {
    const local = path.join(root, 'for-dist');
    execFileSync('git', ['clone', '--quiet', '--depth=1', '--', `${daemon.url}environments.git`, local]);
    const result = await runBuiltAction('release-report', {
      node: node24(),
      inputs: { 'repository-path': local, since: '3660d', 'json-file': path.join(root, 'out', 'report.json') },
    });
    expect(result.exitCode).toBe(0);
    // The real clock: every deployment of the history is within ten years of now.
    expect(result.outputs).toMatchObject({
      environment: 'prod',
      deployments: '6',
      skipped: '1',
      'json-file': path.join(root, 'out', 'report.json'),
    });
    expect(JSON.parse(result.outputs.levels ?? '{}')).toMatchObject({ 'lead-time': 'elite' });
    expect(result.summary).toContain('```mermaid\nxychart-beta');
  });
});
