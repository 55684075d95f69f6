/**
 * Rollback depth: `operation: rollback` goes to the release before the current one, read from the
 * environment repository's history of versions.yaml, and a second rollback goes one further back.
 * A release rolled back from is not gone back to unless named (as deploy-compose's history).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  type FileHistory,
  type FileVersion,
  Git,
  type GitOpsOptions,
  InputReader,
  UserError,
  githubClient,
  parseVersionsFile,
  writeWithApi,
  writeWithGit,
  writeWithPullRequest,
} from '@toolkit/shared';
import nock from 'nock';
import { getInputs } from '../../actions/promote/src/main.js';
import { type PromoteRequest, applyRequest, promotionBranch, promotionEdit } from '../../actions/promote/src/promote.js';
import { ROLLBACK_HISTORY } from '../../actions/promote/src/rollback.js';
import { GITHUB_API, mockGitHubApi } from '../support/nock.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const meta = { actor: 'octocat', runUrl: 'https://github.com/acme/app/actions/runs/1', now: '2026-11-23T05:00:00Z' };
const INITIAL = `# The environment repository's record.
promotion: [dev, uat, prod]
environments:
  uat:
    services:
      api: {version: 1.0.0, digest: '${D('a')}'} # the first release
      web: {version: 3.0.0}
  prod:
    services: {}
`;
const DIGESTS: Record<string, string> = { '1.0.0': D('a'), '1.1.0': D('b'), '1.2.0': D('c'), '1.3.0': D('d') };

const bump = (version: string, extra: Partial<PromoteRequest> = {}): PromoteRequest => ({
  operation: 'bump',
  environment: 'uat',
  services: [{ name: 'api', version, digest: DIGESTS[version] as string }],
  allowSkip: false,
  meta,
  ...extra,
});
const rollback = (named: { version?: string; digest?: string } = {}, services = ['api']): PromoteRequest => ({
  operation: 'rollback',
  environment: 'uat',
  services: services.map((name) => ({ name, ...named })),
  allowSkip: false,
  meta,
});

function options(request: PromoteRequest): GitOpsOptions {
  return {
    maxAttempts: 10,
    author: { name: 'Release Bot', email: 'bot@example.test' },
    authorGiven: true,
    edit: promotionEdit(request, 'versions.yaml').edit,
    log: () => undefined,
    sleep: async () => undefined,
  };
}

mockGitHubApi();

// ─── git mode, through real git (a bare repository, cloned with --depth=1 as promote does) ──────

async function environmentRepo(content = INITIAL): Promise<{ dir: string; bare: string; git: Git }> {
  const dir = await tempDir();
  const seed = await makeRepo(path.join(dir, 'seed'));
  await writeFile(path.join(seed.cwd, 'versions.yaml'), content);
  await seed.run(['add', 'versions.yaml']);
  await commit(seed, 'chore: start the environment repository');
  const bare = path.join(dir, 'env.git');
  await seed.run(['clone', '--quiet', '--bare', seed.cwd, bare]);
  return { dir, bare, git: new Git({ cwd: bare }) };
}

type Repo = Awaited<ReturnType<typeof environmentRepo>>;

async function release(repo: Repo, request: PromoteRequest) {
  return writeWithGit(new Git({ cwd: repo.dir }), `file://${repo.bare}`, repo.dir, options(request));
}

async function apiOnMain(repo: Repo) {
  return parseVersionsFile(await repo.git.output(['show', 'main:versions.yaml'])).data.environments.uat?.services?.api;
}

/** Runs the operations one after the other and says what api runs after each. */
async function versionsAfter(repo: Repo, requests: PromoteRequest[]): Promise<string[]> {
  const versions: string[] = [];
  for (const request of requests) {
    await release(repo, request);
    versions.push((await apiOnMain(repo))?.version ?? '');
  }
  return versions;
}

