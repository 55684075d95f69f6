import path from 'node:path/posix';
import { UserError } from '@toolkit/shared';
import { type ContainerState, HealthGate, describeContainer, inspectProject, strayContainers } from './containers.js';
import { HISTORY_FILE, type ReleaseHistory, emptyHistory, historyFromMarkers, parseHistory, serializeHistory } from './history.js';
import { type HeldLock, acquireLock } from './lock.js';
import type { RemoteHost } from './ssh.js';
import { type ContainerLogs, type DeployDependencies, type DeployRequest, type DeployResult, ENV_FILE, MANIFEST_FILE } from './types.js';

/**
 * What plan, apply and recover share: the layout of remote-dir, compose on the server, the health
 * gate, the history file, the lock and the per-deploy registry credentials.
 */

/** The marker an earlier deploy-compose wrote in each deployed release; read once, to build a history. */
const LEGACY_DEPLOYED_MARKER = '.toolkit-deployed';

export interface ReleaseManifest {
  release: string;
  files: string[];
  env: boolean;
  uploadedAt: string;
}

interface ComposeCli {
  command: string[];
  /** The plugin's version; for `docker-compose`, read off the containers' labels once they run. */
  version: string;
}

/**
 * One cheap command: the v2 plugin answers `docker compose version` at once (Go); `docker-compose`
 * (v1 is Python, slow to start) is only looked up on PATH, not run.
 */
const DETECT_SCRIPT =
  'if v=$(docker compose version --short 2>/dev/null); then echo "plugin $v"; elif command -v docker-compose >/dev/null; then echo binary; else docker compose version; exit 127; fi';

async function detectCompose(host: RemoteHost): Promise<ComposeCli> {
  const found = await host.run(['sh', '-c', DETECT_SCRIPT], { check: false });
  const [kind, version = ''] = found.stdout.trim().split(' ');
  if (found.code === 0 && kind === 'plugin') return { command: ['docker', 'compose'], version };
  if (found.code === 0 && kind === 'binary') return { command: ['docker-compose'], version: '' };
  throw new UserError(
    'NOT_FOUND',
    `Neither \`docker compose\` (v2) nor \`docker-compose\` (v1) is on ${host.name} for this user:\n${found.stderr.trim()}`,
  );
}

export async function resolveRemoteDir(host: RemoteHost, remoteDir: string): Promise<string> {
  if (remoteDir.startsWith('/')) return path.normalize(remoteDir);
  const relative = remoteDir === '~' ? '' : remoteDir.startsWith('~/') ? remoteDir.slice(2) : remoteDir;
  return path.join(await host.home(), relative);
}

export class Deployment {
  readonly phases: { name: string; ms: number }[] = [];
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly releases: string;
  readonly current: string;
  readonly shared: string;
  private readonly lockPath: string;
  private readonly historyPath: string;
  /** This run's own DOCKER_CONFIG, removed when it ends: the registry password never stays on the server. */
  private readonly dockerConfig: string;
  private compose?: ComposeCli;
  private lock?: HeldLock;
  /** Set while a release is being started: what a cancel must bring back. */
  starting?: { dir: string; restore: string };
  /** Whether the last startAndCheck failed at `up` itself (rather than at the gate, after `up` changed what runs). */
  upFailed = false;
  /** Set by a cancel: the main flow stops at its next change; only the clean-up changes the server. */
  private cancelled = false;

