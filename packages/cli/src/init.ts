import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Git, UserError } from '@toolkit/shared';

export interface InitOptions {
  /** The toolkit repository whose templates are copied. */
  root: string;
  /** The repository to set up. */
  dir: string;
  /** Where the toolkit lives, as owner/name. */
  org?: string;
  /** The toolkit ref the workflows call: a major tag such as v1, or a commit SHA to pin. */
  ref?: string;
  /** The environment repository holding versions.yaml, as owner/name. */
  envRepo?: string;
  force?: boolean;
}

export interface InitResult {
  written: string[];
  /** What the repository still needs before `UAT-1.0.0` releases. */
  nextSteps: string[];
}

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const REF = /^(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40})$/;

/** The placeholders the templates are written with, and what fills each. */
function fill(template: string, values: { org: string; ref: string; envRepo: string; defaultBranch: string }): string {
  return template
    .replaceAll('org/toolkit/.github/workflows/', `${values.org}/.github/workflows/`)
    .replace(/(\/\.github\/workflows\/[\w.-]+\.yml)@v1\b/g, `$1@${values.ref}`)
    .replace(/^(\s*toolkit-repository:) org\/toolkit$/gm, `$1 ${values.org}`)
    .replace(/^(\s*toolkit-ref:) v1$/gm, `$1 ${values.ref}`)
    .replaceAll('org/environments', values.envRepo)
    .replaceAll('$default-branch', values.defaultBranch);
}

/**
 * Copies the workflow templates into `<dir>/.github/workflows/` with the toolkit's repository and
 * ref and the environment repository filled in. Nothing is written when any target exists, unless
 * `force`: a repository is never left half set up.
 */
export async function initRepository(options: InitOptions): Promise<InitResult> {
  const org = options.org ?? 'org/toolkit';
  const ref = options.ref ?? 'v1';
  const envRepo = options.envRepo ?? 'org/environments';
  if (!REPOSITORY.test(org))
    throw new UserError('INVALID_INPUT', `--org ${JSON.stringify(org)} is not allowed; expected owner/name of the toolkit repository.`);
  if (!REF.test(ref))
    throw new UserError(
      'INVALID_INPUT',
      `--ref ${JSON.stringify(ref)} is not allowed; expected a major tag such as v1 (or v1.4.2), or a 40-hex commit SHA.`,
    );
  if (!REPOSITORY.test(envRepo))
    throw new UserError('INVALID_INPUT', `--env-repo ${JSON.stringify(envRepo)} is not allowed; expected owner/name.`);
  if (!existsSync(options.dir)) throw new UserError('NOT_FOUND', `--dir ${options.dir} does not exist.`);

  const defaultBranch = await new Git({ cwd: options.dir }).output(['symbolic-ref', '--short', 'HEAD']).catch(() => 'main');
  const templatesDir = path.join(options.root, 'workflows-templates');
  const templates = (await readdir(templatesDir)).filter((name) => name.endsWith('.yml')).sort();
  const targetDir = path.join(options.dir, '.github', 'workflows');
  const targets = templates.map((name) => path.join(targetDir, name));
  const existing = targets.filter((target) => existsSync(target));
  if (existing.length > 0 && !options.force) {
    throw new UserError(
      'REFUSED',
      `Not overwriting ${existing.map((file) => path.relative(options.dir, file)).join(', ')}; nothing was written. Give --force to replace them.`,
    );
  }
  const contents = await Promise.all(
    templates.map(async (name) => fill(await readFile(path.join(templatesDir, name), 'utf8'), { org, ref, envRepo, defaultBranch })),
  );
  await mkdir(targetDir, { recursive: true });
  for (const [index, target] of targets.entries()) await writeFile(target, contents[index] as string);
  return {
    written: targets.map((target) => path.relative(options.dir, target)),
    nextSteps: [
      `Set the variable TOOLKIT_APP_ID: the ID of a GitHub App installed on ${envRepo} with contents: write.`,
      "Set the secret TOOLKIT_APP_PRIVATE_KEY: that App's private key.",
      `Make sure ${envRepo} has a versions.yaml (docs/versions-yaml.md), and GitHub environments UAT and PROD here (PROD with required reviewers).`,
      'Then run "Cut a release", or push a tag: git tag UAT-1.0.0 && git push origin UAT-1.0.0',
      ...(ref.startsWith('v')
        ? [`The workflows call ${org} at ${ref}, a tag that moves; pin a commit SHA with --ref for a fixed version.`]
        : []),
    ],
  };
}
