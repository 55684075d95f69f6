import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Git, type GitOpsOptions, githubClient, parseVersionsFile, writeWithApi, writeWithPullRequest } from '@toolkit/shared';
import nock from 'nock';
import { type PromoteRequest, promotionBranch, promotionEdit } from '../../actions/promote/src/promote.js';
import { GITHUB_API, mockGitHubApi } from '../support/nock.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const api = GITHUB_API;
const repository = { owner: 'acme', repo: 'env' };
const meta = { actor: 'octocat', now: '2026-11-23T05:00:00Z' };
const INITIAL = 'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n';
const bump = (version: string): PromoteRequest => ({
  operation: 'bump',
  environment: 'uat',
  services: [{ name: 'api', version }],
  allowSkip: false,
  meta,
});

/** The pull-request target and options of a bump, as promote's main wires them. */
async function pullRequest(request: PromoteRequest) {
  const promotion = promotionEdit(request, 'versions.yaml');
  return [
    { github: await githubClient('t'), repository, naming: () => promotionBranch('uat', promotion.changes()) },
    { ...options(request), edit: promotion.edit },
  ] as const;
}

function options(request: PromoteRequest, overrides: Partial<GitOpsOptions> = {}): GitOpsOptions {
  return {
    maxAttempts: 10,
    author: { name: 'github-actions[bot]', email: 'bot@example.test' },
    authorGiven: false,
    edit: promotionEdit(request, 'versions.yaml').edit,
    log: () => undefined,
    sleep: async () => undefined,
    ...overrides,
  };
}

mockGitHubApi();

describe('promote, pull-request mode (git for the branch, the API for the pull request)', () => {
  async function environmentRepo(): Promise<{ dir: string; bare: string; git: Git }> {
    const dir = await tempDir();
    const seed = await makeRepo(path.join(dir, 'seed'));
    await writeFile(path.join(seed.cwd, 'versions.yaml'), INITIAL);
    await seed.run(['add', 'versions.yaml']);
    await commit(seed, 'chore: start');
    const bare = path.join(dir, 'env.git');
    await seed.run(['clone', '--quiet', '--bare', seed.cwd, bare]);
    return { dir, bare, git: new Git({ cwd: bare }) };
  }

  it('pushes promote/<environment>/<service>-<version> and opens a pull request, leaving main alone', async () => {
    const { dir, bare, git } = await environmentRepo();
    const main = await git.output(['rev-parse', 'main']);
    let created: Record<string, unknown> = {};
    const scope = nock(api)
      .get('/repos/acme/env/pulls')
      .query({ state: 'open', base: 'main', per_page: '100' })
      .reply(200, [])
      .post('/repos/acme/env/pulls', (body) => {
        created = body;
        return true;
      })
      .reply(201, { number: 7, html_url: 'https://github.com/acme/env/pull/7' });
    const result = await writeWithPullRequest(new Git({ cwd: dir }), `file://${bare}`, dir, ...(await pullRequest(bump('1.1.0'))));
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ changed: true, pullRequestUrl: 'https://github.com/acme/env/pull/7' });
    expect(created).toEqual({
      base: 'main',
      head: 'promote/uat/api-1.1.0',
      title: 'bump(uat): api 1.1.0',
      body: '- uat/api: 1.0.0 -> 1.1.0',
    });
    expect(await git.output(['rev-parse', 'main'])).toBe(main);
    expect(
      parseVersionsFile(await git.output(['show', 'promote/uat/api-1.1.0:versions.yaml'])).data.environments.uat?.services?.api?.version,
    ).toBe('1.1.0');
  });

  it('reuses the open pull request of the same environment and service', async () => {
    const { dir, bare, git } = await environmentRepo();
    let updated: Record<string, unknown> = {};
    const scope = nock(api)
      .get('/repos/acme/env/pulls')
      .query(true)
      .reply(200, [
        { number: 3, head: { ref: 'promote/prod/api-0.9.0' }, html_url: 'https://github.com/acme/env/pull/3' },
        { number: 5, head: { ref: 'promote/uat/api-1.1.0' }, html_url: 'https://github.com/acme/env/pull/5' },
      ])
      .patch('/repos/acme/env/pulls/5', (body) => {
        updated = body;
        return true;
      })
      .reply(200, { number: 5, html_url: 'https://github.com/acme/env/pull/5' });
    const result = await writeWithPullRequest(new Git({ cwd: dir }), `file://${bare}`, dir, ...(await pullRequest(bump('1.2.0'))));
    expect(scope.isDone()).toBe(true);
    expect(result.pullRequestUrl).toBe('https://github.com/acme/env/pull/5');
    expect(updated).toEqual({ title: 'bump(uat): api 1.2.0', body: '- uat/api: 1.0.0 -> 1.2.0' });
    expect(
      parseVersionsFile(await git.output(['show', 'promote/uat/api-1.1.0:versions.yaml'])).data.environments.uat?.services?.api?.version,
    ).toBe('1.2.0');
  });
});

