import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UserError, runCommand } from '@toolkit/shared';
import { imageName, parseImageReference, resolveDigest, runSign } from '../../actions/sign/src/sign.js';
import { fakeTool } from '../support/fake-tools.js';
import { runBuiltAction } from '../support/harness.js';
import { type Registry, pushArtifact, startRegistry } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

const DIGEST = `sha256:${'1'.repeat(64)}`;
const PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfake\n-----END PUBLIC KEY-----\n';
const PRIVATE_KEY =
  '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nZmFrZSBrZXkgZm9yIHRlc3Rz\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';

describe('image references', () => {
  it('reads registry, repository, tag and digest', () => {
    expect(parseImageReference('127.0.0.1:5000/acme/app:1.0')).toEqual({ registry: '127.0.0.1:5000', repository: 'acme/app', tag: '1.0' });
    expect(parseImageReference(`ghcr.io/acme/app@${DIGEST}`)).toEqual({ registry: 'ghcr.io', repository: 'acme/app', digest: DIGEST });
    expect(parseImageReference('alpine')).toEqual({ registry: 'registry-1.docker.io', repository: 'library/alpine' });
    expect(imageName(`ghcr.io/acme/app:1.0@${DIGEST}`)).toBe('ghcr.io/acme/app');
    expect(imageName('localhost:5000/app:2')).toBe('localhost:5000/app');
    expect(() => parseImageReference('ghcr.io/Acme/App:1')).toThrow('is not an image reference');
    expect(() => parseImageReference('ghcr.io/acme/app@sha256:123')).toThrow('has a digest that is not sha256');
  });
});

