/**
 * The release history kept on the server in `remote-dir/releases.json`: which releases were
 * deployed (their gate passed), in what order, with which images, by which run; which attempt is
 * under way; which failed. Rollback targets, what keep-releases removes and what a killed run left
 * unfinished are all read from it, never from a folder listing's mtimes.
 *
 * Everything here is pure: the deploy reads the file, changes it with these functions and writes it
 * back whole (an atomic rename), under the deploy lock.
 */

export const HISTORY_FILE = 'releases.json';

/** Where an attempt had got to: what a later deploy must undo if its run was killed. */
export type AttemptPhase = 'upload' | 'pull' | 'up' | 'health' | 'rollback' | 'switch';

export type ReleaseState =
  /** An attempt under way (or one whose run was killed: `phase` says where). */
  | 'deploying'
  /** Its gate passed and it became current; a rollback target while it is not current. */
  | 'deployed'
  /** Deployed once, then rolled back from: not gone back to without naming it. */
  | 'rolled-back'
  /** Failed its gate, or its run was killed before it passed: its folder is removed. */
  | 'failed';

export interface ReleaseImage {
  image: string;
  digest: string;
}

export interface ReleaseEntry {
  /** The release's name, as the `release` input gave it. */
  release: string;
  /** Its folder under releases/: the name, or `<name>+<n>` when that name was deployed before. */
  dir: string;
  state: ReleaseState;
  /** For `deploying`. */
  phase?: AttemptPhase;
  /** For `deploying`: the release that served when it started, to restore if it never finishes. */
  restore?: string;
  /** service → image and registry digest, as they ran once the gate passed. */
  images: Record<string, ReleaseImage>;
  startedAt: string;
  deployedAt?: string;
  failedAt?: string;
  /** Why it failed, in one line. */
  reason?: string;
  /** The workflow run (or local run) that made the attempt. */
  run: string;
}

export interface ReleaseHistory {
  version: 1;
  /** The folder `current` points at; '' before the first deploy. */
  current: string;
  /** Oldest first; a release deployed (or gone back to) again moves to the end. */
  releases: ReleaseEntry[];
  /** A rollback under way: the folder being started, and the one that served before it. */
  rollingBack?: { target: string; from: string; run: string };
}

/** How many failed attempts are remembered (their folders are gone; the record stays for the summary). */
const FAILED_RECORDS = 10;

export function emptyHistory(): ReleaseHistory {
  return { version: 1, current: '', releases: [] };
}

/** Reads `releases.json`; a file that is not one is an error naming it, never silently replaced. */
export function parseHistory(text: string, file: string): ReleaseHistory {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON (${(error as Error).message}); it is deploy-compose's release history, so it is left alone.`, {
      cause: error,
    });
  }
  const history = value as Partial<ReleaseHistory> | null;
  if (!history || history.version !== 1 || !Array.isArray(history.releases) || typeof history.current !== 'string') {
    throw new Error(`${file} is not a release history of version 1 that this deploy-compose can read; it is left alone.`);
  }
  return history as ReleaseHistory;
}

export function serializeHistory(history: ReleaseHistory): string {
  return `${JSON.stringify(history, null, 2)}\n`;
}

export function entryByDir(history: ReleaseHistory, dir: string): ReleaseEntry | undefined {
  return history.releases.find((entry) => entry.dir === dir);
}

export function currentEntry(history: ReleaseHistory): ReleaseEntry | undefined {
  return history.current ? entryByDir(history, history.current) : undefined;
}

/** The attempt a killed run left behind, if any. */
export function unfinishedAttempt(history: ReleaseHistory): ReleaseEntry | undefined {
  return history.releases.find((entry) => entry.state === 'deploying');
}

/** A folder name for a new attempt at `release`: never one that exists, so a deployed folder is never rewritten. */
export function attemptDir(release: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(release)) return release;
  for (let n = 2; ; n += 1) if (!used.has(`${release}+${n}`)) return `${release}+${n}`;
}

function moveToEnd(history: ReleaseHistory, entry: ReleaseEntry): ReleaseHistory {
  return { ...history, releases: [...history.releases.filter((other) => other !== entry), entry] };
}

function replace(history: ReleaseHistory, dir: string, change: (entry: ReleaseEntry) => ReleaseEntry): ReleaseHistory {
  return { ...history, releases: history.releases.map((entry) => (entry.dir === dir ? change(entry) : entry)) };
}

export function startAttempt(
  history: ReleaseHistory,
  attempt: { release: string; dir: string; restore: string; run: string; at: string },
): ReleaseHistory {
  const entry: ReleaseEntry = {
    release: attempt.release,
    dir: attempt.dir,
    state: 'deploying',
    phase: 'upload',
    restore: attempt.restore,
    images: {},
    startedAt: attempt.at,
    run: attempt.run,
  };
  return { ...history, releases: [...history.releases.filter((other) => other.dir !== attempt.dir), entry] };
}

