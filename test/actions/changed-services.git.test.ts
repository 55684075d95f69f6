/**
 * changed-services on real git repositories: first releases, a change to one service, to a shared
 * path, to one service's extra path, merged branches, renamed folders, a pull request against its
 * base, a release made on another branch, reverts, and the release set pushed and read back. The
 * core runs in-process against git; the end-to-end cases run the built action under Node 24.
 */
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Git, UserError, parseServicesManifest } from '@toolkit/shared';
import { type ServiceChangeReport, buildMatrix, detectChanges, serviceTags } from '../../actions/changed-services/src/changed-services.js';
import { runBuiltAction } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const MANIFEST = `# The shop's services.
image-prefix: ghcr.io/acme/shop
also-changed-by:
  - shared/**
services:
  api:
    path: services/api
  web:
    path: services/web/
    also-changed-by: [web.lock]
  worker.jobs:
    path: services/worker.jobs
    chart: { version: 1.2.0, repository: oci://ghcr.io/acme/charts }
`;

const VERSIONING = {
  initialVersion: '0.1.0',
  releaseRules: [],
  defaultBump: 'none' as const,
  majorZero: 'breaking-is-minor' as const,
  prerelease: '',
};

async function write(git: Git, file: string, text = `${Math.random()}\n`): Promise<void> {
  await mkdir(path.dirname(path.join(git.cwd, file)), { recursive: true });
  await writeFile(path.join(git.cwd, file), text);
}

/** Writes the files and commits them with the message. */
async function change(git: Git, message: string, ...files: string[]): Promise<string> {
  for (const file of files) await write(git, file);
  await git.run(['add', '--all']);
  return commit(git, message);
}

/** The shop: three services, a shared library, the manifest; every service released as 1.0.0. */
async function shop(options: { released?: boolean } = {}): Promise<{ git: Git; origin: string }> {
  const dir = await tempDir('changed-services-');
  const git = await makeRepo(path.join(dir, 'work'));
  const origin = path.join(dir, 'origin.git');
  await git.run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
  await git.run(['remote', 'add', 'origin', origin]);
  await write(git, 'toolkit.yaml', MANIFEST);
  await change(git, 'feat: the shop', 'services/api/main.go', 'services/web/index.html', 'services/worker.jobs/run.sh', 'shared/lib.txt');
  if (options.released !== false) for (const service of ['api', 'web', 'worker.jobs']) await git.run(['tag', `${service}/v1.0.0`]);
  return { git, origin };
}

async function detect(git: Git, options: { base?: string } = {}): Promise<Map<string, ServiceChangeReport>> {
  const manifest = parseServicesManifest(await readFile(path.join(git.cwd, 'toolkit.yaml'), 'utf8'));
  const tags = serviceTags((await git.run(['show-ref', '--tags', '--dereference'], { allowFailure: true })).stdout, manifest.services);
  const head = await git.output(['rev-parse', 'HEAD']);
  const reports = await detectChanges(git, manifest.services, tags, head, { ...VERSIONING, ...options });
  return new Map(reports.map((report) => [report.service.name, report]));
}

const changed = (reports: Map<string, ServiceChangeReport>) =>
  Object.fromEntries([...reports].map(([name, report]) => [name, report.changed ? report.version : false]));

