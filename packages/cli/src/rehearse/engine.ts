/**
 * The rehearsal: workflow runs as GitHub would run them, on this machine. Jobs run in `needs`
 * order, with `if:` and status functions, matrices, job outputs, reusable workflows (nested, with
 * `with:`, `secrets:` and `outputs:`), environments (recorded as approvals) and concurrency groups
 * (recorded); each job gets a GITHUB_TOKEN with exactly its `permissions:`, which the GitHub
 * stand-in enforces. A construct it does not run fails with file:line, never silently.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReusableWorkflowJob, WorkflowJob, Job as WorkflowStepJob } from '@actions/workflow-parser/model/workflow-template';
import { isMapping, isString } from '@actions/workflow-parser';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { Git } from '@toolkit/shared';
import { applyMasks } from '../local-runner.js';
import { UnsupportedConstruct } from './errors.js';
import { type EventName, type RehearsalEvent, eventPayload, triggers } from './events.js';
import { type Contexts, type Json, asString, evaluateStringMap, evaluateToken, isTruthy } from './expressions.js';
import { type RunStepSpec, type StepKind, type UsesStepSpec, runStep } from './steps.js';
import {
  PERMISSION_SCOPES,
  type Denial,
  type PermissionLevel,
  type Permissions,
  type RehearsalWorld,
  type StandIn,
  type WorkflowDispatch,
} from './types.js';
import { type LoadedWorkflow, type WorkflowSource, child, loadWorkflow, parseWorkflowReference, rawJob, rawSteps } from './workflow.js';

export type JobResult = 'success' | 'failure' | 'skipped';

export interface StepReport {
  name: string;
  /** What the step output (masked). */
  outputs: Record<string, string>;
  kind: StepKind | 'skipped';
  uses?: string;
  outcome: 'success' | 'failure' | 'skipped';
  conclusion: 'success' | 'failure' | 'skipped';
  durationMs: number;
}

export interface JobReport {
  /** The job's path through the calls: release/build/build. */
  id: string;
  name: string;
  /** The workflow file that defines it. */
  workflow: string;
  result: JobResult;
  outputs: Record<string, string>;
  summary: string;
  durationMs: number;
  environment?: string;
  concurrency?: string;
  permissions: Permissions;
  matrix?: Record<string, Json>;
  steps: StepReport[];
  /** Why it failed or was skipped, in one line. */
  reason?: string;
}

export interface RunReport {
  workflow: string;
  event: EventName;
  ref: string;
  conclusion: 'success' | 'failure';
  concurrency?: string;
}

export interface RehearsalReport {
  conclusion: 'success' | 'failure';
  runs: RunReport[];
  jobs: JobReport[];
  /** Each job that ran in a GitHub environment: on GitHub, each is one approval where that environment requires one. */
  approvals: { job: string; environment: string }[];
  standIns: string[];
  denials: Denial[];
}

export interface RehearsalOptions {
  world: RehearsalWorld;
  /** The app repository (owner/name), one of world.repositories. */
  repository: string;
  event: RehearsalEvent;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** Real webhook payloads to start each event's payload from. */
  basePayloads?: Partial<Record<EventName, Record<string, Json>>>;
  /** Only these workflow files (paths in the repository) are considered. */
  workflows?: string[];
  /** Only these top-level jobs run; the others are reported as skipped, not selected. */
  jobs?: string[];
  standIns: StandIn[];
  log(line: string): void;
  /** Called after each job finishes. */
  onJob?(job: JobReport): void;
}

const DEFAULT_PERMISSIONS: Permissions = { contents: 'read', packages: 'read' };
const LEVEL: Record<PermissionLevel, number> = { none: 0, read: 1, write: 2 };

function allPermissions(level: PermissionLevel): Permissions {
  return Object.fromEntries(PERMISSION_SCOPES.map((scope) => [scope, level]));
}

/** `permissions:` as written (read-all, write-all, {} or a mapping), resolved to every scope. */
function readPermissions(token: TemplateToken | undefined, file: string): Permissions | undefined {
  if (token === undefined) return undefined;
  if (isString(token)) {
    if (token.value === 'read-all') return allPermissions('read');
    if (token.value === 'write-all') return allPermissions('write');
    throw new UnsupportedConstruct(file, token.line, `permissions: ${token.value} is not read-all, write-all or a mapping`);
  }
  if (!isMapping(token)) throw new UnsupportedConstruct(file, token.line, 'permissions: must be a mapping');
  const result = allPermissions('none');
  for (const { key, value } of token) {
    if (!isString(key) || !isString(value) || !(value.value in LEVEL)) {
      throw new UnsupportedConstruct(file, key.line, 'permissions: entries are scope: read|write|none');
    }
    result[key.value] = value.value as PermissionLevel;
  }
  return result;
}

/**
 * This machine's environment, as a runner's own, less what a runner sets per job or step: a
 * GITHUB_TOKEN or INPUT_ in the shell that started the rehearsal must not reach a step.
 */
function machineEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(GITHUB_|ACTIONS_|INPUT_|STATE_|RUNNER_)/.test(name)) env[name] = value;
  }
  return env;
}

