/**
 * Where `operation: rollback` goes, read from the environment repository's git history of
 * versions.yaml (the file itself keeps one level, `previous`, and does not grow).
 *
 * The releases of a service are the values its entry took in the file's history, each introduced
 * by one commit: a rollback when the commit is one promote's rollback made (its subject is
 * `rollback(<environment>): …`), else a deploy (a bump, a promotion, a hand edit). As in
 * deploy-compose's release history:
 *
 * - without a version, the target is the newest release before the current one that was not rolled
 *   back from: a release is rolled back from when the change that replaced it was a rollback. So a
 *   second rollback goes one further back, and after a bump that followed a rollback, a rollback
 *   goes back past the release rolled back from as well.
 * - a release deployed again later (a bump naming it) counts where it was deployed last.
 * - `version` (and `digest`) name the target: the newest release in the history with them, rolled
 *   back from or not.
 *
 * The history is read newest first and only as far as needed, at most ROLLBACK_HISTORY versions.
 * Beyond them, or with no history (the edit given none), the release where the history read ends
 * counts its `previous` as the release before it.
 */
import {
  type FileHistory,
  type Release,
  type ServiceEntry,
  UserError,
  type VersionsData,
  isRollbackCommit,
  messagesOf,
  readVersionsData,
  releaseOf,
  sameRelease,
} from '@toolkit/shared';

/** How many versions of versions.yaml a rollback reads at most (newest first). */
export const ROLLBACK_HISTORY = 1000;

/** What a rollback of one service asks for: a version (and digest) to go back to, or none. */
export interface RollbackWanted {
  name: string;
  version?: string;
  digest?: string;
}

/** Where a service's rollback goes, and what it passed over. */
export interface RollbackTarget {
  release?: Release;
  /** The releases before the current one passed over because they were rolled back from, newest first. */
  rolledBack: Release[];
  /** Whether ROLLBACK_HISTORY versions were read without finding the target. */
  capped: boolean;
}

/** Whether a commit message lists the service's change (commitMessage's `- <environment>/<service>: …` lines). */
function namesService(message: string, environment: string, service: string): boolean {
  return message.split('\n').some((line) => line.startsWith(`- ${environment}/${service}: `));
}

/** A leading `v` is not part of the version (as promote's inputs take it). */
const bare = (version: string) => version.replace(/^v(?=\d)/, '');

function matches(release: Release, wanted: RollbackWanted): boolean {
  return bare(release.version) === bare(wanted.version ?? '') && (!wanted.digest || release.digest === wanted.digest);
}

/**
 * One service's walk back through the versions of the file, fed one at a time, newest first (the
 * file as it is now first). `done` once the target is known or the history of the service ends.
 */
class ServiceWalk {
  done = false;
  readonly result: RollbackTarget = { rolledBack: [], capped: false };
  /** The newest run of versions with the same release: its entry and the commit that introduced it (so far). */
  private run?: { entry: ServiceEntry; messages: readonly string[] };
  private readonly seen: Release[] = [];

  constructor(
    private readonly environment: string,
    private readonly wanted: RollbackWanted,
  ) {}

  /** `messages`: how this version came to be (its commit's message; a merge's, and those it brought in). */
  feed(entry: ServiceEntry | undefined, messages: readonly string[]): void {
    if (this.done) return;
    const run = this.run;
    if (!run) {
      // The file as it is now: the current release (planChanges refuses a service that is not there).
      if (!entry) return this.finish();
      this.run = { entry, messages };
      this.seen.push(releaseOf(entry));
      if (this.wanted.version && matches(releaseOf(entry), this.wanted)) this.found(releaseOf(entry));
      return;
    }
    if (entry && sameRelease(releaseOf(entry), releaseOf(run.entry))) {
      this.run = { entry, messages };
      return;
    }
    // The run's release was introduced by the commit after this version: a rollback, or a deploy.
    const replacedByRollback = run.messages.some((message) => isRollbackCommit(message, this.environment));
    if (!entry) {
      // The service was added there: what it was added with as previous is the release before.
      this.consider(run.entry.previous, replacedByRollback);
      return this.finish();
    }
    this.consider(releaseOf(entry), replacedByRollback);
    this.run = { entry, messages };
  }

  /** The history read ends (its beginning, or ROLLBACK_HISTORY versions): the oldest entry's previous is the release before it. */
  end(capped: boolean): void {
    if (this.done || !this.run) return this.finish();
    const { entry, messages } = this.run;
    // Whether this entry came from a rollback is known only if the oldest commit read changed it.
    const byRollback = messages.some(
      (message) => isRollbackCommit(message, this.environment) && namesService(message, this.environment, this.wanted.name),
    );
    this.consider(entry.previous, byRollback);
    if (!this.done) this.result.capped = capped;
    this.finish();
  }

