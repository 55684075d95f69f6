import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Git, parseVersionsFile } from '@toolkit/shared';
import { parse } from 'yaml';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { runBuiltAction } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const TOKEN = 'ghs_promote_dist_token_0123456789';
const DIGEST = `sha256:${'c'.repeat(64)}`;
let server: GitHttpServer;
let served: Git;
/** A new environment repository: one commit, no versions.yaml yet. */
let fresh: Git;

beforeAll(async () => {
  const dir = await tempDir();
  const seed = await makeRepo(path.join(dir, 'seed'));
  await writeFile(
    path.join(seed.cwd, 'versions.yaml'),
    '# acme environments\nenvironments:\n  dev:\n    services:\n      api:\n        version: 1.0.0\n  uat:\n    services: {}\n',
  );
  await seed.run(['add', 'versions.yaml']);
  await commit(seed, 'chore: start');
  await mkdir(path.join(dir, 'served', 'acme'), { recursive: true });
  await seed.run(['clone', '--quiet', '--bare', seed.cwd, path.join(dir, 'served', 'acme', 'env.git')]);
  served = new Git({ cwd: path.join(dir, 'served', 'acme', 'env.git') });
  const empty = await makeRepo(path.join(dir, 'empty'));
  await commit(empty, 'chore: a new environment repository');
  await empty.run(['clone', '--quiet', '--bare', empty.cwd, path.join(dir, 'served', 'acme', 'fresh.git')]);
  fresh = new Git({ cwd: path.join(dir, 'served', 'acme', 'fresh.git') });
  server = await startGitHttpServer(path.join(dir, 'served'), `basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`);
});

afterAll(() => server.close());

const env = () => ({
  GITHUB_SERVER_URL: server.url.replace(/\/$/, ''),
  GITHUB_REPOSITORY: 'acme/api',
  GITHUB_RUN_ID: '42',
  GITHUB_SHA: 'abcdef1234567',
  GITHUB_ACTOR: 'octocat',
});

describe('promote built dist under Node 24, against an HTTP git server that wants the token', () => {
  it('bumps, then promotes dev to uat, with outputs and a summary; the token shows nowhere', async () => {
    const bump = await runBuiltAction('promote', {
      inputs: {
        repository: 'acme/env',
        token: TOKEN,
        environment: 'dev',
        service: 'api',
        version: '1.1.0',
        digest: DIGEST,
        image: 'ghcr.io/acme/api',
      },
      env: env(),
    });
    expect(bump.log.join('\n')).not.toContain(TOKEN);
    expect(bump.exitCode).toBe(0);
    expect(bump.outputs).toMatchObject({ changed: 'true', 'previous-version': '1.0.0', 'pull-request-url': '' });
    expect(bump.outputs.commit).toBe(await served.output(['rev-parse', 'main']));
    expect(bump.outputs.diff).toBe(
      `| Environment | Service | Before | After |\n| --- | --- | --- | --- |\n| dev | api | 1.0.0 | 1.1.0 (sha256:cccccccccccc…) |\n`,
    );
    expect(bump.summary).toContain('<h3>Bump dev</h3>');
    expect(bump.summary).toContain('<td>1.1.0 (sha256:cccccccccccc…)</td>');

    const promote = await runBuiltAction('promote', {
      inputs: { repository: 'acme/env', token: TOKEN, operation: 'promote', from: 'dev', to: 'uat' },
      env: env(),
    });
    expect(promote.exitCode).toBe(0);
    // What the deploy step pins: exactly what dev recorded, no rebuild.
    expect(promote.outputs).toMatchObject({ version: '1.1.0', image: 'ghcr.io/acme/api', digest: DIGEST });
    const file = await served.output(['show', 'main:versions.yaml']);
    expect(file.startsWith('# acme environments\nenvironments:\n  dev:\n')).toBe(true);
    expect(parseVersionsFile(file).data.environments.uat?.services?.api).toEqual({
      version: '1.1.0',
      image: 'ghcr.io/acme/api',
      digest: DIGEST,
      commit: 'abcdef1234567',
      deployed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      deployed_by: 'octocat',
      run_url: `${server.url}acme/api/actions/runs/42`,
    });
    expect(await served.output(['log', '-1', '--format=%an%n%s', 'main'])).toBe('github-actions[bot]\npromote(uat from dev): api 1.1.0');
  });

  it('fails with one clear line on a bad request and leaves the repository unchanged', async () => {
    const before = await served.output(['rev-parse', 'main']);
    const result = await runBuiltAction('promote', {
      inputs: { repository: 'acme/env', token: TOKEN, operation: 'promote', from: 'dev', to: 'prod' },
      env: env(),
    });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain(
      'Error: Invalid input "to": promoting from "dev" to "prod" skips uat in the promotion order (dev, uat, prod); promote to uat first, or set allow-skip: true.',
    );
    expect(await served.output(['rev-parse', 'main'])).toBe(before);
  });

  it('says clearly when the token is wrong', async () => {
    const result = await runBuiltAction('promote', {
      inputs: { repository: 'acme/env', token: 'ghs_wrong', environment: 'dev', service: 'api', version: '9.9.9' },
      env: env(),
    });
    expect(result.exitCode).toBe(1);
    expect(result.log.join('\n')).toMatch(
      /Error: `git clone .*` exited with code 128:\n.*(Authentication failed|could not read Username)/s,
    );
  });
});

