/**
 * `toolkit migrate <workflow file>… [--check]`: rewrites the steps that use trivy-action,
 * sbom-action, github-tag-action, and cosign-installer with the `run: cosign sign …` step after it,
 * into this toolkit's scan, semantic-tag and sign, in place. The YAML editor promote uses does the
 * edits, so comments, layout, quoting and line endings stay as they were. Every input is mapped as
 * migrate-map.ts says; what has no counterpart is reported, and a step where that changes what it
 * does is left as it is. The result is checked as `toolkit validate` checks a workflow before it is
 * written.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError, YamlEditor, readRepoFile, writeRepoFile } from '@toolkit/shared';
import { parse as parseShell } from 'shell-quote';
import { type AnchorMap, COSIGN_INSTALLER, type Rewritten, anchorOf, rewriteInputs } from './migrate-map.js';
import { type Problem, formatProblem, validateWorkflow } from './validate.js';

export interface MigrateOptions {
  /** The toolkit repository the rewritten steps call (`<org>/actions/<name>@<ref>`), as templates do. */
  org?: string;
  ref?: string;
  /** Only report; write nothing. */
  check?: boolean;
  /** The repository root, for validation of calls to local reusable workflows (default: the file's). */
  root?: string;
}

export interface MigratedStep {
  /** `file:line` of the step. */
  where: string;
  step: string;
  from: string;
  /** This toolkit's action it became; undefined when left as it is. */
  to?: string;
  /** `anchor input → input` for each input carried over. */
  mapped: string[];
  unmapped: { input: string; reason: string }[];
  notes: string[];
  /** Why it was left as it is. */
  left?: string;
}

export interface MigrationResult {
  file: string;
  steps: MigratedStep[];
  /** The rewritten text (the same as the source when nothing changed). */
  text: string;
  changed: boolean;
  /** Problems `toolkit validate` finds in the rewritten text; nothing is written when there are any. */
  problems: Problem[];
}

type Plain = Record<string, unknown>;
const asText = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** A step's `with:` as strings, as the runner hands inputs to an action. */
function inputsOf(step: Plain): Record<string, string> {
  const given = (step.with ?? {}) as Plain;
  return Object.fromEntries(Object.entries(given).map(([key, value]) => [key, asText(value)]));
}

/** Every string leaf of a plain value with its path (lists by index). */
function* stringLeaves(value: unknown, at: string[]): Generator<[string[], string]> {
  if (typeof value === 'string') yield [at, value];
  else if (Array.isArray(value)) for (const [index, item] of value.entries()) yield* stringLeaves(item, [...at, String(index)]);
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* stringLeaves(item, [...at, key]);
}

