import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ToolkitError, UserError, installTool } from '@toolkit/shared';
import { type FileServer, sha256, startFileServer } from '../support/file-server.js';
import { tempDir } from '../support/temp.js';

let archive: Buffer;
let otherArchive: Buffer;
let binary: Buffer;
let server: FileServer;
let runnerTemp: string;
let toolCache: string;

/** A release archive holding an executable that prints its version (and writes nothing: its cache entry stays as installed). */
async function makeArchive(dir: string, says = 'faketool 1.2.3'): Promise<Buffer> {
  const content = path.join(dir, 'content');
  await mkdir(content, { recursive: true });
  await writeFile(path.join(content, 'faketool'), `#!/bin/sh\necho "${says}"\n`);
  await chmod(path.join(content, 'faketool'), 0o755);
  await writeFile(path.join(content, 'LICENSE'), 'MIT\n');
  execFileSync('tar', ['-czf', path.join(dir, 'faketool.tar.gz'), '-C', content, 'faketool', 'LICENSE']);
  return readFile(path.join(dir, 'faketool.tar.gz'));
}

/** What the action printed as `::warning::` lines (core.warning writes to stdout). */
function warnings(): string[] {
  const write = process.stdout.write as unknown as jest.Mock;
  return write.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.startsWith('::warning::'));
}

/** A script that, if ever run, leaves `marker` behind: what an earlier job on a persistent runner plants. */
const planted = (marker: string) => `#!/bin/sh\ntouch ${JSON.stringify(marker)}\necho "faketool 1.2.3"\n`;

beforeAll(async () => {
  const dir = await tempDir();
  archive = await makeArchive(dir);
  otherArchive = await makeArchive(await tempDir(), 'faketool 1.2.3 (another build)');
  binary = Buffer.from('#!/bin/sh\necho single 0.1.0\n');
  server = await startFileServer({
    '/ok/faketool.tar.gz': { body: archive },
    '/other/faketool.tar.gz': { body: otherArchive },
    '/flaky/faketool.tar.gz': { body: archive, failFirst: 2, failStatus: 503 },
    '/throttled/faketool.tar.gz': { body: archive, failFirst: 1, failStatus: 429 },
    '/down/faketool.tar.gz': { body: archive, failFirst: Number.MAX_SAFE_INTEGER, failStatus: 503 },
    '/single/faketool': { body: binary },
  });
});

afterAll(() => server.close());

