import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from '@jest/globals';
import { Git } from '@toolkit/shared';

const created: string[] = [];
// Registered when a test file imports this module, so `tempDir` may be called inside tests.
afterAll(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A temporary directory removed after the test file's last test. */
export async function tempDir(prefix = 'toolkit-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

const COMMITTER = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
};

/** A real git repository on disk with a fixed identity and `main` as its branch. */
export async function makeRepo(dir: string): Promise<Git> {
  await mkdir(dir, { recursive: true });
  const git = new Git({ cwd: dir, env: COMMITTER });
  await git.run(['init', '--quiet', '--initial-branch=main']);
  return git;
}

export async function commit(git: Git, message: string): Promise<string> {
  await git.run(['commit', '--quiet', '--allow-empty', '-m', message]);
  return git.output(['rev-parse', 'HEAD']);
}
