import { existsSync } from 'node:fs';
import { lstat, readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as core from '@actions/core';
import {
  InputError,
  InputReader,
  installTool,
  pinnedToolSpec,
  readRepoFile,
  registerSecret,
  summaryDetails,
  summaryFacts,
  summaryHeading,
  summaryList,
  summaryParagraph,
  summaryTable,
  writeJobSummary,
} from '@toolkit/shared';
import { type ComposeFile, type ComposeProject, checkComposeProject, parseComposeProject } from './compose-project.js';
import {
  type DeployDependencies,
  type DeployRequest,
  type DeployResult,
  DeployFailedError,
  ENV_FILE,
  type HealthCheck,
  MANIFEST_FILE,
  OVERRIDE_FILE,
  type Operation,
  type UploadFile,
  runDeployment,
} from './deploy.js';
import { HISTORY_FILE, type ReleaseEntry } from './history.js';
import { type SignaturePolicy, readSignaturePolicy, verifyImageSignatures } from './verify.js';
import { type HostTrust, parseFingerprint, parseKnownHosts } from './host-key.js';
import { connect } from './ssh.js';

export interface Inputs {
  host: string;
  port: number;
  user: string;
  sshKey: string;
  keyPassphrase: string;
  trust: HostTrust;
  request: DeployRequest;
  /** With verify-signature: how every pinned image's signature is checked, and which cosign. */
  signatures?: { policy: SignaturePolicy; cosign: { version: string; sha256: string } };
}

const OPERATIONS: readonly Operation[] = ['deploy', 'rollback', 'plan'];
const DEFAULT_COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const PROJECT = /^[a-z0-9][a-z0-9_-]*$/;
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ENV_LINE = /^(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/;
/** A compose service name, as compose allows it. */
const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
const PINNED_IMAGE = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[a-f0-9]{64}$/;

/** `KEY=VALUE` lines (comments and blank lines allowed); a bad line is named by number, never shown. */
function checkEnv(name: string, text: string): void {
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || ENV_LINE.test(trimmed)) return;
    throw new InputError(name, `line ${index + 1} is not KEY=VALUE (the value is secret and not shown).`);
  });
}

