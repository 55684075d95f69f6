/**
 * An image built from a context and pushed to the rehearsal's registry, as docker/build-push-action
 * does in a workflow. Where a Docker engine runs, it is a real `docker build` and `docker push`
 * (the legacy builder: there is no buildx here). Where none runs, the Dockerfile cannot be executed,
 * so the image is the context itself as one OCI layer, pushed over the distribution API: later
 * steps still get a real image with a real digest to pin, sign and deploy.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InputError, ToolkitError, UserError, runCommand } from '@toolkit/shared';
import type { ImageRegistry, StandIn, StepContext, StepResult } from './types.js';

export interface BuildAndPushOptions {
  /** The build context directory. */
  context: string;
  /** The Dockerfile (a relative path is taken from the context); `<context>/Dockerfile` when not given. */
  dockerfile?: string;
  /** Full references, each on `registry` (`127.0.0.1:5000/acme/shop:1.0.0`). */
  tags: string[];
  registry: ImageRegistry;
  /** DOCKER_HOST of a running engine (`unix:///…/docker.sock`); without it the image is an OCI layout. */
  dockerHost?: string;
  /** Push every tag (the default); false builds only. */
  push?: boolean;
  labels?: Record<string, string>;
  log(line: string): void;
}

export interface BuiltImage {
  /** The pushed manifest's digest; for a docker build that is not pushed, the image ID (as the real action gives). */
  digest: string;
  /** The image ID: the digest of the image's config. */
  imageid?: string;
  how: 'docker' | 'oci-layout';
}

const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

interface ImageTag {
  reference: string;
  /** The reference without its tag: registry/repository. */
  name: string;
  repository: string;
  tag: string;
}

/** `host:port/repository[:tag]` on the rehearsal's registry, or an InputError for "tags" saying why not. */
export function parseImageTag(reference: string, registryAddress: string): ImageTag {
  const slash = reference.indexOf('/');
  const host = slash < 0 ? '' : reference.slice(0, slash);
  if (host !== registryAddress)
    throw new InputError(
      'tags',
      `${JSON.stringify(reference)} is not on the rehearsal's registry: a rehearsal has only the registry at ${registryAddress}, so every tag must start with "${registryAddress}/" (use the registry's address from the rehearsal's variables).`,
    );
  const rest = reference.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  const repository = colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : 'latest';
  if (!REPOSITORY_NAME.test(repository) || !TAG.test(tag))
    throw new InputError(
      'tags',
      `${JSON.stringify(reference)} is not an image tag; expected ${registryAddress}/<lowercase/path>[:<tag>] (a tag is letters, digits, "_", "." and "-", and no @digest).`,
    );
  return { reference, name: `${registryAddress}/${repository}`, repository, tag };
}

export async function buildAndPushImage(options: BuildAndPushOptions): Promise<BuiltImage> {
  const context = path.resolve(options.context);
  const dockerfile = path.resolve(context, options.dockerfile ?? 'Dockerfile');
  const contextStat = await stat(context).catch(() => undefined);
  if (!contextStat?.isDirectory()) throw new UserError('NOT_FOUND', `The build context ${context} does not exist or is not a directory.`);
  if (!(await stat(dockerfile).catch(() => undefined))?.isFile())
    throw new UserError('NOT_FOUND', `The Dockerfile ${dockerfile} does not exist (looked for it as the build's Dockerfile).`);
  const tags = options.tags.map((reference) => parseImageTag(reference, options.registry.address));
  const push = options.push ?? true;
  if (push && tags.length === 0) throw new InputError('tags', 'is empty, but pushing needs at least one tag to push to.');
  const build = { context, dockerfile, tags, push, labels: options.labels ?? {}, log: options.log };
  return options.dockerHost
    ? buildWithDocker({ ...build, dockerHost: options.dockerHost })
    : buildOciLayout({ ...build, registry: options.registry });
}

interface Build {
  context: string;
  dockerfile: string;
  tags: ImageTag[];
  push: boolean;
  labels: Record<string, string>;
  log(line: string): void;
}

