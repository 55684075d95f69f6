import path from 'node:path/posix';
import { ToolkitError, UserError } from '@toolkit/shared';
import { type HeldLock, type LockOwner, acquireLock } from './lock.js';
import type { RemoteHost } from './ssh.js';

/**
 * The deploy of one Compose project to one host, over a `RemoteHost` (one SSH connection in the
 * action, the same in tests). Kamal's shape, done for Compose:
 *
 *   remote-dir/
 *     .lock                 who deploys now (O_EXCL)
 *     current -> releases/<release>   moved only once a release is healthy
 *     releases/<release>/   the compose files, the image-pinning override, .env (0600), a manifest
 *     shared/               for data that outlives releases (bind mounts as ../../shared/...)
 *
 * A failed release is never made current: the previous one is brought up again from its own
 * directory and checked healthy, and the step fails with `rolledBack`.
 */

export type Operation = 'deploy' | 'rollback' | 'plan';
export type HealthCheck = { kind: 'compose' } | { kind: 'url'; url: string } | { kind: 'none' };

export interface ComposeFile {
  /** The file name in the release directory (the workspace file's base name). */
  name: string;
  content: string;
}

export interface RegistryLogin {
  server: string;
  username: string;
  password: string;
}

export interface DeployRequest {
  operation: Operation;
  project: string;
  /** As given: `~` and relative paths are taken from the remote user's home. */
  remoteDir: string;
  release: string;
  composeFiles: ComposeFile[];
  /** The contents of `.env`; '' writes none. */
  env: string;
  /** service → image@sha256:…, pinned through a generated override file. */
  images: Record<string, string>;
  /** The services the compose files define (when known): with every one pinned, `pull` can be skipped. */
  services?: string[];
  registry?: RegistryLogin;
  health: HealthCheck;
  timeoutMs: number;
  keepReleases: number;
  rollbackOnFailure: boolean;
  lock: { owner: LockOwner; timeoutMs: number; ttlMs: number };
}

export interface DeployDependencies {
  log: (message: string) => void;
  warn: (message: string) => void;
  /**
   * Given, while the lock is held, what a cancelled run must do before it exits: bring the previous
   * release back if this one was being started, then release the lock. Undefined once done.
   */
  onCancel?: (cleanup: (() => Promise<void>) | undefined) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  pollIntervalMs?: number;
}

export interface ServiceState {
  container: string;
  service: string;
  status: string;
  /** '' when the service has no healthcheck. */
  health: string;
  exitCode: number;
  image: string;
  digest: string;
}

export interface ContainerLogs {
  service: string;
  container: string;
  lines: string;
}

export interface DeployResult {
  operation: Operation;
  host: { name: string; fingerprint: string };
  compose: string;
  release: string;
  previousRelease: string;
  rolledBack: boolean;
  services: ServiceState[];
  phases: { name: string; ms: number }[];
  removedReleases: string[];
  /** For `plan`: what a deploy would do, step by step. */
  plan: string[];
  failure?: { message: string; logs: ContainerLogs[] };
}

/** A release that failed: the step fails, and `result` carries the outputs and the summary. */
export class DeployFailedError extends UserError {
  constructor(
    message: string,
    readonly result: DeployResult,
  ) {
    super('REFUSED', message);
  }
}

export const OVERRIDE_FILE = 'toolkit.images.yml';
export const MANIFEST_FILE = '.toolkit-release.json';
export const DEPLOYED_MARKER = '.toolkit-deployed';
const ENV_FILE = '.env';

interface Layout {
  root: string;
  releases: string;
  current: string;
  lock: string;
  shared: string;
  dockerConfig: string;
  release(name: string): string;
}

function layout(root: string): Layout {
  return {
    root,
    releases: path.join(root, 'releases'),
    current: path.join(root, 'current'),
    lock: path.join(root, '.lock'),
    shared: path.join(root, 'shared'),
    dockerConfig: path.join(root, '.docker'),
    release: (name) => path.join(root, 'releases', name),
  };
}

export async function resolveRemoteDir(host: RemoteHost, remoteDir: string): Promise<string> {
  if (remoteDir.startsWith('/')) return path.normalize(remoteDir);
  const relative = remoteDir === '~' ? '' : remoteDir.startsWith('~/') ? remoteDir.slice(2) : remoteDir;
  return path.join(await host.home(), relative);
}

