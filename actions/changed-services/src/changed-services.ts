/**
 * changed-services: which services of a repository changed since their own last release, from local
 * git alone, and each changed service's next version by semantic-tag's rules over its own paths.
 *
 * One `git log` reads every commit that is in at least one service's range: HEAD, minus what every
 * service's last release already has (their octopus merge base). Each commit carries a bit per
 * service, set when that service's release tag reaches it; the bits flow from child to parent in
 * topological order, so a commit is in a service's range exactly when its bit is clear. The files of
 * each commit are matched against every service's folder and extra paths in the same pass.
 */
import { StringDecoder } from 'node:string_decoder';
import {
  type Bump,
  type ClassifiedCommit,
  type DefaultBump,
  type ParsedCommit,
  type ReleaseRule,
  type ReleaseTag,
  type SemanticTagConfig,
  cancelReverts,
  changelogSections,
  classifyCommit,
  findLastRelease,
  highestBump,
  nextVersion,
  parseCommit,
  readCommits,
  readVersion,
  highestRelease,
  isAncestor,
  renderChangelog,
} from '@toolkit/semantic-tag/core';
import { type Git, type ServiceDefinition, UserError } from '@toolkit/shared';
import picomatch from 'picomatch';

export interface VersioningConfig {
  initialVersion: string;
  releaseRules: ReleaseRule[];
  defaultBump: DefaultBump;
  majorZero: SemanticTagConfig['majorZero'];
  /** A pre-release appended to each next version as it is (dev.42.g1a2b3c): a build that is not a release. */
  prerelease: string;
}

export interface DetectionOptions extends VersioningConfig {
  /** A pull request's base: a service changed when the commits since the merge base touch it. */
  base?: string;
}

export interface ServiceChangeReport {
  service: ServiceDefinition;
  /** Whether it is in the matrix: it has a release to make (or was never released; or, for a pre-release build, was touched). */
  changed: boolean;
  /** Whether any commit of its range touches it (a revert and what it reverts aside), whether or not it calls for a release. */
  touched: boolean;
  /** Its last release, reachable from HEAD. */
  last?: ReleaseTag;
  /** Commits that touch it since its last release (on a pull request, since the merge base), newest first. */
  commits: ClassifiedCommit[];
  /** Some of the files that changed it (at most FILES_KEPT). */
  files: string[];
  /** Whether files were read: false where the service's range was read by a second, path-limited log. */
  filesKnown: boolean;
  bump: Bump;
  version: string;
  tag: string;
  /** Why it is or is not in the matrix, in a few words. */
  reason: string;
}

const FILES_KEPT = 5;

// ─── Tags ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Every release tag of every service from one `show-ref` (peeled commits from packed-refs), grouped
 * by service: a tag belongs to the service whose prefix it starts with and whose rest is a version.
 */
export function serviceTags(showRef: string, services: readonly ServiceDefinition[]): Map<string, ReleaseTag[]> {
  const byService = new Map<string, ReleaseTag[]>(services.map((service) => [service.name, []]));
  const byPrefix = new Map(services.map((service) => [service.tagPrefix, service.name]));
  const commits = new Map<string, string>();
  for (const line of showRef.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0 || !line.startsWith('refs/tags/', space + 1)) continue;
    const peeled = line.endsWith('^{}');
    const tag = line.slice(space + 1 + 'refs/tags/'.length, peeled ? -3 : undefined);
    if (peeled || !commits.has(tag)) commits.set(tag, line.slice(0, space));
  }
  for (const [tag, commit] of commits) {
    // A version starts with a digit, so a prefix ends just before one: a few lookups a tag, the
    // longest prefix first (service a-b's tags are not a's, with prefix {service}-v).
    for (let at = tag.length - 1; at > 0; at -= 1) {
      const code = tag.charCodeAt(at);
      if (code < 48 || code > 57) continue;
      const service = byPrefix.get(tag.slice(0, at));
      if (service === undefined) continue;
      const read = readVersion(tag.slice(at));
      if (read) byService.get(service)?.push({ tag, commit, ...read });
      break;
    }
  }
  return byService;
}