/** Rewrites a workflow's text; throws a UserError for a file that is not a workflow. */
export async function migrateWorkflow(source: string, file: string, options: MigrateOptions = {}): Promise<MigrationResult> {
  const org = options.org ?? 'org/toolkit';
  const ref = options.ref ?? 'v1';
  const editor = new YamlEditor(source, { file });
  if (editor.document.errors.length > 0) {
    throw new UserError('INVALID_CONFIGURATION', `${file}: not YAML: ${editor.document.errors[0]?.message ?? ''}`);
  }
  const workflow = (editor.document.toJS({ maxAliasCount: 1000 }) ?? {}) as Plain;
  const jobs = (workflow.jobs ?? {}) as Record<string, Plain>;
  const reports: MigratedStep[] = [];
  const lineOf = (at: string[]) => {
    const node = editor.nodeAt(at);
    return node?.range ? editor.lineCounter.linePos(node.range[0]).line : 0;
  };
  const uses = (action: string) => `${org}/actions/${action}@${ref}`;

  for (const [jobId, job] of Object.entries(jobs)) {
    const steps = Array.isArray(job?.steps) ? (job.steps as Plain[]) : [];
    const stepPath = (index: number) => ['jobs', jobId, 'steps', String(index)];
    const describe = (index: number) => {
      const step = steps[index] as Plain;
      return asText(step.name) || asText(step.id) || asText(step.uses) || `step ${index + 1}`;
    };
    const installers: number[] = [];
    for (const [index, step] of steps.entries()) {
      const anchor = typeof step?.uses === 'string' ? anchorOf(step.uses) : undefined;
      if (!anchor) continue;
      if (anchor === COSIGN_INSTALLER) {
        installers.push(index);
        continue;
      }
      const report = rewriteStep(editor, stepPath(index), step, anchor, uses(anchor.action));
      const checkedOut = steps.slice(0, index).some((earlier) => /^actions\/checkout@/.test(asText(earlier?.uses)));
      if (report.to && anchor.action === 'semantic-tag' && !checkedOut)
        report.notes.push('semantic-tag reads and tags the checkout (github-tag-action used the API): add actions/checkout before it.');
      reports.push({ where: `${file}:${lineOf(stepPath(index))}`, step: describe(index), ...report });
      if (report.to && typeof step.id === 'string' && Object.keys(anchor.outputs).length > 0) {
        renameOutputs(editor, jobId, job, index, step.id, anchor);
      }
    }
    for (const installer of installers) {
      reports.push(
        ...migrateCosign(editor, jobId, steps, installer, uses('sign'), (index) => `${file}:${lineOf(stepPath(index))}`, describe),
      );
    }
  }

  const text = editor.toString();
  const changed = text !== source;
  const root = options.root ?? repositoryRoot(file) ?? process.cwd();
  // A problem the file had before (a starter workflow's $default-branch) is not migrate's to fix:
  // only what the rewrite would bring in stops it.
  const before = changed
    ? new Set((await validateWorkflow(root, file, source)).map((problem) => `${problem.check}: ${problem.message}`))
    : new Set();
  const problems = changed
    ? (await validateWorkflow(root, file, text)).filter((problem) => !before.has(`${problem.check}: ${problem.message}`))
    : [];
  return { file, steps: reports, text, changed, problems };
}