/** Masks each value of an env file, so that the runner hides it wherever it might be printed. */
function maskEnvValues(text: string, mask: (secret: string) => void): void {
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf('=');
    const value =
      at >= 0
        ? line
            .slice(at + 1)
            .trim()
            .replace(/^(['"])(.*)\1$/, '$2')
        : '';
    if (value.length >= 3) mask(value);
    // Compose's dotenv cuts an unquoted value at ` #`: what the container sees is masked too.
    const uncommented = value.replace(/\s+#.*$/, '');
    if (uncommented !== value && uncommented.length >= 3) mask(uncommented);
  }
}

function readHealth(reader: InputReader): HealthCheck {
  const value = reader.string('health') || 'compose';
  if (value === 'compose' || value === 'none') return { kind: value };
  if (value.startsWith('url:')) {
    const text = value.slice(4).trim();
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return { kind: 'url', url: url.href };
  }
  throw new InputError('health', `${JSON.stringify(value)} is not allowed; expected compose, none, or url:<http or https URL>.`);
}

function readImages(reader: InputReader): Record<string, string> {
  const images: Record<string, string> = {};
  for (const line of reader.list('images', { separator: 'newline' })) {
    const at = line.indexOf('=');
    const service = line.slice(0, at).trim();
    const image = line.slice(at + 1).trim();
    if (at < 0 || !SERVICE.test(service) || !PINNED_IMAGE.test(image)) {
      throw new InputError(
        'images',
        `${JSON.stringify(line)} is not allowed; expected service=image@sha256:<64 hex digits>, one per line.`,
      );
    }
    images[service] = image;
  }
  return images;
}

/**
 * A file of the repository the workflow checked out: a regular file inside the workspace (a link,
 * or a path leading out of it, is refused with the input's name), or an input error if missing.
 */
async function readWorkspaceFile(workspace: string, name: string, input: string): Promise<string> {
  const relative = path.relative(workspace, path.resolve(workspace, name));
  let content: string | undefined;
  try {
    content = await readRepoFile(workspace, relative.split(path.sep).join('/'), { where: 'the workspace', maxBytes: 10_000_000 });
  } catch (error) {
    throw new InputError(input, `${JSON.stringify(name)}: ${(error as Error).message}`);
  }
  if (content === undefined)
    throw new InputError(input, `${JSON.stringify(name)} cannot be read (looked for ${path.resolve(workspace, name)}).`);
  return content;
}

async function readComposeFiles(
  reader: InputReader,
  workspace: string,
  operation: Operation,
): Promise<{ project: ComposeProject; dir: string }> {
  let names = reader.list('compose-files');
  if (operation === 'rollback') return { project: parseComposeProject([]), dir: workspace };
  if (names.length === 0) {
    const found = DEFAULT_COMPOSE_FILES.find((name) => existsSync(path.join(workspace, name)));
    if (!found) throw new InputError('compose-files', `none given, and the workspace has none of ${DEFAULT_COMPOSE_FILES.join(', ')}.`);
    names = [found];
  }
  const files: ComposeFile[] = [];
  for (const name of names) {
    const file = path.resolve(workspace, name);
    const content = await readWorkspaceFile(workspace, name, 'compose-files');
    const base = path.basename(file);
    if ([OVERRIDE_FILE, MANIFEST_FILE, ENV_FILE, HISTORY_FILE].includes(base) || files.some((existing) => existing.name === base)) {
      throw new InputError(
        'compose-files',
        `${JSON.stringify(name)}: the file name ${base} is taken; each compose file needs its own name, other than ${OVERRIDE_FILE}.`,
      );
    }
    files.push({ name: base, content });
  }
  // Compose resolves relative paths from the first file's directory: the files input is taken from there too.
  return { project: parseComposeProject(files), dir: path.dirname(path.resolve(workspace, names[0] as string)) };
}

const MAX_UPLOAD_BYTES = 50_000_000;

/**
 * The files input: workspace paths inside the project directory (the first compose file's), each a
 * regular file or a folder of them, uploaded into every release at the same relative path. A
 * symbolic link, or a path outside the project directory, is refused: what is uploaded is exactly
 * what the repository holds there.
 */
async function readUploadFiles(reader: InputReader, workspace: string, projectDir: string): Promise<UploadFile[]> {
  const uploads: UploadFile[] = [];
  let bytes = 0;
  const root = await realpath(projectDir).catch(() => projectDir);
  const add = async (absolute: string, shown: string): Promise<void> => {
    const stats = await lstat(absolute).catch(() => undefined);
    if (!stats) throw new InputError('files', `${JSON.stringify(shown)} does not exist (looked for ${absolute}).`);
    if (stats.isSymbolicLink())
      throw new InputError('files', `${JSON.stringify(shown)} is a symbolic link; only regular files and folders are uploaded.`);
    if (stats.isDirectory()) {
      for (const entry of (await readdir(absolute)).sort()) await add(path.join(absolute, entry), path.join(shown, entry));
      return;
    }
    if (!stats.isFile()) throw new InputError('files', `${JSON.stringify(shown)} is not a regular file.`);
    // From the resolved path: a workspace reached through a symbolic link must not make it `../..`.
    const relative = path
      .relative(root, await realpath(absolute))
      .split(path.sep)
      .join('/');
    if (relative.startsWith('../') || path.isAbsolute(relative)) {
      throw new InputError('files', `${JSON.stringify(shown)} is outside the project directory ${projectDir}.`);
    }
    if (relative === ENV_FILE || [OVERRIDE_FILE, MANIFEST_FILE].includes(relative)) {
      throw new InputError(
        'files',
        `${JSON.stringify(shown)}: ${relative} is written by deploy-compose itself (.env from the env inputs).`,
      );
    }
    bytes += stats.size;
    if (bytes > MAX_UPLOAD_BYTES)
      throw new InputError(
        'files',
        `more than ${MAX_UPLOAD_BYTES / 1_000_000} MB to upload; ship large data another way (an image, or shared/).`,
      );
    uploads.push({ path: relative, content: await readFile(absolute), mode: stats.mode & 0o111 ? 0o755 : 0o644 });
  };
  for (const name of reader.list('files', { separator: 'newline' })) {
    const absolute = path.resolve(workspace, name);
    const real = await realpath(absolute).catch(() => absolute);
    const relative = path.relative(root, real);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new InputError(
        'files',
        `${JSON.stringify(name)} is outside the project directory ${projectDir} (the first compose file's), which compose resolves relative paths from.`,
      );
    }
    await add(absolute, name);
  }
  return uploads;
}

export async function getInputs(reader = new InputReader(), env: NodeJS.ProcessEnv = process.env): Promise<Inputs> {
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const operation = reader.enum('operation', OPERATIONS, 'deploy');
  const host = reader.string('host', { required: true, pattern: /^[A-Za-z0-9._%:[\]-]+$/, expected: 'a host name or IP address' });
  const port = reader.integer('port', { min: 1, max: 65535, fallback: 22 });
  const user = reader.string('user', {
    required: true,
    pattern: /^[A-Za-z0-9._][A-Za-z0-9._-]*$/,
    expected: 'a user name (letters, digits, . _ -)',
  });
  const sshKey = reader.secret('ssh-key', { required: true });
  const keyPassphrase = reader.secret('key-passphrase');
  const knownHosts = reader.string('known-hosts');
  const fingerprint = reader.string('host-fingerprint');
  if (!knownHosts && !fingerprint) {
    throw new InputError(
      'known-hosts',
      'a value is required: give known-hosts (from `ssh-keyscan`, checked out of band) or host-fingerprint. The host key is always verified.',
    );
  }
  const trust: HostTrust = knownHosts
    ? parseKnownHosts(knownHosts, host, port, (message) => core.warning(message))
    : { kind: 'fingerprint', fingerprint: parseFingerprint(fingerprint) };

  const project = reader.string('project', {
    required: true,
    pattern: PROJECT,
    expected: 'a compose project name: lowercase letters, digits, - and _, starting with a letter or digit',
  });
  const shortSha = (env.GITHUB_SHA ?? '').slice(0, 7);
  const named = reader.string('release', {
    pattern: RELEASE,
    expected: 'letters, digits, . _ and -, starting with a letter or digit, at most 128 characters',
  });
  // A rollback names the release to go to, or none: the previous one.
  const release = operation === 'rollback' ? named : named || shortSha;
  if (!release && operation !== 'rollback')
    throw new InputError('release', 'a value is required outside a workflow run (there is no GITHUB_SHA to take the short SHA of).');
  const remoteDir = reader.string('remote-dir') || `~/deployments/${project}`;
  if (remoteDir.includes('\0')) throw new InputError('remote-dir', 'it contains a NUL byte, which no path can hold.');

  const { project: compose, dir: projectDir } = await readComposeFiles(reader, workspace, operation);
  const services = [...compose.services.keys()];
  const images = readImages(reader);
  for (const service of Object.keys(images)) {
    if (operation !== 'rollback' && !compose.services.has(service)) {
      throw new InputError(
        'images',
        `service ${JSON.stringify(service)} is in none of the compose files; they define: ${services.join(', ') || 'no services'}.`,
      );
    }
  }
  const files = operation === 'rollback' ? [] : await readUploadFiles(reader, workspace, projectDir);
  const policy = readSignaturePolicy({
    verify: reader.boolean('verify-signature', false),
    key: reader.string('cosign-key'),
    identity: reader.string('certificate-identity'),
    identityRegexp: reader.string('certificate-identity-regexp'),
    issuer: reader.string('certificate-oidc-issuer'),
  });
  if (policy && operation !== 'rollback') {
    const unpinned = services.filter((service) => images[service] === undefined && compose.services.get(service)?.profiles.length === 0);
    if (unpinned.length > 0) {
      throw new InputError(
        'images',
        `verify-signature is true, so every service must be pinned by digest to what was signed; not pinned: ${unpinned.join(', ')}.`,
      );
    }
  }

  const envText = reader.secret('env');
  checkEnv('env', envText);
  const envFileName = reader.string('env-file');
  let envFileText = '';
  if (envFileName) {
    envFileText = await readWorkspaceFile(workspace, envFileName, 'env-file');
    maskEnvValues(envFileText, registerSecret);
    checkEnv('env-file', envFileText);
  }
  maskEnvValues(envText, registerSecret);
  // env-file first, so that the env input (later lines win) can override it.
  const dotEnv = [envFileText, envText]
    .filter((text) => text.trim() !== '')
    .map((text) => text.replace(/\s*$/, '\n'))
    .join('');

  const registryServer = reader.string('registry', {
    pattern: /^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._/-]*)?$/,
    expected: 'a registry host, such as ghcr.io or registry.example.com:5000',
  });
  const registryUsername = reader.string('registry-username');
  const registryPassword = reader.secret('registry-password');
  if (registryServer && (!registryUsername || !registryPassword)) {
    throw new InputError('registry-username', `registry is ${registryServer}, so registry-username and registry-password are both needed.`);
  }

  const settleMs = reader.duration('settle-time', 10_000);
  return {
    host,
    port,
    user,
    sshKey,
    keyPassphrase,
    trust,
    ...(policy
      ? { signatures: { policy, cosign: { version: reader.string('cosign-version'), sha256: reader.string('cosign-sha256') } } }
      : {}),
    request: {
      operation,
      project,
      remoteDir,
      release,
      composeFiles: compose.files,
      files,
      check: checkComposeProject(compose, {
        pinned: new Set(Object.keys(images)),
        uploaded: files.map((file) => file.path),
        envWritten: dotEnv !== '',
        settleMs,
      }),
      services,
      pinnedInFiles: pinnedInComposeFiles(compose),
      settleMs,
      env: dotEnv,
      images,
      ...(registryServer ? { registry: { server: registryServer, username: registryUsername, password: registryPassword } } : {}),
      health: readHealth(reader),
      timeoutMs: reader.duration('timeout', 300_000),
      keepReleases: reader.integer('keep-releases', { min: 1, max: 100, fallback: 5 }),
      rollbackOnFailure: reader.boolean('rollback-on-failure', true),
      lock: {
        owner: {
          runUrl: env.GITHUB_RUN_ID
            ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
            : `local run on ${env.HOSTNAME ?? 'this machine'}`,
          pid: process.pid,
          startedAt: new Date().toISOString(),
          id: randomUUID(),
        },
        timeoutMs: reader.duration('lock-timeout', 600_000),
        ttlMs: reader.duration('lock-ttl', 60_000),
      },
    },
  };
}

