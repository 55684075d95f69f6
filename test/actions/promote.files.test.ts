/**
 * promote against real git (bare repositories) with hostile or broken environment repositories:
 * symbolic links, an unknown environment, an alias bomb. Each is refused with a UserError naming
 * the path or input, and nothing is written outside the clone, or pushed.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  Git,
  type GitOpsOptions,
  InputError,
  type UmbrellaConfig,
  UserError,
  githubClient,
  writeWithGit,
  writeWithPullRequest,
} from '@toolkit/shared';
import { type PromoteRequest, promotionBranch, promotionEdit } from '../../actions/promote/src/promote.js';
import { mockGitHubApi } from '../support/nock.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const meta = { actor: 'octocat', now: '2026-11-23T05:00:00Z' };
const VERSIONS = 'promotion: [dev, uat, prod]\nenvironments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n';

mockGitHubApi();

/**
 * A bare environment repository whose main holds `files` (content, or `{ link }` for a symbolic
 * link), cloned by the test under `dir` (the work root: the clone is dir/gitops-<uuid>).
 */
async function environmentRepo(files: Record<string, string | { link: string }>): Promise<{ dir: string; bare: string; git: Git }> {
  const dir = await tempDir();
  const seed = await makeRepo(path.join(dir, 'seed'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(seed.cwd, file)), { recursive: true });
    if (typeof content === 'string') await writeFile(path.join(seed.cwd, file), content);
    else await symlink(content.link, path.join(seed.cwd, file));
    await seed.run(['add', '--', file]);
  }
  await commit(seed, 'chore: start the environment repository');
  const bare = path.join(dir, 'env.git');
  await seed.run(['clone', '--quiet', '--bare', seed.cwd, bare]);
  return { dir, bare, git: new Git({ cwd: bare }) };
}

const bump = (version: string, environment = 'uat', extra: Partial<PromoteRequest> = {}): PromoteRequest => ({
  operation: 'bump',
  environment,
  services: [{ name: 'api', version }],
  allowSkip: false,
  meta,
  ...extra,
});

function options(request: PromoteRequest, umbrella?: UmbrellaConfig): GitOpsOptions {
  return {
    maxAttempts: 3,
    author: { name: 'Release Bot', email: 'bot@example.test' },
    authorGiven: true,
    edit: promotionEdit(request, 'versions.yaml', umbrella).edit,
    log: () => undefined,
    sleep: async () => undefined,
  };
}