/** The repository a workflow file is in (the directory holding its .github), if it is in one. */
function repositoryRoot(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  while (path.basename(dir) !== '.github' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.basename(dir) === '.github' ? path.dirname(dir) : undefined;
}

/** Rewrites one anchor step (trivy-action, sbom-action, github-tag-action) in place. */
function rewriteStep(
  editor: YamlEditor,
  at: string[],
  step: Plain,
  anchor: AnchorMap,
  target: string,
): Omit<MigratedStep, 'where' | 'step'> {
  const given = inputsOf(step);
  const rewritten = rewriteInputs(anchor, given);
  const base = { from: anchor.anchor, unmapped: rewritten.unmapped, notes: rewritten.notes };
  if (rewritten.blocked) return { ...base, mapped: [], left: rewritten.blocked };
  editor.set([...at, 'uses'], target);
  return { ...base, to: target, mapped: applyWith(editor, at, given, rewritten, anchor) };
}

/**
 * The step's `with:` made what `rewritten` says: an input kept under another name is renamed in
 * place (its comment and quoting stay), one whose value changes is set, one with no counterpart is
 * removed, and new ones are added at the end.
 */
function applyWith(editor: YamlEditor, at: string[], given: Record<string, string>, rewritten: Rewritten, anchor?: AnchorMap): string[] {
  const mapped: string[] = [];
  const targetOf = (name: string) => {
    const counterpart = anchor?.inputs[name];
    return counterpart && 'to' in counterpart ? counterpart.to : undefined;
  };
  // Each input here takes the place of one anchor input that maps to it: the one with its value
  // when there is one (output for sarif-file), else the first; the others that map to it go.
  const holder = new Map<string, string>();
  for (const [to, value] of Object.entries(rewritten.with)) {
    const candidates = Object.keys(given).filter((name) => targetOf(name) === to && (name === to || !(to in given)));
    const chosen = candidates.find((name) => given[name] === value) ?? candidates[0];
    if (chosen !== undefined) holder.set(chosen, to);
  }
  for (const [name, value] of Object.entries(given)) {
    const to = holder.get(name);
    if (to === undefined) {
      editor.delete([...at, 'with', name]);
      const target = targetOf(name);
      if (target && rewritten.with[target] !== undefined) mapped.push(`${name} (read into ${target})`);
      continue;
    }
    const wanted = rewritten.with[to] as string;
    // Set under the old name, then renamed: both are edits of that one pair.
    if (wanted !== value) editor.set([...at, 'with', name], wanted);
    if (to !== name) editor.renameKey([...at, 'with', name], to);
    mapped.push(`${to === name ? name : `${name} → ${to}`}${wanted !== value ? `: ${wanted}` : ''}`);
  }
  const placed = new Set(holder.values());
  for (const [name, value] of Object.entries(rewritten.with)) {
    if (placed.has(name)) continue;
    editor.set([...at, 'with', name], value);
    mapped.push(`${name}: ${value}`);
  }
  return mapped;
}

/** `steps.<id>.outputs.<anchor output>` in the rest of the job (and its outputs) become this toolkit's names. */
function renameOutputs(editor: YamlEditor, jobId: string, job: Plain, index: number, id: string, anchor: AnchorMap): void {
  const names = Object.fromEntries(
    Object.entries(anchor.outputs).flatMap(([name, counterpart]) => ('to' in counterpart ? [[name, counterpart.to]] : [])),
  );
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(steps\\.${escaped}\\.outputs\\.)([A-Za-z_][\\w-]*)`, 'g');
  const replace = (match: string) => {
    const [, prefix, name] = /^(.*\.outputs\.)(.*)$/.exec(match) as unknown as [string, string, string];
    return names[name] ? `${prefix}${names[name]}` : match;
  };
  const steps = (job.steps as Plain[]).slice(index + 1);
  for (const [offset, step] of steps.entries()) {
    for (const [leaf] of stringLeaves(step, []))
      editor.replaceInScalar(['jobs', jobId, 'steps', String(index + 1 + offset), ...leaf], pattern, replace);
  }
  for (const [leaf] of stringLeaves(job.outputs ?? {}, [])) editor.replaceInScalar(['jobs', jobId, 'outputs', ...leaf], pattern, replace);
}

// ─── cosign-installer and `cosign sign` ─────────────────────────────────────────────────────────

const MARK = '\u0000';
const EXPRESSION = '\u0001';

interface SignCall {
  with: Record<string, string>;
  /** The step's env variables the command used, now inlined. */
  consumed: string[];
  notes: string[];
}

/**
 * The cosign-installer step at `installer` and the `run: cosign sign …` steps after it: each sign
 * step becomes the sign action (with the installer's cosign-release as cosign-version); the
 * installer is removed when every later step that runs cosign was rewritten.
 */
function migrateCosign(
  editor: YamlEditor,
  jobId: string,
  steps: Plain[],
  installer: number,
  target: string,
  where: (index: number) => string,
  describe: (index: number) => string,
): MigratedStep[] {
  const given = inputsOf(steps[installer] as Plain);
  const installed = rewriteInputs(COSIGN_INSTALLER, given);
  const installerReport = {
    where: where(installer),
    step: describe(installer),
    from: COSIGN_INSTALLER.anchor,
    mapped: [],
    unmapped: [],
    notes: [],
  };
  // cosign-release as an expression: which cosign the sign steps ran is known only at run time.
  if (installed.blocked) return [{ ...installerReport, left: `${installed.blocked} The cosign sign steps after it stay too.` }];
  const reports: MigratedStep[] = [];
  let otherCosign = false;
  let rewrote = 0;
  for (let index = installer + 1; index < steps.length; index++) {
    const step = steps[index] as Plain;
    if (anchorOf(asText(step.uses)) === COSIGN_INSTALLER) break;
    const run = asText(step.run);
    if (!/\bcosign\b/.test(run)) continue;
    const at = ['jobs', jobId, 'steps', String(index)];
    const base = { where: where(index), step: describe(index), from: 'run: cosign sign' };
    if (!/\bcosign\s+sign\b/.test(run)) {
      otherCosign = true;
      continue;
    }
    let call: SignCall;
    try {
      call = readCosignSign(run, (step.env ?? {}) as Plain, steps);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      otherCosign = true;
      reports.push({ ...base, mapped: [], unmapped: [], notes: [], left: error.message });
      continue;
    }
    const withInputs = { ...installed.with, ...call.with };
    editor.set([...at, 'run'], target);
    editor.renameKey([...at, 'run'], 'uses');
    for (const key of ['shell', 'working-directory']) if (step[key] !== undefined) editor.delete([...at, key]);
    const env = (step.env ?? {}) as Plain;
    const left = Object.keys(env).filter((name) => !call.consumed.includes(name));
    if (left.length === 0 && step.env !== undefined) editor.delete([...at, 'env']);
    else for (const name of call.consumed) editor.delete([...at, 'env', name]);
    for (const [name, value] of Object.entries(withInputs)) editor.set([...at, 'with', name], value);
    rewrote += 1;
    reports.push({
      ...base,
      to: target,
      mapped: Object.entries(withInputs).map(([name, value]) => `${name}: ${value}`),
      unmapped: installed.unmapped,
      notes: [...installed.notes, ...call.notes],
    });
  }
  if (rewrote === 0) {
    reports.unshift({ ...installerReport, left: 'no `cosign sign` step after it could be rewritten into sign; it is left as it is.' });
  } else if (otherCosign) {
    reports.unshift({ ...installerReport, left: 'a later step still runs cosign itself, so the installer stays.' });
  } else {
    editor.deleteItem(['jobs', jobId, 'steps', String(installer)]);
    reports.unshift({
      ...installerReport,
      to: target,
      notes: ['removed (with the comment lines above it): sign installs cosign itself, on a pinned SHA-256.'],
    });
  }
  return reports;
}

/** The value a shell word stands for in a workflow: the step env's value, or `${{ env.NAME }}`. */
function expand(word: string, env: Plain, consumed: Set<string>): string {
  return word.replace(new RegExp(`${MARK}([^${MARK}]*)${MARK}`, 'g'), (_match, name: string) => {
    if (Object.prototype.hasOwnProperty.call(env, name)) {
      consumed.add(name);
      return asText(env[name]);
    }
    if (/^(GITHUB|RUNNER)_/.test(name) || !/^[A-Za-z_]\w*$/.test(name)) {
      throw new UserError(
        'INVALID_INPUT',
        `$${name} is the runner's own variable (or not a plain one) and has no value in the env context; map it by hand.`,
      );
    }
    return `\${{ env.${name} }}`;
  });
}