describe('changed-services on real repositories', () => {
  it('a first release releases every service, from initial-version bumped by its commits', async () => {
    const { git } = await shop({ released: false });
    await change(git, 'fix(api): empty lists', 'services/api/list.go');
    await change(git, 'chore(web): tidy', 'services/web/tidy.css');
    const reports = await detect(git);
    // api: feat + fix → minor; web: the feat of the first commit; worker.jobs too. None has a tag yet.
    expect(changed(reports)).toEqual({ api: '0.2.0', web: '0.2.0', 'worker.jobs': '0.2.0' });
    expect(reports.get('api')?.reason).toBe('first release');
    expect(reports.get('api')?.commits.map((c) => c.subject)).toEqual(['empty lists', 'the shop']);
    expect(reports.get('web')?.commits.map((c) => c.subject)).toEqual(['tidy', 'the shop']);
  });

  it('a change to one service changes only it; the others are unchanged since their tags', async () => {
    const { git } = await shop();
    await change(git, 'feat(api): search', 'services/api/search.go');
    const reports = await detect(git);
    expect(changed(reports)).toEqual({ api: '1.1.0', web: false, 'worker.jobs': false });
    expect(reports.get('api')?.files).toEqual(['services/api/search.go']);
    expect(reports.get('web')?.reason).toBe('unchanged since web/v1.0.0');
    const matrix = buildMatrix([...reports.values()]);
    expect(matrix.include).toEqual([
      {
        service: 'api',
        path: 'services/api',
        context: 'services/api',
        dockerfile: 'services/api/Dockerfile',
        image: 'ghcr.io/acme/shop/api',
        version: '1.1.0',
        tag: 'api/v1.1.0',
        chart: { name: 'api' },
      },
    ]);
  });

  it('a change to a shared path changes every service; an extra path of one service changes only it', async () => {
    const { git } = await shop();
    await change(git, 'fix(shared): rounding', 'shared/money/round.txt');
    expect(changed(await detect(git))).toEqual({ api: '1.0.1', web: '1.0.1', 'worker.jobs': '1.0.1' });
    for (const service of ['api', 'web', 'worker.jobs']) await git.run(['tag', `${service}/v1.0.1`]);
    await change(git, 'fix(deps): lock', 'web.lock');
    const reports = await detect(git);
    expect(changed(reports)).toEqual({ api: false, web: '1.0.2', 'worker.jobs': false });
    expect(reports.get('web')?.files).toEqual(['web.lock']);
  });

  it('each service is compared with its own last release, however far back it is', async () => {
    const { git } = await shop();
    await change(git, 'feat(api): one', 'services/api/one.go');
    await git.run(['tag', 'api/v1.1.0']);
    await change(git, 'fix(web): two', 'services/web/two.html');
    await change(git, 'feat(api): three', 'services/api/three.go');
    const reports = await detect(git);
    expect(changed(reports)).toEqual({ api: '1.2.0', web: '1.0.1', 'worker.jobs': false });
    // api's range starts at api/v1.1.0: "one" is released already.
    expect(reports.get('api')?.commits.map((c) => c.subject)).toEqual(['three']);
  });

  it('commits of a merged branch count, the merge commit itself does not', async () => {
    const { git } = await shop();
    await git.run(['checkout', '--quiet', '-b', 'feature']);
    await change(git, 'feat(worker): retries', 'services/worker.jobs/retry.sh');
    await git.run(['checkout', '--quiet', 'main']);
    await change(git, 'docs: readme', 'README.md');
    await git.run(['merge', '--quiet', '--no-ff', '-m', 'Merge branch feature', 'feature']);
    const reports = await detect(git);
    expect(changed(reports)).toEqual({ api: false, web: false, 'worker.jobs': '1.1.0' });
    expect(reports.get('worker.jobs')?.commits.map((c) => c.subject)).toEqual(['retries']);
  });

  it('a folder renamed into a service keeps the commits made under its old name; a file moved out changes the service', async () => {
    const { git } = await shop();
    // The manifest already names web's new folder; the feat was made under the old one, after web/v1.0.0.
    await change(git, 'feat(web): dark mode', 'services/web/dark.css');
    await git.run(['mv', 'services/web', 'services/frontend']);
    await commit(git, 'refactor: web moves');
    await git.run(['mv', 'services/frontend', 'services/web']);
    await commit(git, 'refactor: web moves back');
    await write(git, 'toolkit.yaml', MANIFEST.replace('path: services/web/', 'path: services/site'));
    await git.run(['mv', 'services/web', 'services/site']);
    await git.run(['add', '--all']);
    await commit(git, 'refactor: web is the site now');
    const reports = await detect(git);
    expect(reports.get('web')?.changed).toBe(true);
    expect(reports.get('web')?.commits.map((c) => c.subject)).toEqual(expect.arrayContaining(['web is the site now', 'dark mode']));
    expect(reports.get('web')?.version).toBe('1.1.0');

    // A file moved out of api into shared/ (which every service has): api changed, by the file leaving.
    for (const service of ['api', 'web', 'worker.jobs']) await git.run(['tag', `${service}/v1.1.0`]);
    await write(git, 'toolkit.yaml', MANIFEST.replace('also-changed-by:\n  - shared/**\n', ''));
    await git.run(['add', '--all']);
    await commit(git, 'chore: shared is nobody');
    for (const service of ['api', 'web', 'worker.jobs']) await git.run(['tag', '--force', `${service}/v1.1.0`]);
    await git.run(['mv', 'services/api/main.go', 'shared/main.go']);
    await commit(git, 'fix(api): main moves to shared');
    const moved = await detect(git);
    expect(changed(moved)).toEqual({ api: '1.1.1', web: false, 'worker.jobs': false });
  });

  it('on a pull request a service is changed when the pull request touches it, not what the base did since', async () => {
    const { git } = await shop();
    await git.run(['checkout', '--quiet', '-b', 'pr']);
    await change(git, 'fix(web): typo', 'services/web/typo.html');
    await git.run(['checkout', '--quiet', 'main']);
    await change(git, 'feat(api): main moved on', 'services/api/later.go');
    await git.run(['checkout', '--quiet', 'pr']);
    const reports = await detect(git, { base: 'main' });
    expect(changed(reports)).toEqual({ api: false, web: '1.0.1', 'worker.jobs': false });
    expect(reports.get('web')?.reason).toBe('1 commit(s) of the pull request touch it');
  });

  it('a release tagged on another branch is passed over for the last release reachable from HEAD', async () => {
    const { git } = await shop();
    await git.run(['checkout', '--quiet', '-b', 'hotfix']);
    await change(git, 'fix(api): hot', 'services/api/hot.go');
    await git.run(['tag', 'api/v1.0.1']);
    await git.run(['checkout', '--quiet', 'main']);
    await change(git, 'feat(api): cold', 'services/api/cold.go');
    const reports = await detect(git);
    expect(reports.get('api')).toMatchObject({ changed: true, last: { tag: 'api/v1.0.0' }, version: '1.1.0', filesKnown: false });
    expect(reports.get('api')?.commits.map((c) => c.subject)).toEqual(['cold']);
  });

  it('a change that calls for no release, or a feat reverted in the same range, leaves a service out', async () => {
    const { git } = await shop();
    await change(git, 'chore(api): rename a variable', 'services/api/vars.go');
    const feat = await change(git, 'feat(web): carousel', 'services/web/carousel.js');
    await git.run(['revert', '--no-edit', feat]);
    const reports = await detect(git);
    expect(changed(reports)).toEqual({ api: false, web: false, 'worker.jobs': false });
    expect(reports.get('api')?.reason).toBe('1 commit(s) since api/v1.0.0, none that calls for a release');
    expect(reports.get('web')?.commits.every((c) => c.cancelledBy)).toBe(true);
  });

  it("a file moved from one service to another changes both, without handing the first one's history over", async () => {
    const { git } = await shop();
    await change(git, 'feat(web): wide screens', 'services/web/util.js');
    await git.run(['mv', 'services/web/util.js', 'services/api/util.js']);
    await commit(git, 'fix(api): util moves here');
    const reports = await detect(git);
    // api: the move's fix alone (web's feat stays web's); web: its feat, and the file leaving.
    expect(changed(reports)).toEqual({ api: '1.0.1', web: '1.1.0', 'worker.jobs': false });
    expect(reports.get('api')?.commits.map((c) => c.subject)).toEqual(['util moves here']);
  });

  it('a highest tag that is the merge base but not reachable from HEAD is passed over', async () => {
    const { git } = await shop();
    await git.run(['checkout', '--quiet', '-b', 'release']);
    await change(git, 'fix: on the release branch only', 'services/api/r.go', 'services/web/r.html', 'services/worker.jobs/r.sh');
    for (const service of ['api', 'web', 'worker.jobs']) await git.run(['tag', `${service}/v1.1.0`]);
    await git.run(['checkout', '--quiet', 'main']);
    await change(git, 'fix(api): on main', 'services/api/m.go');
    const reports = await detect(git);
    expect(reports.get('api')).toMatchObject({ changed: true, last: { tag: 'api/v1.0.0' }, version: '1.0.1' });
    expect(reports.get('web')).toMatchObject({ changed: false, last: { tag: 'web/v1.0.0' } });
  });

  it("a merge's own change (a conflict resolved, a file edited in the merge) changes the service", async () => {
    const { git } = await shop();
    await git.run(['checkout', '--quiet', '-b', 'feature']);
    await change(git, 'docs: notes', 'NOTES.md');
    await git.run(['checkout', '--quiet', 'main']);
    await git.run(['merge', '--quiet', '--no-ff', '--no-commit', 'feature']);
    await write(git, 'services/worker.jobs/evil.sh', 'edited in the merge\n');
    await git.run(['add', '--all']);
    await commit(git, 'Merge branch feature');
    const reports = await detect(git);
    expect(reports.get('worker.jobs')?.touched).toBe(true);
    expect(reports.get('worker.jobs')?.files).toEqual(['services/worker.jobs/evil.sh']);
    // A merge's subject calls for no release (as in semantic-tag); a dev build still takes it.
    expect(reports.get('worker.jobs')?.changed).toBe(false);
    expect(reports.get('api')?.touched).toBe(false);
  });

  it('a service added beside released ones is read apart over the whole history, as a first release', async () => {
    const { git } = await shop();
    await write(git, 'toolkit.yaml', `${MANIFEST}  billing:\n    path: services/billing\n`);
    await change(git, 'fix(billing): invoices', 'services/billing/main.go');
    const reports = await detect(git);
    // Its history: its own fix, and the shop's first commit, which touched shared/ (every service's).
    expect(changed(reports)).toEqual({ api: false, web: false, 'worker.jobs': false, billing: '0.2.0' });
    expect(reports.get('billing')).toMatchObject({ reason: 'first release', filesKnown: false });
    expect(reports.get('billing')?.commits.map((c) => c.subject)).toEqual(['invoices', 'the shop']);
  });

  it('a dev build (prerelease) takes every touched service, a chore as a patch; touched says so either way', async () => {
    const { git } = await shop();
    await change(git, 'chore(deps): lock file', 'web.lock');
    const release = await detect(git);
    expect(changed(release)).toEqual({ api: false, web: false, 'worker.jobs': false });
    expect([...release.values()].filter((r) => r.touched).map((r) => r.service.name)).toEqual(['web']);
    const manifest = parseServicesManifest(await readFile(path.join(git.cwd, 'toolkit.yaml'), 'utf8'));
    const tags = serviceTags((await git.run(['show-ref', '--tags', '--dereference'])).stdout, manifest.services);
    const dev = await detectChanges(git, manifest.services, tags, await git.output(['rev-parse', 'HEAD']), {
      ...VERSIONING,
      prerelease: 'dev.7.gabc',
    });
    expect(dev.map((report) => (report.changed ? `${report.service.name}@${report.version}` : ''))).toEqual([
      '',
      'web@1.0.1-dev.7.gabc',
      '',
    ]);
  });

  it('the built action tags the changed services and the release set in one push, and released-at reads the set back', async () => {
    const { git, origin } = await shop();
    await git.run(['tag', 'UAT-1.0.0']);
    await change(git, 'feat(api): search', 'services/api/search.go');
    await change(git, 'fix(shared): rounding', 'shared/round.txt');
    await git.run(['push', '--quiet', 'origin', 'main', '--tags']);
    const head = await git.output(['rev-parse', 'HEAD']);

    const cut = await runBuiltAction('changed-services', {
      workspace: git.cwd,
      inputs: { 'environment-tag': 'UAT', push: 'true' },
      env: { GIT_COMMITTER_NAME: 'ci', GIT_COMMITTER_EMAIL: 'ci@example.test' },
    });
    expect(cut.log.join('\n')).not.toMatch(/::error/);
    expect(cut.exitCode).toBe(0);
    expect(cut.outputs).toMatchObject({
      'set-version': '1.1.0',
      'set-tag': 'UAT-1.1.0',
      released: 'true',
      count: '3',
      'any-changed': 'true',
    });
    expect(JSON.parse(cut.outputs.matrix ?? '').include.map((entry: { tag: string }) => entry.tag)).toEqual([
      'api/v1.1.0',
      'web/v1.0.1',
      'worker.jobs/v1.0.1',
    ]);
    const remote = new Git({ cwd: origin });
    const pushed = (await remote.output(['tag', '--points-at', head])).split('\n').sort();
    expect(pushed).toEqual(['UAT-1.1.0', 'api/v1.1.0', 'web/v1.0.1', 'worker.jobs/v1.0.1']);
    expect(await remote.output(['tag', '-l', '--format=%(contents)', 'api/v1.1.0'])).toContain('search');
    expect(cut.summary).toContain('<td>api</td><td>yes</td><td>shared/round.txt, services/api/search.go; commits ');

    // A dry run of the cut (no push) needs no image either, as toolkit init's manifest names none.
    const noImages = MANIFEST.replace('image-prefix: ghcr.io/acme/shop\n', '');
    await write(git, 'toolkit.yaml', noImages);
    const dry = await runBuiltAction('changed-services', { workspace: git.cwd, inputs: { 'environment-tag': 'UAT' } });
    expect(dry.exitCode).toBe(0);
    expect(dry.outputs).toMatchObject({ 'set-tag': '', released: 'false', count: '0' });
    await write(git, 'toolkit.yaml', MANIFEST);

    // The release workflow on UAT-1.1.0: the set is every service tagged at its commit.
    await change(git, 'feat(web): after the cut', 'services/web/later.html');
    const set = await runBuiltAction('changed-services', { workspace: git.cwd, inputs: { 'released-at': 'refs/tags/UAT-1.1.0' } });
    expect(set.exitCode).toBe(0);
    expect(
      JSON.parse(set.outputs.matrix ?? '').include.map(
        (entry: { service: string; version: string }) => `${entry.service}@${entry.version}`,
      ),
    ).toEqual(['api@1.1.0', 'web@1.0.1', 'worker.jobs@1.0.1']);

    // Nothing changed since the cut (the new web commit aside, reverted): an empty matrix, and nothing pushed.
    await git.run(['reset', '--quiet', '--hard', head]);
    const again = await runBuiltAction('changed-services', { workspace: git.cwd, inputs: { 'environment-tag': 'UAT', push: 'true' } });
    expect(again.exitCode).toBe(0);
    expect(again.outputs).toMatchObject({ matrix: '{"include":[]}', 'any-changed': 'false', released: 'false', 'set-tag': '' });
    expect(JSON.parse(again.outputs.unchanged ?? '')).toEqual(['api', 'web', 'worker.jobs']);
  });
});

