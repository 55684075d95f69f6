import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CommandError, Git, UserError, githubClient } from '@toolkit/shared';
import nock from 'nock';
import { runSemanticTag } from '../../actions/semantic-tag/src/semantic-tag.js';
import { startGitDaemon } from '../support/git-daemon.js';
import { GITHUB_API, mockGitHubApi } from '../support/nock.js';
import { semanticTagConfig } from '../support/semantic-tag.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const config = semanticTagConfig;

/** A working repository with a bare `origin` beside it. */
async function project(): Promise<{ dir: string; origin: string; work: Git }> {
  const dir = await tempDir();
  const origin = path.join(dir, 'origin.git');
  const work = await makeRepo(path.join(dir, 'work'));
  await work.run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
  await work.run(['remote', 'add', 'origin', origin]);
  return { dir, origin, work };
}

async function commitFile(git: Git, file: string, message: string): Promise<string> {
  await mkdir(path.dirname(path.join(git.cwd, file)), { recursive: true });
  await writeFile(path.join(git.cwd, file), `${message}\n${Math.random()}\n`);
  await git.run(['add', file]);
  return commit(git, message);
}

/** The tags of a repository and the commits they point at. */
async function tagsOf(repo: string): Promise<Record<string, string>> {
  const { stdout } = await new Git({ cwd: repo }).run([
    'for-each-ref',
    '--format=%(refname:strip=2) %(objectname) %(*objectname)',
    'refs/tags',
  ]);
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, object, peeled] = line.split(' ');
        return [name, peeled || object];
      }),
  );
}