describe('resolving a tag to a digest', () => {
  let registry: Registry;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    registry = await startRegistry(dir);
  });
  afterAll(() => registry.close());

  it('asks the real registry (docker-registry, image pushed by skopeo), as skopeo itself sees it', async () => {
    const pushed = await pushArtifact(registry, dir, 'acme/app', '1.0.0');
    const resolved = await resolveDigest(parseImageReference(`${registry.address}/acme/app:1.0.0`));
    expect(resolved).toBe(pushed);
    expect(pushed).toMatch(/^sha256:[a-f0-9]{64}$/);
    await expect(resolveDigest(parseImageReference(`${registry.address}/acme/app:9.9.9`))).rejects.toThrow(UserError);
  });

  it('resolves against a real registry that wants bearer tokens (docker-registry token auth, a token service in the test)', async () => {
    const tokenDir = await tempDir();
    const secured = await startRegistry(tokenDir, { tokenAuth: { username: 'robot', password: 's3cret' } });
    try {
      const pushed = await pushArtifact(secured, tokenDir, 'acme/private', '3.0.0');
      const anonymous = await fetch(`http://${secured.address}/v2/acme/private/manifests/3.0.0`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="toolkit-test-registry"/,
      );
      expect(
        await resolveDigest(parseImageReference(`${secured.address}/acme/private:3.0.0`), { username: 'robot', password: 's3cret' }),
      ).toBe(pushed);
      await expect(
        resolveDigest(parseImageReference(`${secured.address}/acme/private:3.0.0`), { username: 'robot', password: 'wrong' }),
      ).rejects.toThrow('refused a token');
    } finally {
      await secured.close();
    }
  });

  it('answers a bearer-token challenge, with credentials when the token endpoint wants them', async () => {
    const seen: string[] = [];
    const server = http.createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      seen.push(`${request.method} ${url.pathname}${url.search} ${request.headers.authorization ?? '-'}`);
      if (url.pathname === '/token') {
        if (request.headers.authorization !== `Basic ${Buffer.from('robot:s3cret').toString('base64')}`)
          return void response.writeHead(401).end();
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'good-token' }));
      }
      if (request.headers.authorization !== 'Bearer good-token') {
        const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
        return void response
          .writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="test-registry",scope="repository:acme/private:pull"` })
          .end();
      }
      response.writeHead(200, { 'docker-content-digest': DIGEST, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await resolveDigest(parseImageReference(`${address}/acme/private:1.0`), { username: 'robot', password: 's3cret' })).toBe(
        DIGEST,
      );
      expect(seen).toEqual([
        'GET /v2/acme/private/manifests/1.0 -',
        `GET /token?service=test-registry&scope=repository%3Aacme%2Fprivate%3Apull Basic ${Buffer.from('robot:s3cret').toString('base64')}`,
        'GET /v2/acme/private/manifests/1.0 Bearer good-token',
      ]);
      await expect(resolveDigest(parseImageReference(`${address}/acme/private:1.0`))).rejects.toThrow(
        'refused a token for /v2/acme/private/manifests/1.0 (HTTP 401',
      );
    } finally {
      server.close();
    }
  });
});

describe('signing with a fake cosign that records its argv and environment', () => {
  const log = () => undefined;

  it('signs by digest with a key from the environment (never argv), attests the SBOM and verifies with the public key', async () => {
    const dir = await tempDir();
    const cosign = await fakeTool(path.join(dir, 'bin'), 'cosign', {});
    await writeFile(path.join(dir, 'sbom.cdx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }));
    const result = await runSign(
      {
        signedRef: `ghcr.io/acme/app@${DIGEST}`,
        mode: 'key',
        tlogUpload: false,
        attestSbom: path.join(dir, 'sbom.cdx.json'),
        verify: true,
        identity: '/tmp/cosign.pub',
        workDir: dir,
      },
      { cosign: path.join(dir, 'bin', 'cosign'), run: runCommand, keyEnv: { COSIGN_PRIVATE_KEY: PRIVATE_KEY, COSIGN_PASSWORD: 'pw' }, log },
    );
    expect(result).toEqual({
      signedRef: `ghcr.io/acme/app@${DIGEST}`,
      verified: true,
      attested: { predicateType: 'cyclonedx', file: path.join(dir, 'sbom.cdx.json') },
    });
    expect(await cosign.calls()).toEqual([
      ['sign', '--yes', '--key', 'env://COSIGN_PRIVATE_KEY', '--tlog-upload=false', `ghcr.io/acme/app@${DIGEST}`],
      [
        'attest',
        '--yes',
        '--key',
        'env://COSIGN_PRIVATE_KEY',
        '--tlog-upload=false',
        '--type',
        'cyclonedx',
        '--predicate',
        path.join(dir, 'sbom.cdx.json'),
        `ghcr.io/acme/app@${DIGEST}`,
      ],
      ['verify', '--key', '/tmp/cosign.pub', '--insecure-ignore-tlog=true', `ghcr.io/acme/app@${DIGEST}`],
    ]);
    const environments = await cosign.environments();
    expect(environments[0]).toEqual({ COSIGN_PRIVATE_KEY: PRIVATE_KEY, COSIGN_PASSWORD: 'pw' });
    expect(environments[2]).toEqual({});
  });

  it('signs keyless and verifies against this workflow’s identity and GitHub’s OIDC issuer', async () => {
    const dir = await tempDir();
    const cosign = await fakeTool(path.join(dir, 'bin'), 'cosign', {});
    const identity = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/UAT-1.0.0';
    await runSign(
      { signedRef: `ghcr.io/acme/app@${DIGEST}`, mode: 'keyless', tlogUpload: true, attestSbom: '', verify: true, identity, workDir: dir },
      { cosign: path.join(dir, 'bin', 'cosign'), run: runCommand, log },
    );
    expect(await cosign.calls()).toEqual([
      ['sign', '--yes', `ghcr.io/acme/app@${DIGEST}`],
      [
        'verify',
        '--certificate-identity',
        identity,
        '--certificate-oidc-issuer',
        'https://token.actions.githubusercontent.com',
        `ghcr.io/acme/app@${DIGEST}`,
      ],
    ]);
  });

  it('says what to do when the SBOM is too large for the transparency log', async () => {
    const dir = await tempDir();
    await fakeTool(path.join(dir, 'bin'), 'cosign', { exitCode: 0 });
    // sign succeeds; attest answers as Rekor does to an oversized entry.
    const attestOnly = await fakeTool(path.join(dir, 'bin2'), 'cosign', {
      exitCode: 1,
      stderr: 'Error: signing ...: [POST /api/v1/log/entries][413] createLogEntryPayloadTooLarge\n',
    });
    await writeFile(path.join(dir, 'sbom.spdx.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [] }));
    const sbom = path.join(dir, 'sbom.spdx.json');
    const run: typeof runCommand = (file, args, options) =>
      runCommand(args[0] === 'attest' ? path.join(dir, 'bin2', 'cosign') : file, args, options);
    await expect(
      runSign(
        {
          signedRef: `ghcr.io/acme/app@${DIGEST}`,
          mode: 'keyless',
          tlogUpload: true,
          attestSbom: sbom,
          verify: false,
          identity: '',
          workDir: dir,
        },
        { cosign: path.join(dir, 'bin', 'cosign'), run, log },
      ),
    ).rejects.toThrow(
      'The SBOM sbom.spdx.json is too large for the transparency log (Rekor refused the attestation). Attest with tlog-upload: false',
    );
    expect((await attestOnly.calls())[0]).toContain('spdxjson');
  });
});

describe('sign built dist under Node 24', () => {
  let registry: Registry;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    registry = await startRegistry(dir);
  });
  afterAll(() => registry.close());

  it('resolves the tag, signs by digest with a key, verifies, and never shows the key', async () => {
    const pushed = await pushArtifact(registry, dir, 'acme/app', '2.0.0');
    const bin = path.join(dir, 'bin');
    const cosign = await fakeTool(bin, 'cosign', { stdout: PUBLIC_KEY });
    const result = await runBuiltAction('sign', {
      workspace: dir,
      inputs: { image: `${registry.address}/acme/app:2.0.0`, key: PRIVATE_KEY, 'key-password': 'pw', 'cosign-version': 'system' },
      env: { PATH: `${bin}${path.delimiter}${process.env.PATH}` },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({ digest: pushed, 'signed-ref': `${registry.address}/acme/app@${pushed}` });
    const calls = await cosign.calls();
    expect(calls.map((args) => args[0])).toEqual(['public-key', 'sign', 'verify']);
    expect(calls[1]).toEqual(['sign', '--yes', '--key', 'env://COSIGN_PRIVATE_KEY', `${registry.address}/acme/app@${pushed}`]);
    expect(calls.flat().join(' ')).not.toContain('ZmFrZSBrZXkgZm9yIHRlc3Rz');
    expect(result.log.join('\n')).not.toContain('ZmFrZSBrZXkgZm9yIHRlc3Rz');
    expect(result.summary).toContain(`<code>${pushed}</code>`);
    expect(result.summary).toContain('<th align="left">Verified</th><td>yes</td>');
  });

  it('refuses keyless signing without id-token: write, saying so', async () => {
    const result = await runBuiltAction('sign', {
      workspace: dir,
      inputs: { image: `ghcr.io/acme/app@${DIGEST}`, 'cosign-version': 'system' },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain(
      'Error: Keyless signing needs the workflow OIDC token, and this job has none: add `permissions: id-token: write` to the job (or give key to sign with a key).',
    );
  });
});