describe('rollback over real git: the history of versions.yaml', () => {
  it('goes to the release before the current one, and a second rollback one further back', async () => {
    const repo = await environmentRepo();
    await release(repo, bump('1.1.0'));
    await release(repo, bump('1.2.0'));

    const first = await release(repo, rollback());
    expect(first.changed).toBe(true);
    expect(await apiOnMain(repo)).toMatchObject({ version: '1.1.0', digest: D('b'), previous: { version: '1.2.0', digest: D('c') } });

    // The bug this fixes: the second rollback re-deployed 1.2.0, the release just rolled back from.
    await release(repo, rollback());
    expect(await apiOnMain(repo)).toMatchObject({ version: '1.0.0', digest: D('a'), previous: { version: '1.1.0' } });
    expect(await repo.git.output(['log', '-1', '--format=%s', 'main'])).toBe('rollback(uat): api 1.0.0');

    // Nothing before the first release: refused, and nothing is pushed.
    const head = await repo.git.output(['rev-parse', 'main']);
    const third = release(repo, rollback());
    await expect(third).rejects.toThrow(UserError);
    await expect(third).rejects.toThrow('service "api" in "uat" has no previous release to roll back to.');
    await expect(release(repo, rollback())).rejects.toThrow('1.1.0 and 1.2.0 were rolled back from');
    expect(await repo.git.output(['rev-parse', 'main'])).toBe(head);
    // The other service was never touched.
    expect(parseVersionsFile(await repo.git.output(['show', 'main:versions.yaml'])).data.environments.uat?.services?.web).toEqual({
      version: '3.0.0',
    });
  });

  it('after a bump that follows a rollback, goes back to the release before the bump, skipping the one rolled back from', async () => {
    const repo = await environmentRepo();
    expect(await versionsAfter(repo, [bump('1.1.0'), bump('1.2.0'), rollback(), bump('1.3.0'), rollback(), rollback()])).toEqual([
      '1.1.0',
      '1.2.0',
      '1.1.0',
      '1.3.0',
      '1.1.0',
      '1.0.0',
    ]);
    await expect(release(repo, rollback())).rejects.toThrow('has no previous release to roll back to.');
  });

  it('does what the table in docs/versions-yaml.md#rollback says', async () => {
    const repo = await environmentRepo();
    expect(await versionsAfter(repo, [bump('1.1.0'), bump('1.2.0'), rollback(), rollback(), bump('1.3.0'), rollback()])).toEqual([
      '1.1.0',
      '1.2.0',
      '1.1.0',
      '1.0.0',
      '1.3.0',
      '1.0.0',
    ]);
    await expect(release(repo, rollback())).rejects.toThrow(
      'service "api" in "uat" has no previous release to roll back to. 1.3.0, 1.1.0 and 1.2.0 were rolled back from; name one with version to go back to it.',
    );
    expect(await versionsAfter(repo, [rollback({ version: '1.2.0' })])).toEqual(['1.2.0']);
  });

  it('counts a release deployed again by a bump as deployed, and a bump to a lower version as a deploy', async () => {
    const repo = await environmentRepo();
    // 1.2.0 is rolled back from, then released again on purpose: from 1.3.0 a rollback goes back to it.
    expect(
      await versionsAfter(repo, [
        bump('1.1.0'),
        bump('1.2.0'),
        rollback(),
        bump('1.2.0'),
        bump('1.3.0'),
        rollback(),
        rollback(),
        rollback(),
      ]),
    ).toEqual(['1.1.0', '1.2.0', '1.1.0', '1.2.0', '1.3.0', '1.2.0', '1.1.0', '1.0.0']);
    // allow-downgrade records a release like any other: a rollback undoes it.
    const other = await environmentRepo();
    expect(
      await versionsAfter(other, [bump('1.1.0'), bump('1.2.0'), bump('1.0.0', { allowDowngrade: true }), rollback(), rollback()]),
    ).toEqual(['1.1.0', '1.2.0', '1.0.0', '1.2.0', '1.1.0']);
  });

  it('rolls back to a release named with version (and digest), even one rolled back from, and refuses one never recorded', async () => {
    const repo = await environmentRepo();
    await versionsAfter(repo, [bump('1.1.0'), bump('1.2.0'), bump('1.3.0'), rollback()]);
    expect((await apiOnMain(repo))?.version).toBe('1.2.0');

    // 1.3.0 was rolled back from: only named is it gone back to.
    await release(repo, rollback({ version: '1.3.0' }));
    expect(await apiOnMain(repo)).toMatchObject({ version: '1.3.0', digest: D('d'), previous: { version: '1.2.0' } });
    await release(repo, rollback({ version: '1.0.0', digest: D('a') }));
    expect(await apiOnMain(repo)).toMatchObject({ version: '1.0.0', digest: D('a'), previous: { version: '1.3.0' } });
    // A named rollback leaves what it rolls back from too: 1.3.0 and 1.2.0 are passed over, 1.1.0 still stands.
    await release(repo, rollback());
    expect((await apiOnMain(repo))?.version).toBe('1.1.0');

    const head = await repo.git.output(['rev-parse', 'main']);
    await expect(release(repo, rollback({ version: '0.9.0' }))).rejects.toThrow(
      'service "api" in "uat" has no release 0.9.0 in the history of versions.yaml to roll back to',
    );
    await expect(release(repo, rollback({ version: '1.1.0', digest: D('e') }))).rejects.toThrow(
      `has no release 1.1.0 (${D('e')}) in the history of versions.yaml`,
    );
    // Naming what already runs changes nothing.
    expect(await release(repo, rollback({ version: '1.1.0' }))).toMatchObject({ changed: false });
    expect(await repo.git.output(['rev-parse', 'main'])).toBe(head);
  });

  it('rolls back several services at once, each to its own release before', async () => {
    const repo = await environmentRepo();
    await release(repo, bump('1.1.0'));
    await release(repo, { ...bump('1.1.0'), services: [{ name: 'web', version: '3.1.0' }] });
    await release(repo, bump('1.2.0'));
    await release(repo, rollback({}, ['api', 'web']));
    await release(repo, rollback({}, ['api']));
    const services = parseVersionsFile(await repo.git.output(['show', 'main:versions.yaml'])).data.environments.uat?.services;
    expect(services?.api?.version).toBe('1.0.0');
    expect(services?.web?.version).toBe('3.0.0');
  });

  it('keeps the rest of the file byte for byte, and leaves a file without history to its previous', async () => {
    const repo = await environmentRepo(
      INITIAL.replace(
        `api: {version: 1.0.0, digest: '${D('a')}'} # the first release`,
        `api:\n        version: 1.0.0 # hand-written\n        previous: {version: 0.9.0}`,
      ),
    );
    await release(repo, rollback());
    const text = await repo.git.output(['show', 'main:versions.yaml']);
    expect(text).toContain("# The environment repository's record.\npromotion: [dev, uat, prod]\n");
    expect(text).toContain('version: 0.9.0 # hand-written');
    expect(await apiOnMain(repo)).toMatchObject({ version: '0.9.0', previous: { version: '1.0.0' } });
    await expect(release(repo, rollback())).rejects.toThrow('has no previous release to roll back to.');
  });

  it('goes back one release when the push is rejected and the rollback is applied again to the new file', async () => {
    const repo = await environmentRepo();
    await versionsAfter(repo, [bump('1.1.0'), bump('1.2.0')]);
    const promotion = promotionEdit(rollback(), 'versions.yaml');
    let attempts = 0;
    const result = await writeWithGit(new Git({ cwd: repo.dir }), `file://${repo.bare}`, repo.dir, {
      ...options(rollback()),
      edit: async (read, history) => {
        attempts += 1;
        // Another run releases web while the first attempt is made: the clone is fetched again (--depth=1).
        if (attempts === 1) await release(repo, { ...bump('1.1.0'), services: [{ name: 'web', version: '3.1.0' }] });
        return promotion.edit(read, history);
      },
    });
    expect(result).toMatchObject({ changed: true, attempts: 2 });
    const services = parseVersionsFile(await repo.git.output(['show', 'main:versions.yaml'])).data.environments.uat?.services;
    expect(services?.api).toMatchObject({ version: '1.1.0', previous: { version: '1.2.0' } });
    expect(services?.web?.version).toBe('3.1.0');
    await release(repo, rollback());
    expect((await apiOnMain(repo))?.version).toBe('1.0.0');
  });

  it('goes further back in pull-request mode too, from the base branch history', async () => {
    const repo = await environmentRepo();
    await versionsAfter(repo, [bump('1.1.0'), bump('1.2.0'), rollback()]);
    let created: Record<string, unknown> = {};
    const scope = nock(GITHUB_API)
      .get('/repos/acme/env/pulls')
      .query(true)
      .reply(200, [])
      .post('/repos/acme/env/pulls', (body) => {
        created = body;
        return true;
      })
      .reply(201, { number: 9, html_url: 'https://github.com/acme/env/pull/9' });
    const promotion = promotionEdit(rollback(), 'versions.yaml');
    const result = await writeWithPullRequest(
      new Git({ cwd: repo.dir }),
      `file://${repo.bare}`,
      repo.dir,
      {
        github: await githubClient('t'),
        repository: { owner: 'acme', repo: 'env' },
        naming: () => promotionBranch('uat', promotion.changes()),
      },
      { ...options(rollback()), edit: promotion.edit },
    );
    expect(scope.isDone()).toBe(true);
    expect(result.changed).toBe(true);
    expect(created).toMatchObject({ head: 'promote/uat/api-1.0.0', title: 'rollback(uat): api 1.0.0' });
  });
});