/** The image-pinning override: compose merges it over the project's files, replacing only `image`. */
export function imagesOverride(images: Record<string, string>): string {
  const services = Object.entries(images)
    .map(([service, image]) => `  ${JSON.stringify(service)}:\n    image: ${JSON.stringify(image)}\n`)
    .join('');
  return `# Written by toolkit deploy-compose: pins each service's image by digest.\nservices:\n${services}`;
}

interface ReleaseManifest {
  release: string;
  files: string[];
  env: boolean;
  uploadedAt: string;
}

interface ComposeCli {
  command: string[];
  /** The v2 plugin waits for health itself (`up --wait`); a `docker-compose` binary is polled. */
  waits: boolean;
  /** The plugin's version; for `docker-compose`, read off the containers' labels once they run. */
  version: string;
}

/**
 * One cheap command: the v2 plugin answers `docker compose version` at once (Go); `docker-compose`
 * (v1 is Python, slow to start) is only looked up on PATH, not run. A standalone v2 binary named
 * docker-compose is polled like v1, which works for both.
 */
const DETECT_SCRIPT =
  'if v=$(docker compose version --short 2>/dev/null); then echo "plugin $v"; elif command -v docker-compose >/dev/null; then echo binary; else docker compose version; exit 127; fi';

async function detectCompose(host: RemoteHost): Promise<ComposeCli> {
  const found = await host.run(['sh', '-c', DETECT_SCRIPT], { check: false });
  const [kind, version = ''] = found.stdout.trim().split(' ');
  if (found.code === 0 && kind === 'plugin') return { command: ['docker', 'compose'], waits: true, version };
  if (found.code === 0 && kind === 'binary') return { command: ['docker-compose'], waits: false, version: '' };
  throw new UserError(
    'NOT_FOUND',
    `Neither \`docker compose\` (v2) nor \`docker-compose\` (v1) is on ${host.name} for this user:\n${found.stderr.trim()}`,
  );
}

class Deployment {
  private readonly dirs: Layout;
  private readonly phases: { name: string; ms: number }[] = [];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private compose!: ComposeCli;
  /** Set while a release is being started, with the one to bring back if the run is cancelled. */
  private starting?: { release: string; previous: string };
  private composeDetected!: Promise<ComposeCli>;

