import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type CommandRunner, InputError, ToolkitError, UserError, runCommand } from '@toolkit/shared';
import { type SignaturePolicy, readSignaturePolicy, verifyImageSignatures } from '../../actions/deploy-compose/src/verify.js';
import { fakeTool } from '../support/fake-tools.js';
import { tempDir } from '../support/temp.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const D4 = `sha256:${'4'.repeat(64)}`;
const PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfake\n-----END PUBLIC KEY-----\n';
const WORKFLOW = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const KEYLESS: SignaturePolicy = { kind: 'keyless', identity: WORKFLOW, issuer: ISSUER };
const log = () => undefined;

/** cosign's two stderr lines for a failed verify: cobra's `Error:` line, then main's log line. */
const cosignFailure = (cause: string) => `Error: ${cause}\nerror during command execution: ${cause}\n`;

/** A cosign stand-in that answers per image reference (the last argument) and records every call. */
function scriptedCosign(answers: Record<string, { exitCode: number; stderr: string }>) {
  const calls: { args: readonly string[]; env: Record<string, string> }[] = [];
  const run: CommandRunner = async (_file, args, options = {}) => {
    calls.push({ args, env: options.env ?? {} });
    return { stdout: '', ...(answers[args.at(-1) as string] ?? { exitCode: 0, stderr: '' }) };
  };
  return { run, calls };
}

describe('cosign verify, as run for a real process (fake cosign recording argv and environment)', () => {
  it('verifies with a public key handed over in the environment, never in argv, the reference after --', async () => {
    const dir = await tempDir();
    const cosign = await fakeTool(dir, 'cosign', {});
    const verified = await verifyImageSignatures(
      { api: `ghcr.io/acme/api@${D1}` },
      { kind: 'key', key: PUBLIC_KEY },
      { cosign: path.join(dir, 'cosign'), run: runCommand, log },
    );
    expect(verified).toEqual([{ service: 'api', image: 'ghcr.io/acme/api', digest: D1 }]);
    expect(await cosign.calls()).toEqual([['verify', '--key=env://COSIGN_PUBLIC_KEY', '--', `ghcr.io/acme/api@${D1}`]]);
    expect((await cosign.environments())[0]).toEqual({ COSIGN_PUBLIC_KEY: PUBLIC_KEY });
  });

  it('verifies keyless against the identity and issuer, and a digest two services share only once', async () => {
    const dir = await tempDir();
    const cosign = await fakeTool(dir, 'cosign', {});
    const messages: string[] = [];
    const verified = await verifyImageSignatures(
      { web: `ghcr.io/acme/app:1.0@${D1}`, worker: `ghcr.io/acme/app@${D1}`, proxy: `docker.io/library/nginx@${D2}` },
      KEYLESS,
      { cosign: path.join(dir, 'cosign'), log: (message) => messages.push(message) },
    );
    expect(await cosign.calls()).toEqual([
      ['verify', `--certificate-identity=${WORKFLOW}`, `--certificate-oidc-issuer=${ISSUER}`, '--', `ghcr.io/acme/app@${D1}`],
      ['verify', `--certificate-identity=${WORKFLOW}`, `--certificate-oidc-issuer=${ISSUER}`, '--', `docker.io/library/nginx@${D2}`],
    ]);
    expect(verified.map((image) => `${image.service} ${image.image}@${image.digest}`)).toEqual([
      `web ghcr.io/acme/app@${D1}`,
      `worker ghcr.io/acme/app@${D1}`,
      `proxy docker.io/library/nginx@${D2}`,
    ]);
    expect(messages[0]).toBe(
      `Verified ghcr.io/acme/app@${D1} (web, worker): signed by the identity ${WORKFLOW} from the issuer ${ISSUER}.`,
    );
  });

  it('passes regexps as the -regexp flags, one argument each, so a value can never be taken for a flag', async () => {
    const cosign = scriptedCosign({});
    const policy = readSignaturePolicy({
      verify: true,
      key: '',
      identity: '',
      identityRegexp: '^https://github\\.com/acme/.+$',
      issuer: '',
      issuerRegexp: '^-https://token\\.actions\\.githubusercontent\\.com$',
    }) as SignaturePolicy;
    await verifyImageSignatures({ api: `ghcr.io/acme/api@${D1}` }, policy, { cosign: 'cosign', run: cosign.run, log });
    expect(cosign.calls.map((call) => call.args)).toEqual([
      [
        'verify',
        '--certificate-identity-regexp=^https://github\\.com/acme/.+$',
        '--certificate-oidc-issuer-regexp=^-https://token\\.actions\\.githubusercontent\\.com$',
        '--',
        `ghcr.io/acme/api@${D1}`,
      ],
    ]);
  });
});