/**
 * What a secret masks: itself, and each of its lines of 4 or more characters, since the log is
 * masked one line at a time (the lines of a private key would show otherwise), as InputReader.secret does.
 */
export function secretMasks(value: string): string[] {
  if (value === '') return [];
  const lines = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= 4 && line !== value);
  return [value, ...lines];
}

function permissionsText(permissions: Permissions): string {
  const granted = Object.entries(permissions).filter(([, level]) => level !== 'none');
  return granted.length === 0 ? 'none' : granted.map(([scope, level]) => `${scope}: ${level}`).join(', ');
}

/**
 * The keys the rehearsal runs. Others change what a run does (`container:`, `services:`,
 * `defaults:`, a job's `continue-on-error:`), so a file using one fails rather than being run as if
 * it were absent. `runs-on`, `timeout-minutes` and strategy's `max-parallel` do not
 * change what the jobs compute: jobs run one after another here.
 */
const RUN_KEYS = {
  workflow: new Set(['name', 'run-name', 'on', 'permissions', 'env', 'concurrency', 'jobs']),
  job: new Set([
    'name',
    'needs',
    'if',
    'runs-on',
    'permissions',
    'environment',
    'concurrency',
    'outputs',
    'env',
    'steps',
    'strategy',
    'timeout-minutes',
    'uses',
    'with',
    'secrets',
  ]),
  step: new Set(['id', 'name', 'if', 'uses', 'run', 'with', 'env', 'shell', 'working-directory', 'continue-on-error', 'timeout-minutes']),
};

function refuseUnknownKeys(token: TemplateToken, allowed: Set<string>, what: string, file: string): void {
  if (!isMapping(token)) return;
  for (const { key } of token) {
    if (isString(key) && !allowed.has(key.value)) {
      throw new UnsupportedConstruct(
        file,
        key.line,
        `${what} ${key.value}: is not run by the rehearsal (it runs: ${[...allowed].join(', ')})`,
      );
    }
  }
}

