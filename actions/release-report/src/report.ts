/**
 * The four key delivery metrics (DORA's: deployment frequency, lead time for changes, change
 * failure rate and time to restore), computed from the history of an environment repository's
 * versions.yaml: every change of a service's release in an environment is a deployment, or a
 * rollback when promote's rollback made the commit. Pure: the history comes in as FileVersions
 * (newest first, as packages/shared/src/file-history.ts reads them), the clock as `now`.
 * Definitions and thresholds: docs/release-report.md.
 */
import {
  type FileVersion,
  type ServiceEntry,
  UserError,
  type VersionsData,
  isRollbackVersion,
  messagesOf,
  releaseOf,
  sameRelease,
} from '@toolkit/shared';
import parseVersion from 'semver/functions/parse.js';
import { type VersionsReader, versionsReader } from './versions-reader.js';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * DAY_MS;

export interface ReportOptions {
  /** The end of the window (the report's time). */
  now: Date;
  /** The window's length in milliseconds (`since: 90d`). */
  windowMs: number;
  /** How soon a patch release must replace a deployment for that deployment to count as failed (0 turns it off). */
  fixWindowMs: number;
  /** Only these environments (all when empty). */
  environments?: readonly string[];
  /** Only these services (all when empty). */
  services?: readonly string[];
  /** The versions file's path, for messages. */
  file?: string;
}

export type Level = 'elite' | 'high' | 'medium' | 'low';

/** One change of what a service runs in an environment. */
export interface Deployment {
  environment: string;
  service: string;
  version: string;
  digest?: string;
  /**
   * rollback: made by promote's rollback (the commit's subject is `rollback(<environment>): …`, or
   * a merge brought such a commit in), by a `Revert "…"` commit, or back to the release the entry
   * before recorded as its previous.
   */
  kind: 'deploy' | 'rollback';
  /** deployed_at, or the commit's time where the entry has none (or kept the one before). */
  at: string;
  /** The environment repository's commit that recorded it. */
  commit: string;
  sourceCommit?: string;
  committedAt?: string;
  /** From committed_at to `at`, for a deploy whose entry records committed_at (and not a rebuild). */
  leadTimeSeconds?: number;
  /** A deploy of the same source commit as the release it replaced (a rebuild): no lead-time sample, its change was counted when first deployed. */
  rebuild?: true;
  /** Why it failed: the change after it was a rollback, or a patch release within the fix window. */
  failure?: 'rolled-back' | 'fixed';
  /** For a failed deploy: when the next change that did not fail came, and how long after. */
  restoredAt?: string;
  restoreSeconds?: number;
}

export interface Distribution {
  count: number;
  median?: number;
  p90?: number;
}

export interface Metrics {
  /** Deploys (rollbacks are not counted as deployments) in the window. */
  deployments: number;
  rollbacks: number;
  deploymentFrequency: { perDay: number; perWeek: number; level: Level };
  /**
   * In seconds; `withoutCommitTime` deploys recorded no committed_at and are not in it, nor are
   * `rebuilds` (deploys of the source commit already running there).
   */
  leadTime: Distribution & { withoutCommitTime: number; rebuilds: number; level?: Level };
  changeFailureRate: { failed: number; rate?: number; rolledBack: number; fixed: number; level?: Level };
  /** In seconds, over the failed deploys that were restored; `open` are not restored yet. */
  timeToRestore: Distribution & { open: number; level?: Level };
  /** Deploys per week of the window, oldest first: `start` is the week's first day (UTC). */
  weeks: { start: string; deployments: number }[];
}

export interface SkippedVersion {
  commit: string;
  /** The first line of why it was not read. */
  reason: string;
}

export interface EnvironmentReport {
  name: string;
  metrics: Metrics;
  services: { name: string; metrics: Metrics }[];
}

