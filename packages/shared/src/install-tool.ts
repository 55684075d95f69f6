import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as core from '@actions/core';
import type { HttpClient } from '@actions/http-client';
import { ToolkitError, UserError } from './errors.js';
import { findOnPath } from './exec.js';
import { nodeCrypto } from './node-crypto.js';

export interface ToolSpec {
  /** The tool's name, used as the cache key and, unless `binary` says otherwise, the executable's name. */
  name: string;
  /** A pinned version, or `system` to use the tool found on PATH. */
  version: string;
  /** e.g. `linux-x64`; defaults to this machine's. */
  platform?: string;
  url: string;
  /** The pinned SHA-256 of what `url` serves, checked before anything is extracted or run. */
  sha256: string;
  /** How `url` is packed; guessed from its ending when not given. */
  archive?: 'tar.gz' | 'zip' | 'binary';
  /** The executable's name inside the archive, when it is not `name`. */
  binary?: string;
}

export interface InstallOptions {
  /** Download attempts in all (default 4). */
  attempts?: number;
  /** The first retry's wait; each later one doubles, with jitter (default 1 s). */
  backoffMs?: number;
  /** Caps the wait a `Retry-After` header may ask for (default 30 s). */
  maxWaitMs?: number;
}

export interface InstalledTool {
  /** The executable. */
  path: string;
  /** The directory holding it (to add to PATH). */
  dir: string;
  source: 'system' | 'cache' | 'download';
}

export function currentPlatform(): string {
  return `${os.platform()}-${os.arch()}`;
}

/**
 * Installs a pinned tool: from the runner's tool cache when it is there and still what the pinned
 * SHA-256 says (no network at all), else downloaded with retries and backoff, checked against its
 * pinned SHA-256 before it is extracted, and cached. `version: system` uses the tool on PATH instead.
 *
 * The cache is not trusted: on a persistent runner an earlier job may have written anything there.
 * So the cache key holds the sum (`<tool-cache>/<name>/<version>/<platform>-sha256-<sum>`), and
 * every cache hit is checked again before it is used (`verifyCached`). A cached entry that does not
 * match is never run: it is named in a warning, removed, and the tool is downloaded and verified
 * again, as on a first install (a poisoned cache heals instead of failing every later job, and what
 * replaces it passes the same check against the pin).
 */