describe('semantic-tag on real repositories', () => {
  it('releases the first version from initial-version, pushing an annotated tag with the changelog', async () => {
    const { origin, work } = await project();
    await commit(work, 'feat: first screen');
    const head = await commit(work, 'fix(api): handle empty lists');
    await work.run(['push', '--quiet', 'origin', 'main']);

    const result = await runSemanticTag(config(), { git: work });
    expect(result).toMatchObject({ version: '0.2.0', tag: 'v0.2.0', bump: 'minor', released: true, head });
    expect(result.previousVersion).toBeUndefined();
    expect(result.commits).toHaveLength(2);
    expect(await tagsOf(origin)).toEqual({ 'v0.2.0': head });
    expect(await work.output(['cat-file', '-t', 'v0.2.0'])).toBe('tag');
    const message = await work.output(['tag', '--list', '--format=%(contents)', 'v0.2.0']);
    expect(message).toContain('### Features\n\n- first screen (');
    expect(message).toContain('### Fixes\n\n- **api:** handle empty lists (');

    // Run again: nothing new, nothing pushed.
    const again = await runSemanticTag(config(), { git: work });
    expect(again).toMatchObject({ version: '0.2.0', tag: 'v0.2.0', previousTag: 'v0.2.0', bump: 'none', released: false });
    expect(again.commits).toHaveLength(0);
  });

  it('counts commits of merged branches, and a breaking change that arrives only through a merge makes a major', async () => {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await work.run(['checkout', '--quiet', '-b', 'next']);
    await commit(work, 'refactor!: new storage layout');
    await commit(work, 'fix: something on next');
    await work.run(['checkout', '--quiet', 'main']);
    await commit(work, 'docs: readme');
    await work.run(['merge', '--quiet', '--no-ff', '-m', "Merge branch 'next'", 'next']);
    await work.run(['push', '--quiet', 'origin', 'main', 'v1.0.0']);

    const result = await runSemanticTag(config({ defaultBump: 'patch' }), { git: work });
    expect(result).toMatchObject({ previousTag: 'v1.0.0', version: '2.0.0', bump: 'major' });
    expect(result.commits.map((c) => [c.subject, c.bump])).toEqual([
      ["Merge branch 'next'", 'none'],
      ['readme', 'none'],
      ['something on next', 'patch'],
      ['new storage layout', 'major'],
    ]);
  });

  it('makes a patch of a revert, in either spelling', async () => {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.4.0']);
    await commit(work, 'Revert "feat: beta flag"\n\nThis reverts commit 0123.');
    await work.run(['push', '--quiet', 'origin', 'main', 'v1.4.0']);
    expect(await runSemanticTag(config({ dryRun: true }), { git: work })).toMatchObject({ version: '1.4.1', bump: 'patch' });
  });

  it('cancels a feat and its git revert in the same range: no release, nothing in the changelog', async () => {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.4.0']);
    await commitFile(work, 'dark.css', 'feat: dark mode');
    await work.run(['revert', '--no-edit', 'HEAD']);
    await work.run(['push', '--quiet', 'origin', 'main', 'v1.4.0']);
    const log: string[] = [];
    const result = await runSemanticTag(config(), { git: work, log: (line) => log.push(line) });
    expect(result).toMatchObject({ version: '1.4.0', tag: 'v1.4.0', bump: 'none', released: false, changelog: 'No notable changes.\n' });
    expect(result.commits.map((c) => [c.subject, c.bump, c.cancelledBy !== undefined])).toEqual([
      ['feat: dark mode', 'none', true],
      ['dark mode', 'none', true],
    ]);
    expect(log.join('\n')).toMatch(/reverts [0-9a-f]{7} of the same range: they cancel out/);

    // With a fix beside them, the release is a patch with only the fix in it.
    await commit(work, 'fix: crash on start');
    const fix = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(fix).toMatchObject({ version: '1.4.1', bump: 'patch' });
    expect(fix.changelog).toMatch(/^### Fixes\n\n- crash on start \([0-9a-f]{7}\)\n$/);
  });

  it('matches the abbreviated SHA of git revert --reference, under a title of one’s own', async () => {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.4.0']);
    await commitFile(work, 'dark.css', 'feat: dark mode');
    await work.run(['-c', "core.editor=sed -i -e '1s/.*/Drop dark mode, it breaks login/'", 'revert', '--reference', '--edit', 'HEAD']);
    const message = await work.output(['log', '-1', '--format=%B']);
    expect(message).toMatch(/^Drop dark mode, it breaks login\n\nThis reverts commit [0-9a-f]{7,} \(feat: dark mode, /);
    const result = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(result).toMatchObject({ version: '1.4.0', bump: 'none' });
    expect(result.commits.every((c) => c.cancelledBy)).toBe(true);
  });

  it('matches nothing with an abbreviation that two commits share', async () => {
    const { work } = await project();
    const base = await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    // 1,000 commits with fixed dates and messages: the same SHAs every run, two of them sharing 4 hex digits.
    const stream = Array.from(
      { length: 1000 },
      (_, n) =>
        `commit refs/heads/main\ncommitter A <a@example.test> ${1_700_000_000 + n} +0000\ndata <<EOF\nfeat: feature ${n}\nEOF\n${n === 0 ? `from ${base}\n` : ''}\n`,
    ).join('');
    await work.run(['fast-import', '--quiet'], { input: stream });
    await work.run(['reset', '--quiet', '--hard', 'main']);
    const shas = (await work.output(['rev-list', 'v1.0.0..main'])).split('\n');
    const seen = new Map<string, string>();
    const shared = shas.map((sha) => sha.slice(0, 4)).find((prefix) => seen.has(prefix) || !seen.set(prefix, prefix));
    expect(shared).toBeDefined();
    await commit(work, `Revert "feat: one of two"\n\nThis reverts commit ${shared}.`);
    const result = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(result).toMatchObject({ version: '1.1.0', bump: 'minor' });
    expect(result.commits.filter((c) => c.cancelledBy)).toEqual([]);
  });

  it('keeps the git revert of a released feat as a patch, with the revert in the changelog', async () => {
    const { work } = await project();
    await commitFile(work, 'dark.css', 'feat: dark mode');
    await work.run(['tag', 'v1.4.0']);
    await work.run(['revert', '--no-edit', 'HEAD']);
    const result = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(result).toMatchObject({ version: '1.4.1', bump: 'patch' });
    expect(result.changelog).toMatch(/^### Fixes\n\n- revert: feat: dark mode \([0-9a-f]{7}\)\n$/);

    // GitHub's squash merge of a revert pull request adds its number: still a revert, still a patch.
    const released = await work.output(['rev-parse', 'v1.4.0']);
    await work.run(['reset', '--quiet', '--hard', 'v1.4.0']);
    await commitFile(work, 'dark.css', `Revert "feat: dark mode" (#12)\n\nThis reverts commit ${released}.`);
    const squashed = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(squashed).toMatchObject({ version: '1.4.1', bump: 'patch' });
    expect(squashed.changelog).toMatch(/^### Fixes\n\n- revert: feat: dark mode \([0-9a-f]{7}\)\n$/);
  });

  it('follows a revert of a revert: it re-applies the feat, in the range or after the revert was released', async () => {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.4.0']);
    await commitFile(work, 'dark.css', 'feat: dark mode');
    await work.run(['revert', '--no-edit', 'HEAD']);
    await work.run(['revert', '--no-edit', 'HEAD']);
    // feat, revert, revert of the revert: the feat is in, and is the release.
    const all = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(all).toMatchObject({ version: '1.5.0', bump: 'minor' });
    expect(all.changelog).toMatch(/^### Features\n\n- dark mode \([0-9a-f]{7}\)\n$/);

    // The feat released, then its revert and the revert of that: nothing changed.
    await work.run(['tag', 'v1.5.0', 'HEAD~2']);
    expect(await runSemanticTag(config({ dryRun: true }), { git: work })).toMatchObject({ previousTag: 'v1.5.0', bump: 'none' });

    // The revert released too (1.5.1): re-applying the feat is a feat again.
    await work.run(['tag', 'v1.5.1', 'HEAD~1']);
    const reapplied = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(reapplied).toMatchObject({ previousTag: 'v1.5.1', version: '1.6.0', bump: 'minor' });
    expect(reapplied.changelog).toMatch(/^### Features\n\n- dark mode \([0-9a-f]{7}\)\n$/);
  });

  it('cancels a merged branch with the revert of its merge commit', async () => {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await work.run(['checkout', '--quiet', '-b', 'dark']);
    await commitFile(work, 'dark.css', 'feat: dark mode');
    await commitFile(work, 'dark.css', 'fix: dark mode contrast');
    await work.run(['checkout', '--quiet', 'main']);
    await commitFile(work, 'README.md', 'docs: readme');
    await work.run(['merge', '--quiet', '--no-ff', '-m', 'Merge pull request #7 from acme/dark', 'dark']);
    await work.run(['revert', '--no-edit', '-m', '1', 'HEAD']);
    await commitFile(work, 'main.ts', 'fix: crash on start');
    const result = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(result).toMatchObject({ version: '1.0.1', bump: 'patch' });
    expect(result.commits.filter((c) => !c.cancelledBy).map((c) => c.subject)).toEqual(['crash on start', 'readme']);
    expect(result.changelog).toMatch(/^### Fixes\n\n- crash on start \([0-9a-f]{7}\)\n$/);
  });

  it('takes the highest release reachable from HEAD, ignoring moving tags, pre-releases, other prefixes and unreachable tags', async () => {
    const { work } = await project();
    const old = await commit(work, 'feat: old');
    await work.run(['tag', 'v1.9.0']);
    const released = await commit(work, 'feat: two');
    await work.run(['tag', 'v2.0.0']);
    await commit(work, 'fix: after');
    await work.run(['tag', 'v2']);
    await work.run(['tag', 'v2.0']);
    await work.run(['tag', 'v3.0.0-rc.1']);
    await work.run(['tag', 'other-v9.0.0']);
    await work.run(['tag', 'v2.0.0.1']);
    // A hotfix of 1.9 tagged 1.9.5 and merged later is reachable but lower than 2.0.0.
    await work.run(['checkout', '--quiet', '-b', 'hotfix', old]);
    await commit(work, 'fix: hotfix');
    await work.run(['tag', 'v1.9.5']);
    // A release on a branch HEAD never merged is not reachable.
    await work.run(['checkout', '--quiet', '-b', 'elsewhere', old]);
    await commit(work, 'feat: elsewhere');
    await work.run(['tag', 'v7.0.0']);
    await work.run(['checkout', '--quiet', 'main']);
    await work.run(['merge', '--quiet', '--no-ff', '-m', 'Merge hotfix', 'hotfix']);
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);

    const result = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(result).toMatchObject({ previousTag: 'v2.0.0', previousVersion: '2.0.0', version: '2.0.1', bump: 'patch' });
    expect(await work.output(['rev-parse', 'v2.0.0'])).toBe(released);
  });

  it('still finds the release when more than a few higher releases sit on branches HEAD never merged', async () => {
    const { work } = await project();
    const base = await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await work.run(['checkout', '--quiet', '-b', 'maintenance']);
    for (let minor = 1; minor <= 12; minor++) {
      await commit(work, `feat: maintenance ${minor}`);
      await work.run(['tag', `v1.${minor}.0`]);
    }
    await work.run(['checkout', '--quiet', 'main']);
    await commit(work, 'fix: on main');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
    const result = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(result).toMatchObject({ previousTag: 'v1.0.0', version: '1.0.1' });
    expect(await work.output(['rev-parse', 'v1.0.0'])).toBe(base);
  });

  it('counts a hand-pushed UAT-1.0.0 as the last release: a fix gives 1.0.1, a feat 1.1.0, and v1.0.0 is never created', async () => {
    const { origin, work } = await project();
    await commit(work, 'feat: first screen');
    await work.run(['tag', 'UAT-1.0.0']);
    const base = await work.output(['rev-parse', 'HEAD']);
    await commit(work, 'fix: crash on start');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
    const fix = await runSemanticTag(config({ dryRun: true, environmentTag: 'UAT' }), { git: work });
    expect(fix).toMatchObject({ previousTag: 'UAT-1.0.0', previousVersion: '1.0.0', version: '1.0.1', tag: 'v1.0.1', bump: 'patch' });

    const head = await commit(work, 'feat: export to CSV');
    await work.run(['push', '--quiet', 'origin', 'main']);
    const feat = await runSemanticTag(config({ environmentTag: 'UAT' }), { git: work });
    expect(feat).toMatchObject({ previousTag: 'UAT-1.0.0', version: '1.1.0', tag: 'v1.1.0', environmentTag: 'UAT-1.1.0', released: true });
    // The changelog starts at UAT-1.0.0's commit: the first screen was released with it.
    expect(feat.commits.map((c) => c.subject)).toEqual(['export to CSV', 'crash on start']);
    expect(await tagsOf(origin)).toEqual({ 'UAT-1.0.0': base, 'v1.1.0': head, 'UAT-1.1.0': head });
    expect(Object.keys(await tagsOf(work.cwd))).not.toContain('v1.0.0');

    // v1.1.0 and UAT-1.1.0 mark the same version: the version tag is the one reported.
    expect(await runSemanticTag(config({ environmentTag: 'UAT' }), { git: work })).toMatchObject({
      previousTag: 'v1.1.0',
      version: '1.1.0',
      bump: 'none',
      released: false,
    });
  });

  it('takes the highest reachable of version and environment tags, counting only the environments it is given', async () => {
    const { work } = await project();
    const base = await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await commit(work, 'feat: two');
    await work.run(['tag', '--annotate', '--message=to production', 'PROD-1.2.0']);
    await commit(work, 'fix: three');
    await work.run(['tag', 'QA-1.4.0']);
    await work.run(['tag', 'UAT-1.5.0-rc.1']);
    await work.run(['tag', 'UAT-1.5']);
    await commit(work, 'fix: four');
    // An environment tag on a branch HEAD never merged is not reachable.
    await work.run(['checkout', '--quiet', '-b', 'elsewhere', base]);
    await commit(work, 'feat: elsewhere');
    await work.run(['tag', 'UAT-5.0.0']);
    await work.run(['checkout', '--quiet', 'main']);
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);

    const byDefault = await runSemanticTag(config({ dryRun: true }), { git: work });
    expect(byDefault).toMatchObject({ previousTag: 'PROD-1.2.0', version: '1.2.1', bump: 'patch' });
    expect(byDefault.commits.map((c) => c.subject)).toEqual(['four', 'three']);
    // The environment-tag given always counts: QA-1.4.0 is then the highest.
    expect(await runSemanticTag(config({ dryRun: true, environmentTag: 'QA' }), { git: work })).toMatchObject({
      previousTag: 'QA-1.4.0',
      version: '1.4.1',
      environmentTag: 'QA-1.4.1',
    });
    expect(await runSemanticTag(config({ dryRun: true, environmentTags: ['QA'] }), { git: work })).toMatchObject({
      previousTag: 'QA-1.4.0',
    });
    // With no environments, only version tags are releases, as before.
    const versionTagsOnly = await runSemanticTag(config({ dryRun: true, environmentTags: [] }), { git: work });
    expect(versionTagsOnly).toMatchObject({ previousTag: 'v1.0.0', version: '1.1.0', bump: 'minor' });
    expect(versionTagsOnly.commits).toHaveLength(3);
  });

  it('versions two components of a monorepo apart, by paths and tag prefix', async () => {
    const { origin, work } = await project();
    await commitFile(work, 'api/server.ts', 'feat(api): server');
    await commitFile(work, 'web/app.ts', 'feat(web): app');
    await work.run(['tag', 'api/v1.0.0']);
    await work.run(['tag', 'web/v2.0.0']);
    await commitFile(work, 'api/routes.ts', 'feat(api): routes');
    await commitFile(work, 'web/style.css', 'fix(web): colours');
    await commitFile(work, 'README.md', 'feat: readme only');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);

    const api = await runSemanticTag(config({ tagPrefix: 'api/v', paths: ['api/**'] }), { git: work });
    expect(api).toMatchObject({ previousTag: 'api/v1.0.0', tag: 'api/v1.1.0', bump: 'minor', released: true });
    expect(api.commits.map((c) => c.subject)).toEqual(['routes']);
    const web = await runSemanticTag(config({ tagPrefix: 'web/v', paths: ['web/**'] }), { git: work });
    expect(web).toMatchObject({ previousTag: 'web/v2.0.0', tag: 'web/v2.0.1', bump: 'patch' });
    expect(Object.keys(await tagsOf(origin)).sort()).toEqual(['api/v1.0.0', 'api/v1.1.0', 'web/v2.0.0', 'web/v2.0.1']);
  });

  it('fetches what a shallow clone lacks, and refuses when it cannot, naming fetch-depth', async () => {
    const { dir, origin, work } = await project();
    await commit(work, 'feat: one');
    await work.run(['tag', 'v1.0.0']);
    for (const n of [1, 2, 3]) await commit(work, `fix: fix ${n}`);
    await commit(work, 'feat: two');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);

    const shallowDir = path.join(dir, 'shallow');
    await work.run(['clone', '--quiet', '--depth=1', '--no-tags', `file://${origin}`, shallowDir]);
    const shallow = new Git({ cwd: shallowDir });
    expect(await shallow.output(['rev-parse', '--is-shallow-repository'])).toBe('true');
    const result = await runSemanticTag(config({ dryRun: true }), { git: shallow });
    expect(result).toMatchObject({ previousTag: 'v1.0.0', version: '1.1.0' });
    expect(result.commits).toHaveLength(4);
    expect(await shallow.output(['rev-parse', '--is-shallow-repository'])).toBe('false');

    const orphanDir = path.join(dir, 'orphan');
    await work.run(['clone', '--quiet', '--depth=1', `file://${origin}`, orphanDir]);
    const orphan = new Git({ cwd: orphanDir });
    await orphan.run(['remote', 'remove', 'origin']);
    await expect(runSemanticTag(config({ dryRun: true }), { git: orphan })).rejects.toThrow(
      'This checkout is shallow and has no remote "origin" to fetch the rest of its history from. Check out the whole history: `uses: actions/checkout@…` with `fetch-depth: 0`.',
    );
    await orphan.run(['remote', 'add', 'origin', path.join(dir, 'no-such-repo.git')]);
    await expect(runSemanticTag(config({ dryRun: true }), { git: orphan })).rejects.toThrow(
      /This checkout is shallow, and fetching the rest of its history from origin failed: .*fetch-depth: 0/s,
    );
  });

  it('refuses a tag that exists at another commit, and writes nothing', async () => {
    const { origin, work } = await project();
    const base = await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await work.run(['checkout', '--quiet', '-b', 'side']);
    const side = await commit(work, 'feat: side');
    await work.run(['tag', 'v1.1.0']);
    await work.run(['checkout', '--quiet', 'main']);
    const head = await commit(work, 'feat: main');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main', 'side']);
    const before = await tagsOf(origin);

    const attempt = runSemanticTag(config({ environmentTag: 'UAT' }), { git: work });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(runSemanticTag(config({ environmentTag: 'UAT' }), { git: work })).rejects.toThrow(
      `Tag v1.1.0 already exists here at ${side.slice(0, 12)}, not at HEAD (${head.slice(0, 12)}); a version is released once. Nothing was tagged or pushed.`,
    );
    expect(await tagsOf(origin)).toEqual(before);
    expect(await tagsOf(work.cwd)).toEqual({ 'v1.0.0': base, 'v1.1.0': side });
  });

  it('pushes the version and environment tags atomically, or neither', async () => {
    const { origin, work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    const head = await commit(work, 'feat: next');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
    const result = await runSemanticTag(config({ environmentTag: 'UAT' }), { git: work });
    expect(result).toMatchObject({ tag: 'v1.1.0', environmentTag: 'UAT-1.1.0', released: true });
    expect(await tagsOf(origin)).toMatchObject({ 'v1.1.0': head, 'UAT-1.1.0': head });
    expect(await work.output(['cat-file', '-t', 'UAT-1.1.0'])).toBe('commit');

    // UAT-1.2.0 already taken by another commit on the remote only: v1.2.0 must not land either.
    const other = await commit(work, 'fix: elsewhere');
    await work.run(['push', '--quiet', 'origin', `${other}:refs/tags/UAT-1.2.0`]);
    const next = await commit(work, 'feat: more');
    await work.run(['push', '--quiet', 'origin', 'main']);
    await expect(runSemanticTag(config({ environmentTag: 'UAT' }), { git: work })).rejects.toThrow(
      `Tag UAT-1.2.0 already exists on origin at ${other.slice(0, 12)}, not at HEAD (${next.slice(0, 12)})`,
    );
    expect(Object.keys(await tagsOf(origin))).not.toContain('v1.2.0');
  });

  it('numbers a pre-release series from existing tags, is idempotent on the same commit, and a full release ends the series', async () => {
    const { origin, work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.2.0']);
    await commit(work, 'feat: new thing');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
    const rc = config({ prerelease: 'rc', annotate: false });

    expect(await runSemanticTag(rc, { git: work })).toMatchObject({ tag: 'v1.3.0-rc.1', previousTag: 'v1.2.0', released: true });
    expect(await runSemanticTag(rc, { git: work })).toMatchObject({ tag: 'v1.3.0-rc.1', released: false });
    await commit(work, 'fix: polish');
    expect(await runSemanticTag(rc, { git: work })).toMatchObject({ tag: 'v1.3.0-rc.2', released: true });
    expect(await runSemanticTag(config(), { git: work })).toMatchObject({ tag: 'v1.3.0', previousTag: 'v1.2.0', released: true });
    await commit(work, 'fix: after the release');
    expect(await runSemanticTag(rc, { git: work })).toMatchObject({ tag: 'v1.3.1-rc.1', previousTag: 'v1.3.0' });
    expect(Object.keys(await tagsOf(origin)).sort()).toEqual(['v1.2.0', 'v1.3.0', 'v1.3.0-rc.1', 'v1.3.0-rc.2', 'v1.3.1-rc.1']);
  });

  it('computes everything in a dry run with read-only access (git daemon), where a real run cannot push', async () => {
    const { dir, origin, work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await commit(work, 'feat: next');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
    const daemon = await startGitDaemon(dir);
    try {
      const reader = await makeRepo(path.join(dir, 'reader'));
      await reader.run(['remote', 'add', 'origin', `${daemon.url}origin.git`]);
      await reader.run(['fetch', '--quiet', 'origin']);
      await reader.run(['checkout', '--quiet', 'origin/main']);
      const dry = await runSemanticTag(config({ dryRun: true, environmentTag: 'UAT' }), { git: reader });
      expect(dry).toMatchObject({ version: '1.1.0', tag: 'v1.1.0', environmentTag: 'UAT-1.1.0', released: false, previousTag: 'v1.0.0' });
      expect(Object.keys(await tagsOf(reader.cwd))).toEqual(['v1.0.0']);

      await expect(runSemanticTag(config(), { git: reader })).rejects.toThrow(CommandError);
      expect(Object.keys(await tagsOf(origin))).toEqual(['v1.0.0']);
    } finally {
      await daemon.close();
    }
  });
});

describe('semantic-tag and the GitHub API (nock)', () => {
  const repository = { owner: 'acme', repo: 'app' };
  const api = GITHUB_API;
  mockGitHubApi();

  async function released(): Promise<Git> {
    const { work } = await project();
    await commit(work, 'feat: base');
    await work.run(['tag', 'v1.0.0']);
    await commit(work, 'feat: dark mode');
    await work.run(['push', '--quiet', '--tags', 'origin', 'main']);
    return work;
  }

  it('creates a GitHub release with the changelog, then starts the release workflow on the environment tag', async () => {
    const work = await released();
    let releaseBody: Record<string, unknown> = {};
    const scope = nock(api, { reqheaders: { authorization: 'token ghs_app_token' } })
      .get('/repos/acme/app/releases/tags/v1.1.0')
      .reply(404, { message: 'Not Found' })
      .post('/repos/acme/app/releases', (body) => {
        releaseBody = body;
        return true;
      })
      .reply(201, { html_url: 'https://github.com/acme/app/releases/tag/v1.1.0' })
      .post('/repos/acme/app/actions/workflows/release.yml/dispatches', { ref: 'UAT-1.1.0', inputs: { tag: 'UAT-1.1.0' } })
      .reply(204);

    const result = await runSemanticTag(config({ environmentTag: 'UAT', githubRelease: true, dispatchWorkflow: 'release.yml' }), {
      git: work,
      repository,
      github: () => githubClient('ghs_app_token'),
    });
    expect(scope.isDone()).toBe(true);
    expect(releaseBody).toEqual({ tag_name: 'v1.1.0', name: 'v1.1.0', body: result.changelog, prerelease: false });
    expect(result.changelog).toContain('- dark mode (');
    expect(result).toMatchObject({ githubReleaseUrl: 'https://github.com/acme/app/releases/tag/v1.1.0', dispatched: 'UAT-1.1.0' });
  });

  it('leaves an existing GitHub release alone, and marks pre-releases', async () => {
    const work = await released();
    const scope = nock(api)
      .get('/repos/acme/app/releases/tags/v1.1.0-rc.1')
      .reply(200, { html_url: 'https://github.com/acme/app/releases/tag/v1.1.0-rc.1' });
    const result = await runSemanticTag(config({ prerelease: 'rc', githubRelease: true }), {
      git: work,
      repository,
      github: () => githubClient('t'),
    });
    expect(scope.isDone()).toBe(true);
    expect(result.githubReleaseUrl).toBe('https://github.com/acme/app/releases/tag/v1.1.0-rc.1');
  });

  it('calls no API in a dry run', async () => {
    const work = await released();
    let asked = false;
    const result = await runSemanticTag(config({ dryRun: true, githubRelease: true, dispatchWorkflow: 'release.yml' }), {
      git: work,
      repository,
      github: async () => {
        asked = true;
        return githubClient('t');
      },
    });
    expect(result).toMatchObject({ tag: 'v1.1.0', released: false });
    expect(asked).toBe(false);
  });
});
