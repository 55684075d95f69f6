/**
 * The history of one file on the branch an edit writes to, newest first: for an edit that needs
 * more than the file as it is now (promote's rollback reads the releases before the current one
 * from the history of versions.yaml). Every write mode gives one (see gitops.ts): git and
 * pull-request modes from the clone (deepened on first use, since it is shallow), api mode from
 * GitHub's commits API. Versions are read lazily, so a reader that stops early reads no further.
 */
import { UserError } from './errors.js';
import type { Git } from './git.js';
import type { GitHubClient, Repository } from './github.js';

/** One version of a file: the commit that wrote it, its message, and the file as it left it. */
export interface FileVersion {
  commit: string;
  message: string;
  /** When the commit was committed (its committer date, ISO 8601), where the history knows it. */
  time?: string;
  /** undefined when the commit deleted the file, or it is not a regular file there. */
  text: string | undefined;
  /**
   * For a merge: the messages of the commits it brought in that changed the file, newest first (a
   * rollback made in pull-request mode and merged with a merge commit is one of them).
   */
  merged?: string[];
}

/**
 * The versions of `file` in the history of the branch as it was read, newest first (the commit
 * that last changed it first), at most `limit` of them (Infinity: no limit). Only the states the
 * branch itself went through: its first-parent line, so that a merge counts as one change (what it
 * brought in) and the commits of the merged branch, which the branch never was at, are not read.
 */
export type FileHistory = (file: string, limit: number) => AsyncIterable<FileVersion>;

/** How many blobs the first `git cat-file --batch` reads; each next one reads twice as many, up to BATCH_MAX. */
const BATCH = 50;
const BATCH_MAX = 2000;

export interface GitFileHistoryOptions {
  /**
   * Only what a window from `since` needs: the versions committed at or after it, and the newest
   * one before it (the file as the window found it). A shallow clone is deepened to `since`
   * (`git fetch --shallow-since`) and one commit further, not by `limit` commits.
   */
  since?: Date;
}

/**
 * The history from a clone (shallow, as gitops clones): deepened by `limit` commits first, or to
 * `options.since`. A reader that stops early reads no further blobs; one that reads on reads them
 * in batches that grow, so that a long history costs a handful of processes.
 */
export function gitFileHistory(clone: Git, branch: string, options: GitFileHistoryOptions = {}): FileHistory {
  const { since } = options;
  return async function* (file, limit) {
    const ref = await branchRef(clone, branch);
    if ((await clone.output(['rev-parse', '--is-shallow-repository'])) === 'true') {
      if (since) await deepenSince(clone, branch, ref, since);
      else await clone.run(['fetch', '--quiet', `--deepen=${limit}`, '--', 'origin', branch]);
    }
    const count = Number.isFinite(limit) ? [`--max-count=${limit}`] : [];
    // --literal-pathspecs: the file is a name, not a pattern (`versions[1].yaml`, `:(glob)…`).
    const log = await clone.run([
      '--literal-pathspecs',
      'log',
      '--first-parent',
      '-z',
      ...count,
      '--format=%H %cI %P%n%B',
      ref,
      '--',
      file,
    ]);
    let commits = log.stdout
      .split('\0')
      .filter((record) => record.length > 0)
      .map((record) => {
        const newline = record.indexOf('\n');
        const [commit = '', time = '', ...parents] = record.slice(0, newline).split(' ');
        return { commit, time, parents, message: record.slice(newline + 1).replace(/\n+$/, '') };
      });
    if (since) {
      // Newest first: the first one committed before `since` is the last one needed.
      const before = commits.findIndex(({ time }) => Date.parse(time) < since.getTime());
      if (before >= 0) commits = commits.slice(0, before + 1);
    }
    for (let start = 0, size = BATCH; start < commits.length; start += size, size = Math.min(size * 2, BATCH_MAX)) {
      const batch = commits.slice(start, start + size);
      const texts = await readBlobs(
        clone,
        batch.map(({ commit }) => `${commit}:${file}`),
      );
      for (const [index, { parents, ...entry }] of batch.entries()) {
        const merged = parents.length > 1 ? await mergedMessages(clone, entry.commit, parents[0] as string, file) : undefined;
        yield { ...entry, text: texts[index], ...(merged?.length ? { merged } : {}) };
      }
    }
  };
}

