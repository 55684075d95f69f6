import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as core from '@actions/core';
import type { HttpClient } from '@actions/http-client';
import * as io from '@actions/io';
import { ToolkitError, UserError } from './errors.js';

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
 * Installs a pinned tool: from the runner's tool cache when it is there (no network at all), else
 * downloaded with retries and backoff, checked against its pinned SHA-256 before it is extracted,
 * and cached. `version: system` uses the tool on PATH instead.
 */
export async function installTool(spec: ToolSpec, options: InstallOptions = {}): Promise<InstalledTool> {
  const binaryName = spec.binary ?? spec.name;
  if (spec.version === 'system') {
    const found = await io.which(binaryName, false);
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

  const cached = tc.find(spec.name, spec.version, platform);
  if (cached) {
    core.info(`${spec.name} ${spec.version} (${platform}) found in the tool cache.`);
    return { path: path.join(cached, binaryName), dir: cached, source: 'cache' };
  }

  const download = path.join(process.env.RUNNER_TEMP as string, `${spec.name}-${randomUUID()}`);
  try {
    const actual = await downloadWithRetries(spec.url, download, options);
    if (actual !== sha256) {
      throw new UserError(
        'CHECKSUM_MISMATCH',
        `Checksum mismatch for ${spec.name} ${spec.version} (${platform}) from ${spec.url}: expected sha256 ${sha256}, got ${actual}. Nothing was extracted or run.`,
      );
    }
    const archive = spec.archive ?? archiveKind(spec.url);
    let dir: string;
    if (archive === 'binary') {
      await chmod(download, 0o755);
      dir = await tc.cacheFile(download, binaryName, spec.name, spec.version, platform);
    } else {
      const extracted = archive === 'zip' ? await tc.extractZip(download) : await tc.extractTar(download);
      dir = await tc.cacheDir(extracted, spec.name, spec.version, platform);
      await rm(extracted, { recursive: true, force: true });
    }
    core.info(`${spec.name} ${spec.version} (${platform}) downloaded, verified (sha256 ${sha256}) and cached.`);
    return { path: path.join(dir, binaryName), dir, source: 'download' };
  } finally {
    await rm(download, { force: true });
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
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(response.message, hashing, createWriteStream(file));
  return hash.digest('hex');
}
