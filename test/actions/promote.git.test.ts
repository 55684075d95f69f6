import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Git, type GitOpsOptions, type UmbrellaConfig, UserError, parseVersionsFile, writeWithGit } from '@toolkit/shared';
import { parse } from 'yaml';
import { type PromoteRequest, promotionEdit } from '../../actions/promote/src/promote.js';
import { startGitDaemon } from '../support/git-daemon.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const meta = { actor: 'octocat', runUrl: 'https://github.com/acme/app/actions/runs/1', now: '2026-11-23T05:00:00Z' };
const INITIAL = `# The environment repository's record.
promotion: [dev, uat, prod]
environments:
  dev:
    services:
      api: {version: 1.0.0, digest: '${D('a')}'}
  uat:
    services:
      api:
        version: 0.9.0 # last known good
  prod:
    services: {}
`;

/** A bare environment repository holding `content` as versions.yaml on main (null: no file). */
async function environmentRepo(content: string | null = INITIAL): Promise<{ dir: string; bare: string; git: Git }> {
  const dir = await tempDir();
  const seed = await makeRepo(path.join(dir, 'seed'));
  if (content !== null) {
    await writeFile(path.join(seed.cwd, 'versions.yaml'), content);
    await seed.run(['add', 'versions.yaml']);
  }
  await commit(seed, 'chore: start the environment repository');
  const bare = path.join(dir, 'env.git');
  await seed.run(['clone', '--quiet', '--bare', seed.cwd, bare]);
  return { dir, bare, git: new Git({ cwd: bare }) };
}

const UMBRELLA: UmbrellaConfig = {
  versionsFile: 'versions.yaml',
  environment: 'uat',
  chartName: 'uat-umbrella',
  outputDir: 'umbrella/uat',
  repository: '',
  repositoryInput: 'umbrella-repository',
  chartVersion: 'patch',
  sourceCommit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
};

function options(request: PromoteRequest, overrides: Partial<GitOpsOptions> = {}, umbrella?: UmbrellaConfig): GitOpsOptions {
  return {
    maxAttempts: 10,
    author: { name: 'Release Bot', email: 'bot@example.test' },
    authorGiven: true,
    edit: promotionEdit(request, 'versions.yaml', umbrella).edit,
    log: () => undefined,
    ...overrides,
  };
}

const bump = (service: string, version: string, environment = 'uat'): PromoteRequest => ({
  operation: 'bump',
  environment,
  services: [{ name: service, version }],
  allowSkip: false,
  meta,
});

async function fileOnMain(git: Git): Promise<string> {
  return git.output(['show', 'main:versions.yaml']);
}

