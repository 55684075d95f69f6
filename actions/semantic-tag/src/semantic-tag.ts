/**
 * semantic-tag: the next version from Conventional Commits, tagged and released.
 *
 * 1. The last release is the highest `<tag-prefix>X.Y.Z` or `<environment>-X.Y.Z` tag reachable
 *    from HEAD (moving tags such as `v4`, pre-releases, other prefixes and other components' tags
 *    are not releases). Environment tags count because a team's first release is often a
 *    hand-pushed `UAT-1.0.0`: without them the next version would go back below it.
 * 2. Every commit since then (merged branches included, filtered by `paths`) is read with one
 *    `git log` and classified: a breaking change is major (minor while 0.x, unless
 *    `major-zero: breaking-is-major`), `feat` minor, `fix`/`perf`/`revert` patch, other types as
 *    `release-rules` say, and commits that are not Conventional as `default-bump` says. A commit
 *    reverted in the same range cancels out with its revert (see `cancelReverts`).
 * 3. The highest bump gives the next version (`-<prerelease>.N` numbered from existing tags).
 * 4. Unless `dry-run`, the tag (and `<environment-tag>-<version>`) is created and pushed in one
 *    atomic push, then a GitHub release is made and a workflow dispatched when asked.
 */
import { StringDecoder } from 'node:string_decoder';
import { CommandError, type GitHubClient, InputError, type Git, type Repository, UserError } from '@toolkit/shared';
import incrementVersion from 'semver/functions/inc.js';
import parseVersion from 'semver/functions/parse.js';

export type Bump = 'major' | 'minor' | 'patch' | 'none';
export const BUMPS: readonly Bump[] = ['none', 'patch', 'minor', 'major'];

export interface ReleaseRule {
  type: string;
  scope?: string;
  bump: Bump;
  /** The changelog heading its commits are listed under (`type:bump:section`, github-tag-action's form). */
  section?: string;
}

export type DefaultBump = 'none' | 'patch' | 'minor';
export const DEFAULT_BUMP_VALUES: readonly DefaultBump[] = ['none', 'patch', 'minor'];

export interface SemanticTagConfig {
  tagPrefix: string;
  initialVersion: string;
  releaseRules: ReleaseRule[];
  defaultBump: DefaultBump;
  majorZero: 'breaking-is-minor' | 'breaking-is-major';
  /** A pre-release identifier such as `rc`, or '' for full releases. */
  prerelease: string;
  /** Globs; when given, only commits touching them count. */
  paths: string[];
  annotate: boolean;
  /** e.g. `UAT`: also push `UAT-<version>`. */
  environmentTag: string;
  /**
   * Environment tag prefixes (e.g. UAT, PROD) whose `<prefix>-X.Y.Z` tags are releases too, as
   * `environmentTag` always is: a version released to an environment has been released.
   */
  environmentTags: string[];
  dryRun: boolean;
  remote: string;
  githubRelease: boolean;
  dispatchWorkflow: string;
}

export interface ParsedCommit {
  sha: string;
  subject: string;
  type?: string;
  scope?: string;
  breaking: boolean;
  /** Texts of BREAKING CHANGE footers. */
  breakingNotes: string[];
  conventional: boolean;
  merge: boolean;
  /**
   * The commits it reverts, from git's `This reverts commit <sha>` lines (full SHAs, or abbreviated
   * ones with `git revert --reference`); absent when it reverts nothing.
   */
  reverts?: RevertedCommit[];
  /**
   * Whether it is nothing but a revert, so that it cancels out with the commit it reverts: git's
   * `Revert "…"` or `Reapply "…"` subject, a `revert:` commit, or a free-form title such as
   * `git revert --reference` asks for. A Conventional commit of another type that also reverts
   * (a squash of several commits) keeps counting as its type.
   */
  revertOnly?: boolean;
}

export interface RevertedCommit {
  /** The SHA as the message gives it: full, or abbreviated. */
  commit: string;
  /** For a reverted merge, the parent it was reverted against (`reversing changes made to <sha>`). */
  mainline?: string;
}

export interface ClassifiedCommit extends ParsedCommit {
  bump: Bump;
  /**
   * Set when the commit cancels out with another in the same range, neither counting for the bump
   * nor listed in the changelog: on a reverted commit, its revert; on a revert, the commit it reverts.
   */
  cancelledBy?: string;
}

export interface ReleaseTag {
  tag: string;
  /** The environment of an environment tag such as UAT-1.0.0; undefined for a version tag. */
  environment?: string;
  version: string;
  commit: string;
  /** major, minor, patch of a full release; undefined for a pre-release. */
  release?: readonly [number, number, number];
}

export interface SemanticTagResult {
  version: string;
  tag: string;
  previousVersion?: string;
  previousTag?: string;
  bump: Bump;
  /** Whether this run created and pushed a tag. */
  released: boolean;
  environmentTag?: string;
  changelog: string;
  /** The changelog's sections, as `changelog` renders them (the job summary lists them too). */
  sections: ChangelogSection[];
  commits: ClassifiedCommit[];
  head: string;
  githubReleaseUrl?: string;
  dispatched?: string;
}

export interface SemanticTagDeps {
  git: Git;
  /** Called only when the GitHub API is needed. */
  github?: () => Promise<GitHubClient>;
  repository?: Repository;
  log?: (message: string) => void;
}

// ─── Inputs ──────────────────────────────────────────────────────────────────────────────────────

