/**
 * sign: a Cosign signature on an image, by digest (a tag is resolved through the registry first and
 * never signed), keyless with the workflow's OIDC identity or with a key; optionally the SBOM as an
 * attestation; then a verification of what was signed.
 *
 * Everything that can be refused is checked before cosign runs: the SBOM is read and recognised
 * first, and it is attested before the image is signed, since the attestation is the upload that
 * can be refused (Rekor's size limit). A refusal leaves nothing signed.
 */
import { lstat, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type CommandRunner,
  InputError,
  type RegistryCredentials,
  type SbomSummary,
  ToolkitError,
  UserError,
  describeSbom,
  readSbomText,
  registryFetch,
} from '@toolkit/shared';

export interface ImageReference {
  /** As the registry API is addressed: host[:port]. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** `host[:port]/path[:tag][@sha256:…]`; a reference without a host is on Docker Hub. */
export function parseImageReference(reference: string): ImageReference {
  const [withoutDigest, digest] = reference.split('@') as [string, string | undefined];
  if (digest !== undefined && !DIGEST.test(digest))
    throw new UserError(
      'INVALID_INPUT',
      `Invalid input "image": ${JSON.stringify(reference)} has a digest that is not sha256:<64 hex digits>.`,
    );
  const slash = withoutDigest.indexOf('/');
  const first = slash < 0 ? '' : withoutDigest.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const remainder = hasHost ? withoutDigest.slice(slash + 1) : withoutDigest;
  const colon = remainder.lastIndexOf(':');
  const repository = colon > remainder.lastIndexOf('/') ? remainder.slice(0, colon) : remainder;
  const tag = colon > remainder.lastIndexOf('/') ? remainder.slice(colon + 1) : undefined;
  if (
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository) ||
    (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag))
  ) {
    throw new UserError(
      'INVALID_INPUT',
      `Invalid input "image": ${JSON.stringify(reference)} is not an image reference; expected registry/name:tag or registry/name@sha256:….`,
    );
  }
  const registry = hasHost ? first : 'registry-1.docker.io';
  return {
    registry,
    repository: hasHost || repository.includes('/') ? repository : `library/${repository}`,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** The name to sign and show: as given, without tag or digest. */
export function imageName(reference: string): string {
  const [name] = reference.split('@') as [string];
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > lastSlash ? name.slice(0, colon) : name;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The digest a tag points at, from the registry (Docker Registry v2 / OCI distribution API). */
export async function resolveDigest(
  image: ImageReference,
  credentials?: RegistryCredentials,
  tokenHosts: readonly string[] = [],
): Promise<string> {
  if (image.digest) return image.digest;
  const reference = image.tag ?? 'latest';
  const response = await registryFetch(image.registry, `/v2/${image.repository}/manifests/${reference}`, {
    accept: MANIFEST_TYPES,
    ...(credentials ? { credentials } : {}),
    tokenHosts,
  });
  if (response.status === 404)
    throw new UserError('NOT_FOUND', `${image.registry}/${image.repository}:${reference} does not exist, so there is no digest to sign.`);
  if (!response.ok)
    throw new ToolkitError(
      'DOWNLOAD_FAILED',
      `${image.registry} answered HTTP ${response.status} for the manifest of ${image.repository}:${reference}.`,
    );
  const header = response.headers.get('docker-content-digest');
  const body = Buffer.from(await response.arrayBuffer());
  const digest = header ?? `sha256:${(await import('node:crypto')).createHash('sha256').update(body).digest('hex')}`;
  if (!DIGEST.test(digest))
    throw new ToolkitError(
      'DOWNLOAD_FAILED',
      `${image.registry} gave ${JSON.stringify(digest)} as the digest of ${image.repository}:${reference}.`,
    );
  return digest;
}

export interface SignConfig {
  /** name@sha256:… */
  signedRef: string;
  mode: 'keyless' | 'key';
  tlogUpload: boolean;
  attestSbom: string;
  verify: boolean;
  /** keyless: https://github.com/<GITHUB_WORKFLOW_REF>; key: the public key's file. */
  identity: string;
  workDir: string;
}

export interface SignDeps {
  cosign: string;
  run: CommandRunner;
  /** For key mode: COSIGN_PRIVATE_KEY and COSIGN_PASSWORD, handed to cosign in its environment only. */
  keyEnv?: Record<string, string>;
  log: (message: string) => void;
}

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface SignResult {
  signedRef: string;
  verified: boolean;
  attested?: { predicateType: string; file: string };
}

function cosignError(step: string, result: { exitCode: number; stderr: string }): ToolkitError {
  return new ToolkitError(
    'COMMAND_FAILED',
    `cosign ${step} failed (exit code ${result.exitCode}):\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`,
  );
}

export interface SbomToAttest {
  file: string;
  /** cosign attest --type */
  predicateType: 'spdxjson' | 'cyclonedx';
  sbom: SbomSummary;
}

const EXPECTED_SBOM = 'expected an SPDX or CycloneDX JSON SBOM, such as the scan action’s sbom-file.';

/**
 * The attest-sbom file, read and recognised: a regular file (not a symbolic link) holding SPDX or
 * CycloneDX JSON. Anything else is refused as a bad input, naming the file: syft JSON (no in-toto
 * predicate type of its own) and an attestation envelope (it would be attested inside another) too.
 */
export async function readSbomToAttest(file: string): Promise<SbomToAttest> {
  const refuse = (problem: string) => new InputError('attest-sbom', `${file} ${problem}`);
  const stats = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw refuse('does not exist.');
    throw error;
  });
  if (stats.isSymbolicLink()) throw refuse('is a symbolic link; give the SBOM file itself.');
  if (!stats.isFile()) throw refuse('is not a regular file.');
  const read = readSbomText(await readFile(file, 'utf8'));
  if (read.problem !== undefined) throw refuse(`${read.problem}; ${EXPECTED_SBOM}`);
  const { sbom } = read;
  if (sbom.attestation !== undefined) {
    const { attestation: _envelope, ...carried } = sbom;
    throw refuse(`is already an attestation (a DSSE envelope carrying ${describeSbom(carried)}); give the SBOM itself.`);
  }
  if (sbom.format === 'syft-json')
    throw refuse(`is syft JSON (${sbom.formatVersion}), which has no attestation predicate type; ${EXPECTED_SBOM}`);
  return { file, predicateType: sbom.format === 'cyclonedx-json' ? 'cyclonedx' : 'spdxjson', sbom };
}