describe('promote over real git', () => {
  it('commits a bump with the author and a message listing the change, and makes no commit when nothing changes', async () => {
    const { dir, bare, git } = await environmentRepo();
    const result = await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', '1.0.0')));
    expect(result).toMatchObject({ changed: true, attempts: 1 });
    expect(await git.output(['rev-parse', 'main'])).toBe(result.commit);
    expect(await git.output(['log', '-1', '--format=%an <%ae>%n%B', 'main'])).toBe(
      'Release Bot <bot@example.test>\nbump(uat): api 1.0.0\n\n- uat/api: 0.9.0 -> 1.0.0\n\nRun: https://github.com/acme/app/actions/runs/1\n',
    );
    const file = await fileOnMain(git);
    expect(file).toContain('    services:\n      api:\n        version: 1.0.0 # last known good\n        deployed_at:');
    expect(parseVersionsFile(file).data.environments.uat?.services?.api?.previous).toEqual({ version: '0.9.0' });

    const again = await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', '1.0.0')));
    expect(again).toMatchObject({ changed: false });
    expect(await git.output(['rev-parse', 'main'])).toBe(result.commit);
  });

  it('creates versions.yaml with its header when the repository has none', async () => {
    const { dir, bare, git } = await environmentRepo(null);
    await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', '0.1.0', 'dev')));
    const file = await fileOnMain(git);
    expect(file).toMatch(/^# versions\.yaml: what runs where\./);
    expect(parseVersionsFile(file).data.environments.dev?.services?.api?.version).toBe('0.1.0');
  });

  it('lands 20 promotions of different services started at the same moment (git daemon), losing none', async () => {
    const { dir, git } = await environmentRepo();
    const daemon = await startGitDaemon(dir, { receivePack: true });
    try {
      const services = Array.from({ length: 20 }, (_, index) => `svc-${String(index).padStart(2, '0')}`);
      const results = await Promise.all(
        services.map((service) => writeWithGit(new Git({ cwd: dir }), `${daemon.url}env.git`, dir, options(bump(service, '1.0.0')))),
      );
      expect(results.every((result) => result.changed)).toBe(true);
      const uat = parseVersionsFile(await fileOnMain(git)).data.environments.uat?.services ?? {};
      expect(Object.keys(uat).sort()).toEqual(['api', ...services].sort());
      for (const service of services) expect(uat[service]?.version).toBe('1.0.0');
      expect(await git.output(['rev-list', '--count', 'main'])).toBe('21');
      // Most had to re-apply their change to a file another run had just changed.
      expect(results.reduce((sum, result) => sum + result.attempts, 0)).toBeGreaterThan(20);
      // The untouched parts of the file are still byte for byte as they were.
      expect(await fileOnMain(git)).toContain(
        "# The environment repository's record.\npromotion: [dev, uat, prod]\nenvironments:\n  dev:\n",
      );
    } finally {
      await daemon.close();
    }
  });

  it('lets the last of two writers of one service win with allow-downgrade, with both commits in history', async () => {
    const { dir, bare, git } = await environmentRepo();
    const [first, second] = await Promise.all(
      ['2.0.0', '3.0.0'].map((version) =>
        writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options({ ...bump('api', version), allowDowngrade: true })),
      ),
    );
    const head = await git.output(['rev-parse', 'main']);
    const last = head === first?.commit ? '2.0.0' : '3.0.0';
    expect([first?.commit, second?.commit]).toContain(head);
    const api = parseVersionsFile(await fileOnMain(git)).data.environments.uat?.services?.api;
    expect(api?.version).toBe(last);
    expect(api?.previous?.version).toBe(last === '3.0.0' ? '2.0.0' : '3.0.0');
    expect((await git.output(['log', '--format=%s', 'main'])).split('\n').slice(0, 2).sort()).toEqual([
      'bump(uat): api 2.0.0',
      'bump(uat): api 3.0.0',
    ]);
  });

  it('never lets a lower version land after a higher one: two writers at once end on the higher', async () => {
    const { dir, bare, git } = await environmentRepo();
    const results = await Promise.allSettled(
      ['2.0.0', '3.0.0'].map((version) => writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', version)))),
    );
    expect(parseVersionsFile(await fileOnMain(git)).data.environments.uat?.services?.api?.version).toBe('3.0.0');
    const [lower, higher] = results;
    expect(higher?.status).toBe('fulfilled');
    // 2.0.0 either landed first (and is 3.0.0's previous) or was refused on the file 3.0.0 left.
    if (lower?.status === 'rejected') expect(String(lower.reason)).toContain('(3.0.0 → 2.0.0)');
    else expect(parseVersionsFile(await fileOnMain(git)).data.environments.uat?.services?.api?.previous?.version).toBe('2.0.0');
  });

  it('refuses a bump to a lower version and leaves the branch as it was', async () => {
    const { dir, bare, git } = await environmentRepo();
    const before = await git.output(['rev-parse', 'main']);
    await expect(writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', '0.8.5')))).rejects.toThrow(
      'service "api" in "uat" is at 0.9.0; a bump to 0.8.5 would downgrade it (0.9.0 → 0.8.5), so nothing was written.',
    );
    expect(await git.output(['rev-parse', 'main'])).toBe(before);
  });

  it('writes versions.yaml and the umbrella chart in one commit on the first release into a new environment repository', async () => {
    const { dir, bare, git } = await environmentRepo(null);
    const before = await git.output(['rev-parse', 'main']);
    const request: PromoteRequest = {
      ...bump('api', '1.0.0'),
      services: [{ name: 'api', version: '1.0.0', digest: D('c') }],
      image: 'ghcr.io/acme/api',
      chartVersion: '0.3.0',
      chartRepository: 'oci://ghcr.io/acme/charts',
    };
    const result = await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(request, {}, UMBRELLA));
    expect(result).toMatchObject({ changed: true, attempts: 1 });
    expect(await git.output(['rev-list', '--format=%s', '--no-commit-header', `${before}..main`])).toBe('bump(uat): api 1.0.0');
    expect((await git.output(['show', '--name-only', '--format=', 'main'])).split('\n')).toEqual([
      'umbrella/uat/Chart.yaml',
      'umbrella/uat/values.yaml',
      'versions.yaml',
    ]);
    expect(parse(await git.output(['show', 'main:umbrella/uat/Chart.yaml']))).toMatchObject({
      name: 'uat-umbrella',
      version: '0.1.0',
      dependencies: [{ name: 'api', version: '0.3.0', repository: 'oci://ghcr.io/acme/charts', condition: 'api.enabled' }],
    });
    expect(parse(await git.output(['show', 'main:umbrella/uat/values.yaml']))).toEqual({
      api: { enabled: true, image: { repository: 'ghcr.io/acme/api', tag: '1.0.0', digest: D('c') } },
    });

    // The next bump moves the chart in the same commit again; nothing left behind to do by hand.
    const next = await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', '1.1.0'), {}, UMBRELLA));
    expect(next.changed).toBe(true);
    expect(await git.output(['rev-list', '--count', 'main'])).toBe('3');
    expect((await git.output(['show', '--name-only', '--format=', 'main'])).split('\n')).toEqual([
      'umbrella/uat/Chart.yaml',
      'umbrella/uat/values.yaml',
      'versions.yaml',
    ]);
    expect(parse(await git.output(['show', 'main:umbrella/uat/Chart.yaml'])).version).toBe('0.1.1');
  });

  it('re-applies versions.yaml and the chart together when the push is rejected', async () => {
    const { dir, bare, git } = await environmentRepo(
      INITIAL.replace(
        '      api:\n        version: 0.9.0 # last known good\n',
        "      api:\n        version: 0.9.0 # last known good\n        chart: {version: 0.1.0, repository: 'https://charts.acme.example'}\n",
      ),
    );
    const promotion = promotionEdit(
      { ...bump('web', '2.0.0'), chartVersion: '1.0.0', chartRepository: 'https://charts.acme.example' },
      'versions.yaml',
      UMBRELLA,
    );
    let attempts = 0;
    const result = await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, {
      ...options(bump('web', '2.0.0')),
      sleep: async () => undefined,
      edit: async (read) => {
        attempts += 1;
        // Another release of api lands while the first attempt is being made.
        if (attempts === 1) {
          await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(bump('api', '1.0.0')));
        }
        return promotion.edit(read);
      },
    });
    expect(result).toMatchObject({ changed: true, attempts: 2 });
    const values = parse(await git.output(['show', 'main:umbrella/uat/values.yaml']));
    expect(values).toEqual({ api: { enabled: true, image: { tag: '1.0.0' } }, web: { enabled: true, image: { tag: '2.0.0' } } });
    expect((await git.output(['show', '--name-only', '--format=', 'main'])).split('\n')).toEqual([
      'umbrella/uat/Chart.yaml',
      'umbrella/uat/values.yaml',
      'versions.yaml',
    ]);
  });

  it.each([
    [
      'a service without a chart version',
      bump('api', '1.0.0'),
      'Service "api" in uat has no chart version (chart.version in versions.yaml)',
    ],
    [
      'a chart without a repository',
      { ...bump('api', '1.0.0'), chartVersion: '0.3.0' },
      'Service "api" in uat names no chart repository, and the umbrella-repository input is empty.',
    ],
  ])('refuses %s with umbrella-chart, pushing neither versions.yaml nor the chart', async (_name, request, message) => {
    const { dir, bare, git } = await environmentRepo();
    const before = await git.output(['rev-parse', 'main']);
    const attempt = writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(request, {}, UMBRELLA));
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(message);
    expect(await git.output(['rev-parse', 'main'])).toBe(before);
    expect(`${await fileOnMain(git)}\n`).toBe(INITIAL);
    expect(await git.output(['ls-tree', '-r', '--name-only', 'main'])).toBe('versions.yaml');
  });

  it('gives up after max-attempts with a clear error, and pushes nothing of its own', async () => {
    const { dir, bare, git } = await environmentRepo();
    // Another writer lands a commit during every attempt, so every push of ours is rejected.
    const racer = await makeRepo(path.join(dir, 'racer'));
    await racer.run(['pull', '--quiet', `file://${bare}`, 'main']);
    let attempts = 0;
    const promotion = promotionEdit(bump('api', '5.0.0'), 'versions.yaml');
    const attempt = writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, {
      ...options(bump('api', '5.0.0')),
      maxAttempts: 3,
      sleep: async () => undefined,
      edit: async (read) => {
        attempts += 1;
        await commit(racer, `chore: racing ${attempts}`);
        await racer.run(['push', '--quiet', `file://${bare}`, 'HEAD:main']);
        return promotion.edit(read);
      },
    });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(/^Gave up after 3 attempts: every push to main was rejected because the branch moved/);
    expect(attempts).toBe(3);
    const subjects = (await git.output(['log', '--format=%s', 'main'])).split('\n');
    expect(subjects.slice(0, 3)).toEqual(['chore: racing 3', 'chore: racing 2', 'chore: racing 1']);
    expect(subjects).not.toContain('bump(uat): api 5.0.0');
  });

  it.each([
    ['a broken YAML', `${INITIAL}  uat: [oops\n`, bump('api', '1.0.0'), /versions\.yaml:\d+:\d+: /],
    [
      'a schema violation',
      INITIAL.replace('version: 0.9.0', 'versoin: 0.9.0'),
      bump('api', '1.0.0'),
      /versions\.yaml:10:9: environments\.uat\.services\.api has an unknown key "versoin"/,
    ],
    [
      'an unknown from environment',
      INITIAL,
      { ...bump('api', '1.0.0'), operation: 'promote', from: 'qa', services: [] } as PromoteRequest,
      /environment "qa" is not in versions\.yaml/,
    ],
    [
      'a promotion that skips an environment',
      INITIAL,
      { ...bump('api', '1.0.0'), operation: 'promote', from: 'dev', environment: 'prod', services: [] } as PromoteRequest,
      /skips uat in the promotion order/,
    ],
  ])('refuses %s clearly and leaves the remote unchanged', async (_name, content, request, message) => {
    const { dir, bare, git } = await environmentRepo(content);
    const before = await git.output(['rev-parse', 'main']);
    await expect(writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, options(request))).rejects.toThrow(message);
    expect(await git.output(['rev-parse', 'main'])).toBe(before);
    expect(await git.output(['for-each-ref', '--format=%(refname)'])).toBe('refs/heads/main');
  });
});
