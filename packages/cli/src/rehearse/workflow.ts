/**
 * Workflow files as GitHub reads them: from a repository at a commit, parsed and converted by
 * @actions/workflow-parser. Its model has the job graph, events, `if:` conditions (with the implicit
 * `success() &&`) and tokens for every expression; what the model leaves out (a step's `with:`, a
 * job's `permissions:`, a called workflow's `outputs:`) is read from the same parse's token tree.
 */
import {
  NoOperationTraceWriter,
  type WorkflowTemplate,
  convertWorkflowTemplate,
  isMapping,
  isString,
  parseWorkflow,
} from '@actions/workflow-parser';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { Git } from '@toolkit/shared';
import { UnsupportedConstruct } from './errors.js';

/** A repository at one commit: where a workflow file (and the code it runs) comes from. */
export interface WorkflowSource {
  /** owner/name */
  repository: string;
  /** A git directory (bare or not) holding the commit. */
  gitDir: string;
  /** The ref as it was asked for (v1, main, refs/tags/UAT-1.0.0), and the commit it names. */
  ref: string;
  sha: string;
}

export interface LoadedWorkflow {
  /** The path inside the repository: .github/workflows/release.yml */
  path: string;
  /** How reports and errors name it: acme/toolkit/.github/workflows/release.yml@v1 */
  display: string;
  source: WorkflowSource;
  name: string;
  template: WorkflowTemplate;
  /** The parsed file's root mapping. */
  root: MappingToken;
}

/** A mapping's value by key, or undefined. */
export function child(token: TemplateToken | undefined, key: string): TemplateToken | undefined {
  if (!token || !isMapping(token)) return undefined;
  for (const pair of token) if (isString(pair.key) && pair.key.value === key) return pair.value;
  return undefined;
}

/** The raw mapping of job `id` in a workflow's `jobs:`. */
export function rawJob(workflow: LoadedWorkflow, id: string): MappingToken {
  const job = child(child(workflow.root, 'jobs'), id);
  if (!job || !isMapping(job)) throw new UnsupportedConstruct(workflow.display, undefined, `job ${id} is not a mapping`);
  return job;
}

/** The raw step mappings of a job, in order. */
export function rawSteps(workflow: LoadedWorkflow, jobId: string): MappingToken[] {
  const steps = child(rawJob(workflow, jobId), 'steps');
  const result: MappingToken[] = [];
  if (steps && 'count' in steps)
    for (let index = 0; index < (steps as { count: number }).count; index++) {
      const step = (steps as unknown as { get(i: number): TemplateToken }).get(index);
      if (isMapping(step)) result.push(step);
    }
  return result;
}

/** Reads `path` at the source's commit and converts it; parse errors fail with file:line:col. */
export async function loadWorkflow(source: WorkflowSource, path: string): Promise<LoadedWorkflow> {
  const display = `${source.repository}/${path}@${source.ref}`;
  const git = new Git({ cwd: source.gitDir });
  const shown = await git.run(['show', `${source.sha}:${path}`], { allowFailure: true });
  if (shown.exitCode !== 0) {
    throw new UnsupportedConstruct(display, undefined, `no such workflow file at ${source.sha.slice(0, 12)} of ${source.repository}`);
  }
  const parsed = parseWorkflow({ name: path, content: shown.stdout }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (errors.length > 0 || !parsed.value || !isMapping(parsed.value)) {
    const first = errors[0];
    const where = first?.range ? `:${first.range.start.line}:${first.range.start.column}` : '';
    throw new UnsupportedConstruct(`${display}${where}`, undefined, first?.rawMessage ?? 'not a workflow');
  }
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, undefined, { fetchReusableWorkflowDepth: 0 });
  const conversionError = template.errors?.[0];
  if (conversionError) throw new UnsupportedConstruct(display, undefined, conversionError.Message);
  const name = child(parsed.value, 'name');
  return {
    path,
    display,
    source,
    name: name && isString(name) ? name.value : path.replace(/^.*\//, ''),
    template,
    root: parsed.value,
  };
}

/**
 * A reusable workflow job's `uses:`: `owner/repo/path@ref`; `./path`, in the repository of the run
 * (a called workflow's `./` is its caller's repository, not its own); or `$/path`, GitHub's
 * self-repository syntax (changelog 2026-07-30), the calling file's own repository at the commit
 * that is running.
 */
export type WorkflowReference = { local: 'run' | 'self'; path: string } | { local: false; repository: string; path: string; ref: string };

export function parseWorkflowReference(uses: string, file: string, line?: number): WorkflowReference {
  if (uses.startsWith('./')) return { local: 'run', path: uses.slice(2) };
  if (uses.startsWith('$/')) return { local: 'self', path: uses.slice(2) };
  const match = /^([^/@\s]+\/[^/@\s]+)\/(\.github\/workflows\/[^@\s]+)@(\S+)$/.exec(uses);
  if (!match) throw new UnsupportedConstruct(file, line, `"${uses}" is not owner/repo/.github/workflows/<file>@<ref>`);
  return { local: false, repository: match[1] as string, path: match[2] as string, ref: match[3] as string };
}