async function refused(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

async function refs(git: Git): Promise<string> {
  return git.output(['for-each-ref', '--format=%(refname) %(objectname)']);
}

describe('promote in git mode: files are regular files inside the clone', () => {
  it('refuses a versions.yaml that links outside the clone: not read, not overwritten, nothing pushed', async () => {
    // The clone is <dir>/gitops-<uuid>, so ../outside.yaml from its root is <dir>/outside.yaml.
    const { dir, bare, git } = await environmentRepo({ 'versions.yaml': { link: '../outside.yaml' } });
    await writeFile(path.join(dir, 'outside.yaml'), VERSIONS);
    const before = await refs(git);
    const error = await refused(writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('1.1.0'))));
    expect(error.message).toBe(
      'versions.yaml in the cloned repository is a symbolic link (to "../outside.yaml", outside the cloned repository); ' +
        'only regular files inside the cloned repository are read or written, and links are not followed, so nothing was read or written. ' +
        'Commit the file itself in place of the link.',
    );
    expect(await readFile(path.join(dir, 'outside.yaml'), 'utf8')).toBe(VERSIONS);
    expect(await refs(git)).toBe(before);
  });

  it('refuses a dangling versions.yaml link instead of creating the file it points to', async () => {
    const { dir, bare, git } = await environmentRepo({ 'versions.yaml': { link: '../created-by-promote.yaml' } });
    const before = await refs(git);
    const error = await refused(writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('1.1.0'))));
    expect(error.message).toContain(
      'versions.yaml in the cloned repository is a symbolic link (to "../created-by-promote.yaml", which does not exist)',
    );
    expect((await readdir(dir)).sort()).toEqual(['env.git', 'seed']);
    expect(await refs(git)).toBe(before);
  });

  it('refuses to write the umbrella chart through a linked directory', async () => {
    const { dir, bare, git } = await environmentRepo({ 'versions.yaml': VERSIONS, umbrella: { link: '../elsewhere' } });
    await mkdir(path.join(dir, 'elsewhere'));
    const before = await refs(git);
    const umbrella: UmbrellaConfig = {
      versionsFile: 'versions.yaml',
      environment: 'uat',
      chartName: 'uat-umbrella',
      outputDir: 'umbrella/uat',
      repository: 'oci://ghcr.io/acme/charts',
      repositoryInput: 'umbrella-repository',
      chartVersion: 'patch',
      sourceCommit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
    };
    const error = await refused(
      writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('1.1.0', 'uat', { chartVersion: '0.2.0' }), umbrella)),
    );
    // Refused already when the edit reads the chart there was (to bump its version), before any write.
    expect(error.message).toContain(
      'nothing was committed (versions.yaml and the chart are written together, or not at all): ' +
        'umbrella (on the way to umbrella/uat/Chart.yaml) in the cloned repository is a symbolic link (to "../elsewhere", outside the cloned repository)',
    );
    expect(await readdir(path.join(dir, 'elsewhere'))).toEqual([]);
    expect(await refs(git)).toBe(before);
  });

  it('refuses a bump into an environment that does not exist (a typo), pushing nothing', async () => {
    const { dir, bare, git } = await environmentRepo({ 'versions.yaml': VERSIONS });
    const before = await refs(git);
    const error = await refused(writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('1.1.0', 'qa'))));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('"qa" is neither an environment of versions.yaml (uat) nor in the promotion order (dev, uat, prod)');
    expect(await refs(git)).toBe(before);
    // Allowed, it is created.
    const created = await writeWithGit(
      new Git({ cwd: dir }),
      `file://${bare}`,
      dir,
      options(bump('1.1.0', 'qa', { createEnvironment: true })),
    );
    expect(created.changed).toBe(true);
    expect(await git.output(['show', 'main:versions.yaml'])).toContain('  qa:\n');
  });

  it('refuses an alias bomb in versions.yaml as a problem of the file, naming it', async () => {
    const levels = ['x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level <= 8; level++)
      levels.push(
        `x-${level}: &l${level} [${Array(9)
          .fill(`*l${level - 1}`)
          .join(', ')}]`,
      );
    const { dir, bare, git } = await environmentRepo({ 'versions.yaml': `${levels.join('\n')}\n${VERSIONS}` });
    const before = await refs(git);
    const error = await refused(writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('1.1.0'))));
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.message).toMatch(
      /^versions\.yaml:2:\d+ \(the first alias\): the aliases \(\*name\) of versions\.yaml expand to too many copies/,
    );
    expect(await refs(git)).toBe(before);
  });
});

describe('promote in pull-request mode: files are regular files inside the clone', () => {
  it('refuses a versions.yaml that links outside the clone before any branch or pull request', async () => {
    const { dir, bare, git } = await environmentRepo({ 'versions.yaml': { link: '../outside.yaml' } });
    await writeFile(path.join(dir, 'outside.yaml'), VERSIONS);
    const before = await refs(git);
    const request = bump('1.1.0');
    const promotion = promotionEdit(request, 'versions.yaml');
    const error = await refused(
      writeWithPullRequest(
        new Git({ cwd: dir }),
        `file://${bare}`,
        dir,
        {
          github: await githubClient('t'),
          repository: { owner: 'acme', repo: 'env' },
          naming: () => promotionBranch('uat', promotion.changes()),
        },
        { ...options(request), edit: promotion.edit },
      ),
    );
    expect(error.message).toMatch(
      /^versions\.yaml in the cloned repository is a symbolic link \(to "\.\.\/outside\.yaml", outside the cloned repository\)/,
    );
    expect(await readFile(path.join(dir, 'outside.yaml'), 'utf8')).toBe(VERSIONS);
    expect(await refs(git)).toBe(before);
  });
});