describe('refusals', () => {
  it('checks every image, then names each refused service and digest with its reason in one refusal', async () => {
    const cosign = scriptedCosign({
      [`ghcr.io/acme/api@${D1}`]: { exitCode: 10, stderr: cosignFailure('no signatures found') },
      [`ghcr.io/acme/web@${D2}`]: {
        exitCode: 12,
        stderr: cosignFailure(
          `no matching signatures: none of the expected identities matched what was in the certificate, got subjects [https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main] with issuer ${ISSUER}`,
        ),
      },
      // The new bundle format's refusal: exit code 1, told only by the text.
      [`ghcr.io/acme/jobs@${D4}`]: {
        exitCode: 1,
        stderr: cosignFailure(
          'no matching attestations: failed to verify certificate identity: no matching CertificateIdentity found, last error: expected SAN value "x", got "y"',
        ),
      },
    });
    const images = {
      api: `ghcr.io/acme/api@${D1}`,
      web: `ghcr.io/acme/web@${D2}`,
      db: `ghcr.io/acme/db@${D3}`,
      jobs: `ghcr.io/acme/jobs@${D4}`,
    };
    const error = await verifyImageSignatures(images, KEYLESS, { cosign: 'cosign', run: cosign.run, log }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('REFUSED');
    expect(cosign.calls).toHaveLength(4);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('3 of 4 image(s) failed signature verification, so nothing is deployed:');
    expect(lines[1]).toBe(`- api: ghcr.io/acme/api@${D1}: unsigned: no signatures found`);
    expect(lines[2]).toMatch(
      new RegExp(
        `^- web: ghcr\\.io/acme/web@${D2}: not signed by the identity ${WORKFLOW} from the issuer ${ISSUER} \\(cosign: none of .*evil/fork`,
      ),
    );
    expect(lines[3]).toMatch(new RegExp(`^- jobs: ghcr\\.io/acme/jobs@${D4}: not signed by .*no matching CertificateIdentity found`));
    expect(lines).toHaveLength(4);
  });

  it('is no refusal but a failure when cosign could not answer (here: the registry refused it)', async () => {
    const cosign = scriptedCosign({
      [`ghcr.io/acme/api@${D1}`]: { exitCode: 10, stderr: cosignFailure('no signatures found') },
      [`ghcr.io/acme/web@${D2}`]: {
        exitCode: 1,
        stderr: cosignFailure('GET https://ghcr.io/token: UNAUTHORIZED: authentication required'),
      },
    });
    const images = { api: `ghcr.io/acme/api@${D1}`, web: `ghcr.io/acme/web@${D2}` };
    const error = await verifyImageSignatures(images, KEYLESS, { cosign: 'cosign', run: cosign.run, log }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ToolkitError);
    expect(error).not.toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(`- api: ghcr.io/acme/api@${D1}: unsigned`);
    expect((error as Error).message).toContain(
      `- web: ghcr.io/acme/web@${D2}: cosign could not verify it (exit code 1): GET https://ghcr.io/token: UNAUTHORIZED`,
    );
  });

  it('refuses an image that is not pinned by digest before running cosign', async () => {
    const cosign = scriptedCosign({});
    await expect(
      verifyImageSignatures({ api: 'ghcr.io/acme/api:1.0' }, KEYLESS, { cosign: 'cosign', run: cosign.run, log }),
    ).rejects.toThrow(InputError);
    expect(cosign.calls).toHaveLength(0);
  });
});

describe('registry credentials', () => {
  it('reach cosign in a Docker config of its own (0600), never in argv, and the directory is gone afterwards, refused or not', async () => {
    const root = await tempDir();
    const seen: { args: readonly string[]; dir: string; config: unknown; mode: number }[] = [];
    const run: CommandRunner = async (_file, args, options = {}) => {
      const dir = options.env?.DOCKER_CONFIG as string;
      const file = path.join(dir, 'config.json');
      seen.push({ args, dir, config: JSON.parse(await readFile(file, 'utf8')), mode: (await stat(file)).mode & 0o777 });
      return { exitCode: args.at(-1)?.endsWith(D2) ? 10 : 0, stdout: '', stderr: cosignFailure('no signatures found') };
    };
    const registryAuth = { server: 'registry.example:5000', username: 'robot', password: 's3cret-token' };
    const options = { cosign: 'cosign', run, log, registryAuth, tempRoot: root };
    await verifyImageSignatures({ api: `registry.example:5000/acme/api@${D1}` }, KEYLESS, options);
    await expect(verifyImageSignatures({ api: `registry.example:5000/acme/api@${D2}` }, KEYLESS, options)).rejects.toThrow('unsigned');
    await verifyImageSignatures({ api: `docker.io/acme/api@${D1}` }, KEYLESS, {
      ...options,
      registryAuth: { ...registryAuth, server: 'docker.io' },
    });

    const auth = Buffer.from('robot:s3cret-token').toString('base64');
    expect(seen.map((call) => call.config)).toEqual([
      { auths: { 'registry.example:5000': { auth } } },
      { auths: { 'registry.example:5000': { auth } } },
      { auths: { 'https://index.docker.io/v1/': { auth } } },
    ]);
    for (const call of seen) {
      expect(call.mode).toBe(0o600);
      expect(path.dirname(call.dir)).toBe(root);
      expect(existsSync(call.dir)).toBe(false);
      expect(call.args.join(' ')).not.toMatch(/s3cret|robot|registry-password|registry-username/);
      expect(call.args.join(' ')).not.toContain(auth);
    }
  });
});

describe('readSignaturePolicy', () => {
  const none = { verify: true, key: '', identity: '', identityRegexp: '', issuer: '' };

  it('reads a key policy, a keyless one, and none when verify-signature is false', () => {
    expect(readSignaturePolicy({ ...none, key: PUBLIC_KEY })).toEqual({ kind: 'key', key: PUBLIC_KEY });
    expect(readSignaturePolicy({ ...none, identity: WORKFLOW, issuer: ISSUER })).toEqual(KEYLESS);
    expect(readSignaturePolicy({ ...none, identityRegexp: '^https://github\\.com/acme/.+$', issuer: ISSUER })).toEqual({
      kind: 'keyless',
      identity: '^https://github\\.com/acme/.+$',
      issuer: ISSUER,
      identityIsRegexp: true,
    });
    expect(readSignaturePolicy({ ...none, verify: false })).toBeUndefined();
  });

  it.each([
    ['verify-signature', { ...none }, 'give cosign-key, or certificate-identity'],
    ['certificate-identity', { ...none, key: PUBLIC_KEY, identity: WORKFLOW, issuer: ISSUER }, 'cannot be given with cosign-key'],
    ['certificate-identity-regexp', { ...none, identity: WORKFLOW, identityRegexp: '^x$', issuer: ISSUER }, 'with certificate-identity'],
    ['certificate-oidc-issuer', { ...none, identity: WORKFLOW }, 'a value is required'],
    ['certificate-oidc-issuer', { ...none, key: PUBLIC_KEY, issuer: ISSUER }, 'not to cosign-key'],
    ['certificate-identity-regexp', { ...none, identityRegexp: 'github\\.com/acme/', issuer: ISSUER }, 'must be anchored'],
    ['cosign-key', { ...none, key: '-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----' }, 'this is a private key'],
    ['cosign-key', { ...none, key: 'cosign.pub' }, 'expected a PEM public key'],
    ['verify-signature', { ...none, verify: false, identity: WORKFLOW, issuer: ISSUER }, 'it is false, but certificate-identity'],
  ])('refuses with an error naming %s (%#)', (input, values, problem) => {
    let error: unknown;
    try {
      readSignaturePolicy(values);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe(input);
    expect((error as InputError).message).toContain(problem);
    expect((error as InputError).message).not.toContain('abc');
  });
});
