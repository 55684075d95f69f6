import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { initRepository, validateRepository } from '@toolkit/cli';
import { parseServicesManifest } from '@toolkit/shared';
import { ROOT } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('toolkit init', () => {
  it('copies every template, filled in, and the result validates against the toolkit it calls', async () => {
    const dir = await tempDir('init-');
    const git = await makeRepo(dir);
    await commit(git, 'chore: start');
    const result = await initRepository({ root: ROOT, dir, org: 'acme/toolkit', ref: SHA, envRepo: 'acme/environments' });
    expect(result.written.sort()).toEqual([
      '.github/workflows/ci.yml',
      '.github/workflows/cut-release.yml',
      '.github/workflows/release-on-tag.yml',
      '.github/workflows/release-report.yml',
    ]);
    expect(await readFile(path.join(dir, '.github/workflows/release-report.yml'), 'utf8')).toContain(
      `uses: acme/toolkit/.github/workflows/release-report.yml@${SHA}`,
    );
    const release = await readFile(path.join(dir, '.github/workflows/release-on-tag.yml'), 'utf8');
    expect(release).toContain(`uses: acme/toolkit/.github/workflows/release.yml@${SHA}`);
    expect(release).toContain('environment-repository: acme/environments');
    expect(release).not.toMatch(/org\/(toolkit|environments)|\$chart-|\$dev-branch/);
    expect(release).toContain('chart-repository: oci://ghcr.io/acme/charts');
    // The one line naming the toolkit and its ref: the reusable workflows take the rest from job.workflow_sha.
    expect(release.match(/acme\/toolkit/g)).toHaveLength(1);
    expect(await readFile(path.join(dir, '.github/workflows/ci.yml'), 'utf8')).toContain('branches: [main]');
    expect(result.nextSteps.join('\n')).toMatch(/TOOLKIT_APP_ID[\s\S]*TOOLKIT_APP_PRIVATE_KEY[\s\S]*UAT-1\.0\.0/);

    // GitHub's parser (each caller's inputs against the toolkit's reusable workflows) and actionlint.
    const problems = await validateRepository(dir, { selfRepository: 'acme/toolkit', selfRoot: ROOT });
    expect(problems).toEqual([]);
    // The CLI finds the toolkit the workflows call by itself: no false "Unable to find reusable workflow".
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'packages/cli/lib/bin.js'), 'validate', '--root', dir], { encoding: 'utf8' });
    expect({ status: cli.status, stdout: cli.stdout }).toEqual({ status: 0, stdout: 'All actions and workflows are valid.\n' });
  });

  it('--monorepo writes the services templates and a toolkit.yaml of the folders with a Dockerfile, which validate and read back', async () => {
    const dir = await tempDir('init-monorepo-');
    const git = await makeRepo(dir);
    for (const folder of ['services/api', 'services/Web_Site', 'tools/migrate', 'shared/money', 'node_modules/x'])
      await mkdir(path.join(dir, folder), { recursive: true });
    for (const folder of ['services/api', 'services/Web_Site', 'tools/migrate', 'node_modules/x'])
      await writeFile(path.join(dir, folder, 'Dockerfile'), 'FROM busybox\n');
    await writeFile(path.join(dir, 'pnpm-lock.yaml'), 'lockfileVersion: 9\n');
    await commit(git, 'chore: start');
    const result = await initRepository({ root: ROOT, dir, org: 'acme/toolkit', ref: SHA, envRepo: 'acme/environments', monorepo: true });
    expect(result.written.sort()).toEqual([
      '.github/workflows/release-report.yml',
      '.github/workflows/services-ci.yml',
      '.github/workflows/services-cut-release.yml',
      '.github/workflows/services-release-on-tag.yml',
      'toolkit.yaml',
    ]);
    const manifest = parseServicesManifest(await readFile(path.join(dir, 'toolkit.yaml'), 'utf8'), 'toolkit.yaml', 'ghcr.io/acme/shop');
    expect(manifest.services.map((service) => [service.name, service.path, service.alsoChangedBy])).toEqual([
      ['api', 'services/api', ['shared/**', 'pnpm-lock.yaml']],
      ['web_site', 'services/Web_Site', ['shared/**', 'pnpm-lock.yaml']],
      ['migrate', 'tools/migrate', ['shared/**', 'pnpm-lock.yaml']],
    ]);
    expect(result.nextSteps.join('\n')).toMatch(/toolkit\.yaml lists api, web_site, migrate/);
    expect(await validateRepository(dir, { selfRepository: 'acme/toolkit', selfRoot: ROOT })).toEqual([]);
    // validate reads toolkit.yaml as changed-services does, each problem at its line.
    await writeFile(path.join(dir, 'toolkit.yaml'), 'services:\n  api:\n    path: services/api\n    dockerfle: Dockerfile\n');
    expect(await validateRepository(dir, { selfRepository: 'acme/toolkit', selfRoot: ROOT })).toEqual([
      { file: 'toolkit.yaml', line: 4, column: 5, message: 'services.api has an unknown key "dockerfle"', check: 'toolkit' },
    ]);
    // Nothing is overwritten, the manifest included.
    await expect(initRepository({ root: ROOT, dir, monorepo: true })).rejects.toThrow(/Not overwriting .*toolkit\.yaml/);
    const empty = await tempDir('init-monorepo-empty-');
    await commit(await makeRepo(empty), 'chore: start');
    await expect(initRepository({ root: ROOT, dir: empty, monorepo: true })).rejects.toThrow(/no folder .* has a Dockerfile/);
  });

  it('releases pushes of the chosen development branch to dev', async () => {
    const dir = await tempDir('init-dev-');
    await makeRepo(dir);
    await initRepository({ root: ROOT, dir, devBranch: 'develop' });
    expect(await readFile(path.join(dir, '.github/workflows/ci.yml'), 'utf8')).toContain('branches: [develop]');
    await expect(initRepository({ root: ROOT, dir, devBranch: '-x', force: true })).rejects.toThrow(
      /--dev-branch "-x" is not a branch name/,
    );
    await expect(initRepository({ root: ROOT, dir, chartRepository: 'ftp://x', force: true })).rejects.toThrow(
      /--chart-repository "ftp:\/\/x" is not allowed; expected an https:\/\/ or oci:\/\/ URL/,
    );
  });

  it('refuses to overwrite without --force, writing nothing; with --force it replaces', async () => {
    const dir = await tempDir('init-existing-');
    await makeRepo(dir);
    await initRepository({ root: ROOT, dir });
    const mine = path.join(dir, '.github/workflows/ci.yml');
    await writeFile(mine, 'name: mine\n');
    await expect(initRepository({ root: ROOT, dir, ref: 'v2' })).rejects.toThrow(
      /Not overwriting .github\/workflows\/ci.yml, .github\/workflows\/cut-release.yml, .github\/workflows\/release-on-tag.yml, .github\/workflows\/release-report.yml; nothing was written/,
    );
    expect(await readFile(mine, 'utf8')).toBe('name: mine\n');
    await initRepository({ root: ROOT, dir, ref: 'v2', force: true });
    expect(await readFile(mine, 'utf8')).toContain('uses: org/toolkit/.github/workflows/release.yml@v2');
  });

  it('refuses a bad --org, --ref or --env-repo, naming it and what is allowed', async () => {
    const dir = await tempDir('init-bad-');
    await expect(initRepository({ root: ROOT, dir, org: 'acme' })).rejects.toThrow(/--org "acme" is not allowed; expected owner\/name/);
    await expect(initRepository({ root: ROOT, dir, ref: 'main; rm -rf /' })).rejects.toThrow(
      /--ref "main; rm -rf \/" is not allowed; expected a major tag/,
    );
    await expect(initRepository({ root: ROOT, dir, envRepo: '../x' })).rejects.toThrow(/--env-repo "..\/x" is not allowed/);
  });
});
