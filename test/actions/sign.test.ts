import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InputError, InputReader, UserError, pinnedToolSpec, runCommand } from '@toolkit/shared';
import { getInputs } from '../../actions/sign/src/main.js';
import { imageName, parseImageReference, readSbomToAttest, resolveDigest, runSign } from '../../actions/sign/src/sign.js';
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
    // The attestation first: the one upload that can be refused (an SBOM too large for Rekor) comes
    // before the signature, so a refusal leaves nothing signed.
    expect(await cosign.calls()).toEqual([
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
      ['sign', '--yes', '--key', 'env://COSIGN_PRIVATE_KEY', '--tlog-upload=false', `ghcr.io/acme/app@${DIGEST}`],
      ['verify', '--key', '/tmp/cosign.pub', '--insecure-ignore-tlog=true', `ghcr.io/acme/app@${DIGEST}`],
    ]);
    const environments = await cosign.environments();
    expect(environments[0]).toEqual({ COSIGN_PRIVATE_KEY: PRIVATE_KEY, COSIGN_PASSWORD: 'pw' });
    expect(environments[1]).toEqual({ COSIGN_PRIVATE_KEY: PRIVATE_KEY, COSIGN_PASSWORD: 'pw' });
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

  it('says what to do when the SBOM is too large for the transparency log, and signs nothing', async () => {
    const dir = await tempDir();
    const signOnly = await fakeTool(path.join(dir, 'bin'), 'cosign', { exitCode: 0 });
    // sign would succeed; attest answers as Rekor does to an oversized entry.
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
      'The SBOM sbom.spdx.json is too large for the transparency log (Rekor refused the attestation); the image was not signed. Attest with tlog-upload: false',
    );
    expect((await attestOnly.calls())[0]).toContain('spdxjson');
    expect(await signOnly.calls()).toEqual([]);
  });

  describe('an SBOM to attest is read and checked before anything is signed', () => {
    const signedRef = `ghcr.io/acme/app@${DIGEST}`;
    async function attempt(write: (file: string) => Promise<void>, name = 'sbom.spdx.json') {
      const dir = await tempDir();
      const cosign = await fakeTool(path.join(dir, 'bin'), 'cosign', {});
      const file = path.join(dir, name);
      await write(file);
      const signing = runSign(
        { signedRef, mode: 'keyless', tlogUpload: true, attestSbom: file, verify: true, identity: 'https://github.com/x', workDir: dir },
        { cosign: path.join(dir, 'bin', 'cosign'), run: runCommand, log },
      );
      const error = await signing.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      return { file, error: error as Error, calls: await cosign.calls() };
    }

    it('refuses an SBOM that is not JSON, naming attest-sbom and the file, with cosign never run', async () => {
      const { file, error, calls } = await attempt((target) => writeFile(target, '<html>502 Bad Gateway</html>\n'));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message.startsWith(`Invalid input "attest-sbom": ${file} is not JSON (`)).toBe(true);
      expect(error.message).toContain('); expected an SPDX or CycloneDX JSON SBOM');
      expect(calls).toEqual([]);
    });

    it('refuses JSON that is not an SBOM, an empty file, syft JSON and an attestation envelope, with cosign never run', async () => {
      const cases: [string, string][] = [
        [JSON.stringify({ hello: 'world' }), 'is JSON, but not an SBOM this toolkit knows'],
        ['', 'is empty'],
        [JSON.stringify({ artifacts: [], descriptor: { name: 'syft', version: '1.0.0' }, schema: { version: '16.0.0' } }), 'is syft JSON'],
        [
          JSON.stringify({
            payloadType: 'application/vnd.in-toto+json',
            payload: Buffer.from(
              JSON.stringify({ predicateType: 'https://cyclonedx.org/bom', predicate: { bomFormat: 'CycloneDX' } }),
            ).toString('base64'),
            signatures: [],
          }),
          'is already an attestation (a DSSE envelope carrying CycloneDX JSON',
        ],
      ];
      for (const [content, problem] of cases) {
        const { file, error, calls } = await attempt((target) => writeFile(target, content));
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toContain(`Invalid input "attest-sbom": ${file} ${problem}`);
        expect(calls).toEqual([]);
      }
    });

    it('refuses a missing file, a directory and a symbolic link, with cosign never run', async () => {
      const missing = await attempt(async () => undefined);
      expect(missing.error.message).toBe(`Invalid input "attest-sbom": ${missing.file} does not exist.`);
      expect(missing.calls).toEqual([]);
      const directory = await attempt((target) => mkdir(target));
      expect(directory.error.message).toBe(`Invalid input "attest-sbom": ${directory.file} is not a regular file.`);
      expect(directory.calls).toEqual([]);
      const linked = await attempt(async (target) => {
        await writeFile(`${target}.real`, JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [] }));
        await symlink(`${target}.real`, target);
      });
      expect(linked.error.message).toBe(`Invalid input "attest-sbom": ${linked.file} is a symbolic link; give the SBOM file itself.`);
      expect(linked.calls).toEqual([]);
    });

    it('gives the predicate type of SPDX and CycloneDX, in an SBOM with a byte order mark too', async () => {
      const dir = await tempDir();
      await writeFile(path.join(dir, 'a.spdx.json'), `\uFEFF${JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [{}] })}`);
      await writeFile(path.join(dir, 'b.cdx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }));
      expect(await readSbomToAttest(path.join(dir, 'a.spdx.json'))).toMatchObject({ predicateType: 'spdxjson', sbom: { packages: 1 } });
      expect(await readSbomToAttest(path.join(dir, 'b.cdx.json'))).toMatchObject({ predicateType: 'cyclonedx' });
    });
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

  it('with digest given, signs name@digest and ignores the tag of image (what toolkit migrate gives from docker/metadata-action)', async () => {
    const pushed = await pushArtifact(registry, dir, 'acme/tagged', '3.0.0');
    const bin = path.join(dir, 'bin-tagged');
    const cosign = await fakeTool(bin, 'cosign', { stdout: PUBLIC_KEY });
    const result = await runBuiltAction('sign', {
      workspace: dir,
      // The tag is not in the registry: it is not resolved, the digest is what is signed.
      inputs: { image: `${registry.address}/acme/tagged:main`, digest: pushed, key: PRIVATE_KEY, 'cosign-version': 'system' },
      env: { PATH: `${bin}${path.delimiter}${process.env.PATH}` },
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({ digest: pushed, 'signed-ref': `${registry.address}/acme/tagged@${pushed}` });
    expect((await cosign.calls())[1]?.at(-1)).toBe(`${registry.address}/acme/tagged@${pushed}`);
  });

  it('refuses a bad attest-sbom before cosign is installed or run, or the tag resolved', async () => {
    const bin = path.join(dir, 'bin-bad-sbom');
    const cosign = await fakeTool(bin, 'cosign', { stdout: PUBLIC_KEY });
    await writeFile(path.join(dir, 'not-an-sbom.json'), '{"bomFormat": "CycloneDX", ');
    const result = await runBuiltAction('sign', {
      workspace: dir,
      inputs: {
        image: `${registry.address}/acme/app:does-not-exist`,
        key: PRIVATE_KEY,
        'attest-sbom': 'not-an-sbom.json',
        'cosign-version': 'system',
      },
      env: { PATH: `${bin}${path.delimiter}${process.env.PATH}` },
    });
    expect(result.exitCode).toBe(1);
    expect(await cosign.calls()).toEqual([]);
    expect(result.outputs).toEqual({});
    expect(result.log.join('\n')).toContain(`Error: Invalid input "attest-sbom": ${path.join(dir, 'not-an-sbom.json')} is not JSON (`);
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

describe('cosign-installer’s cosign-release, an alias of cosign-version', () => {
  const read = (values: Record<string, string>) =>
    getInputs(new InputReader({ source: (name) => ({ image: 'ghcr.io/acme/app:1.0', ...values })[name] ?? '', mask: () => undefined }), {});

  it('is read as cosign-version, and errors about its value name cosign-release', () => {
    expect(read({ 'cosign-release': 'v3.1.3' }).cosign).toEqual({ version: 'v3.1.3', sha256: '', input: 'cosign-release' });
    expect(read({ 'cosign-version': '3.1.3' }).cosign).toEqual({ version: '3.1.3', sha256: '', input: 'cosign-version' });
    const given = read({ 'cosign-release': 'v2.2.4' }).cosign;
    expect(() => pinnedToolSpec('cosign', given)).toThrow(
      'Invalid input "cosign-release": 2.2.4 is not pinned here (the pinned version is',
    );
  });

  it('refuses both given, naming both', () => {
    expect(() => read({ 'cosign-release': 'v3.1.3', 'cosign-version': '3.1.3' })).toThrow(
      'Invalid input "cosign-version": it is given twice, as "cosign-version" and as its alias "cosign-release"',
    );
  });
});