export async function installTool(spec: ToolSpec, options: InstallOptions = {}): Promise<InstalledTool> {
  const binaryName = spec.binary ?? spec.name;
  if (spec.version === 'system') {
    const found = findOnPath(binaryName);
    if (!found) throw new UserError('NOT_FOUND', `${spec.name}: version "system" was asked for, but ${binaryName} is not on PATH.`);
    return { path: found, dir: path.dirname(found), source: 'system' };
  }
  const sha256 = spec.sha256.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${spec.name} ${spec.version}: the pinned SHA-256 ${JSON.stringify(spec.sha256)} is not 64 hexadecimal characters.`,
    );
  }
  const platform = spec.platform ?? currentPlatform();
  ensureRunnerDirs();
  // Imported here rather than at the top: with them come @actions/http-client and undici, which
  // every action that never downloads a tool would otherwise compile at start-up.
  const tc = await import('@actions/tool-cache');

  const archive = spec.archive ?? archiveKind(spec.url);
  const key = cacheKey(platform, sha256);
  const cached = tc.find(spec.name, spec.version, key);
  if (cached) {
    const problem = await verifyCached(cached, { binary: binaryName, sha256, archive });
    if (problem === undefined) {
      core.info(`${spec.name} ${spec.version} (${platform}) found in the tool cache, and verified again (sha256 ${sha256}).`);
      return { path: path.join(cached, binaryName), dir: cached, source: 'cache' };
    }
    core.warning(
      `${spec.name} ${spec.version} (${platform}) in the tool cache (${cached}) is not what its pinned sha256 ${sha256} says: ${problem}. ` +
        'It was not run; it is removed and the tool is downloaded and verified again. Something other than this action wrote to the tool cache (or an earlier install was cut short).',
    );
    await discardCached(cached);
  }

  const download = path.join(process.env.RUNNER_TEMP as string, `${spec.name}-${nodeCrypto().randomUUID()}`);
  try {
    const actual = await downloadWithRetries(spec.url, download, options);
    if (actual !== sha256) {
      throw new UserError(
        'CHECKSUM_MISMATCH',
        `Checksum mismatch for ${spec.name} ${spec.version} (${platform}) from ${spec.url}: expected sha256 ${sha256}, got ${actual}. Nothing was extracted or run.`,
      );
    }
    let dir: string;
    if (archive === 'binary') {
      await chmod(download, 0o755);
      dir = await tc.cacheFile(download, binaryName, spec.name, spec.version, key);
    } else {
      const extracted = await extract(download, archive);
      try {
        dir = await tc.cacheDir(extracted, spec.name, spec.version, key);
      } finally {
        await rm(extracted, { recursive: true, force: true });
      }
      // The verified archive is kept beside the tree: a later cache hit checks it against the pin
      // and the tree against it.
      await copyFile(download, keptArchive(dir));
    }
    core.info(`${spec.name} ${spec.version} (${platform}) downloaded, verified (sha256 ${sha256}) and cached.`);
    return { path: path.join(dir, binaryName), dir, source: 'download' };
  } finally {
    await rm(download, { force: true });
  }
}

/** The platform segment of the cache path, with the pinned sum: another sum is another entry. */
function cacheKey(platform: string, sha256: string): string {
  return `${platform}-sha256-${sha256}`;
}

/** Where the verified archive of an extracted tool is kept: beside its folder, outside what goes on PATH. */
function keptArchive(dir: string): string {
  return `${dir}.archive`;
}

async function extract(file: string, archive: 'tar.gz' | 'zip'): Promise<string> {
  const tc = await import('@actions/tool-cache');
  return archive === 'zip' ? tc.extractZip(file) : tc.extractTar(file);
}

async function discardCached(dir: string): Promise<void> {
  await Promise.all([dir, `${dir}.complete`, keptArchive(dir)].map((item) => rm(item, { recursive: true, force: true })));
}

async function sha256File(file: string): Promise<string> {
  const hash = nodeCrypto().createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What a folder holds, by path relative to it: `dir`, `link <target>`, or `file <x|-> <sha256>`
 * (x: executable). Entries are read with lstat, so a symlink is never followed.
 */
async function treeListing(root: string): Promise<Map<string, string>> {
  const listing = new Map<string, string>();
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(path.join(root, relative))).sort()) {
      const entry = path.join(relative, name);
      const full = path.join(root, entry);
      const stat = await lstat(full);
      if (stat.isDirectory()) {
        listing.set(entry, 'dir');
        await walk(entry);
      } else if (stat.isSymbolicLink()) listing.set(entry, `link ${await readlink(full)}`);
      // Windows has no execute bits (libuv reports none): there the contents alone are compared.
      else if (stat.isFile())
        listing.set(entry, `file ${process.platform !== 'win32' && stat.mode & 0o111 ? 'x' : '-'} ${await sha256File(full)}`);
      else listing.set(entry, 'special');
    }
  };
  await walk('');
  return listing;
}

function describeEntry(value: string): string {
  if (value === 'dir') return 'a folder';
  if (value.startsWith('link ')) return `a symlink to ${value.slice(5)}`;
  if (value.startsWith('file ')) {
    const [, mode, sum] = value.split(' ');
    return `a${mode === 'x' ? 'n executable' : ''} file with sha256 ${sum}`;
  }
  return 'not a regular file';
}

/** The first difference between what a cached folder holds and what it should hold, or undefined. */
function treeDifference(actual: Map<string, string>, expected: Map<string, string>): string | undefined {
  for (const [entry, value] of expected) {
    const found = actual.get(entry);
    if (found === undefined) return `${entry} is missing`;
    if (found !== value) return `${entry} is ${describeEntry(found)}, where the verified download has ${describeEntry(value)}`;
  }
  for (const [entry, value] of actual) {
    if (!expected.has(entry)) return `it holds ${entry} (${describeEntry(value)}), which the verified download does not`;
  }
  return undefined;
}

/**
 * Checks a tool-cache entry again, as if it had just been downloaded; returns what is wrong with
 * it, or undefined when it is exactly what the pinned sum vouches for.
 * - A single-file tool: the folder holds the executable alone, a regular file whose SHA-256 is the pin.
 * - An archive: the archive kept beside the folder has the pinned SHA-256, and the folder holds
 *   exactly what that archive extracts to (every file's content and executable bit, every symlink
 *   and folder, nothing more), compared against a fresh extraction into RUNNER_TEMP.
 */
async function verifyCached(
  dir: string,
  expected: { binary: string; sha256: string; archive: 'tar.gz' | 'zip' | 'binary' },
): Promise<string | undefined> {
  if (!(await lstat(dir)).isDirectory()) return 'it is not a folder (a symlink?)';
  const actual = await treeListing(dir);
  if (expected.archive === 'binary') {
    return treeDifference(actual, new Map([[expected.binary, `file ${process.platform === 'win32' ? '-' : 'x'} ${expected.sha256}`]]));
  }
  const kept = keptArchive(dir);
  const keptStat = await lstat(kept).catch(() => undefined);
  if (!keptStat?.isFile()) return `the verified archive kept beside it (${path.basename(kept)}) is missing`;
  const sum = await sha256File(kept);
  if (sum !== expected.sha256) return `the archive kept beside it has sha256 ${sum}`;
  const fresh = await extract(kept, expected.archive);
  try {
    return treeDifference(actual, await treeListing(fresh));
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

function archiveKind(url: string): 'tar.gz' | 'zip' | 'binary' {
  const { pathname } = new URL(url);
  if (/\.(tar\.gz|tgz)$/.test(pathname)) return 'tar.gz';
  if (pathname.endsWith('.zip')) return 'zip';
  return 'binary';
}

/** tool-cache needs both; outside a runner (the CLI, a test) they default to folders under the OS temp dir. */
function ensureRunnerDirs(): void {
  process.env.RUNNER_TEMP ||= path.join(os.tmpdir(), 'toolkit-runner-temp');
  process.env.RUNNER_TOOL_CACHE ||= path.join(os.tmpdir(), 'toolkit-tool-cache');
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Streams `url` into `file`, hashing as it goes, and returns the SHA-256 of what arrived. */
async function downloadWithRetries(url: string, file: string, options: InstallOptions): Promise<string> {
  const { attempts = 4, backoffMs = 1000, maxWaitMs = 30_000 } = options;
  await mkdir(path.dirname(file), { recursive: true });
  const { HttpClient } = await import('@actions/http-client');
  for (let attempt = 1; ; attempt++) {
    const client = new HttpClient('toolkit-install-tool', [], { allowRetries: false, allowRedirects: true, maxRedirects: 10 });
    try {
      return await downloadOnce(client, url, file);
    } catch (error) {
      const retryable = !(error instanceof HttpStatusError) || RETRYABLE_STATUS.has(error.status);
      const reason = error instanceof Error ? error.message : String(error);
      if (!retryable || attempt >= attempts) {
        throw new ToolkitError(
          'DOWNLOAD_FAILED',
          `Download of ${url} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${reason}`,
          { cause: error },
        );
      }
      const backoff = backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      const wait = Math.min(maxWaitMs, error instanceof HttpStatusError && error.retryAfterMs !== undefined ? error.retryAfterMs : backoff);
      core.warning(`Download of ${url} failed (${reason}); attempt ${attempt + 1} of ${attempts} in ${Math.round(wait)} ms.`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    } finally {
      client.dispose();
    }
  }
}

async function downloadOnce(client: HttpClient, url: string, file: string): Promise<string> {
  const response = await client.get(url);
  const status = response.message.statusCode ?? 0;
  if (status !== 200) {
    response.message.resume();
    const retryAfter = Number(response.message.headers['retry-after']);
    throw new HttpStatusError(status, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
  }
  const hash = nodeCrypto().createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(response.message, hashing, createWriteStream(file));
  return hash.digest('hex');
}