describe('promote, api mode (one commit through the Git Data API)', () => {
  const content = Buffer.from(INITIAL).toString('base64');

  function readState(scope: nock.Scope, head: string, text = content): nock.Scope {
    return scope
      .get('/repos/acme/env/git/ref/heads%2Fmain')
      .reply(200, { object: { sha: head } })
      .get('/repos/acme/env/contents/versions.yaml')
      .query({ ref: head })
      .reply(200, { type: 'file', content: text, encoding: 'base64' })
      .get(`/repos/acme/env/git/commits/${head}`)
      .reply(200, { tree: { sha: `tree-of-${head}` } });
  }

  it('commits the new file without an author (so GitHub signs it) and retries when the ref moved', async () => {
    const trees: unknown[] = [];
    const commits: Record<string, unknown>[] = [];
    let scope = nock(api).get('/repos/acme/env').reply(200, { default_branch: 'main' });
    scope = readState(scope, 'aaa111');
    scope = scope
      .post('/repos/acme/env/git/trees', (body) => trees.push(body) > 0)
      .reply(201, { sha: 'tree1' })
      .post('/repos/acme/env/git/commits', (body) => commits.push(body) > 0)
      .reply(201, { sha: 'commit1' })
      .patch('/repos/acme/env/git/refs/heads%2Fmain', { sha: 'commit1', force: false })
      .reply(422, { message: 'Update is not a fast forward' });
    // Another commit landed: the change is applied again to the file as it is now.
    const moved = Buffer.from(INITIAL.replace('1.0.0', '1.0.5')).toString('base64');
    scope = readState(scope, 'bbb222', moved);
    scope = scope
      .post('/repos/acme/env/git/trees', (body) => trees.push(body) > 0)
      .reply(201, { sha: 'tree2' })
      .post('/repos/acme/env/git/commits', (body) => commits.push(body) > 0)
      .reply(201, { sha: 'commit2' })
      .patch('/repos/acme/env/git/refs/heads%2Fmain', { sha: 'commit2', force: false })
      .reply(200, { object: { sha: 'commit2' } });

    const result = await writeWithApi(await githubClient('t'), repository, options(bump('1.1.0')));
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ changed: true, commit: 'commit2', attempts: 2 });
    expect(commits[1]).toEqual({ message: 'bump(uat): api 1.1.0\n\n- uat/api: 1.0.5 -> 1.1.0', tree: 'tree2', parents: ['bbb222'] });
    const written = (trees[1] as { base_tree: string; tree: { path: string; content: string }[] }).tree[0];
    expect(written?.path).toBe('versions.yaml');
    expect(parseVersionsFile(written?.content ?? '').data.environments.uat?.services?.api).toMatchObject({
      version: '1.1.0',
      previous: { version: '1.0.5' },
    });
  });

  it('writes versions.yaml and the umbrella chart in one tree and one commit', async () => {
    const trees: { tree: { path: string; content: string }[] }[] = [];
    const commits: Record<string, unknown>[] = [];
    let scope = nock(api).get('/repos/acme/env').reply(200, { default_branch: 'main' });
    scope = readState(scope, 'aaa111');
    for (const file of ['umbrella/uat/Chart.yaml', 'umbrella/uat/values.yaml'])
      scope = scope
        .get(`/repos/acme/env/contents/${file.replace(/\//g, '%2F')}`)
        .query({ ref: 'aaa111' })
        .reply(404, { message: 'Not Found' });
    scope = scope
      .post('/repos/acme/env/git/trees', (body) => trees.push(body) > 0)
      .reply(201, { sha: 'tree1' })
      .post('/repos/acme/env/git/commits', (body) => commits.push(body) > 0)
      .reply(201, { sha: 'commit1' })
      .patch('/repos/acme/env/git/refs/heads%2Fmain', { sha: 'commit1', force: false })
      .reply(200, { object: { sha: 'commit1' } });
    const request = { ...bump('1.1.0'), chartVersion: '0.2.0', chartRepository: 'https://charts.acme.example' };
    const umbrella = {
      versionsFile: 'versions.yaml',
      environment: 'uat',
      chartName: 'uat-umbrella',
      outputDir: 'umbrella/uat',
      repository: '',
      chartVersion: 'patch' as const,
      sourceCommit: '',
    };
    const result = await writeWithApi(await githubClient('t'), repository, {
      ...options(request),
      edit: promotionEdit(request, 'versions.yaml', umbrella).edit,
    });
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ changed: true, commit: 'commit1', attempts: 1 });
    expect(commits).toHaveLength(1);
    expect(trees[0]?.tree.map((entry) => entry.path).sort()).toEqual([
      'umbrella/uat/Chart.yaml',
      'umbrella/uat/values.yaml',
      'versions.yaml',
    ]);
    expect(trees[0]?.tree.find((entry) => entry.path === 'umbrella/uat/Chart.yaml')?.content).toContain('version: 0.2.0');
  });

  it('makes no commit when the file already says it', async () => {
    let scope = nock(api);
    scope = scope.get('/repos/acme/env/git/ref/heads%2Fmain').reply(200, { object: { sha: 'ccc' } });
    scope = scope
      .get('/repos/acme/env/contents/versions.yaml')
      .query(true)
      .reply(200, { type: 'file', content: Buffer.from(INITIAL).toString('base64') });
    const result = await writeWithApi(await githubClient('t'), repository, options(bump('1.0.0'), { branch: 'main' }));
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ changed: false });
  });
});
