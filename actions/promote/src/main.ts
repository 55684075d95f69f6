import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import {
  Git,
  type GitOpsOptions,
  type GitOpsResult,
  InputError,
  InputReader,
  type UmbrellaConfig,
  type UmbrellaResult,
  githubClient,
  imageRepositoryProblem,
  isSemanticVersion,
  parseRepositoryInput,
  readUmbrellaConfig,
  releaseVersion,
  repositoryUrl,
  summaryHeading,
  summaryParagraph,
  summaryTable,
  writeJobSummary,
  writeWithApi,
  writeWithGit,
  writeWithPullRequest,
} from '@toolkit/shared';
import {
  type Operation,
  type PromoteRequest,
  type ServiceChange,
  type ServiceSpec,
  describeRelease,
  diffMarkdown,
  parseServices,
  promotionBranch,
  promotionEdit,
} from './promote.js';

export interface Inputs {
  request: PromoteRequest;
  /** With umbrella-chart: true, how the environment's chart is generated in the same commit. */
  umbrella?: UmbrellaConfig;
  repository: string;
  file: string;
  branch: string;
  token: string;
  commitMode: 'git' | 'pull-request' | 'api';
  maxAttempts: number;
  authorName: string;
  authorEmail: string;
  authorGiven: boolean;
}

const BOT = { name: 'github-actions[bot]', email: '41898282+github-actions[bot]@users.noreply.github.com' };

