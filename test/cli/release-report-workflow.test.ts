/**
 * The weekly release report as an app repository runs it: the template toolkit init wrote,
 * calling the toolkit's reusable release-report.yml, rehearsed against an environment repository
 * with a known history; with TOOLKIT_COMMIT_REPORTS=true the report is committed there.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { initRepository, prepareRehearsal } from '@toolkit/cli';
import { Git } from '@toolkit/shared';
import { ROOT, node24 } from '../support/harness.js';
import { makeRepo, tempDir } from '../support/temp.js';

const DAY = 86_400_000;
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An environment repository whose history is: prod api 1.0.0 (10 days ago), 1.1.0 (5 days ago), rolled back an hour later. */
async function environmentRepository(dir: string): Promise<void> {
  const git = await makeRepo(dir);
  const now = Date.now();
  const steps = [
    { at: now - 10 * DAY, message: 'bump(prod): api 1.0.0', version: '1.0.0', committed: now - 10 * DAY - 3_600_000 },
    { at: now - 5 * DAY, message: 'bump(prod): api 1.1.0', version: '1.1.0', committed: now - 5 * DAY - 7_200_000 },
    { at: now - 5 * DAY + 3_600_000, message: 'rollback(prod): api 1.0.0', version: '1.0.0', committed: now - 10 * DAY - 3_600_000 },
  ];
  for (const step of steps) {
    await writeFile(
      path.join(dir, 'versions.yaml'),
      `promotion: [uat, prod]\nenvironments:\n  prod:\n    services:\n      api:\n        version: ${step.version}\n` +
        `        committed_at: '${stamp(step.committed)}'\n        deployed_at: '${stamp(step.at)}'\n`,
    );
    await git.run(['add', 'versions.yaml']);
    const date = new Date(step.at).toISOString();
    await new Git({
      cwd: dir,
      env: {
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
        GIT_AUTHOR_NAME: 'bot',
        GIT_AUTHOR_EMAIL: 'b@b',
        GIT_COMMITTER_NAME: 'bot',
        GIT_COMMITTER_EMAIL: 'b@b',
      },
    }).run(['commit', '--quiet', '-m', step.message]);
  }
}

/** An app repository set up by toolkit init, and the scripted environment repository beside it. */
async function appAndEnvironment(): Promise<{ appDir: string; envDir: string }> {
  const sandbox = await tempDir('release-report-workflow-');
  const appDir = path.join(sandbox, 'shop');
  const app = await makeRepo(appDir);
  await initRepository({ root: ROOT, dir: appDir, org: 'acme/toolkit', ref: 'v1', envRepo: 'acme/environments' });
  await app.run(['add', '--all']);
  await app.run(['commit', '--quiet', '-m', 'ci: release with the toolkit']);
  const envDir = path.join(sandbox, 'environments');
  await environmentRepository(envDir);
  return { appDir, envDir };
}

describe('the release report workflow, rehearsed', () => {
  it('reports the environment repository in the job summary and commits reports/<date>.md there when asked', async () => {
    const { appDir, envDir } = await appAndEnvironment();
    const before = new Date().toISOString().slice(0, 10);
    const rehearsal = await prepareRehearsal({ root: ROOT, appDir, envDir, node: node24(), vars: { TOOLKIT_COMMIT_REPORTS: 'true' } });
    try {
      const report = await rehearsal.run(
        { name: 'workflow_dispatch', ref: 'main', inputs: { since: '30d' } },
        { workflows: ['.github/workflows/release-report.yml'] },
      );
      expect(report.denials).toEqual([]);
      const job = report.jobs.find((candidate) => candidate.id === 'report/report');
      // Two deployments (the rollback is none), one of them rolled back an hour later.
      expect(job).toMatchObject({
        result: 'success',
        outputs: { deployments: '2', 'change-failure-rate': '0.5', 'lead-time-median-seconds': '5400' },
      });
      // Reports of one environment repository wait for each other: their commits would race.
      expect(job?.concurrency).toBe('release-report-acme/environments');
      expect(JSON.parse(job?.outputs.levels ?? '{}')).toEqual({
        'deployment-frequency': 'medium', // two in 30 days: more than once a month
        'lead-time': 'elite',
        'change-failure-rate': 'low',
        'time-to-restore': 'high',
      });
      const environments = new Git({ cwd: rehearsal.world.repositories.get('acme/environments')?.bareDir ?? '' });
      // The day the workflow ran (UTC): today, or tomorrow if midnight passed meanwhile.
      const day = (await environments.output(['ls-tree', '--name-only', 'main', 'reports/'])).replace(/^reports\/(.*)\.md$/, '$1');
      expect([before, new Date().toISOString().slice(0, 10)]).toContain(day);
      expect(job?.summary).toContain(`Committed reports/${day}.md to main.`);
      expect(await environments.output(['log', '-1', '--format=%s|%an', 'main'])).toBe(
        `report: delivery metrics of ${day} [skip ci]|github-actions[bot]`,
      );
      const committed = await environments.output(['show', `main:reports/${day}.md`]);
      expect(committed).toMatch(/^## Release report\n/);
      expect(committed).toContain('| Change failure rate | 50% | low | 1 of 2 (1 rolled back, 0 replaced by a fix release) |');
      expect(job?.summary).toContain(committed.split('\n')[0] ?? '');
    } finally {
      await rehearsal.close();
    }
  }, 240_000);

  it('without an App or a token, fails first, naming the variable and the secrets to set', async () => {
    const { appDir, envDir } = await appAndEnvironment();
    const rehearsal = await prepareRehearsal({ root: ROOT, appDir, envDir, node: node24(), vars: { TOOLKIT_APP_ID: '' } });
    try {
      const lines: string[] = [];
      const report = await rehearsal.run(
        { name: 'workflow_dispatch', ref: 'main', inputs: {} },
        { workflows: ['.github/workflows/release-report.yml'], log: (line) => lines.push(line) },
      );
      const job = report.jobs.find((candidate) => candidate.id === 'report/report');
      expect(job?.result).toBe('failure');
      // The first step failed, and nothing after it ran (no checkout with an empty token).
      expect(job?.steps.map((step) => [step.name, step.outcome])[0]).toEqual(['Credentials for the environment repository', 'failure']);
      expect(job?.steps.slice(1).every((step) => step.outcome === 'skipped')).toBe(true);
      expect(lines.join('\n')).toMatch(/^.*error: .*TOOLKIT_APP_ID.*TOOLKIT_APP_PRIVATE_KEY.*TOOLKIT_ENV_REPO_TOKEN/m);
    } finally {
      await rehearsal.close();
    }
  }, 240_000);
});