  /** A release before the current one; `replacedByRollback` says whether the change that replaced it was a rollback. */
  private consider(release: Release | undefined, replacedByRollback: boolean): void {
    if (!release || this.done) return;
    if (this.wanted.version) {
      if (matches(release, this.wanted)) this.found(release);
      return;
    }
    if (this.seen.some((other) => sameRelease(other, release))) return; // counted where it was deployed last
    this.seen.push(release);
    if (replacedByRollback) this.result.rolledBack.push(release);
    else this.found(release);
  }

  private found(release: Release): void {
    this.result.release = release;
    this.finish();
  }

  private finish(): void {
    this.done = true;
  }
}

function entryIn(data: VersionsData | undefined, environment: string, service: string): ServiceEntry | undefined {
  return data?.environments?.[environment]?.services?.[service];
}

/** The rollback targets from the file as it is now alone (no history): each service's previous, or the release named if it is that. */
export function rollbackTargetsOfFile(
  data: VersionsData,
  environment: string,
  services: readonly RollbackWanted[],
): Map<string, RollbackTarget> {
  const walks = services.map((spec) => [spec.name, new ServiceWalk(environment, spec)] as const);
  for (const [name, walk] of walks) {
    walk.feed(entryIn(data, environment, name), []);
    walk.end(false);
  }
  return new Map(walks.map(([name, walk]) => [name, walk.result]));
}

/**
 * The rollback targets of `services` in `environment`, from the file as it is now (`data`) and its
 * history, read newest first once for all of them, and only as far as the last one needs.
 */
export async function rollbackTargets(
  data: VersionsData,
  environment: string,
  services: readonly RollbackWanted[],
  file: string,
  history: FileHistory,
): Promise<Map<string, RollbackTarget>> {
  const walks = services.map((spec) => [spec.name, new ServiceWalk(environment, spec)] as const);
  for (const [name, walk] of walks) walk.feed(entryIn(data, environment, name), []);
  let read = 0;
  const done = () => walks.every(([, walk]) => walk.done);
  if (!done()) {
    for await (const version of history(file, ROLLBACK_HISTORY)) {
      read += 1;
      const parsed = parseVersion(version.text, file);
      // A version that is not a versions.yaml (broken by hand, later fixed) says nothing: skipped.
      if (parsed !== null) for (const [name, walk] of walks) walk.feed(entryIn(parsed, environment, name), messagesOf(version));
      if (done()) break;
    }
  }
  for (const [, walk] of walks) walk.end(read >= ROLLBACK_HISTORY);
  return new Map(walks.map(([name, walk]) => [name, walk.result]));
}

/** A version of the file read back: its data; undefined when the commit deleted it; null when it is not a valid versions.yaml. */
function parseVersion(text: string | undefined, file: string): VersionsData | undefined | null {
  if (text === undefined) return undefined;
  try {
    return readVersionsData(text, file);
  } catch (error) {
    if (error instanceof UserError) return null;
    throw error;
  }
}

function listVersions(releases: readonly Release[]): string {
  const versions = [...new Set(releases.map((release) => release.version))];
  return versions.length > 1 ? `${versions.slice(0, -1).join(', ')} and ${versions.at(-1)}` : (versions[0] ?? '');
}

/** The refusal of a rollback with no target, saying why and what to do. */
export function noRollbackTarget(spec: RollbackWanted, environment: string, file: string, target: RollbackTarget | undefined): UserError {
  const capped = target?.capped ? ` (the last ${ROLLBACK_HISTORY} versions of it were read)` : '';
  if (spec.version) {
    const named = `${spec.version}${spec.digest ? ` (${spec.digest})` : ''}`;
    return new UserError(
      'REFUSED',
      `service "${spec.name}" in "${environment}" has no release ${named} in the history of ${file} to roll back to${capped}; ` +
        'to release a version it never ran, use operation: bump.',
    );
  }
  const rolledBack = target?.rolledBack ?? [];
  const passed = rolledBack.length
    ? ` ${listVersions(rolledBack)} ${rolledBack.length > 1 ? 'were' : 'was'} rolled back from${capped}; name one with version to go back to it.`
    : '';
  return new UserError('REFUSED', `service "${spec.name}" in "${environment}" has no previous release to roll back to.${passed}`);
}