// ─── api mode: the history from GitHub's commits API ────────────────────────────────────────────

/** The environment repository as GitHub's REST API shows it, with nock: commits newest first. */
function fakeRepository(initial: string) {
  const commits: { sha: string; message: string; text: string; tree: string }[] = [
    { sha: 'c0', message: 'chore: start', text: initial, tree: 't0' },
  ];
  const trees = new Map<string, string>();
  const pending = new Map<string, { message: string; tree: string }>();
  const listed: Record<string, string>[] = [];
  let counter = 0;
  const head = () => commits[0]?.sha as string;
  nock(GITHUB_API)
    .persist()
    .get('/repos/acme/env/git/ref/heads%2Fmain')
    .reply(() => [200, { object: { sha: head() } }])
    .get('/repos/acme/env/contents/versions.yaml')
    .query(true)
    .reply((uri) => {
      const ref = new URL(uri, GITHUB_API).searchParams.get('ref');
      const found = commits.find((entry) => entry.sha === ref);
      return found
        ? [200, { type: 'file', encoding: 'base64', content: Buffer.from(found.text).toString('base64') }]
        : [404, { message: 'Not Found' }];
    })
    .get('/repos/acme/env/commits')
    .query(true)
    .reply((uri) => {
      const query = Object.fromEntries(new URL(uri, GITHUB_API).searchParams);
      listed.push(query);
      const from = commits.findIndex((entry) => entry.sha === query.sha);
      return [200, commits.slice(from).map((entry) => ({ sha: entry.sha, commit: { message: entry.message } }))];
    })
    .get(/\/repos\/acme\/env\/git\/commits\/\w+$/)
    .reply((uri) => [200, { tree: { sha: commits.find((entry) => uri.endsWith(`/${entry.sha}`))?.tree } }])
    .post('/repos/acme/env/git/trees')
    .reply((_uri, body) => {
      const sha = `t${++counter}`;
      trees.set(sha, (body as { tree: { content: string }[] }).tree[0]?.content ?? '');
      return [201, { sha }];
    })
    .post('/repos/acme/env/git/commits')
    .reply((_uri, body) => {
      const { message, tree } = body as { message: string; tree: string };
      const sha = `c${++counter}`;
      pending.set(sha, { message, tree });
      return [201, { sha }];
    })
    .patch('/repos/acme/env/git/refs/heads%2Fmain')
    .reply((_uri, body) => {
      const { sha } = body as { sha: string };
      const made = pending.get(sha);
      if (!made) return [422, { message: 'Object does not exist' }];
      commits.unshift({ sha, message: made.message, text: trees.get(made.tree) ?? '', tree: made.tree });
      return [200, { object: { sha } }];
    });
  return { commits, listed, api: () => parseVersionsFile(commits[0]?.text ?? '').data.environments.uat?.services?.api };
}

