import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CHART_REPOSITORY_PATTERN, Git, SERVICES_MANIFEST, UserError, isSemanticVersion, parseServicesManifest } from '@toolkit/shared';
import { stringify } from 'yaml';

/** The templates of a repository of several services start with this (services-ci.yml for ci.yml). */
const MONOREPO_TEMPLATE = 'services-';
/** Folders no service lives in. */
const NOT_SERVICES = new Set(['.git', '.github', 'node_modules', 'vendor', 'dist', 'build', 'target']);
/** Folders and files that, where a repository has them, change every service. */
const SHARED_CANDIDATES = ['shared', 'libs', 'lib', 'common', 'packages', 'pkg', 'internal'];
const LOCK_FILES = ['pnpm-lock.yaml', 'package-lock.json', 'yarn.lock', 'go.work.sum', 'Cargo.lock', 'poetry.lock', 'uv.lock'];

/**
 * A first toolkit.yaml: every folder (three levels deep at most) with a Dockerfile is a service named
 * after it; the repository's shared folders and lock files change every service.
 */
async function firstManifest(
  dir: string,
  chart: { chartVersion: string; chartRepository: string },
): Promise<{ text: string; services: string[] }> {
  const found: string[] = [];
  const visit = async (relative: string, depth: number) => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
    if (relative && entries.some((entry) => entry.isFile() && entry.name === 'Dockerfile')) {
      found.push(relative);
      return;
    }
    if (depth === 3) return;
    for (const entry of entries
      .filter((candidate) => candidate.isDirectory() && !NOT_SERVICES.has(candidate.name))
      .sort((a, b) => a.name.localeCompare(b.name)))
      await visit(relative ? `${relative}/${entry.name}` : entry.name, depth + 1);
  };
  await visit('', 0);
  if (found.length === 0)
    throw new UserError(
      'NOT_FOUND',
      `--monorepo: no folder of ${dir} has a Dockerfile, so there is no service to list; nothing was written.`,
    );
  const services: Record<string, { path: string }> = {};
  for (const folder of found) {
    const name =
      path
        .basename(folder)
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[._-]+|[._-]+$/g, '') || 'service';
    let unique = name;
    for (let n = 2; services[unique]; n += 1) unique = `${name}-${n}`;
    services[unique] = { path: folder };
  }
  const inside = new Set(found.map((folder) => folder.split('/')[0]));
  const shared = [
    ...SHARED_CANDIDATES.filter((folder) => !inside.has(folder) && existsSync(path.join(dir, folder))).map((folder) => `${folder}/**`),
    ...LOCK_FILES.filter((file) => existsSync(path.join(dir, file))),
  ];
  const text =
    '# The services of this repository (docs/monorepo.md): each one is built, tagged <service>/vX.Y.Z\n' +
    '# and released on its own when its folder, or a path of also-changed-by, changes.\n' +
    stringify({
      ...(shared.length > 0 ? { 'also-changed-by': shared } : {}),
      chart: { version: chart.chartVersion, repository: chart.chartRepository },
      services,
    });
  // What init writes must read back: the same reader as changed-services (the image comes from the workflow's image-prefix).
  parseServicesManifest(text, SERVICES_MANIFEST, 'ghcr.io/owner/repository');
  return { text, services: Object.keys(services) };
}

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
  /** The branch whose pushes release to dev (default: the repository's default branch). */
  devBranch?: string;
  /** The service's own Helm chart: its version and where it is published. */
  chartVersion?: string;
  chartRepository?: string;
  force?: boolean;
  /** Several services in one repository: the services-* templates, and a toolkit.yaml of the folders with a Dockerfile. */
  monorepo?: boolean;
}

export interface InitResult {
  written: string[];
  /** What the repository still needs before `UAT-1.0.0` releases. */
  nextSteps: string[];
}

const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const REF = /^(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40})$/;
const BRANCH = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/;

/** The placeholders the templates are written with, and what fills each. */
interface Placeholders {
  org: string;
  ref: string;
  envRepo: string;
  devBranch: string;
  chartVersion: string;
  chartRepository: string;
}

/**
 * Fills a template. The toolkit's reusable workflows call each other by `./` (the same commit) and
 * check the toolkit's actions out at job.workflow_sha, so the one `uses:` line is the only place
 * the toolkit and its ref are named.
 */
