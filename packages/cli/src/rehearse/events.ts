/**
 * The event that starts a rehearsal: its webhook payload (a real one from GitHub's examples when
 * given, else one of the same shape), filled in for the local repository, and whether a workflow's
 * `on:` is triggered by it, by GitHub's filter-pattern rules.
 */
import type { WorkflowTemplate } from '@actions/workflow-parser';
import { UnsupportedConstruct } from './errors.js';
import type { Json } from './expressions.js';

export type EventName = 'push' | 'workflow_dispatch' | 'pull_request';

export interface RehearsalEvent {
  name: EventName;
  /** refs/heads/main or refs/tags/UAT-1.0.0; for pull_request, refs/pull/<n>/merge. */
  ref: string;
  /** The commit the run is for (GITHUB_SHA). */
  sha: string;
  /** workflow_dispatch inputs. */
  inputs?: Record<string, string>;
  /** pull_request: the base and head branches. */
  pullRequest?: { number: number; base: string; baseSha: string; head: string; headSha: string };
  /** The commit the branch pointed at before a push (zeros for a new ref). */
  before?: string;
  actor: string;
}

export interface RepositoryFacts {
  fullName: string;
  defaultBranch: string;
  private: boolean;
  serverUrl: string;
}

const ZERO = '0'.repeat(40);

function repositoryPayload(repo: RepositoryFacts, base: Record<string, Json> | undefined): Record<string, Json> {
  const [owner = '', name = ''] = repo.fullName.split('/');
  const html = `${repo.serverUrl}/${repo.fullName}`;
  return {
    ...(base ?? {}),
    name,
    full_name: repo.fullName,
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    owner: { ...((base?.owner as Record<string, Json> | undefined) ?? {}), login: owner, name: owner },
    html_url: html,
    clone_url: `${html}.git`,
    default_branch: repo.defaultBranch,
  };
}

/**
 * The payload GitHub would send (GITHUB_EVENT_PATH, `github.event`). `base` is a real webhook
 * payload of that event (from octokit/webhooks' examples) whose every field is kept where the
 * rehearsal has no value of its own; without it the payload has only the fields set here.
 */
export function eventPayload(event: RehearsalEvent, repo: RepositoryFacts, base?: Record<string, Json>): Record<string, Json> {
  const sender = { ...((base?.sender as Record<string, Json> | undefined) ?? {}), login: event.actor, type: 'User' };
  const repository = repositoryPayload(repo, base?.repository as Record<string, Json> | undefined);
  switch (event.name) {
    case 'push':
      return {
        ...(base ?? {}),
        ref: event.ref,
        before: event.before ?? ZERO,
        after: event.sha,
        created: (event.before ?? ZERO) === ZERO,
        deleted: false,
        forced: false,
        base_ref: null,
        compare: `${repository.html_url as string}/compare/${(event.before ?? ZERO).slice(0, 12)}...${event.sha.slice(0, 12)}`,
        commits: [],
        head_commit: { id: event.sha, tree_id: '', distinct: true, message: '', timestamp: new Date().toISOString(), url: '' },
        repository,
        pusher: { name: event.actor, email: `${event.actor}@users.noreply.invalid` },
        sender,
      };
    case 'workflow_dispatch':
      return { ...(base ?? {}), inputs: event.inputs ?? {}, ref: event.ref, repository, sender, workflow: '' };
    case 'pull_request': {
      const pr = event.pullRequest;
      if (!pr) throw new Error('a pull_request event needs its pull request');
      const basePr = (base?.pull_request as Record<string, Json> | undefined) ?? {};
      return {
        ...(base ?? {}),
        action: 'opened',
        number: pr.number,
        pull_request: {
          ...basePr,
          number: pr.number,
          state: 'open',
          head: { ...((basePr.head as Record<string, Json> | undefined) ?? {}), ref: pr.head, sha: pr.headSha, repo: repository },
          base: { ...((basePr.base as Record<string, Json> | undefined) ?? {}), ref: pr.base, sha: pr.baseSha, repo: repository },
        },
        repository,
        sender,
      };
    }
  }
}

/**
 * GitHub's filter patterns (docs: "Filter pattern cheat sheet"): `*` is any run of characters but
 * `/`, `**` any run at all, `?` and `+` make the character before them optional or repeatable,
 * `[…]` is a class; a leading `!` in a list excludes what earlier patterns matched.
 */
export function filterPatternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '*') {
      if (pattern[index + 1] === '*') {
        source += '.*';
        index++;
      } else source += '[^/]*';
    } else if (char === '?' || char === '+') source += char;
    else if (char === '[') {
      const end = pattern.indexOf(']', index);
      if (end < 0) source += '\\[';
      else {
        source += pattern.slice(index, end + 1);
        index = end;
      }
    } else if (char === '\\' && index + 1 < pattern.length) {
      source += `\\${pattern[index + 1] as string}`;
      index++;
    } else source += char.replace(/[.^$|(){}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether `name` passes a list of patterns (with `!` exclusions, the last match winning). */
export function matchesFilters(name: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (filterPatternToRegExp(pattern.slice(1)).test(name)) matched = false;
    } else if (filterPatternToRegExp(pattern).test(name)) matched = true;
  }
  return matched;
}

/**
 * Whether the workflow runs for the event: the event is in `on:`, and its branch or tag passes the
 * filters. Filters the rehearsal does not apply (`paths:`, a pull request's `types:` other than
 * opened) fail, naming the file, rather than being run as if absent.
 */
export function triggers(template: WorkflowTemplate, event: RehearsalEvent, file = 'the workflow'): boolean {
  const config = template.events[event.name] as
    | {
        branches?: string[];
        'branches-ignore'?: string[];
        tags?: string[];
        'tags-ignore'?: string[];
        paths?: string[];
        'paths-ignore'?: string[];
        types?: string[];
      }
    | undefined;
  if (config === undefined) return false;
  if (config.paths || config['paths-ignore']) {
    throw new UnsupportedConstruct(file, undefined, `on.${event.name}.paths: path filters are not applied by the rehearsal`);
  }
  // The rehearsal's pull request is one just opened.
  if (event.name === 'pull_request' && config.types && !config.types.includes('opened')) return false;
  if (event.name === 'workflow_dispatch') return true;
  const ref = event.name === 'pull_request' ? `refs/heads/${event.pullRequest?.base ?? ''}` : event.ref;
  const isTag = ref.startsWith('refs/tags/');
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  const include = isTag ? config.tags : config.branches;
  const exclude = isTag ? config['tags-ignore'] : config['branches-ignore'];
  const other = isTag ? (config.branches ?? config['branches-ignore']) : (config.tags ?? config['tags-ignore']);
  if (include) return matchesFilters(name, include);
  if (exclude) return !matchesFilters(name, exclude);
  // Only tag filters (or only branch filters) given: refs of the other kind do not run it.
  return other === undefined;
}
