import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { InputError, PINNED_TOOLS, installTool, pinnedToolSpec } from '@toolkit/shared';
import { type FileServer, sha256, startFileServer } from '../support/file-server.js';
import { tempDir } from '../support/temp.js';

describe('pinned tools', () => {
  it('pins trivy, syft and cosign for linux and darwin, x64 and arm64, each with a SHA-256', () => {
    for (const [name, tool] of Object.entries(PINNED_TOOLS)) {
      expect({ name, platforms: Object.keys(tool.sha256).sort() }).toEqual({
        name,
        platforms: ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64'],
      });
      for (const sum of Object.values(tool.sha256)) expect(sum).toMatch(/^[0-9a-f]{64}$/);
    }
    // Trivy releases up to 0.69.1 were deleted and 0.69.4 was malicious: the pin is later.
    expect(PINNED_TOOLS.trivy.version).toBe('0.70.0');
  });

  it('gives the release asset and its pinned sum', () => {
    expect(pinnedToolSpec('trivy', { platform: 'linux-x64' })).toEqual({
      name: 'trivy',
      version: '0.70.0',
      platform: 'linux-x64',
      url: 'https://github.com/aquasecurity/trivy/releases/download/v0.70.0/trivy_0.70.0_Linux-64bit.tar.gz',
      sha256: '8b4376d5d6befe5c24d503f10ff136d9e0c49f9127a4279fd110b727929a5aa9',
      archive: 'tar.gz',
    });
    expect(pinnedToolSpec('syft', { platform: 'darwin-arm64' }).url).toBe(
      'https://github.com/anchore/syft/releases/download/v1.44.0/syft_1.44.0_darwin_arm64.tar.gz',
    );
    expect(pinnedToolSpec('cosign', { platform: 'linux-arm64' })).toMatchObject({
      url: 'https://github.com/sigstore/cosign/releases/download/v3.1.3/cosign-linux-arm64',
      sha256: 'c5d324e091826b0d7a78eb16fef316450b4eb9aaec045611c08ba06f5e73220a',
      archive: 'binary',
      binary: 'cosign',
    });
    expect(pinnedToolSpec('trivy', { version: 'system' })).toMatchObject({ version: 'system' });
  });

  it('refuses a version or platform it has no sum for, unless the sum is given', () => {
    expect(() => pinnedToolSpec('trivy', { version: '0.69.4', platform: 'linux-x64' })).toThrow(InputError);
    expect(() => pinnedToolSpec('trivy', { version: '0.69.4', platform: 'linux-x64' })).toThrow(
      'Invalid input "trivy-version": 0.69.4 is not pinned here (the pinned version is 0.70.0); give its SHA-256 as trivy-sha256, from the project\'s published checksums.',
    );
    expect(() => pinnedToolSpec('cosign', { platform: 'win32-x64' })).toThrow(
      'cosign is pinned for linux-x64, linux-arm64, darwin-x64, darwin-arm64, not win32-x64',
    );
    expect(() => pinnedToolSpec('syft', { version: 'latest' })).toThrow(
      '"latest" is not allowed; expected a version such as 1.44.0, or system.',
    );
    expect(pinnedToolSpec('trivy', { version: '0.71.0', platform: 'linux-x64', sha256: 'a'.repeat(64) })).toMatchObject({
      version: '0.71.0',
      sha256: 'a'.repeat(64),
    });
  });
});

describe('installing a pinned tool from a mirror (local HTTP server)', () => {
  let server: FileServer;
  let archive: Buffer;
  const cosign = Buffer.from('#!/bin/sh\necho "cosign v3.1.3 (fake)"\n');

  beforeAll(async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'content'));
    await writeFile(path.join(dir, 'content', 'trivy'), '#!/bin/sh\necho "Version: 0.70.0 (fake)"\n');
    await chmod(path.join(dir, 'content', 'trivy'), 0o755);
    execFileSync('tar', ['-czf', path.join(dir, 'trivy.tar.gz'), '-C', path.join(dir, 'content'), 'trivy']);
    archive = await readFile(path.join(dir, 'trivy.tar.gz'));
    server = await startFileServer({
      '/v0.70.0/trivy_0.70.0_Linux-64bit.tar.gz': { body: archive },
      '/v3.1.3/cosign-linux-amd64': { body: cosign },
    });
    process.env.RUNNER_TEMP = await tempDir('runner-temp-');
    process.env.RUNNER_TOOL_CACHE = await tempDir('tool-cache-');
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterAll(() => server.close());

  it('refuses the mirror’s file when it is not the pinned release (nothing is run)', async () => {
    const spec = pinnedToolSpec('trivy', { platform: 'linux-x64', downloadBase: server.url });
    await expect(installTool(spec)).rejects.toThrow(
      `expected sha256 ${PINNED_TOOLS.trivy.sha256['linux-x64']}, got ${sha256(archive)}. Nothing was extracted or run.`,
    );
  });

  it('installs a tar.gz tool and a single-binary tool whose sums are given', async () => {
    const trivy = await installTool(pinnedToolSpec('trivy', { platform: 'linux-x64', downloadBase: server.url, sha256: sha256(archive) }));
    expect(execFileSync(trivy.path).toString()).toBe('Version: 0.70.0 (fake)\n');
    const signer = await installTool(pinnedToolSpec('cosign', { platform: 'linux-x64', downloadBase: server.url, sha256: sha256(cosign) }));
    expect(path.basename(signer.path)).toBe('cosign');
    expect(execFileSync(signer.path).toString()).toBe('cosign v3.1.3 (fake)\n');
  });
});