/**
 * The services whose compose file names their image by a literal digest (`repo@sha256:<64 hex>`,
 * a tag before it allowed): what they run cannot change. An image with a variable (`${TAG}`) is
 * not one, since compose fills it in on the server.
 */
export function pinnedInComposeFiles(compose: { services: ReadonlyMap<string, { image?: string }> }): Record<string, string> {
  const pinned: Record<string, string> = {};
  for (const [service, spec] of compose.services)
    if (spec.image && /^[^\s$]+@sha256:[0-9a-f]{64}$/.test(spec.image)) pinned[service] = spec.image;
  return pinned;
}

function serviceState(service: DeployResult['services'][number]): string {
  if (service.status === 'exited') return `exited ${service.exitCode}`;
  return service.health ? `${service.status}, ${service.health}` : service.status;
}

function historyRow(entry: ReleaseEntry, current: string): string[] {
  const when = entry.deployedAt ?? entry.failedAt ?? entry.startedAt;
  const state = entry.state === 'failed' && entry.reason ? `failed: ${entry.reason}` : entry.state;
  const images = Object.entries(entry.images).map(
    ([service, image]) => `${service}@${image.digest ? image.digest.slice(7, 19) : 'no digest'}`,
  );
  return [`${entry.release}${entry.dir === current ? ' (current)' : ''}`, state, when, entry.run, images.join(', ')];
}