/** Jobs in an order where every job comes after what it needs; a cycle or unknown need fails. */
function jobOrder(jobs: WorkflowJob[], file: string): WorkflowJob[] {
  const byId = new Map(jobs.map((job) => [job.id.value, job]));
  const ordered: WorkflowJob[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (job: WorkflowJob) => {
    const id = job.id.value;
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new UnsupportedConstruct(file, job.id.line, `job ${id} needs itself through a cycle`);
    state.set(id, 'visiting');
    for (const need of job.needs ?? []) {
      const needed = byId.get(need.value);
      if (!needed) throw new UnsupportedConstruct(file, need.line, `job ${id} needs ${need.value}, which does not exist`);
      visit(needed);
    }
    state.set(id, 'done');
    ordered.push(job);
  };
  for (const job of jobs) visit(job);
  return ordered;
}

/** The combinations of `strategy.matrix`: axes crossed, `exclude` removed, `include` merged or added, as GitHub documents. */
export function expandMatrix(matrix: Json, file: string, line?: number): Record<string, Json>[] {
  if (matrix === null) return [{}];
  if (typeof matrix !== 'object' || Array.isArray(matrix)) throw new UnsupportedConstruct(file, line, 'strategy.matrix must be a mapping');
  const { include, exclude, ...axes } = matrix as Record<string, Json>;
  let combinations: Record<string, Json>[] = [{}];
  for (const [axis, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new UnsupportedConstruct(file, line, `strategy.matrix.${axis} must be a list`);
    combinations = combinations.flatMap((combination) => values.map((value) => ({ ...combination, [axis]: value })));
  }
  if (Object.keys(axes).length === 0) combinations = [];
  const matches = (combination: Record<string, Json>, pattern: Record<string, Json>) =>
    Object.entries(pattern).every(([key, value]) => JSON.stringify(combination[key]) === JSON.stringify(value));
  if (Array.isArray(exclude)) {
    combinations = combinations.filter((combination) => !exclude.some((pattern) => matches(combination, pattern as Record<string, Json>)));
  }
  const original = combinations.map((combination) => ({ ...combination }));
  for (const entry of Array.isArray(include) ? (include as Record<string, Json>[]) : []) {
    let merged = false;
    // An include entry extends every original combination none of whose original values it overwrites.
    original.forEach((base, index) => {
      if (Object.entries(entry).every(([key, value]) => !(key in base) || JSON.stringify(base[key]) === JSON.stringify(value))) {
        Object.assign(combinations[index] as Record<string, Json>, entry);
        merged = true;
      }
    });
    if (!merged) combinations.push({ ...entry });
  }
  // GitHub fails a job whose matrix has no combination ("Matrix must define at least one vector"):
  // a workflow guards such a job with an if.
  return combinations;
}

interface CallFrame {
  workflow: LoadedWorkflow;
  /** The job id path of the calling jobs: ['release'] inside release.yml called by job release. */
  path: string[];
  inputs: Record<string, Json>;
  secrets: Record<string, string>;
  /** The most a job in this workflow may have: the calling job's permissions (top level: everything). */
  ceiling?: Permissions;
}

interface NeedResult {
  result: JobResult;
  outputs: Record<string, string>;
  /** Whether this job or any job it needs, however far back, failed (what failure() asks). */
  failedAncestry: boolean;
}

let runCounter = 0;

/** Rehearses one event: every workflow of the repository it triggers, then every workflow a step dispatched. */
export async function rehearse(options: RehearsalOptions): Promise<RehearsalReport> {
  const { world } = options;
  const report: RehearsalReport = { conclusion: 'success', runs: [], jobs: [], approvals: [], standIns: [...world.standIns], denials: [] };
  const standIns = new Map(options.standIns.map((standIn) => [standIn.action, standIn]));
  for (const standIn of options.standIns) report.standIns.push(`${standIn.action}: ${standIn.description}`);
  if (options.event.name === 'workflow_dispatch' && options.workflows?.length !== 1) {
    throw new UnsupportedConstruct(
      options.repository,
      undefined,
      'a workflow_dispatch event starts one workflow: name it (--workflow .github/workflows/<file>)',
    );
  }
  const queue: { event: RehearsalEvent; workflows?: string[] }[] = [{ event: options.event, workflows: options.workflows }];
  const { event } = options;
  const dispatched = (dispatch: WorkflowDispatch) => {
    if (dispatch.repository !== options.repository) return;
    queue.push({
      event: { name: 'workflow_dispatch', ref: dispatch.ref, sha: '', inputs: dispatch.inputs, actor: event.actor },
      workflows: [dispatch.workflow.includes('/') ? dispatch.workflow : `.github/workflows/${dispatch.workflow}`],
    });
  };
  const stopListening = world.github.onDispatch(dispatched);
  const deniedBefore = world.github.denials.length;
  const repo = world.repositories.get(options.repository);
  if (!repo) throw new UnsupportedConstruct(options.repository, undefined, 'is not a repository of this rehearsal');
  const git = new Git({ cwd: repo.bareDir });

  try {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const event = { ...next.event };
      if (event.name === 'pull_request') Object.assign(event, await pullRequestMerge(git, event));
      if (!event.ref.startsWith('refs/')) {
        const isTag =
          (await git.run(['rev-parse', '--verify', '--quiet', `refs/tags/${event.ref}`], { allowFailure: true })).exitCode === 0;
        event.ref = `refs/${isTag ? 'tags' : 'heads'}/${event.ref}`;
      }
      if (!event.sha) event.sha = await git.output(['rev-parse', `${event.ref}^{commit}`]);
      const source: WorkflowSource = { repository: options.repository, gitDir: repo.bareDir, ref: event.ref, sha: event.sha };
      const files =
        next.workflows ??
        (await git.output(['ls-tree', '--name-only', event.sha, '.github/workflows/']).catch(() => ''))
          .split('\n')
          .filter((file) => /\.ya?ml$/.test(file));
      for (const file of files) {
        const workflow = await loadWorkflow(source, file);
        if (!triggers(workflow.template, event, workflow.display)) continue;
        options.log(`▶ ${workflow.display}: ${event.name} ${event.ref}`);
        const run = await runWorkflow(options, report, standIns, workflow, event);
        report.runs.push(run);
        if (run.conclusion === 'failure') report.conclusion = 'failure';
      }
    }
  } finally {
    stopListening();
  }
  report.denials.push(...world.github.denials.slice(deniedBefore));
  return report;
}

/**
 * A pull request's refs as GitHub makes them: refs/pull/<n>/head at the head branch, and
 * refs/pull/<n>/merge at a test merge of it into the base (the commit the run is for). A pull
 * request that does not merge cleanly fails, as GitHub then runs no workflow.
 */
async function pullRequestMerge(git: Git, event: RehearsalEvent): Promise<Pick<RehearsalEvent, 'ref' | 'sha' | 'pullRequest'>> {
  const pr = event.pullRequest;
  if (!pr) throw new UnsupportedConstruct('pull_request', undefined, 'a pull_request event needs its base and head branches');
  const baseSha = await git.output(['rev-parse', '--verify', `refs/heads/${pr.base}^{commit}`]);
  const headSha = await git.output(['rev-parse', '--verify', `refs/heads/${pr.head}^{commit}`]);
  const merged = await git.run(['merge-tree', '--write-tree', baseSha, headSha], { allowFailure: true });
  if (merged.exitCode !== 0) throw new UnsupportedConstruct('pull_request', undefined, `${pr.head} does not merge cleanly into ${pr.base}`);
  const tree = merged.stdout.split('\n')[0] ?? '';
  const identity = {
    GIT_AUTHOR_NAME: 'GitHub',
    GIT_AUTHOR_EMAIL: 'noreply@github.invalid',
    GIT_COMMITTER_NAME: 'GitHub',
    GIT_COMMITTER_EMAIL: 'noreply@github.invalid',
  };
  const merge = await new Git({ cwd: git.cwd, env: identity }).output([
    'commit-tree',
    tree,
    '-p',
    baseSha,
    '-p',
    headSha,
    '-m',
    `Merge ${headSha} into ${baseSha}`,
  ]);
  await git.run(['update-ref', `refs/pull/${pr.number}/head`, headSha]);
  await git.run(['update-ref', `refs/pull/${pr.number}/merge`, merge]);
  return { ref: `refs/pull/${pr.number}/merge`, sha: merge, pullRequest: { ...pr, baseSha, headSha } };
}

async function runWorkflow(
  options: RehearsalOptions,
  report: RehearsalReport,
  standIns: ReadonlyMap<string, StandIn>,
  workflow: LoadedWorkflow,
  event: RehearsalEvent,
): Promise<RunReport> {
  const { world } = options;
  const repo = world.repositories.get(options.repository);
  const runId = String(1000 + ++runCounter);
  const runDir = await mkdtemp(path.join(world.scratch, `run-${runId}-`));
  const payload = eventPayload(
    event,
    { fullName: options.repository, defaultBranch: repo?.defaultBranch ?? 'main', private: true, serverUrl: world.github.serverUrl },
    options.basePayloads?.[event.name],
  );
  const eventPath = path.join(runDir, 'event.json');
  await writeFile(eventPath, JSON.stringify(payload, null, 2));
  const dispatchInputs = workflow.template.events.workflow_dispatch?.inputs ?? {};
  const inputs: Record<string, Json> = {};
  if (event.name === 'workflow_dispatch') {
    for (const [name, config] of Object.entries(dispatchInputs)) {
      const given = event.inputs?.[name];
      if (given === undefined && config.required && config.default === undefined) {
        throw new UnsupportedConstruct(workflow.display, undefined, `workflow_dispatch input ${name} is required and was not given`);
      }
      const value = given ?? (config.default !== undefined ? String(config.default) : '');
      inputs[name] = config.type === 'boolean' ? value === 'true' : value;
    }
  }
  const ref = event.ref;
  const github: Record<string, Json> = {
    event_name: event.name,
    event: payload as Json,
    event_path: eventPath,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags|pull)\//, ''),
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: false,
    sha: event.sha,
    head_ref: event.pullRequest?.head ?? '',
    base_ref: event.pullRequest?.base ?? '',
    repository: options.repository,
    repository_owner: options.repository.split('/')[0] ?? '',
    repositoryUrl: `${world.github.serverUrl}/${options.repository}.git`,
    actor: event.actor,
    triggering_actor: event.actor,
    run_id: runId,
    run_number: String(runCounter),
    run_attempt: '1',
    retention_days: '90',
    server_url: world.github.serverUrl,
    api_url: world.github.apiUrl,
    graphql_url: `${world.github.apiUrl}/graphql`,
    workflow: workflow.name,
    workflow_ref: `${options.repository}/${workflow.path}@${ref}`,
    workflow_sha: event.sha,
  };
  const concurrency = workflowConcurrency(workflow, { github, inputs, vars: options.vars ?? {} });
  const frame: CallFrame = { workflow, path: [], inputs, secrets: options.secrets ?? {} };
  const results = await runJobs(options, report, standIns, frame, { github, eventPath, runDir, source: workflow.source });
  const failed = Object.values(results).some((result) => result.result === 'failure');
  return {
    workflow: workflow.display,
    event: event.name,
    ref,
    conclusion: failed ? 'failure' : 'success',
    ...(concurrency ? { concurrency } : {}),
  };
}