const HARMLESS = new Set(['--yes', '-y', '--yes=true', '-y=true']);

/**
 * Reads a `cosign sign` command line: `cosign sign [flags] <image>[@<digest>]`, or the starter
 * workflow's `echo "${TAGS}" | xargs -I {} cosign sign [flags] {}@${DIGEST}`. Anything else, or a
 * flag sign has no counterpart for, is refused (UserError) with what it is: never guessed.
 */
export function readCosignSign(run: string, env: Plain, steps: readonly Plain[]): SignCall {
  const text = run.replace(/\\\r?\n/g, ' ').trim();
  if (/\r?\n/.test(text)) throw new UserError('INVALID_INPUT', 'the run step has more commands than `cosign sign`; left as it is.');
  // `${{ … }}` is replaced by the runner before the shell reads the line: it is literal text here,
  // kept out of the shell parser and put back as it was.
  const expressions: string[] = [];
  const hidden = text.replace(/\$\{\{[\s\S]*?\}\}/g, (expression) => `${EXPRESSION}${expressions.push(expression) - 1}${EXPRESSION}`);
  const tokens = parseShell(hidden, (name) => `${MARK}${name}${MARK}`);
  const restore = (word: string) =>
    word.replace(new RegExp(`${EXPRESSION}(\\d+)${EXPRESSION}`, 'g'), (_match, index: string) => expressions[Number(index)] as string);
  // A trailing `# comment` is the shell's, not an argument.
  const words = tokens
    .filter((token) => typeof token === 'string' || !('comment' in token))
    .map((token) => (typeof token === 'string' ? restore(token) : 'op' in token ? `${MARK}op:${token.op}` : MARK));
  const consumed = new Set<string>();
  const notes: string[] = [];
  let command = words;
  let listed: string | undefined;
  let placeholder: string | undefined;
  const pipe = words.indexOf(`${MARK}op:|`);
  if (pipe >= 0) {
    const [echo, listedWord, ...restEcho] = words.slice(0, pipe);
    const xargs = words.slice(pipe + 1);
    const at = xargs.findIndex((word) => word === '-I' || word.startsWith('-I'));
    if (echo !== 'echo' || restEcho.length > 0 || xargs[0] !== 'xargs' || at !== 1) {
      throw new UserError('INVALID_INPUT', 'only `echo "${TAGS}" | xargs -I {} cosign sign …` is read as a pipeline; left as it is.');
    }
    placeholder = xargs[1] === '-I' ? xargs[2] : xargs[1]?.slice(2);
    command = xargs.slice(xargs[1] === '-I' ? 3 : 2);
    listed = listedWord;
  }
  if (words.some((word) => word.startsWith(`${MARK}op:`) && word !== `${MARK}op:|`) || command[0] !== 'cosign' || command[1] !== 'sign') {
    throw new UserError('INVALID_INPUT', 'the run step is not one `cosign sign` command; left as it is.');
  }
  const args = command.slice(2);
  const result: Record<string, string> = {};
  const positionals: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (HARMLESS.has(arg)) continue;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--key') {
      const key = inline ?? args[++index] ?? '';
      const variable = /^env:\/\/([A-Za-z_]\w*)$/.exec(key)?.[1];
      if (!variable || !Object.prototype.hasOwnProperty.call(env, variable)) {
        throw new UserError(
          'INVALID_INPUT',
          `--key ${key}: sign takes the key's PEM as its key input (e.g. key: \${{ secrets.COSIGN_PRIVATE_KEY }}); a key file or KMS URI has no counterpart. Left as it is.`,
        );
      }
      result.key = asText(env[variable]);
      consumed.add(variable);
      if (env.COSIGN_PASSWORD !== undefined) {
        result['key-password'] = asText(env.COSIGN_PASSWORD);
        consumed.add('COSIGN_PASSWORD');
      }
    } else if (flag === '--tlog-upload' && (inline === 'false' || inline === 'true')) {
      if (inline === 'false') result['tlog-upload'] = 'false';
    } else if (arg.startsWith('-')) {
      throw new UserError('INVALID_INPUT', `the cosign sign flag ${arg} has no counterpart in sign; left as it is.`);
    } else positionals.push(arg);
  }
  if (positionals.length !== 1)
    throw new UserError('INVALID_INPUT', `cosign sign is given ${positionals.length} images; sign signs one. Left as it is.`);
  let reference = positionals[0] as string;
  if (placeholder !== undefined) {
    if (!reference.startsWith(placeholder))
      throw new UserError('INVALID_INPUT', `the image does not start with xargs' ${placeholder}; left as it is.`);
    const meta = metadataImage(listed ?? '', env, steps, consumed);
    reference = `${meta.tagged}${reference.slice(placeholder.length)}`;
    notes.push(
      `cosign signed each tag's image@digest; sign signs ${meta.images} once by that digest, which is what each of those signatures was of (a signature belongs to the digest, not the tag). The image is read from the metadata step's json output (its first tag; the tag is not signed, the digest is), since docker/metadata-action writes the name lower-cased (github.repository may have capitals, which a registry refuses).`,
    );
  }
  const at = reference.lastIndexOf('@');
  const name = at > 0 ? reference.slice(0, at) : reference;
  const digest = at > 0 ? reference.slice(at + 1) : '';
  result.image = expand(name, env, consumed);
  if (digest) result.digest = expand(digest, env, consumed);
  return { with: result, consumed: [...consumed], notes };
}

