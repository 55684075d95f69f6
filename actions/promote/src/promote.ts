/**
 * promote: GitOps edits of an environment repository's versions.yaml, safe under concurrency.
 *
 * - bump: set services of an environment to a version (and image, digest, chart version).
 * - promote: copy services from one environment to the next in the promotion order, exactly.
 * - rollback: restore each service's previous release, without naming it.
 *
 * An edit is a pure function of the file as it is now (`applyRequest`), so every write mode can
 * re-apply it to whatever the file has become: on a rejected push (git), a conflicting ref update
 * (api), nothing is merged as text; the change is computed again on the new file. The file is
 * edited by splicing (comments, order, quoting kept) and validated again before it is written.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CommandError,
  type Git,
  type GitHubClient,
  InputError,
  type Release,
  type Repository,
  type ServiceEntry,
  UserError,
  VERSIONS_HEADER,
  type VersionsData,
  type YamlValue,
  parseVersionsFile,
} from '@toolkit/shared';

export type Operation = 'bump' | 'promote' | 'rollback';

export interface ServiceSpec {
  name: string;
  version?: string;
  digest?: string;
}

export interface PromoteRequest {
  operation: Operation;
  /** bump and rollback: the environment; promote: the target. */
  environment: string;
  /** promote: the source environment. */
  from?: string;
  /** bump: name, version and digest; promote and rollback: names (none means every service of `from`, for promote). */
  services: ServiceSpec[];
  image?: string;
  chartVersion?: string;
  /** From the input; else the file's `promotion`; else dev, uat, prod. */
  promotionOrder?: string[];
  allowSkip: boolean;
  /** Written with every release. */
  meta: { commit?: string; actor?: string; runUrl?: string; now: string };
}

export interface ServiceChange {
  environment: string;
  service: string;
  before?: ServiceEntry;
  after: ServiceEntry;
}

export interface EditResult {
  text: string;
  changes: ServiceChange[];
}

export const DEFAULT_ORDER = ['dev', 'uat', 'prod'];
const RELEASE_FIELDS = ['version', 'image', 'digest', 'chart', 'commit', 'deployed_at', 'deployed_by', 'run_url'] as const;
const IDENTITY_FIELDS = ['version', 'image', 'digest', 'chart'] as const;

// ─── Inputs ──────────────────────────────────────────────────────────────────────────────────────

