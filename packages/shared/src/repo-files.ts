/**
 * Files inside a checked-out repository (an environment repository cloned by gitops, a chart
 * directory in a checkout), read and written only as regular files inside it.
 *
 * A repository's content is not to be trusted. A `versions.yaml` committed as a symbolic link to
 * `../../../home/runner/.ssh/config`, or a directory committed as a link to `/tmp`, would otherwise
 * make an action read, and then overwrite, a file outside the clone; a dangling link would be
 * written through and create a file wherever it points. So, before any read or write:
 *
 * - the path is relative, has no `..` and does not go into `.git`;
 * - every component is checked with `lstat`: none may be a symbolic link, every directory must be a
 *   directory, and the file, when it exists, a regular file;
 * - the parent's `realpath` must be inside the repository's own `realpath`;
 * - the file is opened with `O_NOFOLLOW`, so that a link swapped in after the check is refused by
 *   the kernel instead of followed, and checked again as a regular file on the open handle.
 *
 * A refusal is a UserError naming the path (and where a link points), never a silent skip.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from './errors.js';

export interface RepoFileOptions {
  /** How the repository is named in messages; "the repository" by default. */
  where?: string;
}

export interface ReadRepoFileOptions extends RepoFileOptions {
  /** Refuse a file larger than this (checked on the open handle, before reading). */
  maxBytes?: number;
}

/**
 * The content of `relative` inside the repository at `root`, as UTF-8; undefined when it (or a
 * directory on its way) does not exist. Refuses symbolic links, anything that is not a regular
 * file, and paths that leave the repository.
 */
export async function readRepoFile(root: string, relative: string, options: ReadRepoFileOptions = {}): Promise<string | undefined> {
  const where = options.where ?? 'the repository';
  const parts = repoPath(relative, where);
  const rootReal = await realRoot(root, where);
  const absolute = path.join(rootReal, ...parts);
  const found = await checkComponents(rootReal, parts, where, 'read');
  if (!found) return undefined;
  await checkInside(rootReal, absolute, relative, where);
  const handle = await openNoFollow(absolute, constants.O_RDONLY, relative, where);
  if (!handle) return undefined;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(relative, where, 'not a regular file');
    if (options.maxBytes !== undefined && stats.size > options.maxBytes) {
      throw new UserError(
        'INVALID_CONFIGURATION',
        `${relative} in ${where} is ${stats.size} bytes; at most ${options.maxBytes} bytes are read, so it was not read.`,
      );
    }
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}

/**
 * Writes `content` to `relative` inside the repository at `root`, creating the directories on its
 * way. An existing file is replaced in place (its mode kept); a symbolic link, a directory that is a
 * link, or anything else that is not a regular file is refused and nothing is written.
 */
export async function writeRepoFile(
  root: string,
  relative: string,
  content: string | Uint8Array,
  options: RepoFileOptions = {},
): Promise<void> {
  const where = options.where ?? 'the repository';
  const parts = repoPath(relative, where);
  const rootReal = await realRoot(root, where);
  await checkComponents(rootReal, parts, where, 'write');
  const absolute = path.join(rootReal, ...parts);
  await checkInside(rootReal, absolute, relative, where);
  const handle = await openNoFollow(absolute, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, relative, where);
  if (!handle) throw new Error(`${absolute} vanished while it was being written`);
  try {
    if (!(await handle.stat()).isFile()) throw notRegular(relative, where, 'not a regular file');
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/** The path's components; a path that is absolute, climbs with `..`, or goes into `.git` is refused. */
function repoPath(relative: string, where: string): string[] {
  const shown = JSON.stringify(relative);
  const refuse = (why: string) =>
    new UserError(
      'REFUSED',
      `${shown} is not allowed as a file in ${where}: ${why}; expected a relative path inside it, such as versions.yaml.`,
    );
  if (relative.includes('\0')) throw refuse('it contains a NUL byte');
  if (path.posix.isAbsolute(relative) || path.win32.isAbsolute(relative)) throw refuse('it is absolute');
  const parts = relative.split(/[\\/]/).filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) throw refuse('it names no file');
  if (parts.includes('..')) throw refuse('it contains ..');
  if (parts.some((part) => part.toLowerCase() === '.git')) throw refuse('it is inside .git');
  return parts;
}

async function realRoot(root: string, where: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (error) {
    throw new Error(`${where} (${root}) cannot be resolved: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * lstat of each component from the root down. Reading: false as soon as one does not exist.
 * Writing: missing directories are created one at a time (never through a link).
 */
async function checkComponents(rootReal: string, parts: readonly string[], where: string, mode: 'read' | 'write'): Promise<boolean> {
  let current = rootReal;
  for (const [index, part] of parts.entries()) {
    current = path.join(current, part);
    const shown = parts.slice(0, index + 1).join('/');
    const last = index === parts.length - 1;
    const stats = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!stats) {
      if (mode === 'read') return false;
      if (last) return false;
      await mkdir(current);
      continue;
    }
    if (stats.isSymbolicLink()) throw await linkError(rootReal, current, shown, parts.join('/'), where);
    if (!last && !stats.isDirectory())
      throw notRegular(shown, where, `not a directory, so ${parts.join('/')} cannot be inside it`, 'a directory');
    if (last && !stats.isFile()) throw notRegular(shown, where, stats.isDirectory() ? 'a directory, not a file' : 'not a regular file');
  }
  return true;
}

/** realpath of the parent (the file may not exist yet) must be the repository or inside it. */
async function checkInside(rootReal: string, absolute: string, relative: string, where: string): Promise<void> {
  const parent = await realpath(path.dirname(absolute));
  const resolved = path.join(parent, path.basename(absolute));
  if (!isInside(rootReal, resolved)) {
    throw new UserError(
      'REFUSED',
      `${relative} resolves to ${resolved}, outside ${where} (${rootReal}); only regular files inside it are read or written, so nothing was.`,
    );
  }
}

async function openNoFollow(absolute: string, flags: number, relative: string, where: string) {
  try {
    return await open(absolute, flags | constants.O_NOFOLLOW, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !(flags & constants.O_CREAT)) return undefined;
    // O_NOFOLLOW on a link: Linux says ELOOP, the BSDs EMLINK or EFTYPE.
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE')
      throw notRegular(relative, where, 'a symbolic link (it became one while it was being opened)');
    throw error;
  }
}

async function linkError(rootReal: string, link: string, shown: string, whole: string, where: string): Promise<UserError> {
  const target = await readlink(link).catch(() => '?');
  const resolved = await realpath(link).catch(() => undefined);
  const points =
    resolved === undefined
      ? `to ${JSON.stringify(target)}, which does not exist`
      : isInside(rootReal, resolved) || resolved === rootReal
        ? `to ${JSON.stringify(target)}`
        : `to ${JSON.stringify(target)}, outside ${where}`;
  const what = shown === whole ? `${shown} in ${where}` : `${shown} (on the way to ${whole}) in ${where}`;
  return new UserError(
    'INVALID_CONFIGURATION',
    `${what} is a symbolic link (${points}); only regular files inside ${where} are read or written, and links are not followed, so nothing was read or written. ` +
      `Commit the file itself in place of the link.`,
  );
}

function notRegular(shown: string, where: string, what: string, expected = 'a regular file'): UserError {
  return new UserError('INVALID_CONFIGURATION', `${shown} in ${where} is ${what}; expected ${expected}, so nothing was read or written.`);
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