/**
 * The one image a docker/metadata-action step makes tags of, when `listed` is `${TAGS}` with TAGS
 * set to that step's tags output: the starter workflow's form. Anything else is refused. The
 * reference is the step's first tag, from its json output, not its `images` input: the action
 * lower-cases the name (`${{ github.repository }}` keeps the owner's capitals, which no registry
 * and not sign take), and a workflow expression cannot.
 */
function metadataImage(listed: string, env: Plain, steps: readonly Plain[], consumed: Set<string>): { tagged: string; images: string } {
  const variable = new RegExp(`^${MARK}([A-Za-z_]\\w*)${MARK}$`).exec(listed)?.[1];
  const value = variable ? asText(env[variable]) : '';
  const id = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.tags\s*\}\}$/.exec(value)?.[1];
  const meta = steps.find((step) => step.id === id && /^docker\/metadata-action@/.test(asText(step.uses)));
  const images = asText((meta?.with as Plain | undefined)?.images).trim();
  if (!variable || !meta || images === '' || /[\n,]/.test(images)) {
    throw new UserError(
      'INVALID_INPUT',
      'cosign signs each line of a list of tags; sign signs one image, and the list is not the tags of one image from a docker/metadata-action step. Left as it is.',
    );
  }
  consumed.add(variable);
  return { tagged: `\${{ fromJSON(steps.${id}.outputs.json).tags[0] }}`, images };
}

