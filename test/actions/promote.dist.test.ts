import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Git, parseVersionsFile } from '@toolkit/shared';
import { type GitHttpServer, startGitHttpServer } from '../support/git-http-server.js';
import { runBuiltAction } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const TOKEN = 'ghs_promote_dist_token_0123456789';
const DIGEST = `sha256:${'c'.repeat(64)}`;
let server: GitHttpServer;
let served: Git;

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