  constructor(
    private readonly host: RemoteHost,
    root: string,
    private readonly request: DeployRequest,
    private readonly deps: DeployDependencies,
  ) {
    this.dirs = layout(root);
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await work();
    } finally {
      this.phases.push({ name, ms: this.now() - started });
    }
  }

  private result(fields: Partial<DeployResult> & Pick<DeployResult, 'release' | 'previousRelease'>): DeployResult {
    return {
      operation: this.request.operation,
      host: { name: this.host.name, fingerprint: this.host.fingerprint },
      compose: this.compose ? [...this.compose.command, this.compose.version].join(' ').trim() : '',
      rolledBack: false,
      services: [],
      phases: this.phases,
      removedReleases: [],
      plan: [],
      ...fields,
    };
  }

  private async detected(): Promise<ComposeCli> {
    if (!this.compose) {
      this.compose = await this.composeDetected;
      this.deps.log(`${this.host.name}: ${[...this.compose.command, this.compose.version].join(' ').trim()}`);
    }
    return this.compose;
  }

  private dockerEnv(): Record<string, string> {
    return this.request.registry ? { DOCKER_CONFIG: this.dirs.dockerConfig } : {};
  }

  private composeArgs(manifest: ReleaseManifest): string[] {
    const files = manifest.files.flatMap((file) => ['-f', file]);
    return [...this.compose.command, '-p', this.request.project, ...files, ...(manifest.env ? ['--env-file', ENV_FILE] : [])];
  }

  private async composeRun(release: string, manifest: ReleaseManifest, args: string[]): Promise<void> {
    await this.host.run([...this.composeArgs(manifest), ...args], { cwd: this.dirs.release(release), env: this.dockerEnv() });
  }

  private async readManifest(release: string): Promise<ReleaseManifest> {
    const raw = await this.host.readFile(path.join(this.dirs.release(release), MANIFEST_FILE));
    if (raw === undefined) {
      throw new UserError(
        'NOT_FOUND',
        `Release ${release} on ${this.host.name} has no ${MANIFEST_FILE}; it was not made by deploy-compose.`,
      );
    }
    return JSON.parse(raw) as ReleaseManifest;
  }

  private async currentRelease(): Promise<string> {
    const target = await this.host.readlink(this.dirs.current);
    return target ? path.basename(target) : '';
  }

  /** Releases once made current, newest first (by when they were). */
  private async deployedReleases(): Promise<string[]> {
    const entries = (await this.host.list(this.dirs.releases)).filter((entry) => entry.isDirectory);
    const deployed: { name: string; at: number }[] = [];
    for (const entry of entries) {
      const at = await this.host.mtime(path.join(this.dirs.release(entry.name), DEPLOYED_MARKER));
      if (at !== undefined) deployed.push({ name: entry.name, at });
    }
    return deployed.sort((a, b) => b.at - a.at || b.name.localeCompare(a.name)).map((entry) => entry.name);
  }

  /** A cancelled run leaves no half-started release running: the previous one is started again. */
  private async cancel(lock: HeldLock): Promise<void> {
    try {
      const starting = this.starting;
      if (starting?.previous) {
        this.deps.warn(`Cancelled while starting ${starting.release}: starting ${starting.previous} again (current still points at it).`);
        await this.composeRun(starting.previous, await this.readManifest(starting.previous), ['up', '-d', '--remove-orphans']);
      }
    } finally {
      await lock.release();
    }
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    await this.host.mkdir(this.dirs.releases);
    await this.host.mkdir(this.dirs.shared);
    const lock = await this.phase('lock', () =>
      acquireLock(this.host, {
        path: this.dirs.lock,
        ...this.request.lock,
        log: this.deps.log,
        warn: this.deps.warn,
        now: this.now,
        sleep: this.sleep,
      }),
    );
    this.deps.onCancel?.(() => this.cancel(lock));
    try {
      return await work();
    } finally {
      this.deps.onCancel?.(undefined);
      await lock.release();
    }
  }

  async run(): Promise<DeployResult> {
    // Compose's version is asked for while the lock is taken and the files go up (v1 is Python,
    // slow to start); it is awaited where it is first needed.
    this.composeDetected = this.phase('detect', () => detectCompose(this.host));
    this.composeDetected.catch(() => undefined);
    if (this.request.operation === 'plan') return this.plan();
    if (this.request.operation === 'rollback') return this.withLock(() => this.rollbackOperation());
    return this.withLock(() => this.deploy());
  }

  private async deploy(): Promise<DeployResult> {
    const { release } = this.request;
    const previous = await this.currentRelease();
    const manifest = await this.phase('upload', () => this.upload(release, previous));
    await this.detected();
    if (this.request.registry) await this.phase('login', () => this.login());
    try {
      await this.phase('pull', () => this.pull(release, manifest));
    } catch (error) {
      // Nothing running has changed yet: no rollback needed.
      throw new DeployFailedError(
        `Pulling the images of release ${release} failed; the running release${previous ? ` (${previous})` : ''} was not touched.\n${(error as Error).message}`,
        this.result({ release, previousRelease: previous }),
      );
    }
    // Redeploying the current release rewrote it in place: a failure goes back to the one before it.
    const fallback = previous === release ? ((await this.deployedReleases()).find((name) => name !== release) ?? '') : previous;
    this.starting = { release, previous: fallback };
    const failure = await this.startAndCheck(release, manifest);
    this.starting = undefined;
    if (failure) return this.recover(release, manifest, fallback, failure);
    const services = await this.inspect();
    await this.phase('switch', () => this.makeCurrent(release));
    const removedReleases = await this.phase('cleanup', () => this.removeOldReleases(release));
    return this.result({ release, previousRelease: previous, services, removedReleases });
  }

  private async upload(release: string, previous: string): Promise<ReleaseManifest> {
    const dir = this.dirs.release(release);
    // A failed attempt at the same release left its directory: start it afresh.
    if (previous !== release && (await this.host.mtime(dir)) !== undefined) await this.host.run(['rm', '-rf', '--', dir]);
    await this.host.mkdir(dir);
    const files = this.request.composeFiles.map((file) => file.name);
    for (const file of this.request.composeFiles) await this.host.writeFile(path.join(dir, file.name), file.content, 0o644);
    if (Object.keys(this.request.images).length > 0) {
      await this.host.writeFile(path.join(dir, OVERRIDE_FILE), imagesOverride(this.request.images), 0o644);
      files.push(OVERRIDE_FILE);
    }
    const env = this.request.env !== '';
    // Compose reads a .env it finds in the project directory even unasked: none may be left over.
    if (env) await this.host.writeFile(path.join(dir, ENV_FILE), this.request.env, 0o600);
    else await this.host.remove(path.join(dir, ENV_FILE));
    const manifest: ReleaseManifest = { release, files, env, uploadedAt: new Date(this.now()).toISOString() };
    await this.host.writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
    this.deps.log(`Uploaded ${files.length} file(s)${env ? ' and .env (0600)' : ''} to ${dir}`);
    return manifest;
  }

  private async login(): Promise<void> {
    const registry = this.request.registry as RegistryLogin;
    await this.host.mkdir(this.dirs.dockerConfig, 0o700);
    // The password travels on stdin; argv can be read by any user of the host.
    await this.host.run(['docker', 'login', '--username', registry.username, '--password-stdin', '--', registry.server], {
      stdin: `${registry.password}\n`,
      env: this.dockerEnv(),
    });
  }

  /**
   * Pulls the release's images before anything running is touched. An image pinned by digest cannot
   * change, so when every service is pinned and all those images are on the server already, there
   * is nothing to pull (and docker-compose v1, slow to start, is not run for nothing).
   */
  private async pull(release: string, manifest: ReleaseManifest): Promise<void> {
    const { services = [], images } = this.request;
    const pinned = services.length > 0 && services.every((service) => images[service] !== undefined);
    if (pinned) {
      const present = await this.host.run(['docker', 'image', 'inspect', '--format', '{{.Id}}', ...new Set(Object.values(images))], {
        check: false,
        env: this.dockerEnv(),
      });
      if (present.code === 0) {
        this.deps.log('Every service is pinned by digest to an image the server has: nothing to pull.');
        return;
      }
    }
    await this.composeRun(release, manifest, ['pull', '--quiet']);
  }

  /** Starts the release and waits for it to be healthy; returns why it is not, or undefined. */
  private async startAndCheck(release: string, manifest: ReleaseManifest): Promise<string | undefined> {
    const { health, timeoutMs } = this.request;
    const wait = health.kind === 'compose' && this.compose.waits ? ['--wait', '--wait-timeout', String(Math.ceil(timeoutMs / 1000))] : [];
    try {
      await this.phase('up', () => this.composeRun(release, manifest, ['up', '-d', '--remove-orphans', ...wait]));
    } catch (error) {
      return (error as Error).message;
    }
    // Whatever goes wrong while checking (a docker command failing included) fails the release.
    return this.phase('health', () => this.checkHealth().catch((error: Error) => error.message));
  }

  private async checkHealth(): Promise<string | undefined> {
    const { health, timeoutMs } = this.request;
    const deadline = this.now() + timeoutMs;
    const interval = this.deps.pollIntervalMs ?? 1000;
    if (health.kind === 'url') return this.probeUrl(health.url, deadline, interval);
    if (health.kind === 'none' || this.compose.waits) return undefined; // v2's --wait has checked
    for (;;) {
      const services = await this.inspect();
      if (services.length === 0) return `No containers of project ${this.request.project} are running.`;
      const failed = services.filter((service) => verdict(service) === 'failed');
      if (failed.length > 0) return `Not healthy: ${failed.map(describeState).join(', ')}.`;
      if (services.every((service) => verdict(service) === 'ready')) return undefined;
      if (this.now() >= deadline) {
        const waiting = services.filter((service) => verdict(service) !== 'ready');
        return `Not healthy after timeout (${Math.round(timeoutMs / 1000)}s): ${waiting.map(describeState).join(', ')}.`;
      }
      await this.sleep(interval);
    }
  }

  /** Probes `url` from the server itself (curl, or wget where there is no curl) until it answers 2xx/3xx. */
  private async probeUrl(url: string, deadline: number, interval: number): Promise<string | undefined> {
    const client = await this.host.run(['sh', '-c', 'command -v curl || command -v wget'], { check: false });
    const useCurl = client.stdout.trim().endsWith('curl');
    if (client.code !== 0) return `Neither curl nor wget is on ${this.host.name}, so health url: cannot be probed from there.`;
    const probe = useCurl ? ['curl', '-fsS', '-o', '/dev/null', '--max-time', '5', url] : ['wget', '-q', '-O', '/dev/null', '-T', '5', url];
    for (;;) {
      const result = await this.host.run(probe, { check: false });
      if (result.code === 0) return undefined;
      const last = result.stderr.trim() || `exit code ${result.code}`;
      if (this.now() >= deadline)
        return `${url} did not answer with success before timeout (${Math.round(this.request.timeoutMs / 1000)}s): ${last}`;
      await this.sleep(interval);
    }
  }

  /**
   * The project's containers as docker sees them (compose v1 and v2 label them alike), with the
   * registry digests of their images: one remote command, since each costs a shell start-up on the
   * server. The script is a constant; the filter and formats reach it as quoted arguments.
   */
  private async inspect(): Promise<ServiceState[]> {
    const { stdout } = await this.host.run([
      'sh',
      '-c',
      INSPECT_SCRIPT,
      'sh',
      `label=com.docker.compose.project=${this.request.project}`,
      CONTAINER_FORMAT,
      '{{.Id}}\t{{json .RepoDigests}}',
    ]);
    const [containers = '', images = ''] = stdout.split('\n---\n');
    const rows = containers
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'));
    const repoDigests = new Map<string, string[]>();
    for (const line of images.split('\n').filter(Boolean)) {
      const [id = '', digests = 'null'] = line.split('\t');
      repoDigests.set(id, (JSON.parse(digests) as string[] | null) ?? []);
    }
    // docker-compose is never run just to ask its version: the containers it made carry it.
    this.compose.version ||= rows.find((row) => row[7])?.[7] ?? '';
    return rows
      .map(([id = '', service = '', status = '', health = '', exitCode = '0', image = '', imageId = '']) => ({
        container: id.slice(0, 12),
        service,
        status,
        health,
        exitCode: Number(exitCode),
        image,
        digest: digestOf(image, repoDigests.get(imageId) ?? []),
      }))
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  private async logsOf(services: ServiceState[]): Promise<ContainerLogs[]> {
    const failing = services.filter((service) => verdict(service) !== 'ready');
    const logs: ContainerLogs[] = [];
    for (const service of failing.length > 0 ? failing : services) {
      const result = await this.host.run(['docker', 'logs', '--tail', '50', service.container], { check: false });
      logs.push({ service: service.service, container: service.container, lines: `${result.stdout}${result.stderr}`.trimEnd() });
    }
    return logs;
  }

  /** The release failed after `up`: bring the previous one back (or take a first release down) and fail. */
  private async recover(release: string, manifest: ReleaseManifest, previous: string, reason: string): Promise<never> {
    const services = await this.inspect();
    const logs = await this.logsOf(services);
    let rolledBack = false;
    let outcome: string;
    if (!this.request.rollbackOnFailure) {
      outcome = 'rollback-on-failure is false, so it was left as it is.';
    } else if (previous) {
      const problem = await this.phase('rollback', () => this.bringUp(previous));
      if (problem)
        throw new DeployFailedError(
          `Release ${release} failed: ${reason}\nRolling back to ${previous} failed too: ${problem}`,
          this.result({ release, previousRelease: previous, services, failure: { message: reason, logs } }),
        );
      rolledBack = true;
      outcome = `Rolled back: ${previous} is running again and healthy.`;
      if ((await this.currentRelease()) === release) {
        // A failed redeploy of the current release: its directory no longer holds what ran, so it is
        // no rollback target any more, and current follows what runs.
        await this.host.remove(path.join(this.dirs.release(release), DEPLOYED_MARKER));
        await this.makeCurrent(previous);
        outcome += ` current points at ${previous} again.`;
      }
    } else if ((await this.currentRelease()) === release) {
      outcome = `It is the only release deployed here, so there is nothing to go back to; it was left as it is.`;
    } else {
      await this.phase('rollback', () => this.composeRun(release, manifest, ['down', '--remove-orphans']).catch(() => undefined));
      outcome = 'It was the first release here, so it was taken down.';
    }
    throw new DeployFailedError(
      `Release ${release} failed on ${this.host.name}: ${reason}\n${outcome}`,
      this.result({ release, previousRelease: previous, rolledBack, services, failure: { message: reason, logs } }),
    );
  }

  /** Starts an earlier release from its own directory and checks it as the request says. */
  private async bringUp(release: string): Promise<string | undefined> {
    const manifest = await this.readManifest(release);
    return this.startAndCheck(release, manifest);
  }

  private async makeCurrent(release: string): Promise<void> {
    await this.host.writeFile(path.join(this.dirs.release(release), DEPLOYED_MARKER), `${new Date(this.now()).toISOString()}\n`, 0o644);
    await this.host.replaceSymlink(path.join('releases', release), this.dirs.current);
  }

  /** The release directories beyond the newest `keep-releases`, counting `kept` (always kept) among them. */
  private async releasesBeyondKeep(kept: string[]): Promise<string[]> {
    const others = (await this.host.list(this.dirs.releases))
      .filter((entry) => entry.isDirectory && !kept.includes(entry.name))
      .sort((a, b) => b.mtime - a.mtime || b.name.localeCompare(a.name));
    return others.slice(Math.max(0, this.request.keepReleases - kept.length)).map((entry) => entry.name);
  }

  /** Keeps the newest `keep-releases` release directories (and always the current one). */
  private async removeOldReleases(current: string): Promise<string[]> {
    const doomed = await this.releasesBeyondKeep([current]);
    if (doomed.length > 0) await this.host.run(['rm', '-rf', '--', ...doomed.map((name) => this.dirs.release(name))]);
    return doomed;
  }

  private async rollbackOperation(): Promise<DeployResult> {
    await this.detected();
    const current = await this.currentRelease();
    const target = (await this.deployedReleases()).find((name) => name !== current);
    if (!target) {
      throw new UserError(
        'NOT_FOUND',
        `There is no earlier release on ${this.host.name} in ${this.dirs.root} to roll back to (current: ${current || 'none'}).`,
      );
    }
    this.deps.log(`Rolling back ${this.request.project} from ${current || 'nothing'} to ${target}`);
    this.starting = { release: target, previous: current };
    const problem = await this.bringUp(target);
    this.starting = undefined;
    if (problem) {
      const services = await this.inspect();
      const logs = await this.logsOf(services);
      let outcome = '';
      if (current) {
        const back = await this.phase('restore', () => this.bringUp(current));
        outcome = back ? `\nBringing ${current} back failed too: ${back}` : `\n${current} is running again.`;
      }
      throw new DeployFailedError(
        `Rolling back to ${target} failed on ${this.host.name}: ${problem}${outcome}`,
        this.result({ release: target, previousRelease: current, services, failure: { message: problem, logs } }),
      );
    }
    const services = await this.inspect();
    await this.phase('switch', () => this.makeCurrent(target));
    return this.result({ release: target, previousRelease: current, rolledBack: true, services });
  }

  /** Connects and checks, and says what a deploy would do; writes nothing. */
  private async plan(): Promise<DeployResult> {
    const { release, project, images, env, registry, health, timeoutMs, keepReleases } = this.request;
    await this.detected();
    const docker = await this.host.run(['docker', 'version', '--format', '{{.Server.Version}}'], { env: this.dockerEnv() });
    if (!this.compose.version) this.compose.version = (await this.host.run([...this.compose.command, 'version', '--short'])).stdout.trim();
    const current = await this.currentRelease();
    const lockHolder = await this.host.readFile(this.dirs.lock);
    // After the deploy, the new release and the one current now are the newest two.
    const wouldRemove = await this.releasesBeyondKeep([...new Set([release, current].filter(Boolean))]);
    const files = [...this.request.composeFiles.map((file) => file.name), ...(Object.keys(images).length > 0 ? [OVERRIDE_FILE] : [])];
    const plan = [
      `Connected to ${this.host.name}; host key ${this.host.fingerprint} verified.`,
      `Docker ${docker.stdout.trim()} with ${this.compose.command.join(' ')} ${this.compose.version}.`,
      lockHolder ? `The deploy lock is held now: ${lockHolder.trim()}` : 'The deploy lock is free.',
      `Current release: ${current || 'none (this would be the first)'}.`,
      `Upload ${files.join(', ')}${env ? ' and .env (mode 0600)' : ''} to ${this.dirs.release(release)}.`,
      ...Object.entries(images).map(([service, image]) => `Pin ${service} to ${image}.`),
      ...(registry ? [`Log in to ${registry.server} as ${registry.username} (password on stdin).`] : []),
      `Pull, then ${this.compose.command.join(' ')} -p ${project} up -d --remove-orphans${health.kind === 'compose' && this.compose.waits ? ' --wait' : ''}.`,
      `Wait up to ${Math.round(timeoutMs / 1000)}s for ${health.kind === 'url' ? `${health.url} to answer` : health.kind === 'compose' ? 'the healthchecks' : 'nothing (health: none)'}.`,
      `Point current at releases/${release}${current ? `; on failure bring ${current} back` : ''}.`,
      wouldRemove.length > 0 ? `Remove old releases: ${wouldRemove.join(', ')}.` : `Keep every release (keep-releases: ${keepReleases}).`,
    ];
    for (const line of plan.slice(1)) this.deps.log(line); // the first was said on connecting
    return this.result({ release, previousRelease: current, plan });
  }
}