describe('the services manifest', () => {
  it('names file:line:col, the bad value and what is allowed', () => {
    const bad = `services:
  api:
    path: ../outside
    colour: blue
  Web:
    path: services/web
`;
    expect(() => parseServicesManifest(bad, 'toolkit.yaml', 'ghcr.io/acme')).toThrow(UserError);
    try {
      parseServicesManifest(bad, 'toolkit.yaml', 'ghcr.io/acme');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('toolkit.yaml does not follow the services manifest schema (docs/monorepo.md)');
      expect(message).toMatch(
        /toolkit\.yaml:3:11: services\.api\.path \("\.\.\/outside"\) is not allowed: expected a path inside the repository/,
      );
      expect(message).not.toMatch(/expected a value matching/);
      expect(message).toMatch(/toolkit\.yaml:4:5: services\.api has an unknown key "colour"/);
      expect(message).toMatch(/toolkit\.yaml:5:3: services has a name that is not allowed/);
    }
  });

  it('refuses two services in one folder and a service with no image, at their lines', () => {
    const text = 'services:\n  api:\n    path: services/api\n  api2:\n    path: services/api/\n';
    expect(() => parseServicesManifest(text, 'toolkit.yaml', 'ghcr.io/acme')).toThrow(
      /toolkit\.yaml:5:11: service "api2" has the path services\/api of service "api"/,
    );
    expect(() => parseServicesManifest('services:\n  api:\n    path: services/api\n', 'toolkit.yaml')).toThrow(
      /toolkit\.yaml:3:5: service "api" has no image; give it image:/,
    );
  });

  it('refuses globs git does not read alike, and a tag prefix git cannot hold, in words; context . is the repository', () => {
    const text =
      "tag-prefix: '{service}/../v'\nservices:\n  api:\n    path: services/api\n    context: .\n    also-changed-by: ['!**/*.md', '{a,b}/**']\n";
    expect(() => parseServicesManifest(text, 'toolkit.yaml', 'ghcr.io/acme')).toThrow(
      /toolkit\.yaml:1:13: tag-prefix \("\{service\}\/\.\.\/v"\) is not allowed: expected letters[\s\S]*toolkit\.yaml:6:23: services\.api\.also-changed-by\.0 \("!\*\*\/\*\.md"\) is not allowed: expected a git glob[\s\S]*! exclusions/,
    );
    const root = parseServicesManifest('services:\n  api:\n    path: services/api\n    context: .\n', 'toolkit.yaml', 'ghcr.io/acme');
    expect(root.services[0]).toMatchObject({ context: '.', dockerfile: 'services/api/Dockerfile' });
  });

  it('reads CRLF, anchors and a missing final newline as the same manifest', () => {
    const text = 'x-common: &common\r\n  also-changed-by: [shared/**]\r\nservices:\r\n  api:\r\n    <<: *common\r\n    path: services/api';
    const manifest = parseServicesManifest(text, 'toolkit.yaml', 'ghcr.io/acme/');
    expect(manifest.services).toEqual([
      {
        name: 'api',
        path: 'services/api',
        context: 'services/api',
        dockerfile: 'services/api/Dockerfile',
        image: 'ghcr.io/acme/api',
        chart: { name: 'api' },
        alsoChangedBy: ['shared/**'],
        tagPrefix: 'api/v',
      },
    ]);
  });

  it('the built action says where the manifest is missing or wrong', async () => {
    const dir = await tempDir('changed-services-manifest-');
    const git = await makeRepo(dir);
    await commit(git, 'feat: nothing yet');
    const missing = await runBuiltAction('changed-services', { workspace: dir });
    expect(missing.exitCode).toBe(1);
    expect(missing.log.join('\n')).toMatch(/manifest: toolkit\.yaml does not exist/);
    await writeFile(path.join(dir, 'toolkit.yaml'), 'services:\n  api:\n    path: /etc\n');
    const wrong = await runBuiltAction('changed-services', { workspace: dir, inputs: { 'image-prefix': 'ghcr.io/acme' } });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.log.join('\n')).toMatch(/toolkit\.yaml:3:11: services\.api\.path \("\/etc"\) is not allowed/);
    // A manifest that is a link out of the repository is refused, not followed.
    await rm(path.join(dir, 'toolkit.yaml'));
    await symlink('/etc/hostname', path.join(dir, 'toolkit.yaml'));
    const linked = await runBuiltAction('changed-services', { workspace: dir, inputs: { 'image-prefix': 'ghcr.io/acme' } });
    expect(linked.exitCode).toBe(1);
    expect(linked.log.join('\n')).toMatch(/toolkit\.yaml.*symbolic link/);
  });
});
