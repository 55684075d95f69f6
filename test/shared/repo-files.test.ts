import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { UserError, readRepoFile, writeRepoFile } from '@toolkit/shared';
import { tempDir } from '../support/temp.js';

/** A repository directory (`repo`) next to a directory outside it (`outside`, holding secret.txt). */
async function layout(): Promise<{ repo: string; outside: string }> {
  const dir = await tempDir();
  const repo = path.join(dir, 'repo');
  const outside = path.join(dir, 'outside');
  await mkdir(repo);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'do not touch\n');
  return { repo, outside };
}

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('readRepoFile', () => {
  it('reads regular files inside the repository, and says undefined for what does not exist', async () => {
    const { repo } = await layout();
    await mkdir(path.join(repo, 'a', 'b'), { recursive: true });
    await writeFile(path.join(repo, 'a', 'b', 'c.yaml'), 'x: 1\n');
    expect(await readRepoFile(repo, 'a/b/c.yaml')).toBe('x: 1\n');
    expect(await readRepoFile(repo, './a//b/c.yaml')).toBe('x: 1\n');
    expect(await readRepoFile(repo, 'missing.yaml')).toBeUndefined();
    expect(await readRepoFile(repo, 'nowhere/missing.yaml')).toBeUndefined();
  });

  it('refuses a symbolic link to outside, a dangling one and one inside, naming the path and where it points', async () => {
    const { repo, outside } = await layout();
    await symlink(path.join(outside, 'secret.txt'), path.join(repo, 'versions.yaml'));
    expect((await refusal(readRepoFile(repo, 'versions.yaml', { where: 'the environment repository' }))).message).toBe(
      `versions.yaml in the environment repository is a symbolic link (to ${JSON.stringify(path.join(outside, 'secret.txt'))}, outside the environment repository); ` +
        'only regular files inside the environment repository are read or written, and links are not followed, so nothing was read or written. ' +
        'Commit the file itself in place of the link.',
    );
    await symlink('gone.yaml', path.join(repo, 'dangling.yaml'));
    expect((await refusal(readRepoFile(repo, 'dangling.yaml'))).message).toContain(
      'dangling.yaml in the repository is a symbolic link (to "gone.yaml", which does not exist)',
    );
    await writeFile(path.join(repo, 'real.yaml'), 'x: 1\n');
    await symlink('real.yaml', path.join(repo, 'alias.yaml'));
    expect((await refusal(readRepoFile(repo, 'alias.yaml'))).message).toContain(
      'alias.yaml in the repository is a symbolic link (to "real.yaml")',
    );
  });

  it('refuses a path through a linked directory, a directory, and paths that leave the repository', async () => {
    const { repo, outside } = await layout();
    await symlink(outside, path.join(repo, 'charts'));
    expect((await refusal(readRepoFile(repo, 'charts/secret.txt'))).message).toContain(
      'charts (on the way to charts/secret.txt) in the repository is a symbolic link',
    );
    await mkdir(path.join(repo, 'dir'));
    expect((await refusal(readRepoFile(repo, 'dir'))).message).toContain('dir in the repository is a directory, not a file');
    await writeFile(path.join(repo, 'file'), '');
    expect((await refusal(readRepoFile(repo, 'file/x'))).message).toContain('file in the repository is not a directory');
    for (const bad of ['../outside/secret.txt', path.join(outside, 'secret.txt'), '.git/config', 'a/.GIT/hooks/pre-push', '', 'a\0b']) {
      expect((await refusal(readRepoFile(repo, bad))).message).toContain(
        `${JSON.stringify(bad)} is not allowed as a file in the repository`,
      );
    }
  });

  it('refuses a file over maxBytes before reading it', async () => {
    const { repo } = await layout();
    await writeFile(path.join(repo, 'big.yaml'), 'x'.repeat(11));
    expect(await readRepoFile(repo, 'big.yaml', { maxBytes: 11 })).toHaveLength(11);
    expect((await refusal(readRepoFile(repo, 'big.yaml', { maxBytes: 10 }))).message).toBe(
      'big.yaml in the repository is 11 bytes; at most 10 bytes are read, so it was not read.',
    );
  });
});

describe('writeRepoFile', () => {
  it('writes and replaces regular files, creating the directories on the way', async () => {
    const { repo } = await layout();
    await writeRepoFile(repo, 'umbrella/uat/Chart.yaml', 'name: uat\n');
    expect(await readFile(path.join(repo, 'umbrella', 'uat', 'Chart.yaml'), 'utf8')).toBe('name: uat\n');
    await writeRepoFile(repo, 'umbrella/uat/Chart.yaml', 'name: uat-2\n');
    expect(await readFile(path.join(repo, 'umbrella', 'uat', 'Chart.yaml'), 'utf8')).toBe('name: uat-2\n');
  });

  it('never writes through a link: a linked file, a dangling link, a linked directory', async () => {
    const { repo, outside } = await layout();
    await symlink(path.join(outside, 'secret.txt'), path.join(repo, 'versions.yaml'));
    await refusal(writeRepoFile(repo, 'versions.yaml', 'overwritten\n'));
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch\n');

    await symlink(path.join(outside, 'created.txt'), path.join(repo, 'dangling.yaml'));
    expect((await refusal(writeRepoFile(repo, 'dangling.yaml', 'x\n'))).message).toContain('which does not exist');
    expect(await readdir(outside)).toEqual(['secret.txt']);

    await symlink(outside, path.join(repo, 'umbrella'));
    await refusal(writeRepoFile(repo, 'umbrella/uat/Chart.yaml', 'name: uat\n'));
    expect(await readdir(outside)).toEqual(['secret.txt']);

    await refusal(writeRepoFile(repo, '../outside/secret.txt', 'x\n'));
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('do not touch\n');
  });
});