function workflowConcurrency(workflow: LoadedWorkflow, contexts: Contexts): string | undefined {
  const token = workflow.template.concurrency;
  return token ? stringOrKey(evaluateToken(token, { contexts, file: workflow.display }), 'group') : undefined;
}

/** `environment: prod` or `environment: {name: prod}`; `concurrency: g` or `{group: g}`. */
function stringOrKey(value: Json, key: string): string | undefined {
  if (value === null) return undefined;
  return asString(typeof value === 'object' && !Array.isArray(value) ? (value[key] ?? '') : value) || undefined;
}

interface RunContext {
  github: Record<string, Json>;
  eventPath: string;
  runDir: string;
  /** The run's repository at its commit: where `./` of any workflow in the run resolves. */
  source: WorkflowSource;
}

async function runJobs(
  options: RehearsalOptions,
  report: RehearsalReport,
  standIns: ReadonlyMap<string, StandIn>,
  frame: CallFrame,
  run: RunContext,
): Promise<Record<string, NeedResult>> {
  const { workflow } = frame;
  const results: Record<string, NeedResult> = {};
  refuseUnknownKeys(workflow.root, RUN_KEYS.workflow, 'the workflow key', workflow.display);
  const workflowPermissions = readPermissions(child(workflow.root, 'permissions'), workflow.display);
  // Every job's token, settled before any job runs: GitHub refuses a called workflow whose job asks
  // for more than its caller has at the start, whether or not that job would run.
  const permissions = new Map<string, Permissions>();
  for (const job of workflow.template.jobs) {
    const id = job.id.value;
    // A called workflow's job that declares nothing gets what its caller has, as on GitHub.
    const declared =
      readPermissions(child(rawJob(workflow, id), 'permissions'), workflow.display) ??
      workflowPermissions ??
      frame.ceiling ??
      DEFAULT_PERMISSIONS;
    const resolved = { ...allPermissions('none'), ...declared };
    for (const [scope, level] of Object.entries(frame.ceiling ? resolved : {})) {
      const allowed = frame.ceiling?.[scope] ?? 'none';
      if (LEVEL[level] > LEVEL[allowed]) {
        throw new UnsupportedConstruct(
          `${workflow.display}:${job.id.line ?? ''}`,
          undefined,
          `the nested job '${id}' is requesting '${scope}: ${level}', but is only allowed '${scope}: ${allowed}' by the calling job ${frame.path.join('/')}`,
        );
      }
    }
    permissions.set(id, resolved);
  }
  for (const job of jobOrder(workflow.template.jobs, workflow.display)) {
    const id = job.id.value;
    const jobPath = [...frame.path, id];
    const started = Date.now();
    const needs: Record<string, Json> = {};
    for (const need of job.needs ?? []) {
      const result = results[need.value] as NeedResult;
      needs[need.value] = { result: result.result, outputs: result.outputs };
    }
    const needResults = (job.needs ?? []).map((need) => (results[need.value] as NeedResult).result);
    const status = {
      success: needResults.every((result) => result === 'success'),
      failed: (job.needs ?? []).some((need) => (results[need.value] as NeedResult).failedAncestry),
    };
    const baseContexts: Contexts = { github: run.github, inputs: frame.inputs, vars: options.vars ?? {}, needs };
    /** A job that ran no step: skipped, or failed before its first (an empty matrix). */
    const stepless = (result: 'skipped' | 'failure', reason: string): NeedResult => {
      const ended: JobReport = {
        id: jobPath.join('/'),
        name: id,
        workflow: workflow.display,
        result,
        outputs: {},
        summary: '',
        durationMs: 0,
        permissions: {},
        steps: [],
        reason,
      };
      report.jobs.push(ended);
      options.onJob?.(ended);
      return { result, outputs: {}, failedAncestry: result === 'failure' || status.failed };
    };
    const skip = (reason: string) => stepless('skipped', reason);
    if (frame.path.length === 0 && options.jobs && !options.jobs.includes(id)) {
      results[id] = skip('not selected (--job)');
      continue;
    }
    // A job whose needs failed is skipped unless its condition has a status function saying otherwise.
    const condition = evaluateToken(job.if, { contexts: baseContexts, status, file: workflow.display });
    if (!isTruthy(condition)) {
      results[id] = skip(`if: ${job.if?.expression ?? ''} is false`);
      continue;
    }
    refuseUnknownKeys(rawJob(workflow, id), RUN_KEYS.job, `job ${id}:`, workflow.display);
    const resolved = permissions.get(id) as Permissions;
    const strategy = evaluateToken(job.strategy, { contexts: baseContexts, file: workflow.display });
    const matrix = strategy && typeof strategy === 'object' && !Array.isArray(strategy) ? (strategy.matrix ?? null) : null;
    const combinations = expandMatrix(matrix, workflow.display, job.strategy?.line);
    if (combinations.length === 0) {
      const message = `Error when evaluating 'strategy' for job '${id}'. ${workflow.display}${job.strategy?.line ? `:${job.strategy.line}` : ''}: Matrix must define at least one vector`;
      options.log(`  [${jobPath.join('/')}] ${message}`);
      results[id] = stepless('failure', message);
      continue;
    }
    // fail-fast (the default): after a failed combination GitHub cancels the rest, so they do nothing.
    const failFast = !(strategy && typeof strategy === 'object' && !Array.isArray(strategy) && strategy['fail-fast'] === false);
    let result: JobResult = 'success';
    let outputs: Record<string, string> = {};
    for (const [index, combination] of combinations.entries()) {
      if (result === 'failure' && failFast) {
        options.log(
          `  [${jobPath.join('/')}] ${combinations.length - index} matrix combination(s) not run: an earlier one failed (fail-fast)`,
        );
        break;
      }
      const contexts: Contexts = {
        ...baseContexts,
        matrix: combination,
        strategy: { 'fail-fast': failFast, 'job-index': index, 'job-total': combinations.length },
      };
      const one =
        job.type === 'reusableWorkflowJob'
          ? await runCalledWorkflow(options, report, standIns, frame, run, job, contexts, resolved)
          : await runStepJob(options, report, standIns, frame, run, job, contexts, resolved, combination, started);
      if (one.result === 'failure') result = 'failure';
      outputs = { ...outputs, ...one.outputs };
    }
    results[id] = { result, outputs, failedAncestry: result === 'failure' || status.failed };
  }
  return results;
}