export function getInputs(reader = new InputReader(), env: NodeJS.ProcessEnv = process.env): Inputs {
  const operation = reader.enum<Operation>('operation', ['bump', 'promote', 'rollback'], 'bump');
  const name = { pattern: SERVICE_NAME, expected: "lower-case letters, digits, '.', '_' and '-'" };
  let services = parseServices(reader.list('services', { separator: 'newline' }), operation === 'bump').map((spec) =>
    spec.version === undefined ? spec : { ...spec, version: versionInput('services', spec.version, `${spec.name}=${spec.version}`) },
  );
  services = [...services, ...servicesJson(reader.string('services-json'), operation === 'bump')];
  const service = reader.string('service', name);
  if (service) {
    const given = reader.string('version', { required: operation === 'bump' });
    const version = given ? versionInput('version', given) : '';
    const digest = reader.string('digest', { pattern: /^sha256:[a-f0-9]{64}$/, expected: 'sha256: followed by 64 hexadecimal digits' });
    services = [...services, { name: service, ...(version ? { version } : {}), ...(digest ? { digest } : {}) }];
  }
  if (operation !== 'promote' && services.length === 0)
    throw new InputError('services', `${operation} needs a service: give service (with version) or services.`);
  const environment =
    operation === 'promote' ? reader.string('to', { required: true, ...name }) : reader.string('environment', { required: true, ...name });
  const givenRunUrl = reader.string('run-url');
  if (givenRunUrl && !/^https?:\/\/[^\s\p{Cc}]+$/u.test(givenRunUrl))
    throw new InputError(
      'run-url',
      `${JSON.stringify(givenRunUrl)} is not allowed; expected the URL of a workflow run (https://…), without whitespace.`,
    );
  const actor = reader.string('actor');
  if (/\p{Cc}/u.test(actor))
    throw new InputError(
      'actor',
      `${JSON.stringify(actor)} is not allowed; expected a GitHub login, without line breaks or control characters.`,
    );
  const runUrl =
    givenRunUrl ||
    (env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
      ? `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : '');
  const file = reader.string('file') || 'versions.yaml';
  if (path.isAbsolute(file) || file.split(/[\\/]/).some((part) => part === '..' || part.toLowerCase() === '.git') || /\p{Cc}/u.test(file))
    throw new InputError(
      'file',
      `${JSON.stringify(file)} is not allowed; expected a path inside the environment repository, such as versions.yaml.`,
    );
  const authorName = reader.string('author-name');
  const authorEmail = reader.string('author-email');
  const repository = reader.string('repository', { required: true });
  const chartVersion = reader.string('chart-version');
  if (chartVersion && !isSemanticVersion(chartVersion))
    throw new InputError(
      'chart-version',
      `${JSON.stringify(chartVersion)} is not allowed; expected a chart version in semantic versioning (such as 0.7.0), as Helm needs.`,
    );
  const sourceCommit = reader.string('source-commit', { pattern: /^[0-9a-f]{7,64}$/, expected: 'a commit SHA' });
  const sourceCommitTime = commitTimeInput(reader.string('source-commit-time'));
  const umbrella = reader.boolean('umbrella-chart', false)
    ? readUmbrellaConfig(reader, {
        prefix: 'umbrella-',
        environment,
        versionsFile: file,
        sourceCommit,
        defaultRepoUrl: repositoryUrl(repository, env.GITHUB_SERVER_URL || 'https://github.com').url,
      })
    : undefined;
  return {
    ...(umbrella ? { umbrella } : {}),
    request: {
      operation,
      environment,
      ...(operation === 'promote' ? { from: reader.string('from', { required: true, ...name }) } : {}),
      services,
      image: imageInput(reader.string('image')),
      chartName: reader.string('chart-name', name),
      chartVersion,
      chartRepository: parseRepositoryInput(reader.string('chart-repository'), 'chart-repository'),
      promotionOrder: reader.list('promotion-order'),
      allowSkip: reader.boolean('allow-skip', false),
      createEnvironment: reader.boolean('create-environment', false),
      allowDowngrade: reader.boolean('allow-downgrade', false),
      skipOlder: reader.boolean('skip-older', false),
      meta: {
        commit: sourceCommit,
        ...(sourceCommitTime ? { commitTime: sourceCommitTime } : {}),
        actor,
        runUrl,
        now: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    },
    repository,
    file,
    branch: reader.string('branch'),
    token: reader.secret('token'),
    commitMode: reader.enum('commit-mode', ['git', 'pull-request', 'api'], 'git'),
    maxAttempts: reader.integer('max-attempts', { min: 1, max: 100, fallback: 10 }),
    authorName: authorName || BOT.name,
    authorEmail: authorEmail || BOT.email,
    authorGiven: authorName !== '' || authorEmail !== '',
  };
}

const SERVICE_NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * The services-json input: a JSON list of {service, version, digest, image, chart: {name, version,
 * repository}}, each service with its own image and chart (what a build matrix of several services
 * collects). Every field is checked as its single-service input is, and named by its place in the list.
 */
export function servicesJson(text: string, needVersion: boolean): ServiceSpec[] {
  if (!text.trim()) return [];
  const input = 'services-json';
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      input,
      `is not JSON (${(error as Error).message}); expected a list such as [{"service": "api", "version": "1.4.0", "digest": "sha256:…"}].`,
    );
  }
  if (!Array.isArray(items)) throw new InputError(input, 'is not a JSON list; expected [{"service": "api", "version": "1.4.0", …}, …].');
  const fields = new Set(['service', 'version', 'digest', 'image', 'chart']);
  return items.map((item: unknown, index) => {
    const where = `item ${index + 1}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new InputError(input, `${where} is not an object.`);
    const entry = item as Record<string, unknown>;
    const unknown = Object.keys(entry).find((key) => !fields.has(key));
    if (unknown) throw new InputError(input, `${where} has an unknown key "${unknown}"; allowed: ${[...fields].join(', ')}.`);
    const text = (key: string, value: unknown): string => {
      if (value === undefined || value === '') return '';
      if (typeof value !== 'string') throw new InputError(input, `${where}: ${key} must be a string, not ${JSON.stringify(value)}.`);
      return value;
    };
    const name = text('service', entry.service);
    if (!SERVICE_NAME.test(name))
      throw new InputError(
        input,
        `${where}: service ${JSON.stringify(name)} is not allowed; expected lower-case letters, digits, '.', '_' and '-'.`,
      );
    const version = text('version', entry.version);
    if (needVersion && !version) throw new InputError(input, `${where} (${name}) has no version.`);
    const digest = text('digest', entry.digest);
    if (digest && !DIGEST.test(digest))
      throw new InputError(
        input,
        `${where} (${name}): digest ${JSON.stringify(digest)} is not allowed; expected sha256: followed by 64 hexadecimal digits.`,
      );
    const image = text('image', entry.image);
    const chart = entry.chart === undefined ? {} : entry.chart;
    if (chart === null || typeof chart !== 'object' || Array.isArray(chart))
      throw new InputError(input, `${where} (${name}): chart is not an object.`);
    const { name: chartName, version: chartVersion, repository, ...rest } = chart as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra) throw new InputError(input, `${where} (${name}): chart has an unknown key "${extra}"; allowed: name, version, repository.`);
    const chartNameText = text('chart.name', chartName);
    if (chartNameText && !SERVICE_NAME.test(chartNameText))
      throw new InputError(
        input,
        `${where} (${name}): chart.name ${JSON.stringify(chartNameText)} is not allowed; expected lower-case letters, digits, '.', '_' and '-'.`,
      );
    const chartVersionText = text('chart.version', chartVersion);
    if (chartVersionText && !isSemanticVersion(chartVersionText))
      throw new InputError(
        input,
        `${where} (${name}): chart.version ${JSON.stringify(chartVersionText)} is not a semantic version, as Helm needs.`,
      );
    const chartRepository = parseRepositoryInput(text('chart.repository', repository), input);
    const chartRef = {
      ...(chartNameText ? { name: chartNameText } : {}),
      ...(chartVersionText ? { version: chartVersionText } : {}),
      ...(chartRepository ? { repository: chartRepository } : {}),
    };
    return {
      name,
      ...(version ? { version: versionInput(input, version, `${where} (${name}): ${version}`) } : {}),
      ...(digest ? { digest } : {}),
      ...(image ? { image: imageInput(image, input) } : {}),
      ...(Object.keys(chartRef).length > 0 ? { chart: chartRef } : {}),
    };
  });
}