beforeEach(async () => {
  runnerTemp = await tempDir('runner-temp-');
  toolCache = await tempDir('tool-cache-');
  process.env.RUNNER_TEMP = runnerTemp;
  process.env.RUNNER_TOOL_CACHE = toolCache;
  server.requests.length = 0;
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

const spec = (urlPath: string, overrides: Partial<Parameters<typeof installTool>[0]> = {}) => ({
  name: 'faketool',
  version: '1.2.3',
  platform: 'linux-x64',
  url: `${server.url}${urlPath}`,
  sha256: sha256(archive),
  ...overrides,
});

describe('installTool', () => {
  it('downloads, verifies, extracts and caches a tool whose sum matches', async () => {
    const tool = await installTool(spec('/ok/faketool.tar.gz'));
    expect(tool.source).toBe('download');
    expect(tool.dir).toBe(path.join(toolCache, 'faketool', '1.2.3', `linux-x64-sha256-${sha256(archive)}`));
    expect(execFileSync(tool.path).toString()).toBe('faketool 1.2.3\n');
    expect(await readdir(tool.dir)).toEqual(expect.arrayContaining(['faketool', 'LICENSE']));
    expect(server.requests).toEqual(['/ok/faketool.tar.gz']);
    expect(await readdir(runnerTemp)).toEqual([]);
  });

  it('refuses a wrong sum with both sums in the message, and extracts and runs nothing', async () => {
    const wrong = 'a'.repeat(64);
    const attempt = installTool(spec('/ok/faketool.tar.gz', { sha256: wrong }));
    await expect(attempt).rejects.toThrow(UserError);
    await expect(installTool(spec('/ok/faketool.tar.gz', { sha256: wrong }))).rejects.toThrow(
      `expected sha256 ${wrong}, got ${sha256(archive)}. Nothing was extracted or run.`,
    );
    expect(await readdir(runnerTemp)).toEqual([]);
    expect(await readdir(toolCache)).toEqual([]);
  });

  it('retries a server that fails twice, then installs from its third answer', async () => {
    const tool = await installTool(spec('/flaky/faketool.tar.gz'), { backoffMs: 10 });
    expect(tool.source).toBe('download');
    expect(server.requests).toEqual(['/flaky/faketool.tar.gz', '/flaky/faketool.tar.gz', '/flaky/faketool.tar.gz']);
  });

  it('retries a rate limit (429) too', async () => {
    const tool = await installTool(spec('/throttled/faketool.tar.gz'), { backoffMs: 10 });
    expect(tool.source).toBe('download');
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a missing file, and says how the download failed', async () => {
    const attempt = installTool(spec('/missing/faketool.tar.gz'), { backoffMs: 10 });
    await expect(attempt).rejects.toThrow(ToolkitError);
    await expect(installTool(spec('/missing/faketool.tar.gz'), { backoffMs: 10 })).rejects.toThrow(/failed after 1 attempt: HTTP 404/);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after the last attempt', async () => {
    const attempt = installTool(spec('/down/faketool.tar.gz'), { attempts: 2, backoffMs: 1 });
    await expect(attempt).rejects.toThrow(/failed after 2 attempts: HTTP 503/);
    expect(server.requests).toHaveLength(2);
    expect(await readdir(toolCache)).toEqual([]);
  });

  it('serves a cached tool with no network request at all', async () => {
    await installTool(spec('/ok/faketool.tar.gz'));
    server.requests.length = 0;
    const again = await installTool(spec('/ok/faketool.tar.gz', { url: 'http://127.0.0.1:9/unreachable.tar.gz' }));
    expect(again.source).toBe('cache');
    expect(server.requests).toEqual([]);
    expect(execFileSync(again.path).toString()).toBe('faketool 1.2.3\n');
  });

  it('keys the cache by the pinned sum: another sum for the same version is never served the cached tool', async () => {
    await installTool(spec('/ok/faketool.tar.gz'));
    server.requests.length = 0;
    const other = await installTool(spec('/other/faketool.tar.gz', { sha256: sha256(otherArchive) }));
    expect(other.source).toBe('download');
    expect(server.requests).toEqual(['/other/faketool.tar.gz']);
    expect(execFileSync(other.path).toString()).toBe('faketool 1.2.3 (another build)\n');
    // Both stay cached, each under its own sum, and each is served as itself.
    const first = await installTool(spec('/ok/faketool.tar.gz', { url: 'http://127.0.0.1:9/unreachable.tar.gz' }));
    expect(first.source).toBe('cache');
    expect(execFileSync(first.path).toString()).toBe('faketool 1.2.3\n');
  });

  it('re-hashes a cached tool on every hit: a binary planted in the cache is never run, and is replaced by a verified download', async () => {
    const installed = await installTool(spec('/ok/faketool.tar.gz'));
    const marker = path.join(await tempDir(), 'planted-ran');
    await writeFile(installed.path, planted(marker));
    server.requests.length = 0;

    const again = await installTool(spec('/ok/faketool.tar.gz'));
    expect(again.source).toBe('download');
    expect(server.requests).toEqual(['/ok/faketool.tar.gz']);
    expect(warnings().join('\n')).toMatch(
      new RegExp(
        `faketool 1\\.2\\.3 \\(linux-x64\\) in the tool cache .* is not what its pinned sha256 ${sha256(archive)} says: faketool is an executable file with sha256 [0-9a-f]{64}, where the verified download has an executable file with sha256 [0-9a-f]{64}\\. It was not run`,
      ),
    );
    expect(execFileSync(again.path).toString()).toBe('faketool 1.2.3\n');
    expect(existsSync(marker)).toBe(false);
    // What replaced it is served from the cache again, verified.
    expect((await installTool(spec('/ok/faketool.tar.gz'))).source).toBe('cache');
  });

  it('refuses a cache entry planted from scratch (tree, marker and kept archive), and one with an extra executable beside the tool', async () => {
    const key = `linux-x64-sha256-${sha256(archive)}`;
    const dir = path.join(toolCache, 'faketool', '1.2.3', key);
    const marker = path.join(await tempDir(), 'planted-ran');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'faketool'), planted(marker), { mode: 0o755 });
    await writeFile(`${dir}.complete`, '');
    await writeFile(`${dir}.archive`, 'not the pinned archive');
    const tool = await installTool(spec('/ok/faketool.tar.gz'));
    expect(tool.source).toBe('download');
    expect(warnings().join('\n')).toContain(`the archive kept beside it has sha256 ${sha256('not the pinned archive')}`);
    expect(execFileSync(tool.path).toString()).toBe('faketool 1.2.3\n');
    expect(existsSync(marker)).toBe(false);

    // The genuine tree, with a `git` added beside it (the folder is what goes on PATH).
    await writeFile(path.join(dir, 'git'), planted(marker), { mode: 0o755 });
    const next = await installTool(spec('/ok/faketool.tar.gz'));
    expect(next.source).toBe('download');
    expect(warnings().join('\n')).toContain('it holds git (an executable file with sha256');
    expect(await readdir(next.dir)).not.toContain('git');
  });

  it('re-hashes a cached single-file tool too, and fails clearly (running nothing) when it cannot be downloaded again', async () => {
    const single = {
      name: 'single',
      version: '0.1.0',
      platform: 'linux-x64',
      url: `${server.url}/single/faketool`,
      sha256: sha256(binary),
    };
    const installed = await installTool(single);
    expect(installed.dir).toBe(path.join(toolCache, 'single', '0.1.0', `linux-x64-sha256-${sha256(binary)}`));
    const marker = path.join(await tempDir(), 'planted-ran');
    await writeFile(installed.path, planted(marker));
    const offline = { ...single, url: 'http://127.0.0.1:9/unreachable' };
    await expect(installTool(offline, { attempts: 1 })).rejects.toThrow(
      /Download of http:\/\/127\.0\.0\.1:9\/unreachable failed after 1 attempt/,
    );
    expect(warnings().join('\n')).toContain(
      `single 0.1.0 (linux-x64) in the tool cache (${installed.dir}) is not what its pinned sha256 ${sha256(binary)} says: single is an executable file with sha256 ${sha256(planted(marker))}`,
    );
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(installed.path)).toBe(false);
    await rm(marker, { force: true });
  });

  it('installs a single-file download as an executable', async () => {
    const tool = await installTool({ name: 'single', version: '0.1.0', url: `${server.url}/single/faketool`, sha256: sha256(binary) });
    expect(execFileSync(tool.path).toString()).toBe('single 0.1.0\n');
  });

  it('uses the tool on PATH for version "system", and says when there is none', async () => {
    const bin = await tempDir();
    await writeFile(path.join(bin, 'faketool'), '#!/bin/sh\necho system\n');
    await chmod(path.join(bin, 'faketool'), 0o755);
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    try {
      const tool = await installTool(spec('/ok/faketool.tar.gz', { version: 'system' }));
      expect(tool).toEqual({ path: path.join(bin, 'faketool'), dir: bin, source: 'system' });
      expect(server.requests).toEqual([]);
      await expect(installTool(spec('/ok/x', { name: 'no-such-tool-here', version: 'system' }))).rejects.toThrow(
        'no-such-tool-here: version "system" was asked for, but no-such-tool-here is not on PATH.',
      );
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('refuses a pinned sum that is not a SHA-256', async () => {
    await expect(installTool(spec('/ok/faketool.tar.gz', { sha256: 'abc' }))).rejects.toThrow('is not 64 hexadecimal characters');
    expect(server.requests).toEqual([]);
  });
});