async function runCalledWorkflow(
  options: RehearsalOptions,
  report: RehearsalReport,
  standIns: ReadonlyMap<string, StandIn>,
  frame: CallFrame,
  run: RunContext,
  job: ReusableWorkflowJob,
  contexts: Contexts,
  permissions: Permissions,
): Promise<NeedResult> {
  const { world } = options;
  const caller = frame.workflow;
  const where = `${caller.display}:${job.ref.line ?? ''}`;
  const reference = parseWorkflowReference(job.ref.value, caller.display, job.ref.line);
  let source: WorkflowSource = reference.local === 'self' ? caller.source : run.source;
  if (reference.local === false) {
    const local =
      reference.repository === world.toolkit.repository ? world.toolkit.dir : world.repositories.get(reference.repository)?.bareDir;
    if (!local) {
      throw new UnsupportedConstruct(
        where,
        undefined,
        `uses: ${job.ref.value} names ${reference.repository}, which this rehearsal does not have (the toolkit here is ${world.toolkit.repository})`,
      );
    }
    const sha = await new Git({ cwd: local }).output(['rev-parse', '--verify', '--quiet', `${reference.ref}^{commit}`]).catch(() => {
      throw new UnsupportedConstruct(where, undefined, `uses: ${job.ref.value}: ${reference.repository} has no ref ${reference.ref}`);
    });
    source = { repository: reference.repository, gitDir: local, ref: reference.ref, sha };
  }
  const called = await loadWorkflow(source, reference.path);
  const call = called.template.events.workflow_call;
  if (!call) throw new UnsupportedConstruct(where, undefined, `${called.display} has no on.workflow_call, so it cannot be called`);
  const given = evaluateToken(job['input-values'], { contexts, file: caller.display }) ?? {};
  const inputs: Record<string, Json> = {};
  const definitions = call.inputs ?? {};
  for (const name of Object.keys(given as Record<string, Json>)) {
    if (!(name in definitions)) throw new UnsupportedConstruct(where, undefined, `with: ${name} is not an input of ${called.display}`);
  }
  for (const [name, definition] of Object.entries(definitions)) {
    let value = (given as Record<string, Json>)[name];
    if (value === undefined) {
      if (definition.required) throw new UnsupportedConstruct(where, undefined, `input ${name} of ${called.display} is required`);
      const fallback = definition.default;
      value =
        fallback === undefined
          ? definition.type === 'boolean'
            ? false
            : ''
          : typeof fallback === 'object'
            ? evaluateToken(fallback, { contexts: { github: run.github, inputs: {}, vars: options.vars ?? {} }, file: called.display })
            : fallback;
    }
    if (definition.type === 'boolean') value = value === true || value === 'true';
    inputs[name] = value;
  }
  // secrets.GITHUB_TOKEN in a calling job's secrets: is a token with that job's permissions.
  const callerToken = world.github.issueToken({
    holder: `${caller.display.replace(/^.*\/\.github\/workflows\//, '')} → ${[...frame.path, job.id.value].join('/')} (GITHUB_TOKEN)`,
    repositories: [String(run.github.repository)],
    permissions,
  });
  const secrets: Record<string, string> = job['inherit-secrets']
    ? { ...frame.secrets }
    : evaluateStringMap(job['secret-values'], {
        contexts: { ...contexts, secrets: { ...frame.secrets, GITHUB_TOKEN: callerToken } },
        file: caller.display,
      });
  if (!job['inherit-secrets']) {
    for (const name of Object.keys(secrets)) {
      if (!(name in (call.secrets ?? {})))
        throw new UnsupportedConstruct(where, undefined, `secret ${name} is not defined in the referenced workflow ${called.display}`);
    }
  }
  for (const [name, definition] of Object.entries(call.secrets ?? {})) {
    if (definition.required && !secrets[name])
      throw new UnsupportedConstruct(where, undefined, `secret ${name} of ${called.display} is required`);
  }
  const jobId = job.id.value;
  const results = await runJobs(
    options,
    report,
    standIns,
    {
      workflow: called,
      path: [...frame.path, jobId],
      inputs,
      secrets,
      ceiling: permissions,
    },
    run,
  );
  const jobsContext = Object.fromEntries(
    Object.entries(results).map(([id, result]) => [id, { result: result.result, outputs: result.outputs }]),
  );
  const outputs: Record<string, string> = {};
  const outputsToken = child(child(child(called.root, 'on'), 'workflow_call'), 'outputs');
  if (outputsToken && isMapping(outputsToken)) {
    for (const { key, value } of outputsToken) {
      const expression = child(value, 'value');
      outputs[asString(evaluateToken(key, { contexts: {}, file: called.display }))] = asString(
        evaluateToken(expression, {
          contexts: { github: run.github, inputs, vars: options.vars ?? {}, jobs: jobsContext },
          file: called.display,
        }),
      );
    }
  }
  const failed = Object.values(results).some((result) => result.result === 'failure');
  return { result: failed ? 'failure' : 'success', outputs, failedAncestry: failed };
}