const VERSION_EXPECTED =
  'a semantic version (SemVer 2, such as 1.4.0 or 1.4.0-rc.1, without build metadata, which no image tag can hold; a leading v is accepted and stripped: v1.4.0 is recorded as 1.4.0)';

/** A version input (`version`, or the version of a `services` line): SemVer 2, its leading `v` stripped. */
export function versionInput(input: string, value: string, shown = value): string {
  const version = releaseVersion(value);
  // The version is the image's tag in the umbrella chart, and a tag cannot hold `+`.
  if (version?.includes('+')) {
    throw new InputError(
      input,
      `${JSON.stringify(shown)} is not allowed: SemVer build metadata (+${version.split('+')[1]}) cannot be an image tag; release it as ${version.split('+')[0]} or a pre-release (-…).`,
    );
  }
  if (version !== undefined) return version;
  const why = /[\r\n]/.test(value) ? ' (it contains a line break)' : /\s/.test(value) ? ' (it contains whitespace)' : '';
  const what = shown === value ? JSON.stringify(value) : `${JSON.stringify(shown)}: the version ${JSON.stringify(value)}`;
  throw new InputError(input, `${what} is not allowed${why}; expected ${VERSION_EXPECTED}.`);
}

/**
 * The source-commit-time input: an RFC 3339 date-time with its offset (what `git log -1
 * --format=%cI` prints), recorded in UTC as committed_at. Empty records none.
 */
