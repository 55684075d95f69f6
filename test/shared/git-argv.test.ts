/**
 * Input never becomes an option to git: positionals from input follow `--`, remotes and URLs are
 * checked before git sees them, and git's transports exclude remote helpers such as ext::. Every
 * hostile value here is the command `touch <marker>`: the marker must never appear.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type CommandRunner, Git, InputError, InputReader, UserError, checkGitUrl, runAction, runCommand } from '@toolkit/shared';
import { getInputs as releaseContextInputs } from '../../actions/release-context/src/main.js';
import { main as promoteMain, repositoryUrl } from '../../actions/promote/src/main.js';
import { getInputs as semanticTagInputs } from '../../actions/semantic-tag/src/main.js';
import { ensureCompleteHistory, runSemanticTag } from '../../actions/semantic-tag/src/semantic-tag.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';
import { semanticTagConfig } from '../support/semantic-tag.js';

function recordingRunner(calls: (readonly string[])[]): CommandRunner {
  return (file, args, options) => {
    calls.push(args);
    return runCommand(file, args, options);
  };
}

async function markerPath(): Promise<string> {
  return path.join(await tempDir('git-argv-'), 'ran');
}

/** A repository with one commit and a bare `origin` it has pushed to. */
async function repoWithOrigin() {
  const dir = await tempDir();
  const work = await makeRepo(path.join(dir, 'work'));
  const head = await commit(work, 'feat: first');
  await work.run(['init', '--quiet', '--bare', path.join(dir, 'origin.git')]);
  await work.run(['remote', 'add', 'origin', path.join(dir, 'origin.git')]);
  await work.run(['push', '--quiet', 'origin', 'main']);
  return { dir, work, head };
}