const CONTAINER_FORMAT =
  '{{.Id}}\t{{index .Config.Labels "com.docker.compose.service"}}\t{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}{{end}}\t{{.State.ExitCode}}\t{{.Config.Image}}\t{{.Image}}\t{{index .Config.Labels "com.docker.compose.version"}}';

/** $1 the project filter, $2 the container format, $3 the image format; `$ids` are docker's own hex ids. */
const INSPECT_SCRIPT = [
  'ids=$(docker ps -aq --no-trunc --filter "$1" --filter label=com.docker.compose.oneoff=False) || exit',
  '[ -n "$ids" ] || exit 0',
  'docker inspect --format "$2" $ids || exit',
  'echo ---',
  'docker image inspect --format "$3" $(docker inspect --format "{{.Image}}" $ids | sort -u)',
].join('\n');

type Verdict = 'ready' | 'waiting' | 'failed';

/** Ready: running and healthy (or with no healthcheck), or a one-shot service that exited 0. */
export function verdict(state: Pick<ServiceState, 'status' | 'health' | 'exitCode'>): Verdict {
  if (state.status === 'running') {
    if (state.health === 'unhealthy') return 'failed';
    return state.health === '' || state.health === 'healthy' ? 'ready' : 'waiting';
  }
  if (state.status === 'exited') return state.exitCode === 0 ? 'ready' : 'failed';
  if (state.status === 'dead') return 'failed';
  return 'waiting'; // created, restarting
}

function describeState(state: ServiceState): string {
  const detail = state.status === 'exited' ? `exited ${state.exitCode}` : state.health ? `${state.status}, ${state.health}` : state.status;
  return `${state.service} (${detail})`;
}

function digestOf(image: string, repoDigests: string[]): string {
  const pinned = /@(sha256:[a-f0-9]{64})$/.exec(image);
  if (pinned) return pinned[1] as string;
  const name = image.replace(/:[^/:]+$/, '');
  const match = repoDigests.find((entry) => entry.startsWith(`${name}@`)) ?? repoDigests[0];
  return match ? match.slice(match.indexOf('@') + 1) : '';
}

export async function runDeployment(host: RemoteHost, request: DeployRequest, deps: DeployDependencies): Promise<DeployResult> {
  if (request.keepReleases < 1) throw new ToolkitError('INVALID_INPUT', 'keep-releases must be at least 1.');
  const root = await resolveRemoteDir(host, request.remoteDir);
  return new Deployment(host, root, request, deps).run();
}