export function setPhase(history: ReleaseHistory, dir: string, phase: AttemptPhase): ReleaseHistory {
  return replace(history, dir, (entry) => ({ ...entry, phase }));
}

/** The gate passed: `dir` is current, deployed, and the newest in the history. */
export function markDeployed(history: ReleaseHistory, dir: string, images: Record<string, ReleaseImage>, at: string): ReleaseHistory {
  const updated = replace(history, dir, ({ phase: _phase, restore: _restore, reason: _reason, failedAt: _failedAt, ...entry }) => ({
    ...entry,
    state: 'deployed',
    images: Object.keys(images).length > 0 ? images : entry.images,
    deployedAt: at,
  }));
  const entry = entryByDir(updated, dir);
  return entry ? { ...moveToEnd(updated, entry), current: dir } : updated;
}

/** An attempt that failed (or was found unfinished): a record only, its folder is removed. */
export function markFailed(history: ReleaseHistory, dir: string, reason: string, at: string): ReleaseHistory {
  const updated = replace(history, dir, ({ phase: _phase, restore: _restore, ...entry }) => ({
    ...entry,
    state: 'failed',
    failedAt: at,
    reason: reason.split('\n')[0]?.slice(0, 300) ?? '',
  }));
  const failed = updated.releases.filter((entry) => entry.state === 'failed');
  const forgotten = new Set(failed.slice(0, Math.max(0, failed.length - FAILED_RECORDS)));
  return { ...updated, releases: updated.releases.filter((entry) => !forgotten.has(entry)) };
}

/** `current` moved back to `target` by a rollback: the release left is not gone back to again unasked. */
export function markRolledBack(history: ReleaseHistory, from: string, target: string, at: string): ReleaseHistory {
  const { rollingBack: _done, ...settled } = history;
  const left = from && from !== target ? replace(settled, from, (entry) => ({ ...entry, state: 'rolled-back' })) : settled;
  return markDeployed(left, target, {}, at);
}

export function startRollback(history: ReleaseHistory, rollingBack: NonNullable<ReleaseHistory['rollingBack']>): ReleaseHistory {
  return { ...history, rollingBack };
}

/** A rollback that failed and put `from` back: nothing changed. */
export function endRollback(history: ReleaseHistory): ReleaseHistory {
  const { rollingBack: _done, ...settled } = history;
  return settled;
}

/** Releases whose folders are on the server and can be started again (newest first). */
export function startableReleases(history: ReleaseHistory): ReleaseEntry[] {
  return history.releases.filter((entry) => entry.state === 'deployed' || entry.state === 'rolled-back').reverse();
}

/**
 * Where a rollback without a name goes: the newest deployed release before the current one. Each
 * rollback marks the release it leaves, so run again it goes one further back.
 */
export function rollbackTarget(history: ReleaseHistory): ReleaseEntry | undefined {
  return history.releases.filter((entry) => entry.state === 'deployed' && entry.dir !== history.current).at(-1);
}

/** A release named for `operation: rollback`: its newest startable folder. */
export function namedRelease(history: ReleaseHistory, release: string): ReleaseEntry | undefined {
  return startableReleases(history).find((entry) => entry.release === release || entry.dir === release);
}

/**
 * The folders keep-releases lets go: of the startable releases, the newest `keep` are kept, and the
 * current one and the rollback target always (counted among them). Failed attempts' folders are
 * removed when they fail, so they never count. Plan and cleanup both ask this.
 */
export function releasesBeyondKeep(history: ReleaseHistory, keep: number): ReleaseEntry[] {
  const always = new Set([history.current, rollbackTarget(history)?.dir].filter((dir): dir is string => !!dir));
  const others = startableReleases(history).filter((entry) => !always.has(entry.dir));
  return others.slice(Math.max(0, keep - always.size));
}

export function forget(history: ReleaseHistory, dirs: readonly string[]): ReleaseHistory {
  return { ...history, releases: history.releases.filter((entry) => !dirs.includes(entry.dir)) };
}

/**
 * A history for a remote-dir deployed by an earlier deploy-compose, which kept none: its releases
 * with a `.toolkit-deployed` marker, oldest first, and `current` as the link says.
 */
export function historyFromMarkers(markers: { dir: string; at: number }[], current: string, run: string): ReleaseHistory {
  const releases = [...markers]
    .sort((a, b) => a.at - b.at || a.dir.localeCompare(b.dir))
    .map((marker): ReleaseEntry => ({
      release: marker.dir,
      dir: marker.dir,
      state: 'deployed',
      images: {},
      startedAt: new Date(marker.at * 1000).toISOString(),
      deployedAt: new Date(marker.at * 1000).toISOString(),
      run,
    }));
  const history: ReleaseHistory = { version: 1, current: '', releases };
  const entry = entryByDir(history, current);
  return entry ? { ...moveToEnd(history, entry), current } : history;
}