async function buildWithDocker(build: Build & { dockerHost: string }): Promise<BuiltImage> {
  // The legacy builder, as there is no buildx here; the host network, as dockerd runs with --bridge=none.
  const env = { DOCKER_HOST: build.dockerHost, DOCKER_BUILDKIT: '0' };
  const docker = (args: string[]) => runLogged('docker', args, env, build.log);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'toolkit-image-build-'));
  try {
    const iidfile = path.join(scratch, 'iid');
    await docker([
      'build',
      '--network',
      'host',
      '--file',
      build.dockerfile,
      '--iidfile',
      iidfile,
      ...build.tags.flatMap((tag) => ['--tag', tag.reference]),
      ...Object.entries(build.labels).flatMap(([name, value]) => ['--label', `${name}=${value}`]),
      '--',
      build.context,
    ]);
    const imageid = (await readFile(iidfile, 'utf8')).trim();
    if (!build.push) {
      build.log(`Built ${imageid}; not pushed (push is not true).`);
      return { digest: imageid, imageid, how: 'docker' };
    }
    let digest: string | undefined;
    for (const tag of build.tags) {
      const output = await docker(['push', '--', tag.reference]);
      // `<tag>: digest: sha256:… size: N` is the registry's digest of the manifest just pushed.
      const pushed = /\bdigest: (sha256:[a-f0-9]{64})\b/.exec(output)?.[1] ?? (await repoDigest(docker, tag));
      digest ??= pushed;
    }
    build.log(`Pushed ${build.tags.map((tag) => tag.reference).join(', ')} as ${digest}.`);
    return { digest: digest as string, imageid, how: 'docker' };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The digest docker recorded for a pushed tag's repository, when the push output did not say it. */
async function repoDigest(docker: (args: string[]) => Promise<string>, tag: ImageTag): Promise<string> {
  const digests = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', '--', tag.reference])) as string[];
  const digest = digests.find((entry) => entry.startsWith(`${tag.name}@`))?.split('@')[1];
  if (!digest || !DIGEST.test(digest))
    throw new ToolkitError(
      'COMMAND_FAILED',
      `docker pushed ${tag.reference} but reports no digest for it (RepoDigests: ${digests.join(', ')}).`,
    );
  return digest;
}

/** Runs a command, each line of its output logged as it comes; returns the whole output. */
async function runLogged(file: string, args: string[], env: Record<string, string>, log: (line: string) => void): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let output = '';
  let partial = '';
  await runCommand(file, args, {
    env,
    onStdout: (chunk) => {
      const text = decoder.write(chunk);
      output += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) log(line.replace(/\r$/, ''));
    },
  });
  if (partial) log(partial);
  return output;
}

interface Blob {
  digest: string;
  size: number;
  content: Buffer;
}

function blobOf(content: Buffer): Blob {
  return { digest: `sha256:${createHash('sha256').update(content).digest('hex')}`, size: content.length, content };
}

async function buildOciLayout(build: Build & { registry: ImageRegistry }): Promise<BuiltImage> {
  build.log(
    `No Docker engine runs here, so ${build.dockerfile} was not executed: the image is the build context ${build.context} as one layer (without .git).`,
  );
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'toolkit-image-build-'));
  try {
    const layerFile = path.join(scratch, 'layer.tar');
    // Fixed times and owners and sorted names: the same context is the same layer, and so the same
    // digest, wherever and whenever it is checked out.
    await runCommand('tar', [
      '--create',
      '--file',
      layerFile,
      '--directory',
      build.context,
      '--exclude=.git',
      '--sort=name',
      '--format=gnu',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '.',
    ]);
    const layer = blobOf(await readFile(layerFile));
    const config = blobOf(
      Buffer.from(
        JSON.stringify({
          architecture: ociArchitecture(process.arch),
          os: 'linux',
          config: Object.keys(build.labels).length > 0 ? { Labels: build.labels } : {},
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          history: [{ created_by: `toolkit rehearsal: the build context as one layer; ${path.basename(build.dockerfile)} not executed` }],
        }),
      ),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
        layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
        ...(Object.keys(build.labels).length > 0 ? { annotations: build.labels } : {}),
      }),
    );
    const digest = blobOf(manifest).digest;
    if (!build.push) {
      build.log(`Built ${digest} (not pushed: push is not true).`);
      return { digest, imageid: config.digest, how: 'oci-layout' };
    }
    const base = `http://${build.registry.address}`;
    const repositories = new Set<string>();
    for (const tag of build.tags) {
      if (!repositories.has(tag.repository)) {
        for (const blob of [layer, config]) await pushBlob(base, tag.repository, blob);
        repositories.add(tag.repository);
      }
      const pushed = await registryCall(`${base}/v2/${tag.repository}/manifests/${tag.tag}`, `pushing the manifest of ${tag.reference}`, {
        method: 'PUT',
        headers: { 'content-type': OCI_MANIFEST },
        body: manifest,
      });
      const served = pushed.headers.get('docker-content-digest');
      if (served && served !== digest)
        throw new ToolkitError(
          'DOWNLOAD_FAILED',
          `${build.registry.address} stored the manifest of ${tag.reference} as ${served}, not ${digest}.`,
        );
      build.log(`Pushed ${tag.reference} (${digest}).`);
    }
    return { digest, imageid: config.digest, how: 'oci-layout' };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A blob into `repository`, unless the registry has it there already: a POST, then a PUT of the whole blob. */