  private constructor(
    readonly host: RemoteHost,
    readonly root: string,
    readonly request: DeployRequest,
    readonly deps: DeployDependencies,
    private readonly composeDetected: Promise<ComposeCli>,
  ) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.releases = path.join(root, 'releases');
    this.current = path.join(root, 'current');
    this.shared = path.join(root, 'shared');
    this.lockPath = path.join(root, '.lock');
    this.historyPath = path.join(root, HISTORY_FILE);
    this.dockerConfig = path.join(root, `.docker-${request.lock.owner.id}`);
  }

  static async open(host: RemoteHost, request: DeployRequest, deps: DeployDependencies): Promise<Deployment> {
    const root = await resolveRemoteDir(host, request.remoteDir);
    // Compose is asked for while the lock is taken and the files go up; awaited where first needed.
    const detected = detectCompose(host);
    detected.catch(() => undefined);
    return new Deployment(host, root, request, deps, detected);
  }

  dir(name: string): string {
    return path.join(this.releases, name);
  }

  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = this.now();
    this.deps.log(`[phase] ${name}`);
    try {
      return await work();
    } finally {
      this.phases.push({ name, ms: this.now() - started });
    }
  }

  async composeCli(): Promise<ComposeCli> {
    if (!this.compose) {
      this.compose = await this.phase('detect', () => this.composeDetected);
      this.deps.log(`${this.host.name}: ${this.composeName()}`);
    }
    return this.compose;
  }

  /** docker-compose v1 is asked its version only where a message needs it (it is slow to start). */
  async composeVersion(): Promise<string> {
    const compose = await this.composeCli();
    if (!compose.version)
      compose.version = (await this.host.run([...compose.command, 'version', '--short'], { check: false })).stdout.trim();
    return this.composeName();
  }

  composeName(): string {
    return this.compose ? [...this.compose.command, this.compose.version].join(' ').trim() : '';
  }

  result(fields: Partial<DeployResult> & Pick<DeployResult, 'release' | 'previousRelease'>): DeployResult {
    return {
      operation: this.request.operation,
      host: { name: this.host.name, fingerprint: this.host.fingerprint },
      compose: this.composeName(),
      rolledBack: false,
      services: [],
      phases: this.phases,
      removedReleases: [],
      plan: [],
      history: [],
      ...fields,
    };
  }

  // --- the lock, and what is cleaned up with it ---------------------------------------------------

  async withLock<T>(work: () => Promise<T>, onCancel: () => Promise<void>): Promise<T> {
    await this.host.mkdir(this.releases);
    await this.host.mkdir(this.shared);
    const lock = await this.phase('lock', () =>
      acquireLock(this.host, {
        path: this.lockPath,
        ...this.request.lock,
        log: this.deps.log,
        warn: this.deps.warn,
        now: this.now,
        sleep: this.sleep,
      }),
    );
    this.lock = lock;
    let cleanup: Promise<void> | undefined;
    this.deps.onCancel?.(() => {
      this.cancelled = true;
      cleanup = (async () => {
        try {
          await onCancel();
        } finally {
          await this.removeCredentials();
          await lock.release();
        }
      })();
      return cleanup;
    });
    try {
      await this.removeLeftoverCredentials();
      return await work();
    } finally {
      this.deps.onCancel?.(undefined);
      // The main flow of a cancelled run stops at its next change; the clean-up finishes first.
      if (cleanup) await cleanup.catch(() => undefined);
      await this.removeCredentials();
      await lock.release();
    }
  }

  /**
   * Before each change on the server: a run whose lock was lost (it overran lock-ttl unrenewed)
   * stops, and so does the main flow of a cancelled run, while its clean-up (`cleanup`) goes on.
   */
  assertLocked(cleanup = false): void {
    if (this.cancelled && !cleanup)
      throw new UserError('REFUSED', 'Cancelled: stopped before changing anything more; the clean-up brings the last good release back.');
    this.lock?.assertHeld();
  }

  dockerEnv(): Record<string, string> {
    return this.request.registry ? { DOCKER_CONFIG: this.dockerConfig } : {};
  }

  async login(): Promise<void> {
    const registry = this.request.registry;
    if (!registry) return;
    await this.host.mkdir(this.dockerConfig, 0o700);
    // The password travels on stdin; argv can be read by any user of the host.
    await this.host.run(['docker', 'login', '--username', registry.username, '--password-stdin', '--', registry.server], {
      stdin: `${registry.password}\n`,
      env: this.dockerEnv(),
    });
  }

  private async removeCredentials(): Promise<void> {
    if (this.request.registry) await this.host.run(['rm', '-rf', '--', this.dockerConfig], { check: false });
  }

  /**
   * What a killed run's login left: nobody else's, since we hold the lock. Also the `.docker` that
   * earlier versions logged in to, when it holds nothing but their config.json and remote-dir is
   * not the home directory (whose ~/.docker is the user's own).
   */
  private async removeLeftoverCredentials(): Promise<void> {
    const entries = await this.host.list(this.root);
    const leftovers = entries
      .filter((entry) => entry.isDirectory && /^\.docker-[0-9a-f-]{36}$/.test(entry.name))
      .map((entry) => path.join(this.root, entry.name))
      .filter((dir) => dir !== this.dockerConfig);
    const legacy = path.join(this.root, '.docker');
    if (entries.some((entry) => entry.isDirectory && entry.name === '.docker') && this.root !== (await this.host.home())) {
      const inside = (await this.host.list(legacy)).map((entry) => entry.name);
      if (inside.length === 1 && inside[0] === 'config.json') leftovers.push(legacy);
    }
    if (leftovers.length === 0) return;
    await this.host.run(['rm', '-rf', '--', ...leftovers]);
    this.deps.warn(`Removed registry credentials an earlier run left on ${this.host.name}: ${leftovers.join(', ')}.`);
  }

  // --- the history ---------------------------------------------------------------------------------

  async readHistory(): Promise<ReleaseHistory> {
    const text = await this.host.readFile(this.historyPath);
    if (text !== undefined) return parseHistory(text, this.historyPath);
    // A remote-dir an earlier deploy-compose made: its deployed releases carry a marker file.
    const markers: { dir: string; at: number }[] = [];
    for (const entry of await this.host.list(this.releases)) {
      if (!entry.isDirectory) continue;
      const at = await this.host.mtime(path.join(this.dir(entry.name), LEGACY_DEPLOYED_MARKER));
      if (at !== undefined) markers.push({ dir: entry.name, at });
    }
    if (markers.length === 0) return emptyHistory();
    return historyFromMarkers(markers, await this.currentLink(), 'an earlier deploy-compose');
  }

  async saveHistory(history: ReleaseHistory, cleanup = false): Promise<ReleaseHistory> {
    this.assertLocked(cleanup);
    await this.host.writeFileAtomic(this.historyPath, serializeHistory(history), 0o644);
    return history;
  }

  async currentLink(): Promise<string> {
    const target = await this.host.readlink(this.current);
    return target ? path.basename(target) : '';
  }

  async makeCurrent(dir: string): Promise<void> {
    this.assertLocked();
    await this.host.replaceSymlink(path.join('releases', dir), this.current);
  }

  async removeReleaseDirs(dirs: readonly string[], cleanup = false): Promise<void> {
    if (dirs.length === 0) return;
    this.assertLocked(cleanup);
    await this.host.run(['rm', '-rf', '--', ...dirs.map((dir) => this.dir(dir))]);
  }

  // --- compose ---------------------------------------------------------------------------------------

  async readManifest(dir: string): Promise<ReleaseManifest | undefined> {
    const raw = await this.host.readFile(path.join(this.dir(dir), MANIFEST_FILE));
    return raw === undefined ? undefined : (JSON.parse(raw) as ReleaseManifest);
  }

  async composeArgs(dir: string): Promise<string[]> {
    const manifest = await this.readManifest(dir);
    if (!manifest) {
      throw new UserError(
        'NOT_FOUND',
        `Release folder ${this.dir(dir)} on ${this.host.name} has no ${MANIFEST_FILE}; it was not made by deploy-compose.`,
      );
    }
    const compose = await this.composeCli();
    const files = manifest.files.flatMap((file) => ['-f', file]);
    return [...compose.command, '-p', this.request.project, ...files, ...(manifest.env ? ['--env-file', ENV_FILE] : [])];
  }

  async composeRun(dir: string, args: string[], cleanup = false): Promise<void> {
    this.assertLocked(cleanup);
    await this.host.run([...(await this.composeArgs(dir)), ...args], { cwd: this.dir(dir), env: this.dockerEnv() });
  }

  async inspect(): Promise<ContainerState[]> {
    const containers = await inspectProject(this.host, this.request.project);
    if (this.compose && !this.compose.version)
      this.compose.version = containers.find((container) => container.composeVersion)?.composeVersion ?? '';
    return containers;
  }

  /** Removes containers beyond one per service and number (see strayContainers); says which. */
  async removeStrays(cleanup = false): Promise<void> {
    const strays = strayContainers(await this.inspect());
    if (strays.length === 0) return;
    this.assertLocked(cleanup);
    await this.host.run(['docker', 'rm', '-f', '--', ...strays.map((container) => container.id)]);
    this.deps.warn(
      `Removed stray containers an interrupted run left: ${strays.map((container) => `${container.name} (${container.status})`).join(', ')}.`,
    );
  }

  /** Takes every container of the project away: for a first release that never passed its gate. */
  async removeProjectContainers(cleanup = false): Promise<void> {
    const containers = await this.inspect();
    this.assertLocked(cleanup);
    if (containers.length > 0) await this.host.run(['docker', 'rm', '-f', '--', ...containers.map((container) => container.id)]);
  }

  /**
   * Starts the release in `dir` and runs the health gate; returns why it is not healthy, or
   * undefined. `onGate` is told when `up` is done and the gate begins (the history records it).
   */
  async startAndCheck(dir: string, onGate?: () => Promise<void>): Promise<string | undefined> {
    this.upFailed = false;
    try {
      // --no-build: the server never builds (a build: section is refused unless its image is pinned).
      await this.phase('up', () => this.composeRun(dir, ['up', '-d', '--remove-orphans', '--no-build']));
    } catch (error) {
      this.upFailed = true;
      return (error as Error).message;
    }
    try {
      await this.removeStrays();
      await onGate?.();
    } catch (error) {
      return (error as Error).message;
    }
    // Whatever goes wrong while checking (a docker command failing included) fails the release.
    return this.phase('health', () => this.gate().catch((error: Error) => error.message));
  }

  private async gate(): Promise<string | undefined> {
    const { health, timeoutMs } = this.request;
    const deadline = this.now() + timeoutMs;
    const interval = this.deps.pollIntervalMs ?? 500;
    if (health.kind === 'url') return this.probeUrl(health.url, deadline, interval);
    if (health.kind === 'none') return undefined;
    const gate = new HealthGate(this.request.settleMs ?? 10_000, this.now);
    for (;;) {
      this.assertLocked();
      const containers = await this.inspect();
      if (containers.length === 0) return `No containers of project ${this.request.project} are running.`;
      const verdicts = containers.map((container) => ({ container, verdict: gate.verdict(container) }));
      const failed = verdicts.filter(({ verdict }) => verdict.kind === 'failed');
      if (failed.length > 0) {
        return `Not healthy: ${failed.map(({ container, verdict }) => describeContainer(container, 'why' in verdict ? verdict.why : undefined)).join(', ')}.`;
      }
      const waiting = verdicts.filter(({ verdict }) => verdict.kind === 'waiting');
      if (waiting.length === 0) return undefined;
      if (this.now() >= deadline) {
        return `Not healthy after timeout (${Math.round(timeoutMs / 1000)}s): ${waiting.map(({ container, verdict }) => describeContainer(container, 'why' in verdict ? verdict.why : undefined)).join(', ')}.`;
      }
      await this.sleep(interval);
    }
  }

  /** Probes `url` from the server itself (curl, or wget where there is no curl) until it answers 2xx/3xx. */
  private async probeUrl(url: string, deadline: number, interval: number): Promise<string | undefined> {
    const client = await this.host.run(['sh', '-c', 'command -v curl || command -v wget'], { check: false });
    if (client.code !== 0) return `Neither curl nor wget is on ${this.host.name}, so health url: cannot be probed from there.`;
    const useCurl = client.stdout.trim().endsWith('curl');
    const probe = useCurl
      ? ['curl', '-fsS', '-o', '/dev/null', '--max-time', '5', '--url', url]
      : ['wget', '-q', '-O', '/dev/null', '-T', '5', '--', url];
    for (;;) {
      const result = await this.host.run(probe, { check: false });
      if (result.code === 0) return undefined;
      const last = result.stderr.trim() || `exit code ${result.code}`;
      if (this.now() >= deadline)
        return `${url} did not answer with success before timeout (${Math.round(this.request.timeoutMs / 1000)}s): ${last}`;
      await this.sleep(interval);
    }
  }

  /** The last 50 lines of each failing container (of every container when none is failing). */
  async logsOf(containers: ContainerState[]): Promise<ContainerLogs[]> {
    const gate = new HealthGate(0, this.now);
    const failing = containers.filter((container) => gate.verdict(container).kind !== 'ready');
    const logs: ContainerLogs[] = [];
    for (const container of failing.length > 0 ? failing : containers) {
      const result = await this.host.run(['docker', 'logs', '--tail', '50', '--', container.id], { check: false });
      logs.push({ service: container.service, container: container.id, lines: `${result.stdout}${result.stderr}`.trimEnd() });
    }
    return logs;
  }
}
