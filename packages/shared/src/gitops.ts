/**
 * The one way actions write to an environment repository (promote's versions.yaml, umbrella-chart's
 * chart): git (push, retried when the branch moved), pull-request, or api (the Git Data API).
 *
 * An edit is a function of the repository's files as they are now, so every mode can apply it
 * again to whatever the branch has become: nothing is ever merged as text.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CommandError, UserError } from './errors.js';
import { type FileHistory, apiFileHistory, gitFileHistory } from './file-history.js';
import { type Git, checkGitUrl } from './git.js';
import { type GitHubClient, type Repository, parseRepository } from './github.js';
import { nodeCrypto } from './node-crypto.js';
import { readRepoFile, writeRepoFile } from './repo-files.js';

/** What an edit writes: files (path in the repository → content), and the commit message. */
export interface RepositoryEdit {
  files: Record<string, string>;
  message: string;
}

export type { FileHistory, FileVersion, GitFileHistoryOptions } from './file-history.js';
export { gitFileHistory } from './file-history.js';

/** Reads a file of the repository as it is now (undefined when it does not exist). */
export type ReadFile = (file: string) => Promise<string | undefined>;

/**
 * The repository as it will be once `files` are written: an edit that writes several files, each
 * derived from the ones before (versions.yaml, then the chart generated from it), reads through it.
 */
export function readingEdited(read: ReadFile, files: Readonly<Record<string, string>>): ReadFile {
  return async (file) => (Object.hasOwn(files, file) ? files[file] : read(file));
}

export interface GitOpsOptions {
  /** The branch to write to (or to open pull requests against); the default branch when empty. */
  branch?: string;
  maxAttempts: number;
  author: { name: string; email: string };
  /** Whether `author` was chosen (the API mode otherwise leaves it to GitHub, which then signs). */
  authorGiven: boolean;
  /**
   * The edit, on the files as they are now (and, for an edit that needs it, the history of a file on
   * the branch: promote's rollback); undefined when there is nothing to change.
   */
  edit: (read: ReadFile, history?: FileHistory) => Promise<RepositoryEdit | undefined>;
  log: (message: string) => void;
  /** Waits before a retry; jittered exponential backoff by default. */
  sleep?: (attempt: number) => Promise<void>;
}

export interface GitOpsResult {
  changed: boolean;
  commit?: string;
  pullRequestUrl?: string;
  attempts: number;
}

/**
 * A jittered wait: a random time up to `windowMs`. Used between looks at a branch other runs are
 * pushing to, so that the runs waiting on it do not look, and push, all at the same moment.
 */
export function jitter(windowMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * windowMs));
}

/**
 * Full jitter: a random wait up to 150 ms × 2^attempt, at most 5 s (the api mode's retries, where
 * each attempt is a few HTTP round trips).
 */
export function backoff(attempt: number): Promise<void> {
  return jitter(Math.min(5000, 150 * 2 ** attempt));
}

/** How many times a run looks at a moving branch before it pushes again anyway. */
const LOOKS_PER_ATTEMPT = 20;
/** The widest window a waiting run's jittered waits are drawn from. */
const MAX_WINDOW_MS = 2000;
/** The shortest cycle a window is reckoned from (a run faster than the clock ticks). */
const MIN_CYCLE_MS = 10;

const REJECTED_PUSH =
  /\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|stale info|incorrect old value/i;

/**
 * `owner/name` is a GitHub repository on GITHUB_SERVER_URL; anything else must be a git URL that
 * `checkGitUrl` allows (https://, ssh://, user@host:path, file:///…), refused otherwise as the input
 * `repository`: a value such as `--upload-pack=<command>` never reaches git.
 */