function stepName(
  step: MappingToken,
  index: number,
  spec: RunStepSpec | UsesStepSpec,
  scope: { contexts: Contexts; file: string },
): string {
  const name = child(step, 'name');
  if (name) return asString(evaluateToken(name, scope));
  if (spec.kind === 'uses') return spec.uses.replace(/@[0-9a-f]{40}$/, '');
  const firstLine = spec.script.trim().split('\n')[0] ?? '';
  return firstLine ? `Run ${firstLine}`.slice(0, 80) : `step ${index + 1}`;
}

async function runStepJob(
  options: RehearsalOptions,
  report: RehearsalReport,
  standIns: ReadonlyMap<string, StandIn>,
  frame: CallFrame,
  run: RunContext,
  job: WorkflowStepJob,
  contexts: Contexts,
  permissions: Permissions,
  matrix: Record<string, Json>,
  started: number,
): Promise<NeedResult> {
  const { world } = options;
  const { workflow } = frame;
  const id = job.id.value;
  const jobPath = [...frame.path, id].join('/');
  const file = workflow.display;
  const scope = (extra: Contexts = {}) => ({ contexts: { ...contexts, ...extra }, file });
  const name = job.name ? asString(evaluateToken(job.name, scope())) : id;
  const environment = job.environment ? stringOrKey(evaluateToken(job.environment, scope()), 'name') : undefined;
  const concurrency = job.concurrency ? stringOrKey(evaluateToken(job.concurrency, scope()), 'group') : undefined;
  if (environment) report.approvals.push({ job: jobPath, environment });

  const jobDir = await mkdtemp(path.join(run.runDir, `job-${id}-`));
  const workspace = path.join(jobDir, 'workspace');
  const runnerTemp = path.join(jobDir, 'temp');
  await mkdir(workspace, { recursive: true });
  await mkdir(runnerTemp, { recursive: true });
  const holder = `${file.replace(/^.*\/\.github\/workflows\//, '')} → ${jobPath} (GITHUB_TOKEN)`;
  const grant = { holder, repositories: [String(run.github.repository)], permissions };
  const token = world.github.issueToken(grant);
  const masks = [token, ...Object.values(frame.secrets).flatMap(secretMasks)];
  const log = (line: string) => options.log(`  [${jobPath}] ${line}`);
  log(`job ${name} (permissions: ${permissionsText(permissions)}${environment ? `; environment: ${environment}` : ''})`);

  const source = workflow.source;
  const jobContext: Record<string, Json> = {
    status: 'success',
    workflow_repository: source.repository,
    workflow_sha: source.sha,
    workflow_ref: `${source.repository}/${workflow.path}@${source.ref}`,
    workflow_file_path: workflow.path,
    container: {},
    services: {},
  };
  const github = { ...run.github, job: id, token, workspace, action_path: '' };
  const runner = {
    os: 'Linux',
    arch: 'X64',
    name: 'rehearsal',
    environment: 'self-hosted',
    temp: runnerTemp,
    tool_cache: path.join(world.scratch, 'tool-cache'),
    debug: '',
  };
  const oidc =
    permissions['id-token'] === 'write'
      ? world.github.oidcEndpoint({
          repository: String(run.github.repository),
          ref: String(run.github.ref),
          sha: String(run.github.sha),
          workflow_ref: String(run.github.workflow_ref),
          job_workflow_ref: String(jobContext.workflow_ref),
          environment: environment ?? '',
          actor: String(run.github.actor),
          repository_owner: String(run.github.repository_owner),
          // GitHub's subject: the environment when the job has one, else the ref.
          sub: `repo:${String(run.github.repository)}:${environment ? `environment:${environment}` : `ref:${String(run.github.ref)}`}`,
        })
      : undefined;
  const runnerEnv: Record<string, string> = {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: String(run.github.repository),
    GITHUB_REPOSITORY_OWNER: String(run.github.repository_owner),
    GITHUB_SHA: String(run.github.sha),
    GITHUB_REF: String(run.github.ref),
    GITHUB_REF_NAME: String(run.github.ref_name),
    GITHUB_REF_TYPE: String(run.github.ref_type),
    GITHUB_HEAD_REF: String(run.github.head_ref),
    GITHUB_BASE_REF: String(run.github.base_ref),
    GITHUB_EVENT_NAME: String(run.github.event_name),
    GITHUB_ACTOR: String(run.github.actor),
    GITHUB_TRIGGERING_ACTOR: String(run.github.actor),
    GITHUB_RUN_ID: String(run.github.run_id),
    GITHUB_RUN_NUMBER: String(run.github.run_number),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: world.github.serverUrl,
    GITHUB_API_URL: world.github.apiUrl,
    GITHUB_GRAPHQL_URL: `${world.github.apiUrl}/graphql`,
    GITHUB_WORKSPACE: workspace,
    GITHUB_WORKFLOW: String(run.github.workflow),
    GITHUB_WORKFLOW_REF: String(run.github.workflow_ref),
    GITHUB_WORKFLOW_SHA: String(run.github.workflow_sha),
    GITHUB_JOB: id,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'rehearsal',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: String(runner.tool_cache),
    ...(oidc ? { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.token } : {}),
  };
  if (oidc) masks.push(oidc.token);

  const workflowEnv = evaluateStringMap(workflow.template.env, scope({ secrets: frame.secrets }));
  const jobEnv = evaluateStringMap(job.env, scope({ secrets: frame.secrets, env: workflowEnv, job: jobContext, runner, github }));
  let env: Record<string, string> = { ...workflowEnv, ...jobEnv };
  let extraPath = [...world.extraPath];
  const steps: Record<string, Json> = {};
  const stepReports: StepReport[] = [];
  let summary = '';
  let failed = false;
  const raws = rawSteps(workflow, id);
  for (const [index, step] of job.steps.entries()) {
    const raw = raws[index] as MappingToken;
    const stepStarted = Date.now();
    const stepContexts = {
      github,
      env,
      job: { ...jobContext, status: failed ? 'failure' : 'success' },
      runner,
      steps,
      secrets: { ...frame.secrets, GITHUB_TOKEN: token },
    };
    const stepScope = scope(stepContexts);
    const where = `${file}:${raw.line ?? ''}`;
    refuseUnknownKeys(raw, RUN_KEYS.step, 'the step key', file);
    const uses = child(raw, 'uses');
    const spec: RunStepSpec | UsesStepSpec =
      uses && isString(uses)
        ? { kind: 'uses', uses: uses.value, inputs: evaluateStringMap(child(raw, 'with'), stepScope) }
        : {
            kind: 'run',
            script: 'run' in step ? asString(evaluateToken(step.run, stepScope)) : '',
            ...(child(raw, 'shell') ? { shell: asString(evaluateToken(child(raw, 'shell'), stepScope)) } : {}),
            ...(child(raw, 'working-directory')
              ? { workingDirectory: asString(evaluateToken(child(raw, 'working-directory'), stepScope)) }
              : {}),
          };
    if (!('run' in step) && !('uses' in step)) throw new UnsupportedConstruct(where, undefined, 'a step that is neither run: nor uses:');
    // A title shows the script as written, secrets evaluated into it: masked like the log.
    const title = applyMasks(stepName(raw, index, spec, stepScope), masks);
    const condition = evaluateToken(step.if, { ...stepScope, status: { success: !failed, failed } });
    const stepId = step.id;
    if (!isTruthy(condition)) {
      stepReports.push({
        name: title,
        outputs: {},
        kind: 'skipped',
        ...(spec.kind === 'uses' ? { uses: spec.uses } : {}),
        outcome: 'skipped',
        conclusion: 'skipped',
        durationMs: 0,
      });
      steps[stepId] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      continue;
    }
    log(`▸ ${title}`);
    const stepEnv = { ...machineEnv(), ...runnerEnv, ...env, ...evaluateStringMap(step.env, stepScope) };
    stepEnv.PATH = [...extraPath, process.env.PATH ?? ''].join(':');
    const outcome = await runStep(spec, {
      world,
      where,
      workspace,
      runnerTemp,
      env: stepEnv,
      eventPath: run.eventPath,
      token,
      grant,
      repository: String(run.github.repository),
      sha: String(run.github.sha),
      ref: String(run.github.ref),
      standIns,
      workflowSource: workflow.source,
      masks,
      log,
    });
    const continueOnError = isTruthy(evaluateToken(child(raw, 'continue-on-error'), stepScope));
    const ok = outcome.exitCode === 0;
    if (!ok) log(`✗ ${title} failed (exit code ${outcome.exitCode})${continueOnError ? '; continue-on-error' : ''}`);
    if (!ok && !continueOnError) failed = true;
    if (outcome.summary) summary += outcome.summary.endsWith('\n') ? outcome.summary : `${outcome.summary}\n`;
    env = { ...env, ...(outcome.env ?? {}) };
    extraPath = [...(outcome.path ?? []).reverse(), ...extraPath];
    steps[stepId] = {
      outputs: outcome.outputs,
      outcome: ok ? 'success' : 'failure',
      conclusion: ok || continueOnError ? 'success' : 'failure',
    };
    stepReports.push({
      name: title,
      outputs: Object.fromEntries(Object.entries(outcome.outputs).map(([key, value]) => [key, applyMasks(value, masks)])),
      kind: outcome.kind,
      ...(spec.kind === 'uses' ? { uses: spec.uses } : {}),
      outcome: ok ? 'success' : 'failure',
      conclusion: ok || continueOnError ? 'success' : 'failure',
      durationMs: Date.now() - stepStarted,
    });
  }
  // Evaluated whatever the result, as GitHub does; a value holding a secret is left out, as GitHub
  // skips it ("may contain secret"), rather than passed on masked.
  const outputs = Object.fromEntries(
    Object.entries(evaluateStringMap(job.outputs, scope({ steps, job: jobContext, runner, github, env }))).filter(([name, value]) => {
      const secret = masks.some((mask) => mask !== '' && value.includes(mask));
      if (secret) log(`Skip output '${name}' since it may contain secret.`);
      return !secret;
    }),
  );
  const jobReport: JobReport = {
    id: jobPath,
    name,
    workflow: file,
    result: failed ? 'failure' : 'success',
    outputs,
    summary: applyMasks(summary, masks),
    durationMs: Date.now() - started,
    permissions,
    steps: stepReports,
    ...(environment ? { environment } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(Object.keys(matrix).length > 0 ? { matrix } : {}),
    ...(failed ? { reason: `step "${stepReports.find((step) => step.conclusion === 'failure')?.name ?? ''}" failed` } : {}),
  };
  report.jobs.push(jobReport);
  options.onJob?.(jobReport);
  return { result: jobReport.result, outputs, failedAncestry: failed };
}
