import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ToolkitError, UserError, installTool } from '@toolkit/shared';
import { type FileServer, sha256, startFileServer } from '../support/file-server.js';
import { tempDir } from '../support/temp.js';

let archive: Buffer;
let binary: Buffer;
let server: FileServer;
let runnerTemp: string;
let toolCache: string;

/** A release archive holding an executable that, when run, leaves a mark and prints its version. */
async function makeArchive(dir: string): Promise<Buffer> {
  const content = path.join(dir, 'content');
  await mkdir(content, { recursive: true });
  await writeFile(path.join(content, 'faketool'), '#!/bin/sh\ntouch "$0.ran"\necho "faketool 1.2.3"\n');
  await chmod(path.join(content, 'faketool'), 0o755);
  await writeFile(path.join(content, 'LICENSE'), 'MIT\n');
  execFileSync('tar', ['-czf', path.join(dir, 'faketool.tar.gz'), '-C', content, 'faketool', 'LICENSE']);
  return readFile(path.join(dir, 'faketool.tar.gz'));
}

beforeAll(async () => {
  const dir = await tempDir();
  archive = await makeArchive(dir);
  binary = Buffer.from('#!/bin/sh\necho single 0.1.0\n');
  server = await startFileServer({
    '/ok/faketool.tar.gz': { body: archive },
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
    expect(tool.dir).toBe(path.join(toolCache, 'faketool', '1.2.3', 'linux-x64'));
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
