import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Git } from '@toolkit/shared';
import { startFakeGitHub } from '../support/fake-github.js';
import { runBuiltAction } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

/** A checkout with history and a bare origin, as actions/checkout with fetch-depth: 0 leaves it. */
async function checkout(): Promise<{ origin: string; work: Git }> {
  const dir = await tempDir();
  const origin = path.join(dir, 'origin.git');
  const work = await makeRepo(path.join(dir, 'work'));
  await work.run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
  await work.run(['remote', 'add', 'origin', origin]);
  await commit(work, 'feat: base');
  await work.run(['tag', 'v1.0.0']);
  await commit(work, 'feat(ui): dark mode');
  await commit(work, 'fix: crash on start');
  await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
  return { origin, work };
}

describe('semantic-tag built dist under Node 24', () => {
  it('tags, pushes v and UAT tags, creates the GitHub release and dispatches release.yml; the token never shows', async () => {
    const { origin, work } = await checkout();
    const token = 'ghs_dist_test_token_123456';
    const github = await startFakeGitHub((request) => {
      if (request.method === 'POST' && request.path === '/repos/acme/app/releases')
        return { status: 201, body: { html_url: 'https://github.example/acme/app/releases/tag/v1.1.0' } };
      if (request.method === 'POST' && request.path.endsWith('/dispatches')) return { status: 204 };
      return undefined;
    });
    try {
      const result = await runBuiltAction('semantic-tag', {
        workspace: work.cwd,
        inputs: { 'environment-tag': 'UAT', 'github-release': 'true', 'dispatch-workflow': 'release.yml', token },
        env: { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'acme/app', GITHUB_SERVER_URL: 'https://github.example' },
      });
      expect(result.log.join('\n')).not.toContain(token);
      expect(result.exitCode).toBe(0);
      expect(result.outputs).toMatchObject({
        version: '1.1.0',
        tag: 'v1.1.0',
        'previous-version': '1.0.0',
        'previous-tag': 'v1.0.0',
        bump: 'minor',
        released: 'true',
        'environment-tag': 'UAT-1.1.0',
        commits: '2',
      });
      expect(result.outputs.changelog).toMatch(
        /^### Features\n\n- \*\*ui:\*\* dark mode \([0-9a-f]{7}\)\n\n### Fixes\n\n- crash on start \([0-9a-f]{7}\)\n$/,
      );
      const head = await work.output(['rev-parse', 'HEAD']);
      const remote = new Git({ cwd: origin });
      expect(await remote.output(['rev-parse', 'v1.1.0^{commit}', 'UAT-1.1.0^{commit}'])).toBe(`${head}\n${head}`);

      expect(github.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
        'GET /repos/acme/app/releases/tags/v1.1.0',
        'POST /repos/acme/app/releases',
        'POST /repos/acme/app/actions/workflows/release.yml/dispatches',
      ]);
      expect(new Set(github.requests.map((request) => request.authorization))).toEqual(new Set([`token ${token}`]));
      expect(github.requests[2]?.body).toEqual({ ref: 'UAT-1.1.0', inputs: { tag: 'UAT-1.1.0' } });

      expect(result.summary).toContain('<h3>v1.1.0</h3>');
      expect(result.summary).toMatch(/<h4>Features<\/h4>\n<ul><li>ui: dark mode \([0-9a-f]{7}\)<\/li><\/ul>/);
      expect(result.summary).toContain('https://github.example/acme/app/releases/tag/v1.1.0');
      expect(result.summary).not.toContain(token);
    } finally {
      await github.close();
    }
  });

  it('takes a hand-pushed UAT-1.0.0 as the last release: a feat pushes v1.1.0 and UAT-1.1.0, and no v1.0.0', async () => {
    const dir = await tempDir();
    const origin = path.join(dir, 'origin.git');
    const work = await makeRepo(path.join(dir, 'work'));
    await work.run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
    await work.run(['remote', 'add', 'origin', origin]);
    await commit(work, 'feat: first screen');
    await work.run(['tag', 'UAT-1.0.0']);
    const head = await commit(work, 'feat: export to CSV');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);

    const result = await runBuiltAction('semantic-tag', { workspace: work.cwd, inputs: { 'environment-tag': 'UAT', token: '' } });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({
      version: '1.1.0',
      tag: 'v1.1.0',
      'previous-version': '1.0.0',
      'previous-tag': 'UAT-1.0.0',
      bump: 'minor',
      released: 'true',
      'environment-tag': 'UAT-1.1.0',
      commits: '1',
    });
    expect(result.log).toContain('v1.1.0 released: a minor bump from 1 commit(s) since UAT-1.0.0.');
    const remote = new Git({ cwd: origin });
    expect((await remote.output(['tag', '--list'])).split('\n').sort()).toEqual(['UAT-1.0.0', 'UAT-1.1.0', 'v1.1.0']);
    expect(await remote.output(['rev-parse', 'v1.1.0^{commit}', 'UAT-1.1.0^{commit}'])).toBe(`${head}\n${head}`);
  });

  it('counts PROD tags by default (environment-tags: UAT,PROD), with no environment-tag given', async () => {
    const { work } = await checkout();
    await work.run(['tag', 'PROD-2.0.0', 'HEAD~1']);
    const result = await runBuiltAction('semantic-tag', { workspace: work.cwd, inputs: { 'dry-run': 'true' } });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ version: '2.0.1', 'previous-tag': 'PROD-2.0.0', bump: 'patch', commits: '1' });
  });

  it('reports without writing in a dry run', async () => {
    const { origin, work } = await checkout();
    const result = await runBuiltAction('semantic-tag', { workspace: work.cwd, inputs: { 'dry-run': 'true', 'github-release': 'true' } });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ version: '1.1.0', tag: 'v1.1.0', released: 'false', bump: 'minor' });
    expect(result.log).toContain('v1.1.0 would be released (dry run): a minor bump from 2 commit(s) since v1.0.0.');
    expect(await new Git({ cwd: origin }).output(['tag', '--list'])).toBe('v1.0.0');
  });

  it('takes a github-tag-action custom_release_rules value and default-bump: minor as they were written there', async () => {
    const { work } = await checkout();
    await commit(work, 'hotfix: restore login');
    await commit(work, 'Update the readme');
    const result = await runBuiltAction('semantic-tag', {
      workspace: work.cwd,
      inputs: { 'dry-run': 'true', 'release-rules': 'hotfix:patch:Hotfixes,chore:patch:Chores', 'default-bump': 'minor' },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ version: '1.1.0', bump: 'minor', commits: '4' });
    expect(result.outputs.changelog).toMatch(
      /^### Features\n\n- \*\*ui:\*\* dark mode \([0-9a-f]{7}\)\n\n### Fixes\n\n- crash on start \([0-9a-f]{7}\)\n\n### Hotfixes\n\n- hotfix: restore login \([0-9a-f]{7}\)\n\n### Other changes\n\n- Update the readme \([0-9a-f]{7}\)\n$/,
    );
    expect(result.summary).toContain('Hotfixes');
  });

  it('fails with one clear line on a bad input', async () => {
    const { work } = await checkout();
    const result = await runBuiltAction('semantic-tag', { workspace: work.cwd, inputs: { 'release-rules': 'build:patch, docs => patch' } });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain(
      'Error: Invalid input "release-rules": "docs => patch" is not a rule; expected type:bump, type(scope):bump or type:bump:section with bump one of major, minor, patch, none and section a changelog heading (e.g. build:patch, docs(readme):patch, chore:none, perf:patch:Performance).',
    );
  });
});