export function repositoryUrl(
  repository: string,
  serverUrl: string,
): { url: string; github?: { owner: string; repo: string }; authUrl?: string } {
  if (/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(repository)) {
    const github = parseRepository(repository);
    return { url: `${serverUrl.replace(/\/$/, '')}/${repository}.git`, github, authUrl: serverUrl };
  }
  checkGitUrl(repository, 'repository');
  if (/^https?:\/\//.test(repository)) return { url: repository, authUrl: new URL(repository).origin };
  return { url: repository };
}

/** A shallow clone of `url` into `dir`, on `branch` or the remote's default; returns the branch. */
export async function cloneBranch(git: Git, url: string, dir: string, branch: string | undefined): Promise<{ clone: Git; branch: string }> {
  await mkdir(path.dirname(dir), { recursive: true });
  await git.run(['clone', '--quiet', '--depth=1', '--single-branch', ...(branch ? ['--branch', branch] : []), '--', url, dir]);
  const clone = git.at(dir);
  return { clone, branch: branch || (await clone.output(['symbolic-ref', '--short', 'HEAD'])) };
}

/** How the clone is named in a refusal of one of its files. */
const CLONE = 'the cloned repository';

/**
 * The clone's files as the edit reads them: regular files inside the clone only (repo-files.ts).
 * A symbolic link (to outside the clone, inside it, or dangling) is refused, naming the path,
 * rather than followed: the repository's content is not trusted to stay inside it.
 */
function workingTreeReader(dir: string): ReadFile {
  return (file) => readRepoFile(dir, file, { where: CLONE });
}

async function commitFiles(clone: Git, options: GitOpsOptions, edit: RepositoryEdit): Promise<void> {
  // Each file is checked (lstat of every component, realpath, O_NOFOLLOW) as it is written; a
  // refusal leaves nothing committed or pushed, and the clone is removed.
  for (const [file, content] of Object.entries(edit.files)) await writeRepoFile(clone.cwd, file, content, { where: CLONE });
  await clone.run(['add', '--', ...Object.keys(edit.files)]);
  const identity = ['-c', `user.name=${options.author.name}`, '-c', `user.email=${options.author.email}`];
  await clone.run([...identity, 'commit', '--quiet', '--no-verify', '--file=-'], { input: edit.message });
}

/**
 * git mode: shallow clone, edit, commit, push. A rejected push (another run got there first)
 * fetches the new tip, waits with short jittered waits until the branch stands still, resets to
 * it, applies the edit again to the files as they are now and pushes at once, up to `maxAttempts`.
 */
export async function writeWithGit(git: Git, url: string, workRoot: string, options: GitOpsOptions): Promise<GitOpsResult> {
  const dir = path.join(workRoot, `gitops-${nodeCrypto().randomUUID()}`);
  try {
    const { clone, branch } = await cloneBranch(git, url, dir, options.branch);
    // Fetches the branch's tip into the clone (not checked out) and says which commit it is.
    const fetchTip = async () => {
      await clone.run(['fetch', '--quiet', '--depth=1', '--', 'origin', branch]);
      return (await readFile(path.join(dir, '.git', 'FETCH_HEAD'), 'utf8')).slice(0, 40);
    };
    const cycleStarted = Date.now();
    let windowMs = 0;
    /** This run's first edit, commit and push. */
    let cycleMs = 0;
    for (let attempt = 1; ; attempt++) {
      const edit = await options.edit(workingTreeReader(dir), gitFileHistory(clone, branch));
      if (!edit) return { changed: false, attempts: attempt };
      await commitFiles(clone, options, edit);
      const push = await clone.run(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], { allowFailure: true });
      if (push.exitCode === 0) {
        // Read after the push, not before it: one process less between the fetch and the push.
        const commit = await clone.output(['rev-parse', 'HEAD']);
        options.log(`Pushed ${commit.slice(0, 12)} to ${branch} (attempt ${attempt}).`);
        return { changed: true, commit, attempts: attempt };
      }
      if (!REJECTED_PUSH.test(push.stderr)) {
        throw new CommandError(
          ['git', 'push', 'origin', `HEAD:refs/heads/${branch}`],
          push.exitCode,
          push.stderr,
          `git push origin HEAD:refs/heads/${branch}`,
        );
      }
      if (attempt >= options.maxAttempts) {
        throw new UserError(
          'REFUSED',
          `Gave up after ${attempt} attempts: every push to ${branch} was rejected because the branch moved (other runs pushing at the same time). Nothing of this run was pushed; raise max-attempts or try again.`,
        );
      }
      options.log(`The push was rejected (the branch moved); applying the change again to the new files (attempt ${attempt + 1}).`);
      // Look before pushing again: jittered waits, each followed by a fetch of the branch's tip,
      // until the tip stood still over a wait; then the edit is applied again to what was just
      // fetched and pushed at once. The window is two of this run's own cycles, doubled by each of
      // its own rejections (the evidence of contention) and narrowed by two cycles by each landing
      // of another run it sees (one fewer waiting): a look costs a fetch, not an attempt.
      if (attempt === 1) cycleMs = Math.max(MIN_CYCLE_MS, Date.now() - cycleStarted);
      windowMs = Math.min(MAX_WINDOW_MS, 2 * cycleMs * 2 ** (attempt - 1));
      let seen = await fetchTip();
      for (let look = 0; look < LOOKS_PER_ATTEMPT; look++) {
        await (options.sleep ? options.sleep(attempt) : jitter(windowMs));
        const tip = await fetchTip();
        if (tip === seen) break;
        seen = tip;
        // Another run landed: one fewer waiting, so one cycle's slot fewer in the window.
        windowMs = Math.max(2 * cycleMs, windowMs - 2 * cycleMs);
      }
      await clone.run(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PullRequestTarget {
  github: GitHubClient;
  repository: Repository;
  /** The branch for this change, and the prefix of an open pull request's branch to reuse instead. */
  naming: () => { branch: string; reusePrefix?: string };
}

/**
 * pull-request mode: the change goes to its own branch and a pull request; an open pull request
 * whose branch starts with `reusePrefix` is reused (its branch force-pushed, its title and body
 * updated).
 */
export async function writeWithPullRequest(
  git: Git,
  url: string,
  workRoot: string,
  target: PullRequestTarget,
  options: GitOpsOptions,
): Promise<GitOpsResult> {
  const dir = path.join(workRoot, `gitops-${nodeCrypto().randomUUID()}`);
  try {
    const { clone, branch: base } = await cloneBranch(git, url, dir, options.branch);
    const edit = await options.edit(workingTreeReader(dir), gitFileHistory(clone, base));
    if (!edit) return { changed: false, attempts: 1 };
    await commitFiles(clone, options, edit);
    const commit = await clone.output(['rev-parse', 'HEAD']);
    const { github, repository } = target;
    const naming = target.naming();
    const open = naming.reusePrefix
      ? await github.paginate(github.rest.pulls.list, { ...repository, state: 'open', base, per_page: 100 })
      : [];
    const reused = open.find((pull) => naming.reusePrefix && pull.head.ref.startsWith(naming.reusePrefix));
    const branch = reused?.head.ref ?? naming.branch;
    await clone.run(['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
    const [title, , ...body] = edit.message.split('\n');
    const pull = reused
      ? (await github.rest.pulls.update({ ...repository, pull_number: reused.number, title, body: body.join('\n') })).data
      : (await github.rest.pulls.create({ ...repository, base, head: branch, title: title as string, body: body.join('\n') })).data;
    options.log(`${reused ? 'Updated' : 'Opened'} ${pull.html_url} from ${branch}.`);
    return { changed: true, commit, pullRequestUrl: pull.html_url, attempts: 1 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * api mode: one commit through the Git Data API (a tree with the new files, a commit, a ref
 * update), which GitHub signs when a GitHub App token makes it and no author is given. A ref
 * update that is not a fast-forward (another commit landed) applies the edit again and retries.
 */
export async function writeWithApi(github: GitHubClient, repository: Repository, options: GitOpsOptions): Promise<GitOpsResult> {
  const branch = options.branch || (await github.rest.repos.get({ ...repository })).data.default_branch;
  for (let attempt = 1; ; attempt++) {
    const head = (await github.rest.git.getRef({ ...repository, ref: `heads/${branch}` })).data.object.sha;
    const read: ReadFile = async (file) => {
      try {
        const { data } = await github.rest.repos.getContent({ ...repository, path: file, ref: head });
        if (Array.isArray(data) || data.type !== 'file')
          throw new UserError('INVALID_CONFIGURATION', `${file} in ${repository.owner}/${repository.repo} is not a file.`);
        return Buffer.from(data.content, 'base64').toString('utf8');
      } catch (error) {
        if ((error as { status?: number }).status === 404) return undefined;
        throw error;
      }
    };
    const edit = await options.edit(read, apiFileHistory(github, repository, head));
    if (!edit) return { changed: false, attempts: attempt };
    const baseTree = (await github.rest.git.getCommit({ ...repository, commit_sha: head })).data.tree.sha;
    const tree = await github.rest.git.createTree({
      ...repository,
      base_tree: baseTree,
      tree: Object.entries(edit.files).map(([file, content]) => ({ path: file, mode: '100644' as const, type: 'blob' as const, content })),
    });
    const commit = await github.rest.git.createCommit({
      ...repository,
      message: edit.message,
      tree: tree.data.sha,
      parents: [head],
      ...(options.authorGiven ? { author: { name: options.author.name, email: options.author.email } } : {}),
    });
    try {
      await github.rest.git.updateRef({ ...repository, ref: `heads/${branch}`, sha: commit.data.sha, force: false });
      options.log(`Committed ${commit.data.sha.slice(0, 12)} to ${branch} through the API (attempt ${attempt}).`);
      return { changed: true, commit: commit.data.sha, attempts: attempt };
    } catch (error) {
      if ((error as { status?: number }).status !== 422 || attempt >= options.maxAttempts) throw error;
      options.log(`${branch} moved while committing; applying the change again (attempt ${attempt + 1}).`);
      await (options.sleep ?? backoff)(attempt);
    }
  }
}
