/**
 * Promotions that race for one environment repository, through real git: many promote processes
 * at once all land, and a branch that keeps moving while a rejected run waits costs it looks
 * (fetches), not attempts. How fast they land is bench/promote.mjs's to say, not a test's.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Git, writeWithGit } from '@toolkit/shared';
import { parse } from 'yaml';
import { promotionEdit } from '../../actions/promote/src/promote.js';
import { runBuiltAction } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const meta = { actor: 'octocat', runUrl: 'https://github.com/acme/app/actions/runs/1', now: '2026-11-23T05:00:00Z' };

async function environmentRepo(): Promise<{ dir: string; bare: string; git: Git }> {
  const dir = await tempDir();
  const seed = await makeRepo(path.join(dir, 'seed'));
  await writeFile(path.join(seed.cwd, 'versions.yaml'), 'environments:\n  uat:\n    services: {}\n');
  await seed.run(['add', 'versions.yaml']);
  await commit(seed, 'chore: start the environment repository');
  const bare = path.join(dir, 'env.git');
  await seed.run(['clone', '--quiet', '--bare', seed.cwd, bare]);
  return { dir, bare, git: new Git({ cwd: bare }) };
}

const bump = (service: string, version: string) =>
  promotionEdit({ operation: 'bump', environment: 'uat', services: [{ name: service, version }], allowSkip: false, meta }, 'versions.yaml')
    .edit;

describe('promote: promotions racing for one repository', () => {
  it('lands all of 50 promote processes started at once, each service once, in 50 commits', async () => {
    const { dir, bare, git } = await environmentRepo();
    const services = Array.from({ length: 50 }, (_, index) => `svc-${index}`);
    const results = await Promise.all(
      services.map((service) =>
        runBuiltAction('promote', {
          workspace: dir,
          inputs: { repository: `file://${bare}`, environment: 'uat', service, version: '1.0.0' },
          timeoutMs: 240_000,
        }),
      ),
    );
    const failed = results.filter((result) => result.exitCode !== 0).map((result) => result.log.join('\n'));
    expect(failed).toEqual([]);
    expect(results.map((result) => result.outputs.changed)).toEqual(services.map(() => 'true'));
    const landed = parse(await git.output(['show', 'main:versions.yaml'])).environments.uat.services;
    expect(Object.keys(landed).sort()).toEqual([...services].sort());
    expect(await git.output(['rev-list', '--count', 'main'])).toBe('51');
  }, 300_000);

  it('waits while the branch keeps moving, then pushes once: the moves cost looks, not attempts', async () => {
    const { dir, bare, git } = await environmentRepo();
    const racer = await makeRepo(path.join(dir, 'racer'));
    await racer.run(['pull', '--quiet', `file://${bare}`, 'main']);
    const race = async (message: string) => {
      await commit(racer, message);
      await racer.run(['push', '--quiet', `file://${bare}`, 'HEAD:main']);
    };
    let edits = 0;
    let waits = 0;
    const edit = bump('api', '2.0.0');
    const result = await writeWithGit(new Git({ cwd: dir }), `file://${bare}`, dir, {
      maxAttempts: 2,
      author: { name: 'Release Bot', email: 'bot@example.test' },
      authorGiven: true,
      log: () => undefined,
      // Another run lands during the first attempt, and during the first two waits after it.
      edit: async (read) => {
        edits += 1;
        if (edits === 1) await race('chore: lands first');
        return edit(read);
      },
      sleep: async () => {
        waits += 1;
        if (waits <= 2) await race(`chore: lands while waiting ${waits}`);
      },
    });
    // With max-attempts 2, a push made while the branch still moved would have lost and failed.
    expect(result).toMatchObject({ changed: true, attempts: 2 });
    expect(waits).toBe(3);
    expect(edits).toBe(2);
    expect((await git.output(['log', '--format=%s', 'main'])).split('\n').slice(0, 4)).toEqual([
      'bump(uat): api 2.0.0',
      'chore: lands while waiting 2',
      'chore: lands while waiting 1',
      'chore: lands first',
    ]);
  });
});
