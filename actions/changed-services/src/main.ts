import * as core from '@actions/core';
import parseVersion from 'semver/functions/parse.js';
import { DEFAULT_BUMP_VALUES, ensureCompleteHistory, parseInitialVersion, parseReleaseRules } from '@toolkit/semantic-tag/core';
import {
  Git,
  InputError,
  InputReader,
  REMOTE_NAME,
  SERVICES_MANIFEST,
  type ServicesManifest,
  UserError,
  githubClient,
  parseRepository,
  parseServicesManifest,
  readRepoFile,
  summaryHeading,
  summaryParagraph,
  summaryTable,
  writeJobSummary,
} from '@toolkit/shared';
import {
  type DetectionOptions,
  type MatrixEntry,
  type ServiceChangeReport,
  buildMatrix,
  detectChanges,
  serviceTags,
} from './changed-services.js';
import { type ReleaseSet, nextReleaseSet, pushReleaseSet, servicesReleasedAt, tagCommit } from './release-set.js';

export interface Inputs extends DetectionOptions {
  manifest: string;
  imagePrefix: string;
  releasedAt: string;
  environmentTag: string;
  environmentTags: string[];
  push: boolean;
  dispatchWorkflow: string;
  remote: string;
  token: string;
  repositoryPath: string;
}

const ENVIRONMENT_PREFIX = /^[A-Za-z][A-Za-z0-9_]*$/;

export function getInputs(reader = new InputReader()): Inputs {
  const environmentTags = reader.list('environment-tags');
  for (const item of environmentTags)
    if (!ENVIRONMENT_PREFIX.test(item))
      throw new InputError(
        'environment-tags',
        `${JSON.stringify(item)} is not allowed; expected tag prefixes without the hyphen, such as UAT,PROD.`,
      );
  const prerelease = reader.string('prerelease');
  const inputs: Inputs = {
    manifest: reader.string('manifest') || SERVICES_MANIFEST,
    imagePrefix: reader.string('image-prefix').toLowerCase(),
    releasedAt: reader.string('released-at'),
    environmentTag: reader.string('environment-tag', {
      pattern: ENVIRONMENT_PREFIX,
      expected: 'a tag prefix without the hyphen, such as UAT',
    }),
    environmentTags,
    push: reader.boolean('push', false),
    dispatchWorkflow: reader.string('dispatch-workflow', {
      pattern: /^[\w.-]+\.ya?ml$|^\d+$/,
      expected: 'a workflow file name such as release.yml, or a workflow id',
    }),
    initialVersion: parseInitialVersion(reader.string('initial-version', { required: true })),
    releaseRules: parseReleaseRules(reader.list('release-rules')),
    defaultBump: reader.enum('default-bump', DEFAULT_BUMP_VALUES, 'none'),
    majorZero: reader.enum('major-zero', ['breaking-is-minor', 'breaking-is-major'], 'breaking-is-minor'),
    prerelease: prereleaseInput(prerelease),
    remote: reader.string('remote', REMOTE_NAME) || 'origin',
    token: reader.secret('token'),
    repositoryPath: reader.string('repository-path') || process.env.GITHUB_WORKSPACE || process.cwd(),
  };
  const base = reader.string('base', { pattern: /^(?!-)[\w./-]+$/, expected: 'a branch name such as main' });
  if (base) inputs.base = base;
  if (inputs.push && !inputs.environmentTag)
    throw new InputError('push', 'push: true tags a release set, which needs environment-tag (such as UAT).');
  if (inputs.push && (inputs.base || inputs.releasedAt || inputs.prerelease))
    throw new InputError(
      'push',
      'push: true tags releases, which a pull request (base), a released set (released-at) or a pre-release build does not make.',
    );
  return inputs;
}

/** dev.42.g1a2b3c: SemVer pre-release identifiers, appended to each version as they are (no numbering from tags). */
function prereleaseInput(text: string): string {
  if (text === '') return text;
  const parsed = parseVersion(`0.0.0-${text}`);
  if (!parsed || parsed.prerelease.join('.') !== text)
    throw new InputError(
      'prerelease',
      `${JSON.stringify(text)} is not a pre-release; expected dot-separated identifiers of letters, digits and hyphens, numbers without leading zeros (e.g. dev.42.g1a2b3c4).`,
    );
  return text;
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  const git = new Git({
    cwd: inputs.repositoryPath,
    ...(inputs.token ? { auth: { token: inputs.token, url: process.env.GITHUB_SERVER_URL || 'https://github.com' } } : {}),
  });
  const manifest = await readManifest(inputs);
  const log = (message: string) => core.info(message);
  const [history, showRef] = await Promise.all([
    ensureCompleteHistory(git, inputs.remote, log),
    git.run(['show-ref', '--tags', '--dereference'], { allowFailure: true }),
  ]);
  const tags = serviceTags(
    history.fetched ? (await git.run(['show-ref', '--tags', '--dereference'], { allowFailure: true })).stdout : showRef.stdout,
    manifest.services,
  );

  if (inputs.releasedAt) {
    const commit = await tagCommit(git, inputs.releasedAt);
    const include = servicesReleasedAt(manifest.services, tags, commit);
    const released = new Set(include.map((entry) => entry.service));
    writeMatrix(
      include,
      manifest.services.map((service) => service.name).filter((name) => !released.has(name)),
    );
    core.info(`${inputs.releasedAt} releases ${include.length > 0 ? include.map((entry) => entry.tag).join(', ') : 'no service'}.`);
    await writeJobSummary(
      summaryHeading(`Services released by ${inputs.releasedAt.replace(/^refs\/tags\//, '')}`),
      include.length > 0
        ? summaryTable(
            ['Service', 'Version', 'Tag'],
            include.map((entry) => [entry.service, entry.version, { text: entry.tag, code: true }]),
          )
        : summaryParagraph(`No service's release tag points at ${commit.slice(0, 12)}: nothing to release.`),
    );
    return;
  }

  const base = inputs.base ? await baseRef(git, inputs.remote, inputs.base) : undefined;
  const reports = await detectChanges(git, manifest.services, tags, history.head, { ...inputs, ...(base ? { base } : {}) }, log);
  const matrix = buildMatrix(reports);
  writeMatrix(
    matrix.include,
    reports.filter((report) => !report.changed).map((report) => report.service.name),
  );
  core.setOutput('touched', JSON.stringify(reports.filter((report) => report.touched).map((report) => report.service.name)));
  let set: ReleaseSet | undefined;
  let pushed: string[] = [];
  if (inputs.environmentTag && matrix.include.length > 0) {
    set = await nextReleaseSet(git, history.head, reports, inputs.environmentTag, inputs.environmentTags, inputs);
    if (inputs.push) pushed = await pushReleaseSet(git, inputs.remote, history.head, reports, set, log);
  }
  core.setOutput('set-version', set?.version ?? '');
  core.setOutput('set-tag', set?.tag ?? '');
  core.setOutput('released', String(pushed.length > 0));
  for (const report of reports) core.info(`${report.service.name}: ${report.reason}${report.changed ? ` → ${report.version}` : ''}.`);
  if (pushed.length > 0 && set && inputs.dispatchWorkflow) await dispatch(inputs, set.tag, log);
  await writeJobSummary(...summary(reports, set, pushed, base));
}

