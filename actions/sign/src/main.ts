import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import {
  InputError,
  InputReader,
  UserError,
  installTool,
  pinnedToolSpec,
  runCommand,
  summaryFacts,
  summaryHeading,
  writeJobSummary,
} from '@toolkit/shared';
import { imageName, parseImageReference, publicKeyFile, readSbomToAttest, resolveDigest, runSign } from './sign.js';

export interface Inputs {
  image: string;
  digest: string;
  key: string;
  keyPassword: string;
  tlogUpload: boolean;
  attestSbom: string;
  verify: boolean;
  registry: { username: string; password: string };
  cosign: { version: string; sha256: string; input: string };
  /** Hosts the registry's token service may be on, beyond the registry's own. */
  registryTokenHosts: string[];
}

/** cosign-installer's name for cosign-version, accepted as it (both given is refused). */
export const SIGN_ALIASES = { 'cosign-version': 'cosign-release' } as const;

export function getInputs(plain = new InputReader(), env: NodeJS.ProcessEnv = process.env): Inputs {
  const reader = plain.withAliases(SIGN_ALIASES);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const attestSbom = reader.string('attest-sbom');
  return {
    image: reader.string('image', { required: true }),
    digest: reader.string('digest', { pattern: /^sha256:[a-f0-9]{64}$/, expected: 'sha256: followed by 64 hexadecimal digits' }),
    key: reader.secret('key'),
    keyPassword: reader.secret('key-password'),
    tlogUpload: reader.boolean('tlog-upload', true),
    attestSbom: attestSbom ? path.resolve(workspace, attestSbom) : '',
    verify: reader.boolean('verify', true),
    registry: { username: reader.string('registry-username'), password: reader.secret('registry-password') },
    cosign: { version: reader.string('cosign-version'), sha256: reader.string('cosign-sha256'), input: reader.nameOf('cosign-version') },
    registryTokenHosts: reader.list('registry-token-hosts'),
  };
}

/**
 * The identity Fulcio writes into a keyless certificate: the server URL and the OIDC token's
 * job_workflow_ref. In a reusable workflow (build-scan-sign.yml) that is the called workflow, not
 * GITHUB_WORKFLOW_REF (the caller's), so it is read from the token cosign is given.
 */
async function keylessIdentity(): Promise<string> {
  const server = process.env.GITHUB_SERVER_URL || 'https://github.com';
  const token = await core.getIDToken('sigstore');
  const payload = token.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { job_workflow_ref?: string };
  if (!claims.job_workflow_ref) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      'The OIDC token has no job_workflow_ref claim, so the keyless signature cannot be verified against it.',
    );
  }
  return `${server}/${claims.job_workflow_ref}`;
}

export async function main(): Promise<void> {
  // Every input is checked first, the SBOM read and recognised too, before the registry is asked,
  // cosign installed or anything signed (runSign reads the SBOM again before it runs cosign).
  const inputs = getInputs();
  const reference = parseImageReference(inputs.image);
  const credentials = inputs.registry.username ? { username: inputs.registry.username, password: inputs.registry.password } : undefined;
  if (inputs.digest && reference.digest && inputs.digest !== reference.digest) {
    throw new InputError('digest', `${inputs.digest} is not the digest in image (${reference.digest}).`);
  }
  if (inputs.attestSbom) await readSbomToAttest(inputs.attestSbom);
  const mode = inputs.key ? 'key' : 'keyless';
  if (mode === 'keyless' && !(process.env.ACTIONS_ID_TOKEN_REQUEST_URL && process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      'Keyless signing needs the workflow OIDC token, and this job has none: add `permissions: id-token: write` to the job (or give key to sign with a key).',
    );
  }
  // Never a tag: what is signed is what the tag points at now, by digest.
  const digest = inputs.digest || (await resolveDigest(reference, credentials, inputs.registryTokenHosts));
  const signedRef = `${imageName(inputs.image)}@${digest}`;
  const cosign = await installTool(pinnedToolSpec('cosign', inputs.cosign));
  const workDir = await mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'sign-'));
  const deps = {
    cosign: cosign.path,
    run: runCommand,
    log: (message: string) => core.info(message),
    ...(mode === 'key' ? { keyEnv: { COSIGN_PRIVATE_KEY: inputs.key, COSIGN_PASSWORD: inputs.keyPassword } } : {}),
  };
  const identity = mode === 'key' ? (inputs.verify ? await publicKeyFile(deps, workDir) : '') : await keylessIdentity();
  const result = await runSign(
    { signedRef, mode, tlogUpload: inputs.tlogUpload, attestSbom: inputs.attestSbom, verify: inputs.verify, identity, workDir },
    deps,
  );

  core.setOutput('digest', digest);
  core.setOutput('signed-ref', signedRef);
  await writeJobSummary(
    summaryHeading(`Signed ${imageName(inputs.image)}`),
    summaryFacts([
      ['Image', imageName(inputs.image)],
      ['Digest', { text: digest, code: true }],
      ['Signer', mode === 'key' ? 'a key (given as the key input)' : `keyless: ${identity}`],
      ['Transparency log', inputs.tlogUpload ? 'uploaded' : 'not uploaded (tlog-upload: false)'],
      ['SBOM attestation', result.attested ? `${path.basename(result.attested.file)} (${result.attested.predicateType})` : 'none'],
      ['Verified', result.verified ? 'yes' : 'not checked (verify: false)'],
    ]),
  );
}