describe('promote built dist under Node 24: a release recorded whole, or not at all', () => {
  const release = (inputs: Record<string, string>) =>
    runBuiltAction('promote', {
      inputs: { repository: 'acme/fresh', token: TOKEN, environment: 'uat', 'umbrella-chart': 'true', ...inputs },
      env: env(),
    });

  it('writes versions.yaml and the umbrella chart in exactly one new commit on the first release into a new environment repository', async () => {
    const before = await fresh.output(['rev-parse', 'main']);
    const result = await release({
      service: 'api',
      version: '1.4.0',
      digest: DIGEST,
      image: 'ghcr.io/acme/api',
      'chart-version': '0.7.0',
      'chart-repository': 'oci://ghcr.io/acme/charts',
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ changed: 'true', 'umbrella-chart-dir': 'umbrella/uat', 'umbrella-chart-version': '0.1.0' });
    expect(await fresh.output(['log', '--format=%H %s', `${before}..main`])).toBe(`${result.outputs.commit} bump(uat): api 1.4.0`);
    expect((await fresh.output(['show', '--name-only', '--format=', 'main'])).split('\n')).toEqual([
      'umbrella/uat/Chart.yaml',
      'umbrella/uat/values.yaml',
      'versions.yaml',
    ]);
    expect(parseVersionsFile(await fresh.output(['show', 'main:versions.yaml'])).data.environments.uat?.services?.api?.chart).toEqual({
      version: '0.7.0',
      repository: 'oci://ghcr.io/acme/charts',
    });
    expect(parse(await fresh.output(['show', 'main:umbrella/uat/Chart.yaml'])).dependencies).toEqual([
      { name: 'api', version: '0.7.0', repository: 'oci://ghcr.io/acme/charts', condition: 'api.enabled' },
    ]);
    expect(result.summary).toContain('Umbrella chart uat-umbrella 0.1.0 written to umbrella/uat, in the same commit.');
  });

  it('fails before anything is pushed when the chart cannot be generated, saying what to set', async () => {
    const before = await fresh.output(['rev-parse', 'main']);
    const result = await release({ service: 'web', version: '2.0.0' });
    expect(result.exitCode).toBe(1);
    expect(result.log.join('\n')).toContain(
      'Error: The umbrella chart of "uat" cannot be generated, so nothing was committed (versions.yaml and the chart are written together, or not at all): ' +
        'Service "web" in uat has no chart version (chart.version in versions.yaml); its chart cannot be pinned. ' +
        `Set environments.uat.services.web.chart.version in versions.yaml, or give promote's chart-version input when bumping "web".`,
    );
    expect(await fresh.output(['rev-parse', 'main'])).toBe(before);
  });

  it('refuses a downgrade, leaving the branch unchanged, unless allow-downgrade', async () => {
    const before = await fresh.output(['rev-parse', 'main']);
    const refused = await release({ service: 'api', version: '1.3.9', digest: `sha256:${'d'.repeat(64)}` });
    expect(refused.exitCode).toBe(1);
    expect(refused.log).toContain(
      'Error: service "api" in "uat" is at 1.4.0; a bump to 1.3.9 would downgrade it (1.4.0 → 1.3.9), so nothing was written. ' +
        'To go back to the release before, use operation: rollback; to record the lower version on purpose, set allow-downgrade: true.',
    );
    expect(await fresh.output(['rev-parse', 'main'])).toBe(before);

    const allowed = await release({ service: 'api', version: '1.3.9', 'allow-downgrade': 'true' });
    expect(allowed.exitCode).toBe(0);
    expect(allowed.outputs).toMatchObject({ changed: 'true', 'previous-version': '1.4.0', 'umbrella-chart-version': '0.1.1' });
    expect(await fresh.output(['rev-list', '--count', `${before}..main`])).toBe('1');
  });

  it('records the same version with another digest, with a warning saying what it found', async () => {
    const rebuilt = `sha256:${'e'.repeat(64)}`;
    expect((await release({ service: 'api', version: '1.4.0', digest: DIGEST })).exitCode).toBe(0);
    const result = await release({ service: 'api', version: '1.4.0', digest: rebuilt });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.changed).toBe('true');
    expect(result.log).toContain(
      `Warning: service "api" in "uat" is already at 1.4.0, with digest ${DIGEST}; recording 1.4.0 again with digest ${rebuilt} (the same version, another image). ` +
        'The release before, with the old digest, is kept as previous.',
    );
    // A re-run changes nothing and commits nothing, but still says what is recorded.
    const again = await release({ service: 'api', version: '1.4.0', digest: rebuilt });
    expect(again.outputs).toMatchObject({ changed: 'false', commit: '', version: '1.4.0', image: 'ghcr.io/acme/api', digest: rebuilt });
    expect(again.log).toContain('versions.yaml and umbrella/uat already say this: no commit.');
  });
});