/** The messages of the commits a merge brought in (not on its first parent) that changed `file`, newest first. */
async function mergedMessages(clone: Git, merge: string, firstParent: string, file: string): Promise<string[]> {
  const log = await clone.run(['--literal-pathspecs', 'log', '--no-merges', '-z', '--format=%B', `^${firstParent}`, merge, '--', file]);
  return log.stdout
    .split('\0')
    .filter((message) => message.length > 0)
    .map((message) => message.replace(/\n+$/, ''));
}

/**
 * The ref of `branch` in the clone: the local branch, else the remote's (a clone on disk may have
 * another branch checked out, or only the remote's ref of this one); `HEAD` is HEAD.
 */
async function branchRef(clone: Git, branch: string): Promise<string> {
  if (branch === 'HEAD') return 'HEAD';
  for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
    const found = await clone.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true });
    if (found.exitCode === 0) return ref;
  }
  throw new UserError(
    'INVALID_INPUT',
    `The branch ${JSON.stringify(branch)} is not in the clone at ${clone.cwd} (neither refs/heads/${branch} nor refs/remotes/origin/${branch}); fetch it or name another.`,
  );
}

/**
 * Deepens a shallow clone to the commits made since `since`, and one more: the parent of the
 * oldest, whose tree is the file as the window found it (a shallow boundary lists every file as
 * added, so `git log -- <file>` shows it). A tip older than `since` is all the window needs (git
 * would refuse the fetch: "no commits selected for shallow requests").
 */
async function deepenSince(clone: Git, branch: string, ref: string, since: Date): Promise<void> {
  const tip = Date.parse(await clone.output(['log', '-1', '--format=%cI', ref]));
  if (!(tip >= since.getTime())) return;
  await clone.run(['fetch', '--quiet', `--shallow-since=${since.toISOString()}`, '--', 'origin', branch]);
  if ((await clone.output(['rev-parse', '--is-shallow-repository'])) === 'true')
    await clone.run(['fetch', '--quiet', '--deepen=1', '--', 'origin', branch]);
}

/**
 * The contents of `<commit>:<path>` objects, in one `git cat-file --batch` (one process for the
 * lot; a name it cannot take on a line, with a line break, is read on its own). A missing one, or
 * one that is not a blob, is undefined.
 */
async function readBlobs(git: Git, names: readonly string[]): Promise<(string | undefined)[]> {
  if (names.some((name) => /[\r\n]/.test(name))) {
    const texts: (string | undefined)[] = [];
    for (const name of names) {
      const shown = await git.run(['cat-file', 'blob', name], { allowFailure: true });
      texts.push(shown.exitCode === 0 ? shown.stdout : undefined);
    }
    return texts;
  }
  const chunks: Buffer[] = [];
  await git.run(['cat-file', '--batch'], { input: names.map((name) => `${name}\n`).join(''), onStdout: (chunk) => chunks.push(chunk) });
  const output = Buffer.concat(chunks);
  const texts: (string | undefined)[] = [];
  let at = 0;
  for (let index = 0; index < names.length; index++) {
    const end = output.indexOf(0x0a, at);
    if (end < 0) throw new Error(`git cat-file --batch ended early, at ${names[index]}.`);
    const found = /^[0-9a-f]{40,64} (\S+) (\d+)$/.exec(output.subarray(at, end).toString('utf8'));
    if (!found) {
      texts.push(undefined); // `<name> missing` (or ambiguous)
      at = end + 1;
      continue;
    }
    const size = Number(found[2]);
    texts.push(found[1] === 'blob' ? output.subarray(end + 1, end + 1 + size).toString('utf8') : undefined);
    at = end + 1 + size + 1;
  }
  return texts;
}

/** The history from GitHub's commits API (`GET /repos/{owner}/{repo}/commits?path=&sha=`), from `head`. */
export function apiFileHistory(github: GitHubClient, repository: Repository, head: string): FileHistory {
  return async function* (file, limit) {
    let read = 0;
    const pages = github.paginate.iterator(github.rest.repos.listCommits, { ...repository, sha: head, path: file, per_page: 100 });
    for await (const { data } of pages) {
      for (const entry of data) {
        if (read++ >= limit) return;
        yield {
          commit: entry.sha,
          message: entry.commit.message,
          ...(entry.commit.committer?.date ? { time: entry.commit.committer.date } : {}),
          text: await contentAt(github, repository, file, entry.sha),
        };
      }
    }
  };
}

async function contentAt(github: GitHubClient, repository: Repository, file: string, ref: string): Promise<string | undefined> {
  try {
    const { data } = await github.rest.repos.getContent({ ...repository, path: file, ref });
    if (Array.isArray(data) || data.type !== 'file') return undefined;
    return Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}