const RULE = /^([a-z][a-z0-9-]*)(?:\(([^()\s]+)\))?:([a-z]+)(?::(.*))?$/;
const RULE_BUMPS: readonly Bump[] = ['major', 'minor', 'patch', 'none'];

/**
 * `type:bump`, `type(scope):bump`, or github-tag-action's `type:bump:section`, where section is the
 * changelog heading the type's commits are listed under (`perf:patch:Performance`). A pasted
 * custom_release_rules value reads as it did there, pre-release bumps aside: here a pre-release is
 * the `prerelease` input's, not a rule's.
 */
export function parseReleaseRules(items: readonly string[], input = 'release-rules'): ReleaseRule[] {
  return items.map((item) => {
    const match = RULE.exec(item.trim().replace(/\s*:\s*/g, ':'));
    const bump = match?.[3] as Bump | undefined;
    const section = match?.[4]?.trim();
    if (match && /^pre(major|minor|patch|release)$/.test(match[3] as string)) {
      throw new InputError(
        input,
        `${JSON.stringify(item)} asks for a ${match[3]} bump; here a rule's bump is major, minor, patch or none, and pre-releases come from the prerelease input (e.g. prerelease: rc with ${match[1]}:${(match[3] as string).slice(3).replace('release', 'patch')}).`,
      );
    }
    if (!match || !RULE_BUMPS.includes(bump as Bump) || section === '' || (section !== undefined && /[\r\n#]/.test(section))) {
      throw new InputError(
        input,
        `${JSON.stringify(item)} is not a rule; expected type:bump, type(scope):bump or type:bump:section with bump one of major, minor, patch, none and section a changelog heading (e.g. build:patch, docs(readme):patch, chore:none, perf:patch:Performance).`,
      );
    }
    return { type: match[1] as string, ...(match[2] ? { scope: match[2] } : {}), bump: bump as Bump, ...(section ? { section } : {}) };
  });
}

export function parseInitialVersion(text: string, input = 'initial-version'): string {
  const parsed = /^\d/.test(text) ? parseVersion(text) : null;
  if (!parsed || parsed.prerelease.length > 0) {
    throw new InputError(input, `${JSON.stringify(text)} is not a release version; expected MAJOR.MINOR.PATCH such as 0.1.0.`);
  }
  return parsed.version;
}

export function parsePrereleaseIdentifier(text: string, input = 'prerelease'): string {
  if (text === '') return '';
  if (!/^[0-9A-Za-z-]+$/.test(text) || /^\d+$/.test(text)) {
    throw new InputError(
      input,
      `${JSON.stringify(text)} is not a pre-release identifier; expected letters, digits and hyphens, not only digits (e.g. rc, beta, alpha).`,
    );
  }
  return text;
}

export function parseTagPrefix(text: string, input = 'tag-prefix'): string {
  if (!/^[A-Za-z0-9._/-]*$/.test(text) || /\.\.|\/\/|^\/|\.lock\//.test(text)) {
    throw new InputError(
      input,
      `${JSON.stringify(text)} cannot start a tag name; expected letters, digits, '.', '_', '-' and '/' (e.g. v or api/v).`,
    );
  }
  return text;
}

// ─── Commits ─────────────────────────────────────────────────────────────────────────────────────

const HEADER = /^([A-Za-z][\w-]*)(?:\(([^()\r\n]*)\))?(!)?: +(\S.*)$/;
const BREAKING_FOOTER = /^BREAKING[ -]CHANGE: *(.*)$/gm;
/**
 * git's own lines: `This reverts commit <sha>.`, for a merge `This reverts commit <sha>, reversing
 * changes made to <parent>.`, and with `--reference` `This reverts commit <abbrev> (<subject>, <date>).`
 */
const REVERTS_LINE =
  /^[ \t]*This reverts commit ([0-9a-fA-F]{4,64})\b(?:.*?,? reversing\r?\n[ \t]*changes made to ([0-9a-fA-F]{4,64})\b)?/gm;

/**
 * The header inside git's revert subjects, with how many reverts wrap it: `Revert "<header>"` is
 * one, `Reapply "<header>"` (git's subject for the revert of a revert) two, and GitHub's squash
 * suffix ` (#123)` is allowed at each level. Read by index, so a long nest of quotes stays linear.
 */
function unwrapReverts(subject: string): { header: string; depth: number } {
  let start = 0;
  let end = subject.length;
  let depth = 0;
  for (;;) {
    // GitHub's squash merge appends " (#123)" to the revert's title.
    let close = end;
    if (subject[close - 1] === ')') {
      let digit = close - 2;
      while (digit > start && subject.charCodeAt(digit) >= 48 && subject.charCodeAt(digit) <= 57) digit -= 1;
      if (digit < close - 2 && subject.startsWith(' (#', digit - 2)) close = digit - 2;
    }
    const prefix = subject.startsWith('Revert "', start) ? 8 : subject.startsWith('Reapply "', start) ? 9 : 0;
    // The quoted header is not empty: `Revert ""` is a title like any other.
    if (prefix === 0 || close - start < prefix + 2 || subject[close - 1] !== '"') break;
    depth += prefix === 8 ? 1 : 2;
    start += prefix;
    end = close - 1;
  }
  return { header: subject.slice(start, end), depth };
}

function revertedCommits(body: string): RevertedCommit[] | undefined {
  if (!body.includes('This reverts commit')) return undefined;
  const reverts = [...body.matchAll(REVERTS_LINE)].map((match) => ({
    commit: (match[1] as string).toLowerCase(),
    ...(match[2] ? { mainline: match[2].toLowerCase() } : {}),
  }));
  return reverts.length > 0 ? reverts : undefined;
}

export function parseCommit(sha: string, message: string, parents = 1): ParsedCommit {
  const newline = message.indexOf('\n');
  const subject = (newline < 0 ? message : message.slice(0, newline)).trim();
  const body = newline < 0 ? '' : message.slice(newline + 1);
  const footers = body.includes('BREAKING') ? [...body.matchAll(BREAKING_FOOTER)] : [];
  const breakingNotes = footers.map((match) => (match[1] as string).trim()).filter(Boolean);
  const hasFooter = footers.length > 0;
  const merge = parents > 1;
  // A merge commit's own message says nothing, a revert's body included.
  const reverts = merge ? undefined : revertedCommits(body);
  const { header: quoted, depth } = unwrapReverts(subject);
  // `Revert "Revert "<header>""` or `Reapply "<header>"` applies <header> again: it is that commit.
  const header = HEADER.exec(depth % 2 === 0 ? quoted : subject);
  if (header) {
    const type = (header[1] as string).toLowerCase();
    return {
      sha,
      subject: header[4] as string,
      type,
      scope: header[2] || undefined,
      breaking: header[3] === '!' || hasFooter,
      breakingNotes,
      conventional: true,
      merge,
      ...(reverts ? { reverts, revertOnly: depth > 0 || type === 'revert' } : {}),
    };
  }
  const revert = reverts ? { reverts, revertOnly: true } : {};
  // git's `Revert "<header>"`, or a title of one's own over git's `This reverts commit` line.
  if (depth % 2 === 1 || (depth === 0 && reverts)) {
    const text = depth > 0 ? quoted : subject;
    return { sha, subject: text, type: 'revert', breaking: hasFooter, breakingNotes, conventional: true, merge, ...revert };
  }
  return { sha, subject: quoted, breaking: hasFooter, breakingNotes, conventional: false, merge, ...revert };
}

const DEFAULT_BUMPS: Record<string, Bump> = { feat: 'minor', fix: 'patch', perf: 'patch', revert: 'patch' };

/** The rule for a commit's type: one for its scope first, then one for the type alone. */
function ruleFor(commit: ParsedCommit, rules: readonly ReleaseRule[]): ReleaseRule | undefined {
  if (!commit.conventional || !commit.type) return undefined;
  return (
    rules.find((candidate) => candidate.type === commit.type && candidate.scope !== undefined && candidate.scope === commit.scope) ??
    rules.find((candidate) => candidate.type === commit.type && candidate.scope === undefined)
  );
}

export function classifyCommit(commit: ParsedCommit, rules: readonly ReleaseRule[], defaultBump: DefaultBump): Bump {
  if (commit.breaking) return 'major';
  if (commit.conventional && commit.type) return ruleFor(commit, rules)?.bump ?? DEFAULT_BUMPS[commit.type] ?? 'none';
  // A merge commit's own subject ("Merge pull request …") says nothing; its branch's commits count.
  return commit.merge ? 'none' : defaultBump;
}

export function highestBump(bumps: Iterable<Bump>): Bump {
  let highest: Bump = 'none';
  for (const bump of bumps) if (BUMPS.indexOf(bump) > BUMPS.indexOf(highest)) highest = bump;
  return highest;
}

/** The next version after `base`; a pre-release is numbered after the highest existing one. */
export function nextVersion(
  base: string,
  bump: Bump,
  options: { majorZero: SemanticTagConfig['majorZero']; prerelease: string; existing: readonly string[] },
): string {
  if (bump === 'none') return base;
  const effective = bump === 'major' && base.startsWith('0.') && options.majorZero === 'breaking-is-minor' ? 'minor' : bump;
  const release = incrementVersion(base, effective) as string;
  if (!options.prerelease) return release;
  const series = `${release}-${options.prerelease}.`;
  const numbers = options.existing.filter((version) => version.startsWith(series)).map((version) => Number(version.slice(series.length)));
  const highest = Math.max(0, ...numbers.filter((value) => Number.isSafeInteger(value)));
  return `${series}${highest + 1}`;
}

// ─── Reverts ─────────────────────────────────────────────────────────────────────────────────────

/**
 * A commit reverted in the same range cancels out with its revert, as semantic-release's analyzer
 * does: neither counts for the bump, neither is in the changelog (`cancelledBy` is set on both).
 *
 * - A revert names the commits it reverts in git's `This reverts commit <sha>` line, full or
 *   abbreviated (`git revert --reference`); an abbreviation is resolved by git, in one
 *   `cat-file --batch-check`, and one that is ambiguous or unknown matches nothing.
 * - The revert of a commit outside the range (already released) stays, as a patch.
 * - A revert that is reverted in turn (a reapply) stands no more: the commit it reverted is back,
 *   and the two reverts cancel out. So feat, revert, revert of the revert leaves the feat; a fourth
 *   revert cancels everything. A reapply of a released revert counts as the commit it re-applies.
 * - The revert of a merge (`reversing changes made to <parent>`) also cancels the commits that
 *   merge brought in (`git rev-list <parent>..<merge>`).
 * - A Conventional commit of another type that also reverts (a squash of several commits) cancels
 *   the commit it reverts, and keeps counting as its own type.
 */
export async function cancelReverts(
  git: Pick<Git, 'run'>,
  commits: readonly ClassifiedCommit[],
  log: (message: string) => void = () => undefined,
): Promise<void> {
  const reverts = commits.filter((commit) => commit.reverts);
  if (reverts.length === 0) return;
  const bySha = new Map(commits.map((commit) => [commit.sha, commit]));
  const hashLength = commits[0]?.sha.length ?? 40;
  const names = new Set<string>();
  for (const revert of reverts)
    for (const target of revert.reverts ?? [])
      for (const name of [target.commit, target.mainline]) if (name && name.length < hashLength && !bySha.has(name)) names.add(name);
  const resolved = await resolveCommits(git, [...names]);
  const full = (name: string) => (bySha.has(name) || name.length >= hashLength ? name : resolved.get(name));

  // What each revert takes back within the range, and whether all it names is in the range.
  const reverters = new Map<ClassifiedCommit, ClassifiedCommit[]>();
  const takes = new Map<ClassifiedCommit, ClassifiedCommit[]>();
  const cancelsOut = new Set<ClassifiedCommit>();
  for (const revert of reverts) {
    const targets = revert.reverts ?? [];
    const taken: ClassifiedCommit[] = [];
    let inRange = 0;
    for (const target of targets) {
      const reverted = bySha.get(full(target.commit) ?? '');
      if (!reverted || reverted === revert) continue;
      inRange += 1;
      const mainline = target.mainline ? full(target.mainline) : undefined;
      for (const commit of reverted.merge ? await mergedCommits(git, reverted, mainline, bySha) : [reverted]) {
        if (commit === revert || taken.includes(commit)) continue;
        taken.push(commit);
        const against = reverters.get(commit);
        if (against) against.push(revert);
        else reverters.set(commit, [revert]);
      }
    }
    if (taken.length > 0) takes.set(revert, taken);
    if (inRange > 0 && inRange === targets.length && revert.revertOnly) cancelsOut.add(revert);
  }
  if (takes.size === 0) return;

  // A revert stands unless a revert that stands reverts it: decided with an explicit stack, as a
  // chain of reverts of reverts can be long. A cycle, which only forged abbreviations can make, is cut.
  const stands = new Map<ClassifiedCommit, boolean>();
  const visiting = new Set<ClassifiedCommit>();
  const decide = (start: ClassifiedCommit): boolean => {
    const stack = [start];
    while (stack.length > 0) {
      const commit = stack[stack.length - 1] as ClassifiedCommit;
      if (stands.has(commit)) {
        stack.pop();
        continue;
      }
      visiting.add(commit);
      const against = reverters.get(commit) ?? [];
      const next = against.find((revert) => !stands.has(revert) && !visiting.has(revert));
      if (next) {
        stack.push(next);
        continue;
      }
      stands.set(commit, !against.some((revert) => stands.get(revert) === true));
      visiting.delete(commit);
      stack.pop();
    }
    return stands.get(start) === true;
  };

  const short = (commit: ClassifiedCommit) => commit.sha.slice(0, 7);
  for (const commit of commits) {
    const by = reverters.has(commit) && !decide(commit) ? reverters.get(commit)?.find((revert) => decide(revert)) : undefined;
    // A revert that stands and takes back only commits of the range cancels out with them.
    const partner = by ?? (cancelsOut.has(commit) && decide(commit) ? takes.get(commit)?.[0] : undefined);
    if (!partner) continue;
    commit.cancelledBy = partner.sha;
    commit.bump = 'none';
  }
  for (const [revert, taken] of takes) {
    if (!decide(revert)) continue;
    const list = taken.map(short).join(', ');
    log(
      revert.cancelledBy
        ? `${short(revert)} reverts ${list} of the same range: they cancel out, and none of them is bumped or listed.`
        : `${short(revert)} reverts ${list} of the same range: ${list} is neither bumped nor listed; ${short(revert)} counts.`,
    );
  }
}

/** Full SHAs of the commits that abbreviated `names` stand for, where git finds exactly one. */
async function resolveCommits(git: Pick<Git, 'run'>, names: readonly string[]): Promise<Map<string, string>> {
  const resolved = new Map<string, string>();
  if (names.length === 0) return resolved;
  const { stdout } = await git.run(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
    input: names.map((name) => `${name}^{commit}\n`).join(''),
  });
  const lines = stdout.split('\n');
  names.forEach((name, index) => {
    const [oid, type] = (lines[index] ?? '').split(' ');
    if (type === 'commit' && oid && /^[0-9a-f]{40,64}$/.test(oid)) resolved.set(name, oid);
  });
  return resolved;
}

/** A reverted merge and the commits of the range it brought in: those its mainline parent lacks. */
async function mergedCommits(
  git: Pick<Git, 'run'>,
  merge: ClassifiedCommit,
  mainline: string | undefined,
  bySha: ReadonlyMap<string, ClassifiedCommit>,
): Promise<ClassifiedCommit[]> {
  // The mainline is one of the merge's parents (the first where the message names none of them).
  const parents = (await git.run(['rev-parse', `${merge.sha}^@`])).stdout.split('\n').filter(Boolean);
  const base = mainline && parents.includes(mainline) ? mainline : parents[0];
  if (!base) return [merge];
  const { stdout } = await git.run(['rev-list', `${base}..${merge.sha}`, '--']);
  const brought = stdout
    .split('\n')
    .map((sha) => bySha.get(sha))
    .filter((commit): commit is ClassifiedCommit => commit !== undefined && commit !== merge);
  return [merge, ...brought];
}

// ─── Changelog ───────────────────────────────────────────────────────────────────────────────────

export interface ChangelogEntry {
  scope: string | undefined;
  text: string;
  sha: string;
}

export interface ChangelogSection {
  title: string;
  entries: ChangelogEntry[];
}

function entry(commit: ClassifiedCommit, text: string): ChangelogEntry {
  return { scope: commit.scope, text, sha: commit.sha.slice(0, 7) };
}

const FIX_TYPES = new Set(['fix', 'perf', 'revert']);

/**
 * The changelog's sections, in one pass over the commits (newest first, as git log gives them). A
 * rule's section (`perf:patch:Performance`) lists its type's commits under that heading, after
 * Fixes and in the order of the rules, even a type whose bump is none: naming a heading asks for it.
 * A heading that is one of the fixed ones (`hotfix:patch:Fixes`) adds to it.
 */
export function changelogSections(commits: readonly ClassifiedCommit[], rules: readonly ReleaseRule[] = []): ChangelogSection[] {
  const breaking: ChangelogEntry[] = [];
  const features: ChangelogEntry[] = [];
  const fixes: ChangelogEntry[] = [];
  const other: ChangelogEntry[] = [];
  const fixed: Record<string, ChangelogEntry[]> = {
    'Breaking changes': breaking,
    Features: features,
    Fixes: fixes,
    'Other changes': other,
  };
  const named = new Map<string, ChangelogEntry[]>();
  for (const rule of rules) if (rule.section && !(rule.section in fixed)) named.set(rule.section, []);
  for (const commit of commits) {
    if (commit.cancelledBy) continue;
    if (commit.breaking) {
      if (commit.breakingNotes.length === 0) breaking.push(entry(commit, commit.subject));
      for (const note of commit.breakingNotes) breaking.push(entry(commit, note));
    }
    const section = ruleFor(commit, rules)?.section;
    if (section !== undefined) {
      if (!commit.breaking || section !== 'Breaking changes') {
        const text = commit.type && !['feat', ...FIX_TYPES].includes(commit.type) ? `${commit.type}: ${commit.subject}` : commit.subject;
        (fixed[section] ?? (named.get(section) as ChangelogEntry[])).push(entry(commit, text));
      }
    } else if (commit.type === 'feat') features.push(entry(commit, commit.subject));
    else if (commit.type && FIX_TYPES.has(commit.type))
      fixes.push(entry(commit, commit.type === 'revert' ? `revert: ${commit.subject}` : commit.subject));
    else if (commit.bump !== 'none' && !commit.breaking)
      other.push(entry(commit, commit.type ? `${commit.type}: ${commit.subject}` : commit.subject));
  }
  return [
    { title: 'Breaking changes', entries: breaking },
    { title: 'Features', entries: features },
    { title: 'Fixes', entries: fixes },
    ...[...named].map(([title, entries]) => ({ title, entries })),
    { title: 'Other changes', entries: other },
  ].filter((section) => section.entries.length > 0);
}

/** An entry as plain text, for places that are not Markdown (the job summary's HTML). */
export function changelogEntryText(line: ChangelogEntry): string {
  return `${line.scope ? `${line.scope}: ` : ''}${line.text} (${line.sha})`;
}

/**
 * The changelog in Markdown: the `changelog` output, the annotated tag's message, the release's
 * body. A section lists at most `limit` entries: GitHub caps an output at 1 MB, and a release of
 * thousands of commits is not read line by line anyway.
 */
export function renderChangelog(sections: readonly ChangelogSection[], limit = 500): string {
  if (sections.length === 0) return 'No notable changes.\n';
  const line = (item: ChangelogEntry) => `- ${item.scope ? `**${item.scope}:** ` : ''}${item.text} (${item.sha})`;
  return sections
    .map((section) => {
      const shown = section.entries.slice(0, limit).map(line);
      if (section.entries.length > limit) shown.push(`- … and ${section.entries.length - limit} more`);
      return `### ${section.title}\n\n${shown.join('\n')}\n`;
    })
    .join('\n');
}

// ─── git ─────────────────────────────────────────────────────────────────────────────────────────

/** The environments whose tags count as releases: `environmentTags` and `environmentTag`, once each. */
export function releaseEnvironments(config: Pick<SemanticTagConfig, 'environmentTag' | 'environmentTags'>): string[] {
  return [...new Set([...config.environmentTags, config.environmentTag].filter(Boolean))];
}

/**
 * Every `<prefix>X.Y.Z[-pre]` tag, and every `<environment>-X.Y.Z[-pre]` tag of `environments`, with
 * the commit it points at; tags that are not semver (moving tags such as `v4` or `v4.1`) are left
 * out. `show-ref -d` reads peeled commits from packed-refs, where `for-each-ref` would open every
 * tag object: 6 ms against 26 ms for 4,000 tags.
 */
export async function listVersionTags(git: Git, prefix: string, environments: readonly string[] = []): Promise<ReleaseTag[]> {
  // The version tag's prefix first: a tag both could read (prefix UAT-, environment UAT) is a version tag.
  const prefixes: { prefix: string; environment?: string }[] = [
    { prefix },
    ...environments.map((environment) => ({ prefix: `${environment}-`, environment })),
  ];
  const refPrefixes = prefixes.map((candidate) => `refs/tags/${candidate.prefix}`);
  const { stdout } = await git.run(['show-ref', '--tags', '--dereference'], { allowFailure: true });
  // Thousands of lines on every run, in a process that has just started (its code not yet
  // optimized): one pass with indexOf and no array of lines, strings made only for refs that can be
  // versions, and each tag built once, with no second pass over a map.
  const tags: ReleaseTag[] = [];
  const byName = new Map<string, ReleaseTag>();
  for (let start = 0; start < stdout.length;) {
    let end = stdout.indexOf('\n', start);
    if (end < 0) end = stdout.length;
    const space = stdout.indexOf(' ', start);
    const at = space > start && space < end ? refPrefixes.findIndex((candidate) => stdout.startsWith(candidate, space + 1)) : -1;
    if (at >= 0) {
      const peeled = stdout.endsWith('^{}', end);
      const name = stdout.slice(space + 1 + 'refs/tags/'.length, peeled ? end - 3 : end);
      const commit = stdout.slice(start, space);
      // An annotated tag's own line comes first; its ^{} line gives the commit it points at.
      const known = byName.get(name);
      if (known) {
        if (peeled) known.commit = commit;
      } else {
        const tag = versionTag(name, commit, prefixes, at);
        if (tag) {
          tags.push(tag);
          byName.set(name, tag);
        }
      }
    }
    start = end + 1;
  }
  return tags;
}

/**
 * The tag `name` as a release tag, if the text after its prefix is a version. The version tag's
 * prefix is tried first (`from`, the first prefix `name` starts with): a tag both could read
 * (prefix UAT-, environment UAT) is a version tag.
 */
function versionTag(
  name: string,
  commit: string,
  prefixes: readonly { prefix: string; environment?: string }[],
  from: number,
): ReleaseTag | undefined {
  for (let index = from; index < prefixes.length; index++) {
    const candidate = prefixes[index] as { prefix: string; environment?: string };
    if (!name.startsWith(candidate.prefix)) continue;
    const found = readVersion(name.slice(candidate.prefix.length));
    if (!found) continue;
    const tag: ReleaseTag = { tag: name, commit, version: found.version };
    if (candidate.environment) tag.environment = candidate.environment;
    if (found.release) tag.release = found.release;
    return tag;
  }
  return undefined;
}

/** A plain X.Y.Z, as nearly every release tag is, with numbers semver accepts (safe integers). */
const PLAIN_RELEASE = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;

/**
 * What every SemVer version starts with: three dot-separated numbers, then the end, a pre-release
 * or build metadata. Text without it (moving tags such as `v4.1-latest`) is passed over before
 * semver, which would throw and catch an error for each.
 */
const VERSION_SHAPE = /^\d+\.\d+\.\d+(?:[-+]|$)/;

/**
 * The version a tag's text is, exactly as semver writes it, or undefined. Plain releases are read
 * by one regular expression (thousands of tags are listed on every run); anything else that has a
 * version's shape (a pre-release, build metadata) goes through semver.
 */
export function readVersion(text: string): Pick<ReleaseTag, 'version' | 'release'> | undefined {
  const plain = PLAIN_RELEASE.exec(text);
  if (plain) return { version: text, release: [Number(plain[1]), Number(plain[2]), Number(plain[3])] };
  const parsed = VERSION_SHAPE.test(text) ? parseVersion(text) : null;
  if (!parsed || parsed.raw !== text) return undefined;
  return {
    version: parsed.version,
    ...(parsed.prerelease.length === 0 ? { release: [parsed.major, parsed.minor, parsed.patch] as const } : {}),
  };
}

/**
 * Of two full releases, the one that comes first as the previous release: the higher version; of
 * one version, the version tag before its environment tags, so that `v1.3.0` stays the previous
 * tag where `UAT-1.3.0` was pushed with it. Negative when `a` comes first.
 */
function releaseOrder(a: ReleaseTag, b: ReleaseTag): number {
  const [x, y] = [a.release as readonly number[], b.release as readonly number[]];
  return (
    (y[0] as number) - (x[0] as number) ||
    (y[1] as number) - (x[1] as number) ||
    (y[2] as number) - (x[2] as number) ||
    Number(a.environment !== undefined) - Number(b.environment !== undefined)
  );
}

/** Full releases, in `releaseOrder`. */
export function releasesHighestFirst(tags: readonly ReleaseTag[]): ReleaseTag[] {
  return tags.filter((tag) => tag.release).sort(releaseOrder);
}

/** The first full release in `releaseOrder`, in one pass: no sort of every tag for the usual case. */
export function highestRelease(tags: readonly ReleaseTag[]): ReleaseTag | undefined {
  let highest: ReleaseTag | undefined;
  for (const tag of tags) if (tag.release && (!highest || releaseOrder(tag, highest) < 0)) highest = tag;
  return highest;
}

export async function isAncestor(git: Git, commit: string, head: string): Promise<boolean> {
  return (await git.run(['merge-base', '--is-ancestor', commit, head], { allowFailure: true })).exitCode === 0;
}

/**
 * The highest full release among `tags` that is reachable from `head`. Candidates are tried highest
 * first with `merge-base --is-ancestor`, which stops walking as soon as it knows. After a few
 * unreachable ones (releases on other branches), one `for-each-ref --merged` settles the rest in a
 * single walk.
 */
export async function findLastRelease(git: Git, tags: readonly ReleaseTag[], head: string): Promise<ReleaseTag | undefined> {
  const releases = releasesHighestFirst(tags);
  const tries = 8;
  for (const tag of releases.slice(0, tries)) if (await isAncestor(git, tag.commit, head)) return tag;
  const rest = releases.slice(tries);
  if (rest.length === 0) return undefined;
  const { stdout } = await git.run([
    'for-each-ref',
    `--merged=${head}`,
    '--format=%(refname:strip=2)',
    ...rest.map((tag) => `refs/tags/${tag.tag}`),
  ]);
  const reachable = new Set(stdout.split('\n').filter(Boolean));
  return rest.find((tag) => reachable.has(tag.tag));
}

/**
 * The last release and the commits since it, in as few walks of the history as possible. The
 * highest release is nearly always the last one: `git log --boundary <it>..HEAD` then both reads the
 * commits and proves it reachable, because a commit is a boundary of that walk exactly when it is
 * an ancestor of HEAD. With `paths`, git simplifies history and the boundary proves nothing, so
 * `merge-base` checks reachability alongside the log. Only when the highest release is not
 * reachable is the search (and the log) done again.
 */
export async function lastReleaseAndCommits(
  git: Git,
  tags: readonly ReleaseTag[],
  head: string,
  paths: readonly string[],
): Promise<{ last?: ReleaseTag; commits: ParsedCommit[] }> {
  const highest = highestRelease(tags);
  if (highest?.commit === head) return { last: highest, commits: [] };
  if (highest) {
    const range = `${highest.commit}..${head}`;
    if (paths.length === 0) {
      const boundaries = new Set<string>();
      const commits = await readCommits(git, range, paths, boundaries);
      if (boundaries.has(highest.commit)) return { last: highest, commits };
    } else {
      const [reachable, commits] = await Promise.all([isAncestor(git, highest.commit, head), readCommits(git, range, paths)]);
      if (reachable) return { last: highest, commits };
    }
  }
  const last = await findLastRelease(git, tags, head);
  return { ...(last ? { last } : {}), commits: await readCommits(git, last ? `${last.commit}..${head}` : head, paths) };
}

/**
 * Every commit in `range` (merges and merged branches included), touching `paths` when given, from
 * one `git log`, parsed as its output streams in: records are NUL-separated (`-z`), fields by \x1f,
 * each led by git's mark (`-` for a boundary). With `boundaries`, the walk's boundary commits are
 * collected there instead of being read.
 */
export async function readCommits(git: Git, range: string, paths: readonly string[], boundaries?: Set<string>): Promise<ParsedCommit[]> {
  const pathspecs = paths.length > 0 ? ['--', ...paths.map((glob) => `:(glob)${glob}`)] : [];
  const commits: ParsedCommit[] = [];
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const take = (record: string) => {
    if (!record) return;
    const first = record.indexOf('\x1f');
    const second = record.indexOf('\x1f', first + 1);
    const sha = record.slice(1, first);
    if (record[0] === '-') {
      boundaries?.add(sha);
      return;
    }
    const parents = record.slice(first + 1, second);
    commits.push(parseCommit(sha, record.slice(second + 1), parents ? parents.split(' ').length : 0));
  };
  const boundary = boundaries ? ['--boundary'] : [];
  await git.run(['log', '-z', ...boundary, '--format=%m%H%x1f%P%x1f%B', range, ...pathspecs], {
    onStdout: (chunk) => {
      const records = (pending + decoder.write(chunk)).split('\0');
      pending = records.pop() ?? '';
      for (const record of records) take(record);
    },
  });
  take(pending + decoder.end());
  return commits;
}

/**
 * A shallow checkout would give a wrong version, silently. Fetch its whole history and its tags
 * from `remote`, or refuse and say which fetch-depth to use. A full checkout (fetch-depth: 0) has
 * its tags already, and is read as it is, with no network round trip. Returns HEAD, and whether
 * anything was fetched.
 */
export async function ensureCompleteHistory(
  git: Git,
  remote: string,
  log: (message: string) => void,
): Promise<{ head: string; fetched: boolean }> {
  const [shallow, head] = (await git.output(['rev-parse', '--is-shallow-repository', 'HEAD'])).split('\n') as [string, string];
  if (shallow !== 'true') return { head, fetched: false };
  const fetchDepthAdvice = 'Check out the whole history: `uses: actions/checkout@…` with `fetch-depth: 0`.';
  if (!(await git.hasRemote(remote)))
    throw new UserError(
      'REFUSED',
      `This checkout is shallow and has no remote "${remote}" to fetch the rest of its history from. ${fetchDepthAdvice}`,
    );
  try {
    await git.run(['fetch', '--quiet', '--tags', '--force', '--unshallow', '--', remote]);
  } catch (error) {
    // git ran and refused: the checkout is the user's to fix. Anything else (no git, a bug) is ours.
    if (!(error instanceof CommandError)) throw error;
    const detail = error.stderr.trim();
    throw new UserError(
      'REFUSED',
      `This checkout is shallow, and fetching the rest of its history from ${remote} failed: ${detail}. ${fetchDepthAdvice}`,
    );
  }
  log(`The checkout was shallow: fetched its whole history and tags from ${remote}.`);
  return { head, fetched: true };
}

// ─── The run ─────────────────────────────────────────────────────────────────────────────────────

export async function runSemanticTag(config: SemanticTagConfig, deps: SemanticTagDeps): Promise<SemanticTagResult> {
  const { git } = deps;
  const log = deps.log ?? (() => undefined);
  // Tags are listed while the checkout is checked; a shallow one fetches tags, so they are listed again.
  const environments = releaseEnvironments(config);
  const [history, listed] = await Promise.all([
    ensureCompleteHistory(git, config.remote, log),
    listVersionTags(git, config.tagPrefix, environments),
  ]);
  const tags = history.fetched ? await listVersionTags(git, config.tagPrefix, environments) : listed;
  const { head } = history;
  const { last, commits: parsed } = await lastReleaseAndCommits(git, tags, head, config.paths);
  // Classified in place: a copy of every commit costs more than the parsing, on a long range.
  const commits = parsed as ClassifiedCommit[];
  for (const commit of commits) commit.bump = classifyCommit(commit, config.releaseRules, config.defaultBump);
  await cancelReverts(git, commits, log);
  const bump = highestBump(commits.map((commit) => commit.bump));
  const base = last?.version ?? config.initialVersion;
  const previous = last ? { previousVersion: last.version, previousTag: last.tag } : {};
  const sections = changelogSections(commits, config.releaseRules);
  const changelog = renderChangelog(sections);

  if (bump === 'none') {
    return { version: base, tag: last?.tag ?? '', ...previous, bump, released: false, changelog, sections, commits, head };
  }

  // Re-running a pre-release on the same commit gives the same tag, not the next number.
  const series = nextVersion(base, bump, { ...config, prerelease: '', existing: [] });
  const alreadyAtHead = config.prerelease
    ? tags.find((tag) => tag.commit === head && tag.version.startsWith(`${series}-${config.prerelease}.`))
    : undefined;
  const version = alreadyAtHead?.version ?? nextVersion(base, bump, { ...config, existing: tags.map((tag) => tag.version) });
  const tag = `${config.tagPrefix}${version}`;
  const environmentTag = config.environmentTag ? `${config.environmentTag}-${version}` : undefined;
  const result: SemanticTagResult = {
    version,
    tag,
    ...previous,
    bump,
    released: false,
    ...(environmentTag ? { environmentTag } : {}),
    changelog,
    sections,
    commits,
    head,
  };
  if (config.dryRun) return result;

  // The version tag carries the changelog when annotated; the environment tag only marks the release.
  const tagsToWrite = [
    { name: tag, message: config.annotate ? `${tag}\n\n${changelog}` : undefined },
    ...(environmentTag ? [{ name: environmentTag }] : []),
  ];
  const pushed = await createAndPushTags(git, config.remote, head, tagsToWrite, log);
  result.released = pushed.length > 0;

  if (config.githubRelease || config.dispatchWorkflow) {
    if (!deps.github || !deps.repository)
      throw new UserError(
        'INVALID_CONFIGURATION',
        'The GitHub API is needed (github-release or dispatch-workflow), but no token or repository was given.',
      );
    const client = await deps.github();
    if (config.githubRelease)
      result.githubReleaseUrl = await ensureGitHubRelease(client, deps.repository, tag, changelog, version.includes('-'), log);
    if (config.dispatchWorkflow && result.released) {
      const dispatchedTag = environmentTag ?? tag;
      await client.rest.actions.createWorkflowDispatch({
        ...deps.repository,
        workflow_id: config.dispatchWorkflow,
        ref: dispatchedTag,
        inputs: { tag: dispatchedTag },
      });
      result.dispatched = dispatchedTag;
      log(`Started ${config.dispatchWorkflow} for ${dispatchedTag} (workflow_dispatch).`);
    }
  }
  return result;
}

/**
 * Creates the tags that do not exist yet and pushes them in one atomic push, so that a version tag
 * never lands without its environment tag. A tag already at `head` (here or on the remote) is left
 * as it is; one at another commit is refused before anything is written.
 */
export async function createAndPushTags(
  git: Git,
  remote: string,
  head: string,
  tags: readonly { name: string; message?: string }[],
  log: (message: string) => void,
): Promise<string[]> {
  const names = tags.map((tag) => tag.name);
  if (!(await git.hasRemote(remote)))
    throw new UserError('INVALID_CONFIGURATION', `There is no git remote "${remote}" to push ${names.join(' and ')} to.`);
  const local = new Map<string, string | undefined>();
  for (const name of names) local.set(name, await git.localTagCommit(name));
  const remoteCommits = await git.remoteTagCommits(names, remote);
  const toPush: string[] = [];
  for (const name of names) {
    const remoteCommit = remoteCommits.get(name);
    for (const [where, commit] of [
      ['here', local.get(name)],
      [`on ${remote}`, remoteCommit],
    ] as const) {
      if (commit && commit !== head) {
        throw new UserError(
          'REFUSED',
          `Tag ${name} already exists ${where} at ${commit.slice(0, 12)}, not at HEAD (${head.slice(0, 12)}); a version is released once. Nothing was tagged or pushed.`,
        );
      }
    }
    if (remoteCommit) log(`${name} is already on ${remote} at HEAD; nothing to do for it.`);
    else toPush.push(name);
  }
  for (const { name, message } of tags) {
    if (!toPush.includes(name) || local.get(name)) continue;
    await git.run(
      message ? ['tag', '--annotate', '--file=-', '--cleanup=verbatim', '--', name, head] : ['tag', '--', name, head],
      message ? { input: message } : {},
    );
  }
  if (toPush.length > 0) {
    await git.run(['push', '--atomic', '--quiet', '--', remote, ...toPush.map((name) => `refs/tags/${name}`)]);
    log(`Pushed ${toPush.join(' and ')} to ${remote}.`);
  }
  return toPush;
}

async function ensureGitHubRelease(
  client: GitHubClient,
  repository: Repository,
  tag: string,
  body: string,
  prerelease: boolean,
  log: (message: string) => void,
): Promise<string> {
  try {
    const existing = await client.rest.repos.getReleaseByTag({ ...repository, tag });
    log(`The GitHub release for ${tag} exists already: ${existing.data.html_url}`);
    return existing.data.html_url;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
  const created = await client.rest.repos.createRelease({ ...repository, tag_name: tag, name: tag, body, prerelease });
  log(`Created the GitHub release ${created.data.html_url}`);
  return created.data.html_url;
}