describe('git argv from input', () => {
  it('refuses a remote that git would read as --upload-pack=<command>, clearly, and runs nothing', async () => {
    const { work } = await repoWithOrigin();
    const marker = await markerPath();
    const hostile = `--upload-pack=touch ${marker}`;
    const git = new Git({ cwd: work.cwd });
    await expect(git.remoteTagCommits(['v1.0.0'], hostile)).rejects.toThrow(UserError);
    await expect(git.remoteTagCommits(['v1.0.0'], hostile)).rejects.toThrow(
      `The git remote ${JSON.stringify(hostile)} is not allowed; expected the name of a git remote of the checkout, such as origin`,
    );
    await expect(git.tagCommits(['v1.0.0'], hostile)).rejects.toThrow('is not allowed');
    await expect(git.hasRemote(hostile)).rejects.toThrow('is not allowed');
    expect(existsSync(marker)).toBe(false);
  });

  it('puts -- before every remote, so even an unchecked positional is never an option', async () => {
    const { work, head } = await repoWithOrigin();
    await work.run(['tag', 'v1.0.0', head]);
    await work.run(['push', '--quiet', 'origin', 'refs/tags/v1.0.0']);
    const calls: (readonly string[])[] = [];
    const git = new Git({ cwd: work.cwd, run: recordingRunner(calls) });
    expect(Object.fromEntries(await git.remoteTagCommits(['v1.0.0'], 'origin'))).toEqual({ 'v1.0.0': head });
    expect(calls.find((args) => args[0] === 'ls-remote')).toEqual(['ls-remote', '--', 'origin', 'refs/tags/v1.0.0', 'refs/tags/v1.0.0^{}']);
  });

  it('lets git use no remote helper (ext:: runs a command), even where the configuration allows it', async () => {
    const { work } = await repoWithOrigin();
    const marker = await markerPath();
    // A runner's (or a repository's) configuration that allows every transport.
    await work.run(['config', 'protocol.allow', 'always']);
    const git = new Git({ cwd: work.cwd });
    const attempt = await git.run(['ls-remote', '--', `ext::sh -c touch% ${marker}`], { allowFailure: true });
    expect(attempt.exitCode).not.toBe(0);
    expect(attempt.stderr).toMatch(/transport 'ext' not allowed/);
    expect(existsSync(marker)).toBe(false);
  });

  it('allows https, ssh, user@host:path and file:/// URLs; http and git only to loopback; refuses options, helpers, paths', () => {
    for (const url of [
      'https://github.com/acme/env.git',
      'ssh://git@git.example:2222/acme/env.git',
      'git@github.com:acme/env.git',
      'file:///srv/env.git',
      // Worked before the checks, and are no option or helper: a local path, scp form without a user, an ~/.ssh/config alias.
      '/srv/git/env.git',
      'github.com:acme/env.git',
      'deploy-alias:acme/env.git',
      'http://127.0.0.1:8080/env.git',
      'git://localhost/env.git',
    ])
      expect(checkGitUrl(url, 'repository')).toBe(url);
    const refusals: [string, string][] = [
      ['--upload-pack=touch /tmp/x', 'it starts with "-", so git would read it as an option'],
      ['-uhttps://x', 'it starts with "-"'],
      ['ext::sh -c touch% /tmp/x', 'it contains a space or a control character'],
      ['ext::sh', 'it names a git remote helper (<transport>::…), which can run commands'],
      ['fd::7', 'it names a git remote helper'],
      ['http://git.example/env.git', 'http:// is not encrypted, so it is allowed only to 127.0.0.1 or localhost'],
      ['git://git.example/env.git', 'git:// is not encrypted'],
      ['ssh://-oProxyCommand=touch%20x/env.git', 'its host or user is missing or starts with "-"'],
      ['git@host:--upload-pack=x', 'it is neither a URL with a scheme, [user@]host:path, nor an absolute path'],
      ['../env', 'it is neither a URL with a scheme, [user@]host:path, nor an absolute path'],
      ['ftp://git.example/env.git', 'the scheme ftp:// is not one git should be given'],
      ['https://git.example/env.git\n--upload-pack=x', 'it contains a space or a control character'],
    ];
    for (const [url, problem] of refusals) {
      expect(() => checkGitUrl(url, 'repository')).toThrow(InputError);
      expect(() => checkGitUrl(url, 'repository')).toThrow(`Invalid input "repository": ${JSON.stringify(url)} is not allowed (${problem}`);
    }
    expect(() => checkGitUrl('--upload-pack=x')).toThrow('The git URL "--upload-pack=x" is not allowed');
  });

  it('promote: a repository of --upload-pack=touch <file> is refused as the input, before git runs, and creates nothing', async () => {
    const marker = await markerPath();
    const hostile = `--upload-pack=touch ${marker}`;
    expect(() => repositoryUrl(hostile, 'https://github.com')).toThrow(InputError);
    expect(repositoryUrl('acme/env', 'https://github.com').url).toBe('https://github.com/acme/env.git');

    const workRoot = await tempDir();
    const inputs: Record<string, string> = {
      INPUT_REPOSITORY: hostile,
      INPUT_ENVIRONMENT: 'uat',
      INPUT_SERVICE: 'api',
      INPUT_VERSION: '1.0.0',
      INPUT_OPERATION: 'bump',
      'INPUT_COMMIT-MODE': 'git',
      RUNNER_TEMP: workRoot,
    };
    const saved = Object.fromEntries(Object.keys(inputs).map((name) => [name, process.env[name]]));
    Object.assign(process.env, inputs);
    const failed: string[] = [];
    try {
      await runAction(promoteMain, { setFailed: (message) => failed.push(message), debug: () => undefined });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(failed).toEqual([
      `Invalid input "repository": ${JSON.stringify(hostile)} is not allowed (it starts with "-", so git would read it as an option); expected an https:// or ssh:// URL, or user@host:path (such as git@github.com:acme/environments.git); file:///… for a repository on this machine, and http:// or git:// only to 127.0.0.1 or localhost.`,
    ]);
    expect(existsSync(marker)).toBe(false);
  });

  it('semantic-tag and release-context: a remote that is not a remote name is refused as the input', async () => {
    const marker = await markerPath();
    const hostile = `--upload-pack=touch ${marker}`;
    const reader = (values: Record<string, string>) => new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined });
    expect(() => semanticTagInputs(reader({ 'initial-version': '0.1.0', remote: hostile }))).toThrow(
      `Invalid input "remote": ${JSON.stringify(hostile)} is not allowed; expected the name of a git remote of the checkout, such as origin`,
    );
    expect(semanticTagInputs(reader({ 'initial-version': '0.1.0', remote: 'upstream' })).remote).toBe('upstream');
    expect(semanticTagInputs(reader({ 'initial-version': '0.1.0' })).remote).toBe('origin');
    expect(() =>
      releaseContextInputs(
        reader({
          ref: 'refs/tags/UAT-1.0.0',
          'promotion-order': 'uat,prod',
          'environment-prefixes': 'UAT-=uat,PROD-=prod',
          remote: hostile,
        }),
      ),
    ).toThrow('Invalid input "remote"');

    // And the library refuses it too, with nothing tagged, pushed or run.
    const { work, head } = await repoWithOrigin();
    const attempt = runSemanticTag(semanticTagConfig({ annotate: false, environmentTags: [], remote: hostile }), {
      git: new Git({ cwd: work.cwd }),
    });
    await expect(attempt).rejects.toThrow(`The git remote ${JSON.stringify(hostile)} is not allowed`);
    expect(await work.output(['tag', '--list'])).toBe('');
    expect(await work.output(['rev-parse', 'HEAD'])).toBe(head);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('failures at the git boundary keep their kind', () => {
  it('a shallow checkout whose fetch git refuses is the user’s to fix; a failure that is not git’s answer stays internal', async () => {
    const { dir, work } = await repoWithOrigin();
    await commit(work, 'fix: second');
    await work.run(['push', '--quiet', 'origin', 'main']);
    const shallow = path.join(dir, 'shallow');
    await work.run(['clone', '--quiet', '--depth=1', '--branch', 'main', `file://${path.join(dir, 'origin.git')}`, shallow]);
    expect(await new Git({ cwd: shallow }).output(['rev-parse', '--is-shallow-repository'])).toBe('true');

    // git itself refuses (the remote is gone): a UserError that says which fetch-depth to use.
    const gone = new Git({ cwd: shallow });
    await gone.run(['remote', 'set-url', 'origin', path.join(dir, 'nowhere.git')]);
    await expect(ensureCompleteHistory(gone, 'origin', () => undefined)).rejects.toThrow(UserError);

    // A failure that is no answer of git's (here a bug in the runner) is not blamed on the checkout.
    const bug = new TypeError("Cannot read properties of undefined (reading 'stdout')");
    const broken = new Git({
      cwd: shallow,
      run: (file, args, options) => (args[0] === 'fetch' ? Promise.reject(bug) : runCommand(file, args, options)),
    });
    await expect(ensureCompleteHistory(broken, 'origin', () => undefined)).rejects.toBe(bug);
  });
});
