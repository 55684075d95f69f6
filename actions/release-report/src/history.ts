/**
 * Where the report's history comes from: a clone already on disk (its history deepened to the
 * window where it is shallow), or a shallow clone of the environment repository made as promote
 * makes one, deepened only to the window (git fetch --shallow-since), through the shared history
 * reader (packages/shared/src/file-history.ts).
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type FileVersion, type Git, cloneBranch, gitFileHistory } from '@toolkit/shared';

export interface HistorySource {
  /** A clone on disk; else `url` is cloned into `workRoot`. */
  clonePath?: string;
  url?: string;
  /** The branch (a clone on disk: its HEAD; a URL: the remote's default when empty). */
  branch?: string;
  file: string;
  since: Date;
  workRoot: string;
}

/**
 * The versions of the file the window needs, newest first, each handed to `onVersion` as it is
 * read: those committed since `since`, and the one before.
 */
export async function readHistory(git: Git, source: HistorySource, onVersion: (version: FileVersion) => void): Promise<void> {
  if (source.clonePath) {
    const clone = git.at(source.clonePath);
    const branch = source.branch || (await currentBranch(clone));
    return each(gitFileHistory(clone, branch, { since: source.since })(source.file, Number.POSITIVE_INFINITY), onVersion);
  }
  if (!source.url) throw new Error('readHistory needs a clone or a URL.');
  const dir = path.join(source.workRoot, `release-report-${randomUUID()}`);
  try {
    const { clone, branch } = await cloneBranch(git, source.url, dir, source.branch);
    return await each(gitFileHistory(clone, branch, { since: source.since })(source.file, Number.POSITIVE_INFINITY), onVersion);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The checked-out branch; a detached HEAD (a checkout of a tag or commit) fetches the remote's HEAD. */
async function currentBranch(clone: Git): Promise<string> {
  const found = await clone.run(['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true });
  return found.exitCode === 0 ? found.stdout.trim() : 'HEAD';
}

async function each(versions: AsyncIterable<FileVersion>, onVersion: (version: FileVersion) => void): Promise<void> {
  for await (const version of versions) onVersion(version);
}
