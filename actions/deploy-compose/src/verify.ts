/**
 * verify-signature: every pinned image digest is checked with `cosign verify` on the runner, before
 * anything on the server changes. One refusal names every service whose image is unsigned or signed
 * by someone other than the policy allows.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type CommandRunner, InputError, ToolkitError, UserError, runCommand } from '@toolkit/shared';

/**
 * `key`: a PEM public key as text. It reaches cosign through its environment (`--key=env://…`, which
 * cosign reads for public keys too), so it is never in argv and never written to the runner's disk.
 */
export type SignaturePolicy =
  | { kind: 'key'; key: string }
  | { kind: 'keyless'; identity: string; issuer: string; identityIsRegexp?: boolean; issuerIsRegexp?: boolean };

export interface VerifiedImage {
  service: string;
  /** The image's name, without tag or digest. */
  image: string;
  digest: string;
}

export interface RegistryAuth {
  server: string;
  username: string;
  password: string;
}

export interface VerifyOptions {
  /** The cosign executable, as installTool gave it. */
  cosign: string;
  run?: CommandRunner;
  log: (message: string) => void;
  registryAuth?: RegistryAuth;
  /** Where the temporary Docker config goes; RUNNER_TEMP (or the OS's) by default. */
  tempRoot?: string;
}

const PINNED = /^([a-z0-9][a-z0-9._\-/:]*)@(sha256:[a-f0-9]{64})$/;
const KEY_ENV = 'COSIGN_PUBLIC_KEY';
// cosign's exit codes for a verdict (cmd/cosign/errors/exit_codes.go); the new bundle format exits 1, so the text counts too.
const EXIT_UNSIGNED = 10;
const EXIT_NO_MATCH = 12;

export function readSignaturePolicy(values: {
  verify: boolean;
  key: string;
  identity: string;
  identityRegexp: string;
  issuer: string;
  issuerRegexp?: string;
}): SignaturePolicy | undefined {
  const { verify, key, identity, identityRegexp, issuer, issuerRegexp = '' } = values;
  const signers = [key && 'cosign-key', identity && 'certificate-identity', identityRegexp && 'certificate-identity-regexp'].filter(
    Boolean,
  );
  const issuers = [issuer && 'certificate-oidc-issuer', issuerRegexp && 'certificate-oidc-issuer-regexp'].filter(Boolean);
  if (!verify) {
    // A policy that is given but not applied would look like protection without being any.
    const given = [...signers, ...issuers];
    if (given.length > 0)
      throw new InputError('verify-signature', `it is false, but ${given.join(' and ')} is given; set it to true to verify.`);
    return undefined;
  }
  if (signers.length === 0)
    throw new InputError(
      'verify-signature',
      'it is true, so give cosign-key, or certificate-identity (or certificate-identity-regexp) with certificate-oidc-issuer.',
    );
  if (signers.length > 1) throw new InputError(signers[1] as string, `it cannot be given with ${signers[0]}; choose one signer.`);
  if (key) {
    if (issuers.length > 0) throw new InputError(issuers[0] as string, 'it applies to certificate-identity only, not to cosign-key.');
    if (/PRIVATE KEY-----/.test(key))
      throw new InputError('cosign-key', 'this is a private key (not shown); give the public key (cosign.pub), never the private one.');
    if (!/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----$/.test(key.trim()))
      throw new InputError(
        'cosign-key',
        'expected a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----), as in cosign.pub.',
      );
    return { kind: 'key', key };
  }
  if (!issuer && !issuerRegexp)
    throw new InputError(
      'certificate-oidc-issuer',
      'a value is required with a certificate identity, such as https://token.actions.githubusercontent.com.',
    );
  if (issuer && issuerRegexp) throw new InputError('certificate-oidc-issuer-regexp', 'it cannot be given with certificate-oidc-issuer.');
  // cosign matches a regexp anywhere in the identity: unanchored, `github.com/acme/` also admits `evil.example/github.com/acme/`.
  for (const [name, pattern] of [
    ['certificate-identity-regexp', identityRegexp],
    ['certificate-oidc-issuer-regexp', issuerRegexp],
  ] as const) {
    if (pattern && !(pattern.startsWith('^') && pattern.endsWith('$')))
      throw new InputError(
        name,
        `${JSON.stringify(pattern)} must be anchored with ^ and $, since cosign matches it anywhere in the value.`,
      );
  }
  return {
    kind: 'keyless',
    identity: identity || identityRegexp,
    issuer: issuer || issuerRegexp,
    ...(identityRegexp ? { identityIsRegexp: true } : {}),
    ...(issuerRegexp ? { issuerIsRegexp: true } : {}),
  };
}

/** What the policy accepts, for messages (never the key itself). */
export function describePolicy(policy: SignaturePolicy): string {
  if (policy.kind === 'key') return 'the key given as cosign-key';
  const identity = `${policy.identityIsRegexp ? 'an identity matching' : 'the identity'} ${policy.identity}`;
  return `${identity} from ${policy.issuerIsRegexp ? 'an issuer matching' : 'the issuer'} ${policy.issuer}`;
}

