import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { CommandError, type CommandRunner, Git, runCommand } from '@toolkit/shared';
import { startGitHttpServer } from '../support/git-http-server.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const TOKEN = 'ghs_TopSecretToken1234567890';
const EXPECTED_AUTH = `basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;

/** A repository `app.git` with one commit, served over HTTP by git http-backend, wanting TOKEN. */
async function servedRepository() {
  const dir = await tempDir();
  const source = await makeRepo(path.join(dir, 'source'));
  await commit(source, 'first');
  await source.run(['clone', '--quiet', '--bare', source.cwd, path.join(dir, 'served', 'app.git')]);
  return { dir, server: await startGitHttpServer(path.join(dir, 'served'), EXPECTED_AUTH) };
}

afterEach(() => {
  jest.restoreAllMocks();
});

/** Records every argv git is run with, and the environment it was given. */
function recordingRunner(calls: { args: readonly string[]; env: Record<string, string> }[]): CommandRunner {
  return (file, args, options) => {
    calls.push({ args: [file, ...args], env: options?.env ?? {} });
    return runCommand(file, args, options);
  };
}

describe('Git', () => {
  it('hands a token to git over HTTP without it reaching argv, logs or .git/config', async () => {
    const { dir, server } = await servedRepository();
    const printed: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      const calls: { args: readonly string[]; env: Record<string, string> }[] = [];
      const git = new Git({ cwd: dir, auth: { token: TOKEN, url: server.url }, run: recordingRunner(calls) });
      await git.run(['clone', '--quiet', `${server.url}app.git`, 'clone']);
      const clone = git.at(path.join(dir, 'clone'));
      await clone.run(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '--allow-empty', '-m', 'second']);
      await clone.run(['push', '--quiet', 'origin', 'HEAD:main']);

      // The server saw the token on every authorised request, and the push landed.
      expect(server.authorizations.filter((header) => header === EXPECTED_AUTH).length).toBeGreaterThanOrEqual(2);
      const served = new Git({ cwd: path.join(dir, 'served', 'app.git') });
      expect(await served.output(['log', '-1', '--format=%s', 'main'])).toBe('second');

      // It was never in argv, nor in the clone's config, nor printed other than as a mask.
      const header = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
      for (const call of calls) expect(call.args.join(' ')).not.toMatch(new RegExp(`${TOKEN}|${header}`));
      expect(await readFile(path.join(dir, 'clone', '.git', 'config'), 'utf8')).not.toContain(header);
      expect(printed.join('')).toContain(`::add-mask::${TOKEN}`);
      expect(printed.join('')).toContain(`::add-mask::${header}`);
      expect(printed.join('').replaceAll(`::add-mask::${TOKEN}`, '').replaceAll(`::add-mask::${header}`, '')).not.toMatch(
        new RegExp(`${TOKEN}|${header}`),
      );
    } finally {
      await server.close();
    }
  });

  it('replaces a header that actions/checkout persisted instead of sending both', async () => {
    const { dir, server } = await servedRepository();
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const checkout = await makeRepo(path.join(dir, 'checkout'));
      const persisted = `AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_checkout_token').toString('base64')}`;
      await checkout.run(['config', `http.${server.url}.extraheader`, persisted]);
      await checkout.run(['remote', 'add', 'origin', `${server.url}app.git`]);

      // With only the persisted header, the server (which wants TOKEN) refuses.
      await expect(checkout.run(['ls-remote', 'origin'])).rejects.toThrow(CommandError);
      server.authorizations.length = 0;

      const withToken = new Git({ cwd: checkout.cwd, auth: { token: TOKEN, url: server.url } });
      await withToken.run(['ls-remote', 'origin']);
      expect(new Set(server.authorizations)).toEqual(new Set([EXPECTED_AUTH]));
    } finally {
      await server.close();
    }
  });

  it('sends the token to no other host, and fails fast instead of prompting', async () => {
    const { dir, server } = await servedRepository();
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const git = new Git({ cwd: dir, auth: { token: TOKEN, url: 'https://github.com/' } });
      const clone = git.run(['clone', '--quiet', `${server.url}app.git`, 'clone']);
      await expect(clone).rejects.toThrow(CommandError);
      expect(server.authorizations).not.toContain(EXPECTED_AUTH);
    } finally {
      await server.close();
    }
  });

  it('names the command, its exit code and its stderr when git fails', async () => {
    const dir = await tempDir();
    const git = await makeRepo(dir);
    const failure = await git.run(['rev-parse', 'no such ref'], {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandError);
    const error = failure as CommandError;
    expect(error.exitCode).toBe(128);
    expect(error.message).toMatch(/^`git rev-parse 'no such ref'` exited with code 128:\n.*no such ref/s);
    expect(error.command).toEqual(['git', 'rev-parse', 'no such ref']);
  });

  it('finds tag commits locally first and asks the remote only for the rest, peeling annotated tags', async () => {
    const dir = await tempDir();
    const upstream = await makeRepo(path.join(dir, 'upstream'));
    const first = await commit(upstream, 'first');
    const second = await commit(upstream, 'second');
    await upstream.run(['tag', 'UAT-1.0.0', first]);
    await upstream.run(['tag', '-a', '-m', 'release', 'PROD-1.0.0', first]);
    await upstream.run(['tag', 'UAT-2.0.0', second]);
    await upstream.run([
      'clone',
      '--quiet',
      '--depth=1',
      '--no-tags',
      '--branch',
      'UAT-2.0.0',
      `file://${upstream.cwd}`,
      path.join(dir, 'ci'),
    ]);

    const calls: { args: readonly string[]; env: Record<string, string> }[] = [];
    const ci = new Git({ cwd: path.join(dir, 'ci'), run: recordingRunner(calls) });
    // A clone of a tag (as actions/checkout makes for a tag push) holds that tag and no other.
    expect(await ci.output(['tag', '--list'])).toBe('UAT-2.0.0');

    const commits = await ci.tagCommits(['UAT-2.0.0', 'UAT-1.0.0', 'PROD-1.0.0', 'PROD-9.9.9']);
    expect(Object.fromEntries(commits)).toEqual({ 'UAT-2.0.0': second, 'UAT-1.0.0': first, 'PROD-1.0.0': first, 'PROD-9.9.9': undefined });
    const lsRemote = calls.filter((call) => call.args[1] === 'ls-remote');
    expect(lsRemote).toHaveLength(1);
    expect(lsRemote[0]?.args).not.toContain('refs/tags/UAT-2.0.0');

    // Without that remote, only local tags count.
    const alone = await ci.tagCommits(['UAT-1.0.0'], 'nowhere');
    expect(alone.get('UAT-1.0.0')).toBeUndefined();
  });
});