// ─── Paths ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Which services a changed file belongs to. A folder (a service's path, or a folder it was renamed
 * from) is found by the file's leading directories; the extra paths are globs as git's
 * `:(glob)` pathspecs read them, where a pattern that matches a leading directory matches
 * everything below it.
 */
class PathIndex {
  private readonly folders = new Map<string, Set<number>>();
  private readonly globs: { match: (path: string) => boolean; services: number[] }[] = [];

  constructor(services: readonly ServiceDefinition[]) {
    services.forEach((service, index) => this.addFolder(service.path, index));
    const byPattern = new Map<string, number[]>();
    services.forEach((service, index) => {
      for (const pattern of service.alsoChangedBy) byPattern.set(pattern, [...(byPattern.get(pattern) ?? []), index]);
    });
    for (const [pattern, owners] of byPattern) this.globs.push({ match: picomatch(pattern, { dot: true }), services: owners });
  }

  addFolder(folder: string, service: number): void {
    const key = folder === '.' ? '' : folder;
    const owners = this.folders.get(key) ?? new Set<number>();
    owners.add(service);
    this.folders.set(key, owners);
  }

  /** Calls `found` for each service the file belongs to (a service may be called more than once). */
  servicesOf(file: string, found: (service: number) => void): void {
    const root = this.folders.get('');
    if (root) for (const service of root) found(service);
    for (let slash = file.indexOf('/'); ; slash = file.indexOf('/', slash + 1)) {
      const prefix = slash < 0 ? file : file.slice(0, slash);
      const owners = this.folders.get(prefix);
      if (owners) for (const service of owners) found(service);
      for (const glob of this.globs) if (glob.match(prefix)) for (const service of glob.services) found(service);
      if (slash < 0) break;
    }
  }

  /** The folders a service has, for renames. */
  folderOf(file: string, service: number): string | undefined {
    for (let slash = file.indexOf('/'); slash >= 0; slash = file.indexOf('/', slash + 1)) {
      const prefix = file.slice(0, slash);
      if (this.folders.get(prefix)?.has(service)) return prefix;
    }
    return undefined;
  }
}

// ─── The walk ────────────────────────────────────────────────────────────────────────────────────

interface WalkedCommit {
  sha: string;
  parents: string[];
  message: string;
  /** Paths, and for a rename its old and new path. */
  changes: { status: string; paths: string[] }[];
  boundary: boolean;
}

/**
 * Streams `git log -z --topo-order --name-status` records to `take`, children before parents. A
 * record is `\x1e<mark><sha>\x1f<parents>\x1f<message>` then, NUL-separated, status and path(s).
 */
async function walk(git: Git, args: readonly string[], take: (commit: WalkedCommit) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let current: WalkedCommit | undefined;
  let status: string | undefined;
  let paths: string[] = [];
  const pathsFor = (code: string) => (code.startsWith('R') || code.startsWith('C') ? 2 : 1);
  const token = (text: string) => {
    if (text.startsWith('\x1e')) {
      if (current) take(current);
      const first = text.indexOf('\x1f');
      const second = text.indexOf('\x1f', first + 1);
      const parents = text.slice(first + 1, second);
      current = {
        sha: text.slice(2, first),
        parents: parents ? parents.split(' ') : [],
        message: text.slice(second + 1),
        changes: [],
        boundary: text[1] === '-',
      };
      status = undefined;
      return;
    }
    const value = text.startsWith('\n') ? text.slice(1) : text;
    if (!current || value === '') return;
    if (status === undefined) {
      status = value;
      paths = [];
      return;
    }
    paths.push(value);
    if (paths.length === pathsFor(status)) {
      current.changes.push({ status, paths });
      status = undefined;
    }
  };
  // Renames found whatever diff.renames says; a merge's own changes (a conflict resolved, a file
  // edited in the merge) shown where they differ from every parent.
  await git.run(
    [
      'log',
      '-z',
      '--topo-order',
      '--name-status',
      '--find-renames',
      '--diff-merges=dense-combined',
      '--format=%x1e%m%H%x1f%P%x1f%B',
      ...args,
    ],
    {
      onStdout: (chunk) => {
        const tokens = (pending + decoder.write(chunk)).split('\0');
        pending = tokens.pop() ?? '';
        for (const text of tokens) token(text);
      },
    },
  );
  const rest = pending + decoder.end();
  if (rest) token(rest);
  if (current) take(current);
}