/** The report of one file, as the CLI prints it. */
export function formatMigration(result: MigrationResult, check: boolean): string[] {
  const lines: string[] = [];
  if (result.steps.length === 0) return [`${result.file}: nothing to migrate.`];
  for (const step of result.steps) {
    if (step.to) lines.push(`${step.where}: "${step.step}": ${step.from} → ${step.to}${check ? ' (would be)' : ''}`);
    else lines.push(`${step.where}: "${step.step}": ${step.from} left as it is: ${step.left ?? ''}`);
    if (step.mapped.length > 0) lines.push(`  mapped: ${step.mapped.join('; ')}`);
    for (const item of step.unmapped) lines.push(`  not mapped: ${item.input}: ${item.reason}`);
    for (const note of step.notes) lines.push(`  note: ${note}`);
  }
  for (const problem of result.problems) lines.push(`  invalid after rewriting: ${formatProblem(problem)}`);
  if (result.problems.length > 0) lines.push(`${result.file}: not written, since the rewritten file would not pass toolkit validate.`);
  else if (result.changed) lines.push(`${result.file}: ${check ? 'would be rewritten (--check: nothing written)' : 'rewritten'}.`);
  return lines;
}

/**
 * Migrates files in place (or with `check`, only reports). Returns whether anything was (or would
 * be) changed, how many files could not be migrated or would not pass validate (problems), and
 * how many anchor steps were left as they are or had inputs that could not be mapped (unmapped).
 */
export async function migrateFiles(
  files: readonly string[],
  options: MigrateOptions & { log: (line: string) => void },
): Promise<{ changed: boolean; problems: number; unmapped: number }> {
  if (files.length === 0)
    throw new UserError('INVALID_INPUT', 'toolkit migrate needs workflow files, e.g. `toolkit migrate .github/workflows/*.yml`.');
  let changed = false;
  let problems = 0;
  let unmapped = 0;
  for (const file of files) {
    // Read and written as a regular file inside its repository (the directory holding its .github,
    // else its own directory): never through a symbolic link to somewhere else.
    const root = repositoryRoot(file) ?? path.dirname(path.resolve(file));
    const relative = path.relative(root, path.resolve(file));
    let result: MigrationResult;
    try {
      const source = existsSync(root) ? await readRepoFile(root, relative, { where: root }) : undefined;
      if (source === undefined) throw new UserError('NOT_FOUND', `${file} does not exist.`);
      result = await migrateWorkflow(source, file, options);
      for (const line of formatMigration(result, options.check ?? false)) options.log(line);
      problems += result.problems.length;
      unmapped += result.steps.filter((step) => step.left !== undefined || step.unmapped.length > 0).length;
      if (result.changed && result.problems.length === 0) {
        changed = true;
        if (!options.check) await writeRepoFile(root, relative, result.text, { where: root });
      }
    } catch (error) {
      // One file that cannot be read or written, or that the editor refuses (an edit through a
      // YAML anchor, not a workflow), stops only itself.
      if (!(error instanceof UserError)) throw error;
      options.log(`${file}: not migrated: ${error.message}`);
      problems += 1;
    }
  }
  return { changed, problems, unmapped };
}