/** The flags, each as one `--flag=value` argument: cosign's main rewrites any argument that starts with a single dash, values too. */
export function cosignVerifyArgs(policy: SignaturePolicy, reference: string): string[] {
  const signer =
    policy.kind === 'key'
      ? [`--key=env://${KEY_ENV}`]
      : [
          `--certificate-identity${policy.identityIsRegexp ? '-regexp' : ''}=${policy.identity}`,
          `--certificate-oidc-issuer${policy.issuerIsRegexp ? '-regexp' : ''}=${policy.issuer}`,
        ];
  // `--` ends the flags (cosign's CLI is cobra/pflag), so no reference is ever read as one.
  return ['verify', ...signer, '--', reference];
}

/**
 * cosign reads registry credentials through Docker's config ($DOCKER_CONFIG/config.json); a
 * directory of our own keeps the password out of argv, and away from the runner's ~/.docker.
 */
async function dockerConfig(auth: RegistryAuth, root: string): Promise<string> {
  const dir = await mkdtemp(path.join(root, 'cosign-docker-'));
  const hub = /^((index|registry-1)\.)?docker\.io$/.test(auth.server);
  const server = hub ? 'https://index.docker.io/v1/' : auth.server;
  const file = path.join(dir, 'config.json');
  const config = { auths: { [server]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } } };
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return dir;
}

type Outcome = { ok: true } | { ok: false; verdict: boolean; reason: string };

function classify(result: { exitCode: number; stderr: string }, policy: SignaturePolicy): Outcome {
  if (result.exitCode === 0) return { ok: true };
  const lines = result.stderr.trim().split('\n');
  // cosign prints `Error: <cause>` once, then the same cause after `error during command execution:`.
  const cause = (lines.find((line) => line.startsWith('Error: ')) ?? lines.at(-1) ?? '').replace(/^Error: /, '').trim();
  if (result.exitCode === EXIT_UNSIGNED || /\bno signatures found\b/.test(cause))
    return { ok: false, verdict: true, reason: 'unsigned: no signatures found' };
  const mismatch = /\bno matching (signatures|attestations): *(.*)$/.exec(cause);
  if (result.exitCode === EXIT_NO_MATCH || mismatch) {
    const detail = mismatch?.[2] ? ` (cosign: ${mismatch[2]})` : '';
    return { ok: false, verdict: true, reason: `not signed by ${describePolicy(policy)}${detail}` };
  }
  return { ok: false, verdict: false, reason: `cosign could not verify it (exit code ${result.exitCode}): ${cause || 'no output'}` };
}

/**
 * Verifies each distinct image once, in turn: a project has a handful of images, and cosign
 * processes run side by side would race on its shared TUF cache (~/.sigstore) on a fresh runner.
 */
export async function verifyImageSignatures(
  images: Record<string, string>,
  policy: SignaturePolicy,
  options: VerifyOptions,
): Promise<VerifiedImage[]> {
  const run = options.run ?? runCommand;
  // Keyed by name@digest, not digest alone: signatures live next to the image in its repository.
  const distinct = new Map<string, { image: string; digest: string; services: string[] }>();
  for (const [service, value] of Object.entries(images)) {
    const pinned = PINNED.exec(value);
    if (!pinned) throw new InputError('images', `${service}=${value} is not pinned by digest; only image@sha256:… can be verified.`);
    const image = withoutTag(pinned[1] as string);
    const digest = pinned[2] as string;
    const entry = distinct.get(`${image}@${digest}`) ?? { image, digest, services: [] };
    entry.services.push(service);
    distinct.set(`${image}@${digest}`, entry);
  }
  const configDir = options.registryAuth
    ? await dockerConfig(options.registryAuth, options.tempRoot ?? (process.env.RUNNER_TEMP || os.tmpdir()))
    : undefined;
  const failures: { services: string[]; reference: string; outcome: Extract<Outcome, { ok: false }> }[] = [];
  try {
    const env = { ...(configDir ? { DOCKER_CONFIG: configDir } : {}), ...(policy.kind === 'key' ? { [KEY_ENV]: policy.key } : {}) };
    for (const [reference, { services }] of distinct) {
      const outcome = classify(await run(options.cosign, cosignVerifyArgs(policy, reference), { env, allowFailure: true }), policy);
      if (outcome.ok) options.log(`Verified ${reference} (${services.join(', ')}): signed by ${describePolicy(policy)}.`);
      else failures.push({ services, reference, outcome });
    }
  } finally {
    if (configDir) await rm(configDir, { recursive: true, force: true });
  }
  if (failures.length > 0) {
    const list = failures.map((failure) => `- ${failure.services.join(', ')}: ${failure.reference}: ${failure.outcome.reason}`);
    const message = `${failures.length} of ${distinct.size} image(s) failed signature verification, so nothing is deployed:\n${list.join('\n')}`;
    // A refusal is a verdict on the signatures; anything else (network, registry, cosign itself) is not one.
    if (failures.every((failure) => failure.outcome.verdict)) throw new UserError('REFUSED', message);
    throw new ToolkitError('COMMAND_FAILED', message);
  }
  return Object.entries(images).map(([service, value]) => {
    const [, name = '', digest = ''] = PINNED.exec(value) ?? [];
    return { service, image: withoutTag(name), digest };
  });
}

function withoutTag(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}