async function pushBlob(base: string, repository: string, blob: Blob): Promise<void> {
  const present = await fetch(`${base}/v2/${repository}/blobs/${blob.digest}`, { method: 'HEAD' });
  if (present.ok) return;
  const started = await registryCall(`${base}/v2/${repository}/blobs/uploads/`, `starting an upload to ${repository}`, { method: 'POST' });
  const location = started.headers.get('location');
  if (!location) throw new ToolkitError('DOWNLOAD_FAILED', `${base} started an upload to ${repository} but gave no Location for it.`);
  const upload = new URL(location, base);
  upload.searchParams.set('digest', blob.digest);
  await registryCall(upload.toString(), `uploading ${blob.digest} to ${repository}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: blob.content,
  });
}

/** A request the registry must accept (2xx); otherwise an error with its answer. */
async function registryCall(url: string, doing: string, init: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  if (response.ok) return response;
  const text = await response.text().catch(() => '');
  let reason = text.trim().slice(0, 300);
  try {
    const { errors } = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (errors?.length) reason = errors.map((error) => `${error.code}: ${error.message}`).join('; ');
  } catch {
    // Not the distribution API's error JSON; its text is the reason.
  }
  if (response.status === 401)
    throw new UserError('REFUSED', `${new URL(url).host} asks for credentials ${doing}; a rehearsal pushes anonymously.`);
  throw new ToolkitError(
    'DOWNLOAD_FAILED',
    `${new URL(url).host} answered HTTP ${response.status} ${doing}${reason ? `: ${reason}` : ''}.`,
  );
}

function ociArchitecture(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

/** A list input as the real action reads it: one item a line, and (unless `ignoreComma`) a comma also separates. */
function inputList(value: string | undefined, options: { ignoreComma?: boolean } = {}): string[] {
  return (value ?? '')
    .split(options.ignoreComma ? /\n/ : /[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function booleanInput(name: string, value: string | undefined): boolean {
  const given = (value ?? '').trim();
  if (given === '') return false;
  if (['true', 'True', 'TRUE'].includes(given)) return true;
  if (['false', 'False', 'FALSE'].includes(given)) return false;
  throw new InputError(name, `${JSON.stringify(given)} is not a boolean; expected true or false.`);
}

function labelsInput(value: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of inputList(value, { ignoreComma: true })) {
    const equals = line.indexOf('=');
    if (equals <= 0) throw new InputError('labels', `${JSON.stringify(line)} is not a label; expected one name=value a line.`);
    labels[line.slice(0, equals).trim()] = line.slice(equals + 1).trim();
  }
  return labels;
}

/** docker/build-push-action, against the rehearsal's registry and (where one runs) Docker engine. */
export const buildPushStandIn: StandIn = {
  action: 'docker/build-push-action',
  description:
    "docker build and docker push to the rehearsal's registry where a Docker engine runs; elsewhere the context as a one-layer OCI image, the Dockerfile not executed",
  async run(step: StepContext): Promise<StepResult> {
    try {
      const registry = step.world.registry;
      if (!registry)
        throw new UserError('REFUSED', `${step.uses} needs an image registry to push to, and this rehearsal has none (no world.registry).`);
      const tags = inputList(step.inputs.tags);
      const built = await buildAndPushImage({
        // The real action's default context is the repository at the commit; in a rehearsal that is the checkout.
        context: path.resolve(step.workspace, step.inputs.context || '.'),
        ...(step.inputs.file ? { dockerfile: path.resolve(step.workspace, step.inputs.file) } : {}),
        tags,
        registry,
        push: booleanInput('push', step.inputs.push),
        labels: labelsInput(step.inputs.labels),
        ...(step.world.dockerHost ? { dockerHost: step.world.dockerHost } : {}),
        log: step.log,
      });
      const metadata = {
        'containerimage.digest': built.digest,
        ...(built.imageid ? { 'containerimage.config.digest': built.imageid } : {}),
        ...(tags.length > 0 ? { 'image.name': tags.join(',') } : {}),
      };
      return { exitCode: 0, outputs: { digest: built.digest, imageid: built.imageid ?? '', metadata: JSON.stringify(metadata) } };
    } catch (error) {
      if (!(error instanceof ToolkitError)) throw error;
      step.log(`Error: ${error.message}`);
      return { exitCode: 1, outputs: {} };
    }
  },
};