const SERVICE_LINE = /^([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)(?:=([^@\s]+)(?:@(sha256:[a-f0-9]{64}))?)?$/;

/** `name=version[@sha256:…]` lines (or bare names, for promote and rollback). */
export function parseServices(lines: readonly string[], needVersion: boolean, input = 'services'): ServiceSpec[] {
  return lines.map((line) => {
    const match = SERVICE_LINE.exec(line.trim());
    if (!match || (needVersion && !match[2])) {
      const expected = needVersion ? 'name=version or name=version@sha256:<64 hex digits>, one per line' : 'a service name, one per line';
      throw new InputError(input, `${JSON.stringify(line)} is not allowed; expected ${expected}.`);
    }
    return { name: match[1] as string, ...(match[2] ? { version: match[2] } : {}), ...(match[3] ? { digest: match[3] } : {}) };
  });
}

// ─── The edit ────────────────────────────────────────────────────────────────────────────────────

function releaseOf(entry: ServiceEntry | undefined): Release | undefined {
  if (!entry) return undefined;
  const { previous: _previous, ...release } = entry;
  return release;
}

function sameRelease(a: Release | undefined, b: Release): boolean {
  return !!a && IDENTITY_FIELDS.every((field) => JSON.stringify(a[field] ?? null) === JSON.stringify(b[field] ?? null));
}

function orderOf(request: PromoteRequest, data: VersionsData): string[] {
  return request.promotionOrder?.length ? request.promotionOrder : (data.promotion ?? DEFAULT_ORDER);
}

function servicesOf(data: VersionsData, environment: string): Record<string, ServiceEntry> {
  return data.environments[environment]?.services ?? {};
}

/** The releases the request asks for, against the file as it is. */
export function planChanges(data: VersionsData, request: PromoteRequest, file: string): ServiceChange[] {
  const { environment, meta } = request;
  const deployed = {
    ...(meta.actor ? { deployed_by: meta.actor } : {}),
    deployed_at: meta.now,
    ...(meta.runUrl ? { run_url: meta.runUrl } : {}),
  };
  const current = servicesOf(data, environment);
  const environments = Object.keys(data.environments);
  const requireEnvironment = (name: string, input: string) => {
    if (!data.environments[name]) {
      throw new InputError(
        input,
        `environment "${name}" is not in ${file}; it has ${environments.length > 0 ? environments.join(', ') : 'no environments yet'}.`,
      );
    }
  };

  if (request.operation === 'bump') {
    return request.services.map((spec) => {
      const before = current[spec.name];
      const version = spec.version as string;
      const chart = request.chartVersion ? { ...before?.chart, version: request.chartVersion } : before?.chart;
      const after: ServiceEntry = {
        version,
        ...(request.image || before?.image ? { image: request.image || before?.image } : {}),
        // A new version without a digest must not keep the old version's digest.
        ...(spec.digest ? { digest: spec.digest } : before?.digest && before.version === version ? { digest: before.digest } : {}),
        ...(chart ? { chart } : {}),
        ...(meta.commit ? { commit: meta.commit } : {}),
        ...deployed,
      };
      return { environment, service: spec.name, ...(before ? { before } : {}), after };
    });
  }

  if (request.operation === 'promote') {
    const from = request.from as string;
    requireEnvironment(from, 'from');
    const order = orderOf(request, data);
    for (const [name, input] of [
      [from, 'from'],
      [environment, 'to'],
    ] as const) {
      if (!order.includes(name)) throw new InputError(input, `"${name}" is not in the promotion order (${order.join(', ')}).`);
    }
    const step = order.indexOf(environment) - order.indexOf(from);
    if (step <= 0)
      throw new InputError('to', `"${environment}" does not come after "${from}" in the promotion order (${order.join(', ')}).`);
    if (step > 1 && !request.allowSkip) {
      const skipped = order.slice(order.indexOf(from) + 1, order.indexOf(environment));
      throw new InputError(
        'to',
        `promoting from "${from}" to "${environment}" skips ${skipped.join(', ')} in the promotion order (${order.join(', ')}); promote to ${skipped[0]} first, or set allow-skip: true.`,
      );
    }
    const source = servicesOf(data, from);
    const names = request.services.length > 0 ? request.services.map((spec) => spec.name) : Object.keys(source);
    if (names.length === 0) throw new InputError('from', `environment "${from}" has no services to promote.`);
    return names.map((name) => {
      const entry = source[name];
      if (!entry)
        throw new InputError(
          'services',
          `service "${name}" is not in environment "${from}"; it has ${Object.keys(source).join(', ') || 'none'}.`,
        );
      const before = current[name];
      const copied = Object.fromEntries(
        IDENTITY_FIELDS.filter((field) => entry[field] !== undefined).map((field) => [field, entry[field]]),
      );
      const after: ServiceEntry = { ...(copied as unknown as Release), ...(entry.commit ? { commit: entry.commit } : {}), ...deployed };
      return { environment, service: name, ...(before ? { before } : {}), after };
    });
  }

  requireEnvironment(environment, 'environment');
  if (request.services.length === 0) throw new InputError('services', 'rollback needs the services to roll back.');
  return request.services.map(({ name }) => {
    const before = current[name];
    if (!before) throw new InputError('services', `service "${name}" is not in environment "${environment}".`);
    if (!before.previous) throw new UserError('REFUSED', `service "${name}" in "${environment}" has no previous release to roll back to.`);
    const { deployed_at: _at, deployed_by: _by, run_url: _run, ...restored } = before.previous;
    return { environment, service: name, before, after: { ...restored, ...deployed } };
  });
}

/**
 * Applies the request to the file's text (undefined when the file does not exist yet: a bump
 * creates it with a header). Unchanged services are left alone, with no new deployed_at.
 */
export function applyRequest(text: string | undefined, request: PromoteRequest, file: string): EditResult {
  if (text === undefined && request.operation !== 'bump')
    throw new UserError('NOT_FOUND', `${file} does not exist yet; only a bump can create it.`);
  const { data, editor } = parseVersionsFile(text ?? VERSIONS_HEADER, file);
  const changes = planChanges(data, request, file).filter((change) => !sameRelease(change.before, change.after));
  for (const { environment, service, before, after } of changes) {
    const entryPath = ['environments', environment, 'services', service];
    const previous = releaseOf(before);
    const value: Record<string, YamlValue> = {};
    for (const field of RELEASE_FIELDS) if (after[field] !== undefined) value[field] = after[field] as YamlValue;
    if (previous)
      value.previous = Object.fromEntries(
        RELEASE_FIELDS.filter((field) => previous[field] !== undefined).map((field) => [field, previous[field] as YamlValue]),
      );
    editor.set(entryPath, value);
    for (const field of RELEASE_FIELDS) {
      if (before?.[field] !== undefined && after[field] === undefined) editor.delete([...entryPath, field]);
      if (before?.previous?.[field] !== undefined && previous && previous[field] === undefined)
        editor.delete([...entryPath, 'previous', field]);
    }
  }
  const edited = changes.length > 0 ? editor.toString() : (text ?? '');
  // Never write a file that would not be read back: validate what was written.
  if (changes.length > 0) parseVersionsFile(edited, file);
  return { text: edited, changes };
}

// ─── Describing a change ─────────────────────────────────────────────────────────────────────────

function shortDigest(digest: string | undefined): string {
  return digest ? `${digest.slice(0, 'sha256:'.length + 12)}…` : '';
}

export function describeRelease(release: Release | undefined): string {
  if (!release) return '(none)';
  return `${release.version}${release.digest ? ` (${shortDigest(release.digest)})` : ''}`;
}

export function commitMessage(request: PromoteRequest, changes: readonly ServiceChange[]): string {
  const where = request.operation === 'promote' ? `${request.environment} from ${request.from}` : request.environment;
  const subject = `${request.operation}(${where}): ${changes.map((change) => `${change.service} ${change.after.version}`).join(', ')}`;
  const lines = changes.map(
    (change) => `- ${change.environment}/${change.service}: ${describeRelease(change.before)} -> ${describeRelease(change.after)}`,
  );
  return [subject, '', ...lines, ...(request.meta.runUrl ? ['', `Run: ${request.meta.runUrl}`] : [])].join('\n');
}

/** The changes as a Markdown table: the `diff` output. */
export function diffMarkdown(changes: readonly ServiceChange[]): string {
  if (changes.length === 0) return 'No change.\n';
  const rows = changes.map(
    (change) => `| ${change.environment} | ${change.service} | ${describeRelease(change.before)} | ${describeRelease(change.after)} |`,
  );
  return ['| Environment | Service | Before | After |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}

// ─── Writing ─────────────────────────────────────────────────────────────────────────────────────

export interface WriteOptions {
  file: string;
  branch?: string;
  maxAttempts: number;
  author: { name: string; email: string };
  /** Whether `author` was given, rather than defaulted (the API mode then leaves it to GitHub). */
  authorGiven: boolean;
  edit: (text: string | undefined) => EditResult;
  message: (changes: ServiceChange[]) => string;
  log: (message: string) => void;
  /** Waits before a retry; jittered exponential backoff by default. */
  sleep?: (attempt: number) => Promise<void>;
}

export interface WriteResult {
  changed: boolean;
  changes: ServiceChange[];
  commit?: string;
  pullRequestUrl?: string;
  attempts: number;
}

/**
 * Full jitter: a random wait up to 150 ms × 2^attempt, at most 5 s. Runs that collided spread out
 * over wider and wider windows, so that twenty at once all land within the default ten attempts.
 */
export function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(5000, 150 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

const REJECTED_PUSH =
  /\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|stale info|incorrect old value/i;

/** A shallow clone of `url` into `dir`, on `branch` or the remote's default; returns the branch. */
async function cloneBranch(git: Git, url: string, dir: string, branch: string | undefined): Promise<{ clone: Git; branch: string }> {
  await mkdir(path.dirname(dir), { recursive: true });
  await git.run(['clone', '--quiet', '--depth=1', '--single-branch', ...(branch ? ['--branch', branch] : []), url, dir]);
  const clone = git.at(dir);
  const resolved = branch ?? (await clone.output(['symbolic-ref', '--short', 'HEAD']));
  return { clone, branch: resolved };
}

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

async function commitFile(clone: Git, options: WriteOptions, text: string, message: string): Promise<string> {
  const target = path.join(clone.cwd, options.file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, text);
  await clone.run(['add', '--', options.file]);
  const identity = ['-c', `user.name=${options.author.name}`, '-c', `user.email=${options.author.email}`];
  await clone.run([...identity, 'commit', '--quiet', '--no-verify', '--file=-'], { input: message });
  return clone.output(['rev-parse', 'HEAD']);
}

/**
 * git mode: shallow clone, edit, commit, push. A rejected push (another run got there first)
 * fetches the new tip, resets to it, applies the change again to the file as it is now, and
 * retries after a jittered backoff, up to `maxAttempts`.
 */
export async function writeWithGit(git: Git, url: string, workRoot: string, options: WriteOptions): Promise<WriteResult> {
  const dir = path.join(workRoot, `promote-${randomUUID()}`);
  try {
    const { clone, branch } = await cloneBranch(git, url, dir, options.branch);
    for (let attempt = 1; ; attempt++) {
      const { text, changes } = options.edit(await readText(path.join(dir, options.file)));
      if (changes.length === 0) return { changed: false, changes, attempts: attempt };
      const commit = await commitFile(clone, options, text, options.message(changes));
      const push = await clone.run(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], { allowFailure: true });
      if (push.exitCode === 0) {
        options.log(`Pushed ${commit.slice(0, 12)} to ${branch} (attempt ${attempt}).`);
        return { changed: true, changes, commit, attempts: attempt };
      }
      if (!REJECTED_PUSH.test(push.stderr))
        throw new CommandError(
          ['git', 'push', 'origin', `HEAD:refs/heads/${branch}`],
          push.exitCode,
          push.stderr,
          `git push origin HEAD:refs/heads/${branch}`,
        );
      if (attempt >= options.maxAttempts) {
        throw new UserError(
          'REFUSED',
          `Gave up after ${attempt} attempts: every push to ${branch} was rejected because the branch moved (other runs pushing at the same time). Nothing of this run was pushed; raise max-attempts or try again.`,
        );
      }
      options.log(
        `The push was rejected (the branch moved); applying the change again to the new ${options.file} (attempt ${attempt + 1}).`,
      );
      // Wait first, then fetch: the change is re-applied to the newest file and pushed at once,
      // so the window in which another run can move the branch is as short as it can be.
      await (options.sleep ?? backoff)(attempt);
      await clone.run(['fetch', '--quiet', '--depth=1', 'origin', branch]);
      await clone.run(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PullRequestTarget {
  github: GitHubClient;
  repository: Repository;
  environment: string;
}

/** The branch of a promotion: `promote/<environment>/<service>-<version>` (the first service, when several). */
export function promotionBranch(environment: string, changes: readonly ServiceChange[]): string {
  const [first] = changes as [ServiceChange];
  const more = changes.length > 1 ? `+${changes.length - 1}` : '';
  return `promote/${environment}/${first.service}-${first.after.version}${more}`;
}

/**
 * pull-request mode: the change goes to `promote/<environment>/<service>-<version>` and a pull
 * request; an open one for the same environment and service is reused (its branch is
 * force-pushed with the new change, its title and body updated).
 */
export async function writeWithPullRequest(
  git: Git,
  url: string,
  workRoot: string,
  target: PullRequestTarget,
  options: WriteOptions,
): Promise<WriteResult> {
  const dir = path.join(workRoot, `promote-${randomUUID()}`);
  try {
    const { clone, branch: base } = await cloneBranch(git, url, dir, options.branch);
    const { text, changes } = options.edit(await readText(path.join(dir, options.file)));
    if (changes.length === 0) return { changed: false, changes, attempts: 1 };
    const message = options.message(changes);
    const commit = await commitFile(clone, options, text, message);
    const { github, repository } = target;
    const open = await github.paginate(github.rest.pulls.list, { ...repository, state: 'open', base, per_page: 100 });
    const prefix = `promote/${target.environment}/${changes[0]?.service}-`;
    const reused =
      changes.length === 1
        ? open.find((pull) => pull.head.ref.startsWith(prefix) && !pull.head.ref.slice(prefix.length).includes('+'))
        : undefined;
    const branch = reused?.head.ref ?? promotionBranch(target.environment, changes);
    await clone.run(['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
    const [title, , ...body] = message.split('\n');
    const pull = reused
      ? (await github.rest.pulls.update({ ...repository, pull_number: reused.number, title, body: body.join('\n') })).data
      : (await github.rest.pulls.create({ ...repository, base, head: branch, title: title as string, body: body.join('\n') })).data;
    options.log(`${reused ? 'Updated' : 'Opened'} ${pull.html_url} from ${branch}.`);
    return { changed: true, changes, commit, pullRequestUrl: pull.html_url, attempts: 1 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * api mode: one commit through the Git Data API (a tree with the new file, a commit, a ref
 * update), which GitHub signs when a GitHub App token makes it and no author is given. A ref
 * update that is not a fast-forward (another commit landed) applies the change again and retries.
 */
export async function writeWithApi(github: GitHubClient, repository: Repository, options: WriteOptions): Promise<WriteResult> {
  const branch = options.branch || (await github.rest.repos.get({ ...repository })).data.default_branch;
  for (let attempt = 1; ; attempt++) {
    const head = (await github.rest.git.getRef({ ...repository, ref: `heads/${branch}` })).data.object.sha;
    let current: string | undefined;
    try {
      const { data } = await github.rest.repos.getContent({ ...repository, path: options.file, ref: head });
      if (Array.isArray(data) || data.type !== 'file')
        throw new UserError('INVALID_CONFIGURATION', `${options.file} in ${repository.owner}/${repository.repo} is not a file.`);
      current = Buffer.from(data.content, 'base64').toString('utf8');
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
    const { text, changes } = options.edit(current);
    if (changes.length === 0) return { changed: false, changes, attempts: attempt };
    const baseTree = (await github.rest.git.getCommit({ ...repository, commit_sha: head })).data.tree.sha;
    const tree = await github.rest.git.createTree({
      ...repository,
      base_tree: baseTree,
      tree: [{ path: options.file, mode: '100644', type: 'blob', content: text }],
    });
    const commit = await github.rest.git.createCommit({
      ...repository,
      message: options.message(changes),
      tree: tree.data.sha,
      parents: [head],
      ...(options.authorGiven ? { author: { name: options.author.name, email: options.author.email } } : {}),
    });
    try {
      await github.rest.git.updateRef({ ...repository, ref: `heads/${branch}`, sha: commit.data.sha, force: false });
      options.log(`Committed ${commit.data.sha.slice(0, 12)} to ${branch} through the API (attempt ${attempt}).`);
      return { changed: true, changes, commit: commit.data.sha, attempts: attempt };
    } catch (error) {
      if ((error as { status?: number }).status !== 422 || attempt >= options.maxAttempts) throw error;
      options.log(`${branch} moved while committing; applying the change again (attempt ${attempt + 1}).`);
      await (options.sleep ?? backoff)(attempt);
    }
  }
}