export async function runSign(config: SignConfig, deps: SignDeps): Promise<SignResult> {
  // Read before anything is signed: a bad SBOM is refused with nothing pushed.
  const toAttest = config.attestSbom ? await readSbomToAttest(config.attestSbom) : undefined;
  const env = deps.keyEnv ?? {};
  const key = config.mode === 'key' ? ['--key', 'env://COSIGN_PRIVATE_KEY'] : [];
  const tlog = config.tlogUpload ? [] : ['--tlog-upload=false'];

  // The attestation before the signature: Rekor refuses an SBOM too large for it before anything
  // is written to the registry, and then the image is not signed either.
  let attested: SignResult['attested'];
  if (toAttest) {
    const attest = await deps.run(
      deps.cosign,
      ['attest', '--yes', ...key, ...tlog, '--type', toAttest.predicateType, '--predicate', toAttest.file, config.signedRef],
      { env, allowFailure: true },
    );
    if (attest.exitCode !== 0) {
      if (/413|too large|entity.*large|exceeds|max(imum)? (request )?(body )?size/i.test(attest.stderr)) {
        throw new UserError(
          'REFUSED',
          `The SBOM ${path.basename(toAttest.file)} is too large for the transparency log (Rekor refused the attestation); the image was not signed. Attest with tlog-upload: false (the attestation is then kept only in the registry), or attest a smaller SBOM (e.g. without file listings).`,
        );
      }
      throw cosignError('attest', attest);
    }
    attested = { predicateType: toAttest.predicateType, file: toAttest.file };
    deps.log(`Attested ${path.basename(toAttest.file)} (${describeSbom(toAttest.sbom)}) to ${config.signedRef}.`);
  }

  const signed = await deps.run(deps.cosign, ['sign', '--yes', ...key, ...tlog, config.signedRef], { env, allowFailure: true });
  if (signed.exitCode !== 0) throw cosignError('sign', signed);
  deps.log(`Signed ${config.signedRef}${config.tlogUpload ? '' : ' (not uploaded to the transparency log)'}.`);

  let verified = false;
  if (config.verify) {
    const identity =
      config.mode === 'key'
        ? ['--key', config.identity]
        : ['--certificate-identity', config.identity, '--certificate-oidc-issuer', GITHUB_OIDC_ISSUER];
    const checked = await deps.run(
      deps.cosign,
      ['verify', ...identity, ...(config.tlogUpload ? [] : ['--insecure-ignore-tlog=true']), config.signedRef],
      { allowFailure: true },
    );
    if (checked.exitCode !== 0) throw cosignError('verify', checked);
    verified = true;
    deps.log(`Verified the signature of ${config.signedRef}.`);
  }
  return { signedRef: config.signedRef, verified, ...(attested ? { attested } : {}) };
}

/** The public key of a private key (cosign public-key), written to a file for `verify --key`. */
export async function publicKeyFile(deps: SignDeps, workDir: string): Promise<string> {
  const derived = await deps.run(deps.cosign, ['public-key', '--key', 'env://COSIGN_PRIVATE_KEY'], {
    env: deps.keyEnv ?? {},
    allowFailure: true,
  });
  if (derived.exitCode !== 0) throw cosignError('public-key', derived);
  const file = path.join(workDir, 'cosign.pub');
  await writeFile(file, derived.stdout);
  return file;
}