export function fillTemplate(template: string, values: Placeholders): string {
  return template
    .replaceAll('org/toolkit/.github/workflows/', `${values.org}/.github/workflows/`)
    .replace(/(\/\.github\/workflows\/[\w.-]+\.yml)@v1\b/g, `$1@${values.ref}`)
    .replaceAll('org/environments', values.envRepo)
    .replaceAll('$dev-branch', values.devBranch)
    .replaceAll('$chart-version', values.chartVersion)
    .replaceAll('$chart-repository', values.chartRepository);
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
  const chartVersion = options.chartVersion ?? '0.1.0';
  const chartRepository = options.chartRepository ?? `oci://ghcr.io/${envRepo.split('/')[0] ?? ''}/charts`;
  if (!isSemanticVersion(chartVersion))
    throw new UserError(
      'INVALID_INPUT',
      `--chart-version ${JSON.stringify(chartVersion)} is not allowed; expected a semantic version such as 0.1.0.`,
    );
  if (!CHART_REPOSITORY_PATTERN.test(chartRepository))
    throw new UserError(
      'INVALID_INPUT',
      `--chart-repository ${JSON.stringify(chartRepository)} is not allowed; expected an https:// or oci:// URL.`,
    );

  const defaultBranch = await new Git({ cwd: options.dir }).output(['symbolic-ref', '--short', 'HEAD']).catch(() => 'main');
  const devBranch = options.devBranch ?? defaultBranch;
  if (!BRANCH.test(devBranch)) throw new UserError('INVALID_INPUT', `--dev-branch ${JSON.stringify(devBranch)} is not a branch name.`);
  const templatesDir = path.join(options.root, 'workflows-templates');
  // A monorepo's templates release the services of toolkit.yaml; the others release the repository as one service.
  // A template with a services- counterpart is replaced by it; one without (the weekly report) serves both.
  const names = (await readdir(templatesDir)).filter((name) => name.endsWith('.yml'));
  const templates = names
    .filter((name) =>
      name.startsWith(MONOREPO_TEMPLATE)
        ? (options.monorepo ?? false)
        : !options.monorepo || !names.includes(`${MONOREPO_TEMPLATE}${name}`),
    )
    .sort();
  const targetDir = path.join(options.dir, '.github', 'workflows');
  const manifestPath = path.join(options.dir, SERVICES_MANIFEST);
  const targets = templates.map((name) => path.join(targetDir, name));
  const existing = [...targets, ...(options.monorepo ? [manifestPath] : [])].filter((target) => existsSync(target));
  if (existing.length > 0 && !options.force) {
    throw new UserError(
      'REFUSED',
      `Not overwriting ${existing.map((file) => path.relative(options.dir, file)).join(', ')}; nothing was written. Give --force to replace them.`,
    );
  }
  const contents = await Promise.all(
    templates.map(async (name) =>
      fillTemplate(await readFile(path.join(templatesDir, name), 'utf8'), { org, ref, envRepo, devBranch, chartVersion, chartRepository }),
    ),
  );
  const manifest = options.monorepo ? await firstManifest(options.dir, { chartVersion, chartRepository }) : undefined;
  await mkdir(targetDir, { recursive: true });
  for (const [index, target] of targets.entries()) await writeFile(target, contents[index] as string);
  if (manifest) await writeFile(manifestPath, manifest.text);
  return {
    written: [...targets, ...(manifest ? [manifestPath] : [])].map((target) => path.relative(options.dir, target)),
    nextSteps: [
      `Set the variable TOOLKIT_APP_ID: the ID of a GitHub App installed on ${envRepo} with contents: write.`,
      "Set the secret TOOLKIT_APP_PRIVATE_KEY: that App's private key.",
      ...(manifest
        ? [
            'Create the GitHub environments dev, uat and prod here (prod with required reviewers).',
            `Pushes to ${devBranch} build each changed service and record it in dev; the services' charts are recorded as version ${chartVersion} from ${chartRepository} (the chart: key of ${SERVICES_MANIFEST}; a service's own chart: overrides it).`,
            `${SERVICES_MANIFEST} lists ${manifest.services.join(', ')}: check each path, and add what else changes a service (also-changed-by) — docs/monorepo.md.`,
            'Then run "Cut a release (services)": it tags each changed service and the set UAT-<version>, and releases the set to UAT.',
          ]
        : [
            `Create the GitHub environments dev, uat and prod here (prod with required reviewers). To deploy one with Compose, give it the variables TOOLKIT_COMPOSE_HOST and TOOLKIT_KNOWN_HOSTS and the secret TOOLKIT_SSH_KEY.`,
            `Pushes to ${devBranch} release to dev; the service's chart is recorded as version ${chartVersion} from ${chartRepository} (edit chart-version and chart-repository in the workflows to change it).`,
            'Then run "Cut a release", or push a tag: git tag UAT-1.0.0 && git push origin UAT-1.0.0',
          ]),
      ...(ref.startsWith('v')
        ? [`The workflows call ${org} at ${ref}, a tag that moves; pin a commit SHA with --ref for a fixed version.`]
        : []),
    ],
  };
}
