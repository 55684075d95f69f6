import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { initRepository, validateRepository } from '@toolkit/cli';
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