function summarize(result: DeployResult): string {
  const title = {
    deploy: result.failure ? `Release ${result.release} failed` : `Deployed ${result.release}`,
    rollback: result.failure ? `Rollback to ${result.release} failed` : `Rolled back to ${result.release}`,
    plan: `Plan for ${result.release}`,
  }[result.operation];
  let html = summaryHeading(title);
  html += summaryFacts([
    ['Host', result.host.name],
    ['Host key', { text: result.host.fingerprint, code: true }],
    ['Compose', result.compose],
    ['Release', result.release],
    ['Previous release', result.previousRelease || 'none'],
    ['Rolled back', result.rolledBack ? 'yes' : 'no'],
  ]);
  if (result.recovered) html += summaryParagraph(`Recovered first: ${result.recovered}`);
  if (result.plan.length > 0) html += summaryList(result.plan);
  if (result.verified && result.verified.length > 0) {
    html += summaryList(
      result.verified.map((image) => `Signature verified: ${image.service} ${image.image.replace(/@.*$/, '')}@${image.digest}`),
    );
  }
  if (result.services.length > 0) {
    html += summaryTable(
      ['Service', 'Image', 'Digest', 'State'],
      result.services.map((service) => [
        service.service,
        { text: service.image, code: true },
        { text: service.digest || 'none (not from a registry)', code: !!service.digest },
        serviceState(service),
      ]),
    );
  }
  if (result.failure) {
    html += summaryParagraph(result.failure.message);
    for (const log of result.failure.logs)
      html += summaryDetails(`Last 50 log lines of ${log.service} (${log.container})`, log.lines || '(no output)', {
        pre: true,
        open: true,
      });
  }
  if (result.removedReleases.length > 0) html += summaryParagraph(`Removed old releases: ${result.removedReleases.join(', ')}.`);
  if (result.history.length > 0) {
    const current = result.history.find((entry) => entry.state === 'deployed' && entry.deployedAt)?.dir ?? '';
    html += summaryDetails(
      `Release history on ${result.host.name} (${result.history.length})`,
      summaryTable(
        ['Release', 'State', 'When', 'Run', 'Images'],
        result.history.map((entry) => historyRow(entry, result.operation === 'plan' ? '' : current)),
      ),
      { open: result.operation !== 'plan' },
    );
  }
  html += summaryTable(
    ['Phase', 'Time'],
    result.phases.map((phase) => [phase.name, `${(phase.ms / 1000).toFixed(2)} s`]),
  );
  return html;
}