export interface Report {
  /** The version of this JSON's shape (docs/release-report.md). */
  schema: 1;
  generatedAt: string;
  window: { since: string; until: string; days: number };
  fixWindowHours: number;
  /** The file's versions read: those in the window and the one before it. */
  versionsRead: number;
  /** Versions of the file that did not parse or broke the schema: skipped, and the comparison goes on from the one before. */
  skipped: SkippedVersion[];
  thresholds: string;
  /** The promotion order the environments are sorted by (the file's `promotion`, else dev, uat, prod). */
  promotion: string[];
  environments: EnvironmentReport[];
  deployments: Deployment[];
}

/** Where the performance levels come from (named in the report and in docs/release-report.md). */
export const THRESHOLDS_SOURCE =
  'DORA, Accelerate State of DevOps Report 2024 (the latest DORA report with elite/high/medium/low levels; see docs/release-report.md)';

/** The levels: a figure is the first level whose bound it meets. */
export function deploymentFrequencyLevel(perDay: number): Level {
  if (perDay >= 1) return 'elite'; // on demand: daily or more
  if (perDay >= 1 / 7) return 'high'; // between once per day and once per week
  if (perDay >= 1 / 30) return 'medium'; // between once per week and once per month
  return 'low';
}

export function leadTimeLevel(seconds: number): Level {
  if (seconds < DAY_MS / 1000) return 'elite'; // less than one day
  if (seconds <= WEEK_MS / 1000) return 'high'; // between one day and one week
  if (seconds <= (30 * DAY_MS) / 1000) return 'medium'; // between one week and one month
  return 'low';
}

/**
 * The 2024 report gives each level's typical change failure rate (elite 5%, high 20%, medium 10%,
 * low 40%), not ranges, and medium's is below high's; as upper bounds that can be met in order,
 * they are elite ≤ 5%, high ≤ 20%, low above. No rate is "medium" (docs/release-report.md).
 */
export function changeFailureLevel(rate: number): Level {
  if (rate <= 0.05) return 'elite';
  if (rate <= 0.2) return 'high';
  return 'low';
}

export function timeToRestoreLevel(seconds: number): Level {
  if (seconds < HOUR_MS / 1000) return 'elite'; // less than one hour
  if (seconds < DAY_MS / 1000) return 'high'; // less than one day
  if (seconds <= WEEK_MS / 1000) return 'medium'; // between one day and one week
  return 'low';
}

/** The q-quantile by linear interpolation between closest ranks (as numpy's default, Excel's PERCENTILE.INC). */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const lower = sorted[below] as number;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  return lower + (upper - lower) * (position - below);
}

function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const p90 = quantile(sorted, 0.9);
  return { count: sorted.length, ...(median === undefined ? {} : { median }), ...(p90 === undefined ? {} : { p90 }) };
}

/**
 * A fix release of `version`: a patch release of the same major.minor, higher patch, not a
 * pre-release (1.4.0 → 1.4.1). Versions that are not semantic versions never are.
 */
export function isFixRelease(version: string, next: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(next);
  return !!a && !!b && b.prerelease.length === 0 && a.major === b.major && a.minor === b.minor && b.patch > a.patch;
}

function timeOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * A copy of a string the YAML parser cut out of a version's text: V8 keeps such a slice pointing
 * into the whole text, and a deployment kept for the report would keep its version's text alive
 * (every version's, on a long history).
 */
const own = (text: string) => (' ' + text).slice(1);

/** A time as RFC 3339 in UTC, to the second (what versions.yaml records). */
const iso = (time: number) => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A version of the file read back: its data, or why it could not be read. */
function readVersion(version: FileVersion, file: string, read: VersionsReader): VersionsData | SkippedVersion {
  if (version.text === undefined)
    return { commit: version.commit, reason: `${file} is not in this commit (deleted, or not a regular file)` };
  try {
    return read(version.text, file);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { commit: version.commit, reason: (error.message.split('\n')[1] ?? error.message).trim() || error.message };
  }
}

export interface HistoryRead {
  /** Every change of a service's release, oldest first. */
  deployments: Deployment[];
  /** Newest first, as the history is. */
  skipped: SkippedVersion[];
  read: number;
  /** The newest version that could be read. */
  latest?: VersionsData;
}

/**
 * Reads the history one version at a time, newest first, as it arrives (so that a long one is
 * never held whole): each version is compared with the next older one that can be read, a version
 * that cannot be read is skipped and counted.
 */
export class DeploymentsReader {
  private readonly found: Deployment[] = [];
  private readonly skipped: SkippedVersion[] = [];
  /** Changes back to the release before (or `Revert "…"` commits): rollbacks when what they undo was a deploy. */
  private readonly undos = new Set<Deployment>();
  private readonly read = versionsReader();
  private newer?: { data: VersionsData; version: FileVersion };
  private latest?: VersionsData;
  private count = 0;

  constructor(private readonly file = 'versions.yaml') {}

  add(version: FileVersion): void {
    this.count += 1;
    const data = readVersion(version, this.file, this.read);
    if ('reason' in data) {
      this.skipped.push(data);
      return;
    }
    this.latest ??= data;
    if (this.newer) this.compare(this.newer.data, this.newer.version, data);
    this.newer = { data, version };
  }

  /** What was read; the oldest version's services are its deployments (nothing older was read). */
  finish(): HistoryRead {
    if (this.newer) this.compare(this.newer.data, this.newer.version, undefined);
    this.newer = undefined;
    const deployments = [...this.found].reverse();
    const last = new Map<string, Deployment['kind']>();
    for (const change of deployments) {
      const stream = `${change.environment}\0${change.service}`;
      if (this.undos.has(change) && last.get(stream) === 'deploy') {
        change.kind = 'rollback';
        delete change.leadTimeSeconds;
        delete change.rebuild;
      }
      last.set(stream, change.kind);
    }
    this.undos.clear();
    return {
      deployments,
      skipped: this.skipped,
      read: this.count,
      ...(this.latest ? { latest: this.latest } : {}),
    };
  }

  /** The changes `version` (whose file is `data`) made to `before`, the version before it. */
  private compare(data: VersionsData, version: FileVersion, before: VersionsData | undefined): void {
    const changes: Deployment[] = [];
    const reverted = messagesOf(version).some((message) => message.startsWith('Revert "'));
    for (const [environment, entry] of Object.entries(data.environments ?? {})) {
      const byPromote = isRollbackVersion(version, environment);
      for (const [service, current] of Object.entries(entry?.services ?? {})) {
        const previous: ServiceEntry | undefined = before?.environments?.[environment]?.services?.[service];
        // The versions reader hands back the same object for an entry that did not change.
        if (previous === current || (previous && sameRelease(releaseOf(previous), releaseOf(current)))) continue;
        // Back to the release before the one running (a `git revert` of a bump, a hand edit) is a
        // rollback as much as promote's is, when what it undoes was a deploy (finish() decides:
        // going forward again after a rollback, or reverting one, is a deploy).
        const undo = !byPromote && (reverted || (!!previous?.previous && sameRelease(releaseOf(current), previous.previous)));
        const rollback = byPromote;
        // A deployed_at no later than the one it replaces was brought back with its old entry (a
        // revert): the change happened when it was committed.
        const recorded = current.deployed_at !== previous?.deployed_at ? timeOf(current.deployed_at) : undefined;
        const replaced = timeOf(previous?.deployed_at);
        const deployedAt = recorded !== undefined && replaced !== undefined && recorded <= replaced ? undefined : recorded;
        const at = deployedAt ?? timeOf(version.time) ?? 0;
        const committedAt = timeOf(current.committed_at);
        // The same source commit again (a rebuild, a new digest of the same version): the change
        // reached the environment when it was first deployed, so it gives no second lead time.
        const rebuild = !!current.commit && current.commit === previous?.commit;
        changes.push({
          environment,
          service,
          version: own(current.version),
          ...(current.digest ? { digest: own(current.digest) } : {}),
          kind: rollback ? 'rollback' : 'deploy',
          at: iso(at),
          commit: version.commit,
          ...(current.commit ? { sourceCommit: own(current.commit) } : {}),
          ...(committedAt === undefined ? {} : { committedAt: iso(committedAt) }),
          ...(!rollback && !rebuild && committedAt !== undefined ? { leadTimeSeconds: Math.max(0, (at - committedAt) / 1000) } : {}),
          ...(rebuild ? { rebuild: true as const } : {}),
        });
        if (undo) this.undos.add(changes.at(-1) as Deployment);
      }
    }
    // Newest first overall, the file's order within a version once reversed.
    for (let index = changes.length - 1; index >= 0; index--) this.found.push(changes[index] as Deployment);
  }
}

/** Every change of a service's release in the history (newest first), oldest first. */
export function deploymentsOf(history: Iterable<FileVersion>, file = 'versions.yaml'): HistoryRead {
  const reader = new DeploymentsReader(file);
  for (const version of history) reader.add(version);
  return reader.finish();
}

/**
 * Marks failed deployments and their restoration, per service and environment: a change is
 * failed when the change after it is a rollback, or (a deploy) when the deploy after it is a fix
 * release of it within `fixWindowMs`. A failed deploy is restored by the first change after it
 * that did not fail. `deployments` are oldest first in commit order (as DeploymentsReader gives them).
 */
export function markFailures(deployments: Deployment[], fixWindowMs: number): void {
  const streams = new Map<string, Deployment[]>();
  for (const deployment of deployments) {
    const key = `${deployment.environment}\0${deployment.service}`;
    const stream = streams.get(key);
    if (stream) stream.push(deployment);
    else streams.set(key, [deployment]);
  }
  // Each stream is in commit order (as the history gives it), not sorted by `at`: a change whose
  // time is off (an entry brought back by hand) still comes after the change it follows.
  for (const stream of streams.values()) {
    for (const [index, change] of stream.entries()) {
      const next = stream[index + 1];
      if (!next) continue;
      if (next.kind === 'rollback') change.failure = 'rolled-back';
      else if (
        change.kind === 'deploy' &&
        fixWindowMs > 0 &&
        isFixRelease(change.version, next.version) &&
        Date.parse(next.at) - Date.parse(change.at) <= fixWindowMs
      )
        change.failure = 'fixed';
    }
    for (const [index, change] of stream.entries()) {
      if (!change.failure || change.kind !== 'deploy') continue;
      let later = index + 1;
      while (stream[later]?.failure) later++;
      const restored = stream[later];
      if (restored) {
        change.restoredAt = restored.at;
        change.restoreSeconds = Math.max(0, (Date.parse(restored.at) - Date.parse(change.at)) / 1000);
      }
    }
  }
}

/** The metrics of the changes given (all in the window), over a window of `windowMs` ending at `now`. */
export function metricsOf(changes: readonly Deployment[], now: Date, windowMs: number): Metrics {
  const deploys = changes.filter((change) => change.kind === 'deploy');
  const days = windowMs / DAY_MS;
  const perDay = deploys.length / days;
  const lead = deploys.flatMap((change) => (change.leadTimeSeconds === undefined ? [] : [change.leadTimeSeconds]));
  const rebuilds = deploys.filter((change) => change.rebuild).length;
  const failed = deploys.filter((change) => change.failure);
  const restore = failed.flatMap((change) => (change.restoreSeconds === undefined ? [] : [change.restoreSeconds]));
  const leadTime = distribution(lead);
  const timeToRestore = distribution(restore);
  const rate = deploys.length > 0 ? failed.length / deploys.length : undefined;
  const start = now.getTime() - windowMs;
  const weeks = Array.from({ length: Math.max(1, Math.ceil(windowMs / WEEK_MS)) }, (_, week) => ({
    start: iso(start + week * WEEK_MS).slice(0, 10),
    deployments: 0,
  }));
  for (const change of deploys) {
    const week = Math.min(weeks.length - 1, Math.floor((Date.parse(change.at) - start) / WEEK_MS));
    (weeks[Math.max(0, week)] as { deployments: number }).deployments += 1;
  }
  return {
    deployments: deploys.length,
    rollbacks: changes.length - deploys.length,
    deploymentFrequency: { perDay, perWeek: perDay * 7, level: deploymentFrequencyLevel(perDay) },
    leadTime: {
      ...leadTime,
      withoutCommitTime: deploys.length - lead.length - rebuilds,
      rebuilds,
      ...(leadTime.median === undefined ? {} : { level: leadTimeLevel(leadTime.median) }),
    },
    changeFailureRate: {
      failed: failed.length,
      ...(rate === undefined ? {} : { rate, level: changeFailureLevel(rate) }),
      rolledBack: failed.filter((change) => change.failure === 'rolled-back').length,
      fixed: failed.filter((change) => change.failure === 'fixed').length,
    },
    timeToRestore: {
      ...timeToRestore,
      open: failed.length - restore.length,
      ...(timeToRestore.median === undefined ? {} : { level: timeToRestoreLevel(timeToRestore.median) }),
    },
    weeks,
  };
}

/** The report: the history (newest first, or as a DeploymentsReader read it) into deployments, failures marked, metrics per environment and service. */
export function buildReport(history: Iterable<FileVersion> | HistoryRead, options: ReportOptions): Report {
  const { now, windowMs, fixWindowMs } = options;
  if (!(windowMs > 0)) throw new UserError('INVALID_INPUT', 'The window (since) must be longer than 0.');
  const file = options.file ?? 'versions.yaml';
  const { deployments, skipped, read, latest } = 'deployments' in history ? history : deploymentsOf(history, file);
  markFailures(deployments, fixWindowMs);
  const start = now.getTime() - windowMs;
  const wanted = (list: readonly string[] | undefined, name: string) => !list?.length || list.includes(name);
  const inWindow = deployments.filter((change) => {
    const at = Date.parse(change.at);
    return (
      at >= start && at <= now.getTime() && wanted(options.environments, change.environment) && wanted(options.services, change.service)
    );
  });
  const environmentNames = [...new Set(inWindow.map((change) => change.environment))];
  // Environments with no deployment in the window are reported too (as zero), when the file has them.
  for (const name of [...(latest?.promotion ?? []), ...Object.keys(latest?.environments ?? {})])
    if (!environmentNames.includes(name) && wanted(options.environments, name)) environmentNames.push(name);
  const order = latest?.promotion ?? ['dev', 'uat', 'prod'];
  environmentNames.sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b));
  const environments = environmentNames.map((name) => {
    const changes = inWindow.filter((change) => change.environment === name);
    const serviceNames = [...new Set(changes.map((change) => change.service))].sort();
    return {
      name,
      metrics: metricsOf(changes, now, windowMs),
      services: serviceNames.map((service) => ({
        name: service,
        metrics: metricsOf(
          changes.filter((change) => change.service === service),
          now,
          windowMs,
        ),
      })),
    };
  });
  return {
    schema: 1,
    generatedAt: iso(now.getTime()),
    window: { since: iso(start), until: iso(now.getTime()), days: windowMs / DAY_MS },
    fixWindowHours: fixWindowMs / HOUR_MS,
    versionsRead: read,
    skipped,
    thresholds: THRESHOLDS_SOURCE,
    promotion: order.map(own),
    environments,
    deployments: inWindow,
  };
}

function rank(order: readonly string[], name: string): number {
  const index = order.indexOf(name);
  return index < 0 ? order.length : index;
}