describe('rollback in api mode: the history from the commits API', () => {
  it('goes to the release before the current one, and a second rollback one further back', async () => {
    const repository = fakeRepository(INITIAL);
    const github = await githubClient('t');
    const write = (request: PromoteRequest) =>
      writeWithApi(github, { owner: 'acme', repo: 'env' }, { ...options(request), branch: 'main', authorGiven: false });
    for (const version of ['1.1.0', '1.2.0']) await write(bump(version));
    await write(rollback());
    expect(repository.api()).toMatchObject({ version: '1.1.0', previous: { version: '1.2.0' } });
    await write(rollback());
    expect(repository.api()).toMatchObject({ version: '1.0.0', digest: D('a'), previous: { version: '1.1.0' } });
    expect(repository.commits[0]?.message).toBe(
      `rollback(uat): api 1.0.0\n\n- uat/api: 1.1.0 (${D('b').slice(0, 19)}…) -> 1.0.0 (${D('a').slice(0, 19)}…)\n\nRun: ${meta.runUrl}`,
    );
    // The commits API was asked for the file's history from the commit read.
    expect(repository.listed.at(-1)).toMatchObject({ path: 'versions.yaml', sha: repository.commits[1]?.sha, per_page: '100' });
    await expect(write(rollback())).rejects.toThrow('service "api" in "uat" has no previous release to roll back to.');
  });
});