function setOutputs(result: DeployResult, started: number): void {
  core.setOutput('release', result.release);
  core.setOutput('previous-release', result.previousRelease);
  core.setOutput('rolled-back', String(result.rolledBack));
  core.setOutput('duration', ((Date.now() - started) / 1000).toFixed(1));
  core.setOutput('recovered', result.recovered ?? '');
  core.setOutput(
    'history',
    JSON.stringify(
      result.history.map((entry) => ({
        release: entry.release,
        state: entry.state,
        deployedAt: entry.deployedAt ?? null,
        run: entry.run,
        images: entry.images,
      })),
    ),
  );
}

/**
 * A cancelled run: the runner sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL. The first
 * signal starts the clean-up over the open connection (the previous release brought back if this one
 * was being started, then the lock released); a second one does not cut it short. The lock of a run
 * killed outright is taken over once it is older than lock-ttl.
 */
function cleanUpOnSignal(getCleanup: () => (() => Promise<void>) | undefined): () => void {
  let handling = false;
  const handler = (signal: NodeJS.Signals) => {
    if (handling) return;
    handling = true;
    core.warning(`Cancelled (${signal}): releasing the deploy lock. current still points at the last healthy release.`);
    const cleanup = getCleanup();
    const exit = () => process.exit(signal === 'SIGINT' ? 130 : 143);
    if (!cleanup) return exit();
    const timer = setTimeout(exit, 9000);
    void cleanup()
      .catch((error: Error) => core.warning(`Clean-up after the cancel failed: ${error.message}`))
      .finally(() => {
        clearTimeout(timer);
        exit();
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export async function main(): Promise<void> {
  const started = Date.now();
  const inputs = await getInputs();
  let cleanup: (() => Promise<void>) | undefined;
  const stopHandling = cleanUpOnSignal(() => cleanup);
  const host = await connect({
    host: inputs.host,
    port: inputs.port,
    user: inputs.user,
    privateKey: inputs.sshKey,
    passphrase: inputs.keyPassphrase,
    trust: inputs.trust,
  });
  core.info(`Connected to ${host.name}; host key ${host.fingerprint} verified.`);
  try {
    const deps: DeployDependencies = {
      log: (message) => core.info(message),
      warn: (message) => core.warning(message),
      onCancel: (next) => (cleanup = next),
    };
    const { signatures } = inputs;
    if (signatures) {
      const registry = inputs.request.registry;
      deps.verifyImages = async (images) => {
        const cosign = await installTool(pinnedToolSpec('cosign', signatures.cosign));
        return verifyImageSignatures(images, signatures.policy, {
          cosign: cosign.path,
          log: (message) => core.info(message),
          ...(registry ? { registryAuth: registry } : {}),
        });
      };
    }
    const result = await runDeployment(host, inputs.request, deps);
    setOutputs(result, started);
    await writeJobSummary(summarize(result));
  } catch (error) {
    if (error instanceof DeployFailedError) {
      setOutputs(error.result, started);
      await writeJobSummary(summarize(error.result));
    } else {
      core.setOutput('rolled-back', 'false');
    }
    throw error;
  } finally {
    stopHandling();
    host.close();
  }
}