async function readManifest(inputs: Inputs): Promise<ServicesManifest> {
  const text = await readRepoFile(inputs.repositoryPath, inputs.manifest, { where: 'the checkout', maxBytes: 1024 * 1024 });
  if (text === undefined)
    throw new UserError(
      'NOT_FOUND',
      `manifest: ${inputs.manifest} does not exist in ${inputs.repositoryPath}. Write one (toolkit init --monorepo writes a first one from the folders it finds; docs/monorepo.md).`,
    );
  // Cutting a release set (environment-tag) builds nothing, so it needs no image.
  return parseServicesManifest(text, inputs.manifest, inputs.environmentTag && !inputs.imagePrefix ? null : inputs.imagePrefix);
}

/** The pull request's base as the checkout has it: the remote's branch where it was fetched, else the name as given. */
async function baseRef(git: Git, remote: string, base: string): Promise<string> {
  const remoteBranch = `refs/remotes/${remote}/${base}`;
  const exists = await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${remoteBranch}^{commit}`], {
    allowFailure: true,
  });
  return exists.exitCode === 0 ? remoteBranch : base;
}

function writeMatrix(include: MatrixEntry[], unchanged: string[]): void {
  core.setOutput('matrix', JSON.stringify({ include }));
  core.setOutput('changed', JSON.stringify(include.map((entry) => entry.service)));
  core.setOutput('unchanged', JSON.stringify(unchanged));
  core.setOutput('any-changed', String(include.length > 0));
  core.setOutput('count', String(include.length));
}

async function dispatch(inputs: Inputs, tag: string, log: (message: string) => void): Promise<void> {
  const repository = parseRepository(process.env.GITHUB_REPOSITORY, 'GITHUB_REPOSITORY');
  const client = await githubClient(inputs.token);
  await client.rest.actions.createWorkflowDispatch({ ...repository, workflow_id: inputs.dispatchWorkflow, ref: tag, inputs: { tag } });
  log(`Started ${inputs.dispatchWorkflow} for ${tag} (workflow_dispatch).`);
}

function changedBy(report: ServiceChangeReport): string {
  if (report.commits.length === 0) return report.last ? '—' : 'first release';
  const files = report.filesKnown && report.files.length > 0 ? report.files.join(', ') : '';
  const shas = report.commits
    .slice(0, 3)
    .map((commit) => commit.sha.slice(0, 7))
    .join(', ');
  const more = report.commits.length > 3 ? ` and ${report.commits.length - 3} more` : '';
  return `${files ? `${files}; ` : ''}commits ${shas}${more}`;
}

function summary(
  reports: readonly ServiceChangeReport[],
  set: ReleaseSet | undefined,
  pushed: string[],
  base: string | undefined,
): string[] {
  const changed = reports.filter((report) => report.changed);
  const rows = reports.map((report) => [
    report.service.name,
    report.changed ? 'yes' : 'no',
    changedBy(report),
    report.changed ? `${report.last?.version ?? '(none)'} → ${report.version}` : (report.last?.version ?? '(none)'),
    report.reason,
  ]);
  return [
    summaryHeading(base ? `Services this pull request changes (against ${base})` : 'Changed services'),
    summaryParagraph(
      changed.length === 0
        ? 'No service has anything to release: the build matrix is empty.'
        : `${changed.length} of ${reports.length} service(s) to build: ${changed.map((report) => report.service.name).join(', ')}.`,
    ),
    summaryTable(['Service', 'Changed', 'Changed by', 'Version', 'Why'], rows),
    ...(set
      ? [
          summaryParagraph(
            pushed.length > 0
              ? `Release set ${set.tag} (after ${set.previousTag ?? 'no earlier set'}): pushed ${pushed.join(', ')}.`
              : `Release set ${set.tag} (after ${set.previousTag ?? 'no earlier set'}), not pushed.`,
          ),
        ]
      : []),
  ];
}