export function commitTimeInput(value: string): string | undefined {
  if (!value) return undefined;
  const time = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    throw new InputError(
      'source-commit-time',
      `${JSON.stringify(value)} is not allowed; expected the source commit's time in RFC 3339 with its offset, such as 2026-11-23T05:00:00Z or 2026-11-23T06:00:00+01:00 (git log -1 --format=%cI prints it).`,
    );
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The image input: a repository, without tag or digest (distribution/reference's name grammar). */
export function imageInput(image: string, input = 'image'): string {
  if (!image) return image;
  const problem = imageRepositoryProblem(image);
  if (problem === undefined) return image;
  throw new InputError(
    input,
    `${JSON.stringify(image)} is not allowed: ${problem}. Expected an image repository without tag or digest, such as ghcr.io/acme/api ` +
      '(lower-case path components separated by /, after an optional registry host and port).',
  );
}

export { repositoryUrl };

export async function main(): Promise<void> {
  const inputs = getInputs();
  const { request } = inputs;
  const serverUrl = process.env.GITHUB_SERVER_URL || 'https://github.com';
  const target = repositoryUrl(inputs.repository, serverUrl);
  const git = new Git({
    cwd: os.tmpdir(),
    ...(inputs.token && target.authUrl ? { auth: { token: inputs.token, url: target.authUrl } } : {}),
  });
  const promotion = promotionEdit(request, inputs.file, inputs.umbrella);
  const options: GitOpsOptions = {
    ...(inputs.branch ? { branch: inputs.branch } : {}),
    maxAttempts: inputs.maxAttempts,
    author: { name: inputs.authorName, email: inputs.authorEmail },
    authorGiven: inputs.authorGiven,
    edit: promotion.edit,
    log: (message) => core.info(message),
  };
  const workRoot = process.env.RUNNER_TEMP || os.tmpdir();
  const needsGitHub = () => {
    if (!target.github)
      throw new InputError(
        'repository',
        `commit-mode ${inputs.commitMode} needs a GitHub repository as owner/name, not ${JSON.stringify(inputs.repository)}.`,
      );
    return target.github;
  };
  let result: GitOpsResult;
  if (inputs.commitMode === 'git') result = await writeWithGit(git, target.url, workRoot, options);
  else if (inputs.commitMode === 'pull-request') {
    const repository = needsGitHub();
    result = await writeWithPullRequest(
      git,
      target.url,
      workRoot,
      {
        github: await githubClient(inputs.token),
        repository,
        naming: () => promotionBranch(request.environment, promotion.changes(), promotion.chart()),
      },
      options,
    );
  } else {
    const repository = needsGitHub();
    result = await writeWithApi(await githubClient(inputs.token), repository, options);
  }

  for (const notice of promotion.notices()) core.warning(notice);
  const changes = result.changed ? promotion.changes() : [];
  const chart = promotion.chart();
  core.setOutput('changed', String(result.changed));
  core.setOutput('commit', result.commit ?? '');
  core.setOutput('pull-request-url', result.pullRequestUrl ?? '');
  core.setOutput('previous-version', changes[0]?.before?.version ?? '');
  // What the (first) service is recorded as, changed now or already: what a deploy step pins.
  const [recorded] = promotion.recorded();
  core.setOutput('version', recorded?.after.version ?? '');
  core.setOutput('image', recorded?.after.image ?? '');
  core.setOutput('digest', recorded?.after.digest ?? '');
  core.setOutput('diff', diffMarkdown(changes));
  core.setOutput('umbrella-chart-dir', inputs.umbrella?.outputDir ?? '');
  core.setOutput('umbrella-chart-version', chart?.chartVersion ?? '');
  core.info(
    result.changed
      ? `${inputs.file}: ${changes.length} service(s) changed.${chart?.changed ? ` ${inputs.umbrella?.outputDir}: ${inputs.umbrella?.chartName} ${chart.chartVersion}, in the same commit.` : ''}`
      : inputs.umbrella
        ? `${inputs.file} and ${inputs.umbrella.outputDir} already say this: no commit.`
        : `${inputs.file} already says this: no commit.`,
  );
  await writeJobSummary(...summary(inputs, result, changes, chart));
}

function summary(inputs: Inputs, result: GitOpsResult, changes: readonly ServiceChange[], chart: UmbrellaResult | undefined): string[] {
  const { request } = inputs;
  const title =
    request.operation === 'promote'
      ? `Promote ${request.from} → ${request.environment}`
      : `${request.operation === 'bump' ? 'Bump' : 'Roll back'} ${request.environment}`;
  if (!result.changed)
    return [summaryHeading(title), summaryParagraph(`${inputs.file} in ${inputs.repository} already says this: nothing to commit.`)];
  const rows = changes.map((change) => [change.environment, change.service, describeRelease(change.before), describeRelease(change.after)]);
  return [
    summaryHeading(title),
    ...(rows.length > 0 ? [summaryTable(['Environment', 'Service', 'Before', 'After'], rows)] : []),
    ...(chart?.changed && inputs.umbrella
      ? [
          summaryParagraph(
            `Umbrella chart ${inputs.umbrella.chartName} ${chart.chartVersion} written to ${inputs.umbrella.outputDir}, in the same commit.`,
          ),
        ]
      : []),
    summaryParagraph(
      result.pullRequestUrl
        ? `Pull request: ${result.pullRequestUrl}`
        : `Commit ${result.commit?.slice(0, 12) ?? ''} in ${inputs.repository} (${inputs.commitMode}, attempt ${result.attempts}).`,
    ),
  ];
}