// ─── The edit, with a history given directly ────────────────────────────────────────────────────

/** A FileHistory over versions given newest first. */
function historyOf(versions: { message: string; text: string | undefined }[]): FileHistory & { reads: () => number } {
  let reads = 0;
  const history = async function* (_file: string, limit: number): AsyncGenerator<FileVersion> {
    for (const [index, version] of versions.slice(0, limit).entries()) {
      reads += 1;
      yield { commit: `c${versions.length - index}`, ...version };
    }
  };
  return Object.assign(history, { reads: () => reads });
}

const entry = (version: string, previous?: string) =>
  `environments:\n  uat:\n    services:\n      api:\n        version: ${version}\n${previous ? `        previous: {version: ${previous}}\n` : ''}`;

describe('rollback: the edit and its history', () => {
  it('reads the history only as far back as it needs', async () => {
    const history = historyOf([
      { message: 'bump(uat): api 1.3.0', text: entry('1.3.0', '1.2.0') },
      { message: 'bump(uat): api 1.2.0', text: entry('1.2.0', '1.1.0') },
      { message: 'bump(uat): api 1.1.0', text: entry('1.1.0', '1.0.0') },
      { message: 'bump(uat): api 1.0.0', text: entry('1.0.0') },
    ]);
    const edit = await promotionEdit(rollback(), 'versions.yaml').edit(async () => entry('1.3.0', '1.2.0'), history);
    expect(parseVersionsFile(edit?.files['versions.yaml'] ?? '').data.environments.uat?.services?.api?.version).toBe('1.2.0');
    expect(history.reads()).toBe(2);
  });

  it('skips versions that are not valid, and stops where the service was added', async () => {
    const history = historyOf([
      { message: 'rollback(uat): api 1.1.0', text: entry('1.1.0', '1.2.0') },
      { message: 'bump(uat): api 1.2.0', text: entry('1.2.0', '1.1.0') },
      { message: 'chore: broke it by hand', text: 'environments: [oops' },
      { message: 'bump(uat): api 1.1.0', text: entry('1.1.0', '0.1.0') },
      { message: 'chore: api was removed', text: 'environments:\n  uat:\n    services: {}\n' },
      { message: 'bump(uat): api 0.9.0', text: entry('0.9.0') },
    ]);
    const promotion = promotionEdit(rollback(), 'versions.yaml');
    // 1.2.0 was rolled back from; 1.1.0 runs; before it only the previous it was added with (0.1.0), not 0.9.0 from before the removal.
    const edit = await promotion.edit(async () => entry('1.1.0', '1.2.0'), history);
    expect(promotion.changes()[0]?.after.version).toBe('0.1.0');
    expect(edit?.message.split('\n')[0]).toBe('rollback(uat): api 0.1.0');
  });

  it('classifies the oldest version read as a rollback only when its commit names the service', async () => {
    const oldest = (message: string) => historyOf([{ message, text: entry('1.1.0', '1.2.0') }]);
    const promotion = () => promotionEdit(rollback(), 'versions.yaml');
    await expect(
      promotion().edit(async () => entry('1.1.0', '1.2.0'), oldest('rollback(uat): api 1.1.0\n\n- uat/api: 1.2.0 -> 1.1.0')),
    ).rejects.toThrow('has no previous release to roll back to. 1.2.0 was rolled back from');
    const other = promotion();
    await other.edit(async () => entry('1.1.0', '1.2.0'), oldest('rollback(uat): web 2.0.0\n\n- uat/web: 2.1.0 -> 2.0.0'));
    expect(other.changes()[0]?.after.version).toBe('1.2.0');
  });

  it('reads at most ROLLBACK_HISTORY versions; beyond them, the oldest entry read counts its previous as the release before', async () => {
    const others = (n: number) =>
      `environments:\n  uat:\n    services:\n      api:\n        version: 1.1.0\n        previous: {version: 1.2.0}\n      web: {version: 2.0.${n}}\n`;
    // api was rolled back to 1.1.0 (from 1.2.0) longer ago than the last ROLLBACK_HISTORY versions.
    const versions = Array.from({ length: ROLLBACK_HISTORY + 5 }, (_, index) => ({
      message: `bump(uat): web 2.0.${ROLLBACK_HISTORY + 5 - index}`,
      text: others(ROLLBACK_HISTORY + 5 - index),
    }));
    const history = historyOf(versions);
    const promotion = promotionEdit(rollback(), 'versions.yaml');
    await promotion.edit(async () => others(ROLLBACK_HISTORY + 5), history);
    expect(history.reads()).toBe(ROLLBACK_HISTORY);
    expect(promotion.changes()[0]?.after.version).toBe('1.2.0');
    await expect(
      promotionEdit(rollback({ version: '1.0.0' }), 'versions.yaml').edit(async () => others(ROLLBACK_HISTORY + 5), historyOf(versions)),
    ).rejects.toThrow(
      `has no release 1.0.0 in the history of versions.yaml to roll back to (the last ${ROLLBACK_HISTORY} versions of it were read)`,
    );
  });

  it('without a history (the file alone), restores previous as before', () => {
    const { changes } = applyRequest(entry('1.3.0', '1.2.0'), rollback(), 'versions.yaml');
    expect(changes[0]?.after.version).toBe('1.2.0');
    expect(() => applyRequest(entry('1.3.0', '1.2.0'), rollback({ version: '1.0.0' }), 'versions.yaml')).toThrow(
      'service "api" in "uat" has no release 1.0.0 in the history of versions.yaml to roll back to',
    );
  });
});

describe('rollback: the inputs that name a release', () => {
  const read = (values: Record<string, string>) =>
    getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }), {}).request;

  it('takes version and digest (with service), or name=version@digest lines, as the release to roll back to', () => {
    const base = { operation: 'rollback', environment: 'uat', repository: 'acme/env' };
    expect(read({ ...base, service: 'api' }).services).toEqual([{ name: 'api' }]);
    expect(read({ ...base, service: 'api', version: '1.2.0', digest: D('c') }).services).toEqual([
      { name: 'api', version: '1.2.0', digest: D('c') },
    ]);
    expect(read({ ...base, services: `api=1.2.0@${D('c')}\nweb` }).services).toEqual([
      { name: 'api', version: '1.2.0', digest: D('c') },
      { name: 'web' },
    ]);
  });
});