/** A bit set per commit, one bit a service (and one for the pull request's base). */
class Reach {
  private readonly words: number;
  private readonly pending = new Map<string, Uint32Array>();

  constructor(bits: number) {
    this.words = Math.ceil(bits / 32) || 1;
  }

  /** The commit's bits (what reaches it), with `seeds` added; passed on to its parents. */
  visit(sha: string, parents: readonly string[], seeds: readonly number[] | undefined): Uint32Array {
    const bits = this.pending.get(sha) ?? new Uint32Array(this.words);
    this.pending.delete(sha);
    for (const seed of seeds ?? []) bits[seed >>> 5] = (bits[seed >>> 5] as number) | (1 << (seed & 31));
    const empty = bits.every((word) => word === 0);
    if (!empty) {
      for (const parent of parents) {
        const existing = this.pending.get(parent);
        if (existing) for (let word = 0; word < this.words; word += 1) existing[word] = (existing[word] as number) | (bits[word] as number);
        else this.pending.set(parent, bits.slice());
      }
    }
    return bits;
  }
}

const has = (bits: Uint32Array, bit: number) => ((bits[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;

/**
 * What changed for every service, in one log over the union of their ranges. Read apart, with git's
 * own path filter: a service whose highest release tag is not reachable from HEAD (a release made on
 * another branch), from its last reachable release; and, beside released ones, a service never
 * released, over the whole history (one path-limited log, not a whole-history walk for everyone).
 */
export async function detectChanges(
  git: Git,
  services: readonly ServiceDefinition[],
  tags: ReadonlyMap<string, ReleaseTag[]>,
  head: string,
  options: DetectionOptions,
  log: (message: string) => void = () => undefined,
): Promise<ServiceChangeReport[]> {
  const candidates = services.map((service) => highestRelease(tags.get(service.name) ?? []));
  const baseBit = services.length;
  const prBase = options.base ? await mergeBase(git, head, options.base) : undefined;

  // The walk excludes what every released service's candidate has.
  const released = candidates.filter((tag): tag is ReleaseTag => tag !== undefined);
  const exclude =
    released.length > 0
      ? (await git.run(['merge-base', '--octopus', ...new Set(released.map((tag) => tag.commit))], { allowFailure: true })).stdout.trim()
      : '';
  const seeds = new Map<string, number[]>();
  candidates.forEach((tag, index) => tag && seeds.set(tag.commit, [...(seeds.get(tag.commit) ?? []), index]));
  if (prBase) seeds.set(prBase, [...(seeds.get(prBase) ?? []), baseBit]);

  // The walk, kept whole: renames are confirmed with git before the files are matched.
  const reach = new Reach(services.length + 1);
  const seen = new Set<string>();
  const walked: { commit: WalkedCommit; bits: Uint32Array }[] = [];
  await walk(git, ['--boundary', head, ...(exclude ? ['--not', exclude] : [])], (commit) => {
    const bits = reach.visit(commit.sha, commit.parents, seeds.get(commit.sha));
    seen.add(commit.sha);
    if (!commit.boundary && commit.changes.length > 0) walked.push({ commit, bits });
  });

  const index = new PathIndex(services);
  const renames = await folderRenames(git, services, index, walked);
  const commits: ParsedCommit[][] = services.map(() => []);
  const inBase: boolean[][] = services.map(() => []);
  const files: Set<string>[] = services.map(() => new Set());
  for (const { commit, bits } of walked) {
    const touched = new Set<number>();
    for (const change of commit.changes) {
      for (const file of change.paths) {
        index.servicesOf(file, (service) => {
          if (has(bits, service)) return;
          touched.add(service);
          if (files[service]!.size < FILES_KEPT) files[service]!.add(file);
        });
      }
    }
    // After a folder was renamed into a service's, older commits under the old name are the service's too.
    for (const { folder, service } of renames.get(commit.sha) ?? []) index.addFolder(folder, service);
    if (touched.size === 0) continue;
    const parsed = parseCommit(commit.sha, commit.message, commit.parents.length);
    for (const service of touched) {
      // Each service classifies its own copy: a revert cancels out within one service's range only.
      commits[service]!.push({ ...parsed });
      inBase[service]!.push(prBase !== undefined && has(bits, baseBit));
    }
  }

  const reports: ServiceChangeReport[] = [];
  for (const [position, service] of services.entries()) {
    const candidate = candidates[position];
    // A reachable candidate is walked, or is the walk's boundary (the excluded merge base), or HEAD.
    const reachable = candidate !== undefined && (seen.has(candidate.commit) || candidate.commit === head);
    let last = candidate;
    let own = commits[position]!;
    let ownInBase = inBase[position]!;
    let filesKnown = true;
    if (!reachable && (candidate !== undefined || exclude !== '')) {
      last = candidate ? await findLastRelease(git, tags.get(service.name) ?? [], head) : undefined;
      if (candidate) log(`${service.name}: ${candidate.tag} is not reachable from HEAD; its last release here is ${last?.tag ?? 'none'}.`);
      own = await readCommits(git, last ? `${last.commit}..${head}` : head, [service.path, ...service.alsoChangedBy]);
      ownInBase = prBase ? await Promise.all(own.map((commit) => isAncestor(git, commit.sha, prBase))) : own.map(() => false);
      filesKnown = false;
    }
    reports.push(
      await versionService(git, service, last, own as ClassifiedCommit[], ownInBase, [...files[position]!], filesKnown, options, log),
    );
  }
  return reports;
}

/**
 * The commits that rename a folder into a service's: files moved from folder G to the service's
 * folder, where G is no service's folder and is gone after the commit (one `cat-file --batch-check`
 * for them all). A file moved in from a folder that stays (shared/, another service) is a change,
 * not a rename of the service.
 */
async function folderRenames(
  git: Git,
  services: readonly ServiceDefinition[],
  index: PathIndex,
  walked: readonly { commit: WalkedCommit }[],
): Promise<Map<string, { folder: string; service: number }[]>> {
  const candidates: { sha: string; folder: string; service: number }[] = [];
  const servicePaths = new Set(services.map((service) => service.path));
  for (const { commit } of walked) {
    for (const change of commit.changes) {
      if (!change.status.startsWith('R') || change.paths.length !== 2) continue;
      const [from, to] = change.paths as [string, string];
      services.forEach((_, service) => {
        const folder = index.folderOf(to, service);
        if (!folder) return;
        const rest = to.slice(folder.length);
        const old = from.endsWith(rest) && from.length > rest.length ? from.slice(0, from.length - rest.length) : '';
        if (old && !servicePaths.has(old) && !candidates.some((c) => c.sha === commit.sha && c.folder === old && c.service === service))
          candidates.push({ sha: commit.sha, folder: old, service });
      });
    }
  }
  const renames = new Map<string, { folder: string; service: number }[]>();
  if (candidates.length === 0) return renames;
  const { stdout } = await git.run(['cat-file', '--batch-check=%(objecttype)'], {
    input: candidates.map((candidate) => `${candidate.sha}:${candidate.folder}\n`).join(''),
  });
  const answers = stdout.split('\n');
  candidates.forEach((candidate, position) => {
    if (!(answers[position] ?? '').endsWith('missing')) return;
    renames.set(candidate.sha, [...(renames.get(candidate.sha) ?? []), { folder: candidate.folder, service: candidate.service }]);
  });
  return renames;
}

async function mergeBase(git: Git, head: string, base: string): Promise<string> {
  const result = await git.run(['merge-base', head, base], { allowFailure: true });
  const sha = result.stdout.trim();
  if (result.exitCode !== 0 || !sha) {
    throw new UserError(
      'NOT_FOUND',
      `The pull request's base ${JSON.stringify(base)} has no merge base with HEAD here. Check out the whole history (fetch-depth: 0), so that the base branch is there.`,
    );
  }
  return sha;
}

/** The service's bump and next version from its own commits, as semantic-tag computes them. */
async function versionService(
  git: Git,
  service: ServiceDefinition,
  last: ReleaseTag | undefined,
  commits: ClassifiedCommit[],
  inBase: readonly boolean[],
  files: string[],
  filesKnown: boolean,
  options: DetectionOptions,
  log: (message: string) => void,
): Promise<ServiceChangeReport> {
  for (const commit of commits) commit.bump = classifyCommit(commit, options.releaseRules, options.defaultBump);
  await cancelReverts(git, commits, (message) => log(`${service.name}: ${message}`));
  const prCommits = options.base ? commits.filter((_, position) => !inBase[position]) : commits;
  const touched = prCommits.some((commit) => !commit.cancelledBy);
  const releaseBump = highestBump(commits.map((commit) => commit.bump));
  // A build that is not a release (a dev build) is of every touched service: a lock file bumped by a
  // chore is built and deployed to dev, as what its next release would be, at least a patch.
  const bump = options.prerelease && touched && releaseBump === 'none' ? 'patch' : releaseBump;
  const base = last?.version ?? options.initialVersion;
  // A service never released is released once whatever its commits say: from initial-version, bumped by them.
  const release =
    bump === 'none' ? (last ? base : options.initialVersion) : nextVersion(base, bump, { ...options, prerelease: '', existing: [] });
  const version = options.prerelease ? `${release}-${options.prerelease}` : release;
  let changed: boolean;
  let reason: string;
  if (options.base) {
    changed = prCommits.length > 0;
    reason = changed ? `${prCommits.length} commit(s) of the pull request touch it` : 'the pull request does not touch it';
  } else if (!last) {
    changed = true;
    reason = 'first release';
  } else if (options.prerelease) {
    changed = touched;
    reason = touched
      ? `${commits.length} commit(s) since ${last.tag}${releaseBump === 'none' ? ', none that calls for a release: built as a patch' : `, a ${releaseBump} bump`}`
      : commits.length === 0
        ? `unchanged since ${last.tag}`
        : `${commits.length} commit(s) since ${last.tag}, all cancelled out by reverts`;
  } else {
    changed = bump !== 'none';
    reason =
      commits.length === 0
        ? `unchanged since ${last.tag}`
        : changed
          ? `${commits.length} commit(s) since ${last.tag}, a ${bump} bump`
          : `${commits.length} commit(s) since ${last.tag}, none that calls for a release`;
  }
  return {
    service,
    changed,
    touched,
    ...(last ? { last } : {}),
    commits: options.base ? prCommits : commits,
    files,
    filesKnown,
    bump,
    version: changed ? version : (last?.version ?? version),
    tag: `${service.tagPrefix}${changed ? version : (last?.version ?? release)}`,
    reason,
  };
}

/** A service's changelog, as semantic-tag writes it: only a tag that is pushed needs one. */
export function serviceChangelog(report: ServiceChangeReport): string {
  return renderChangelog(changelogSections(report.commits));
}

// ─── The matrix ──────────────────────────────────────────────────────────────────────────────────

export interface MatrixEntry {
  service: string;
  path: string;
  context: string;
  dockerfile: string;
  image: string;
  version: string;
  tag: string;
  chart: { name?: string; version?: string; repository?: string };
}

/** One service's row of the matrix. */
export function matrixEntry(service: ServiceDefinition, version: string, tag: string): MatrixEntry {
  return {
    service: service.name,
    path: service.path,
    context: service.context,
    dockerfile: service.dockerfile,
    image: service.image,
    version,
    tag,
    chart: service.chart,
  };
}

/** `strategy.matrix` for the changed services: `{include: [...]}`, in the manifest's order. */
export function buildMatrix(reports: readonly ServiceChangeReport[]): { include: MatrixEntry[] } {
  return { include: reports.filter((report) => report.changed).map((report) => matrixEntry(report.service, report.version, report.tag)) };
}
