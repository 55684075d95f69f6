/**
 * The files a release carries as assets, read and checked before anything is written: each is a
 * regular file inside the workspace (never a symbolic link, never outside it through `..` or a
 * linked directory), with a name GitHub keeps as it is. Each file is read once here, and those
 * bytes are what is uploaded, so what was checked and hashed is exactly what is published.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '@toolkit/shared';

export interface ReleaseFile {
  /** As given in the input. */
  given: string;
  /** The asset's name on the release: the file's base name. */
  name: string;
  size: number;
  sha256: string;
  contentType: string;
  content: Buffer;
}

/** GitHub's limit on one release asset. */
export const MAX_ASSET_BYTES = 2 * 1024 ** 3;

/**
 * GitHub replaces other characters of an asset name (a space becomes a dot), and a renamed asset
 * would no longer be found by its name to be replaced on the next run.
 */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.sarif': 'application/sarif+json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.tgz': 'application/gzip',
  '.gz': 'application/gzip',
  '.zip': 'application/zip',
};

export async function readReleaseFiles(paths: readonly string[], workspace: string, input = 'files'): Promise<ReleaseFile[]> {
  const root = await realpath(workspace).catch(() => {
    throw new InputError(input, `the workspace ${workspace} does not exist, so no file can be read from it.`);
  });
  const files: ReleaseFile[] = [];
  for (const given of paths) {
    const file = await readReleaseFile(given, workspace, root, input);
    const twin = files.find((other) => other.name === file.name);
    if (twin) {
      throw new InputError(
        input,
        `${JSON.stringify(twin.given)} and ${JSON.stringify(given)} would both be the asset ${file.name}; a release has one asset of each name.`,
      );
    }
    files.push(file);
  }
  return files;
}

async function readReleaseFile(given: string, workspace: string, root: string, input: string): Promise<ReleaseFile> {
  const shown = JSON.stringify(given);
  const resolved = path.resolve(workspace, given);
  const outside = () =>
    new InputError(input, `${shown} is outside the workspace (${workspace}); expected a file inside it, such as sbom.spdx.json.`);
  // As written first, so that `../x` is refused whether or not it exists; then through links, since
  // a directory inside the workspace may be a link to somewhere else.
  if (!isInside(path.resolve(workspace), resolved) && !isInside(root, resolved)) throw outside();
  const directory = await realpath(path.dirname(resolved)).catch(() => undefined);
  if (directory === undefined) throw new InputError(input, `${shown} does not exist (looked for ${resolved}).`);
  if (!isInside(root, path.join(directory, path.basename(resolved)))) throw outside();

  const name = path.basename(resolved);
  const stats = await lstat(resolved).catch(() => undefined);
  if (!stats) throw new InputError(input, `${shown} does not exist (looked for ${resolved}).`);
  if (stats.isSymbolicLink()) {
    throw new InputError(input, `${shown} is a symbolic link; only regular files are uploaded (a link can point outside the workspace).`);
  }
  if (!stats.isFile())
    throw new InputError(input, `${shown} is ${stats.isDirectory() ? 'a directory' : 'not a regular file'}; expected a file.`);
  if (!ASSET_NAME.test(name) || name.endsWith('.')) {
    throw new InputError(
      input,
      `${shown}: the asset name ${JSON.stringify(name)} is not allowed; expected letters, digits, ".", "_" and "-" (GitHub renames other names), not ending with ".".`,
    );
  }

  // O_NOFOLLOW: a link swapped in after the check above is refused by the kernel, not followed.
  const handle = await open(resolved, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new InputError(input, `${shown} is not a regular file; expected a file.`);
    if (opened.size > MAX_ASSET_BYTES) {
      throw new InputError(input, `${shown} is ${opened.size} bytes; a release asset is at most 2 GiB.`);
    }
    const content = await handle.readFile();
    return {
      given,
      name,
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      contentType: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
      content,
    };
  } finally {
    await handle.close();
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && !relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative);
}
