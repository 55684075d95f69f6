import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import {
  CHART_NAME,
  Git,
  type GitOpsOptions,
  type GitOpsResult,
  InputError,
  InputReader,
  type ReadFile,
  type UmbrellaConfig,
  type UmbrellaResult,
  VERSIONS_MAX_BYTES,
  generateUmbrella,
  githubClient,
  parseRepository,
  readRepoFile,
  readUmbrellaConfig,
  repositoryPath,
  summaryHeading,
  summaryParagraph,
  summaryTable,
  umbrellaCommitMessage,
  writeJobSummary,
  writeRepoFile,
  writeWithApi,
  writeWithGit,
  writeWithPullRequest,
} from '@toolkit/shared';
import { DEFAULT_TIMEOUT_MS, verifyDependencies } from './umbrella-chart.js';

export interface Inputs {
  config: UmbrellaConfig;
  verify: boolean;
  /** How long a chart repository or registry has to answer verify's requests. */
  timeoutMs: number;
  workingDirectory: string;
  commit: boolean;
  environmentRepository: string;
  token: string;
  commitMode: 'git' | 'pull-request' | 'api';
  branch: string;
  maxAttempts: number;
  author: { name: string; email: string; given: boolean };
  registry: { username: string; password: string };
  /** Hosts an OCI registry's token service may be on, beyond the registry's own. */
  registryTokenHosts: string[];
}

export function getInputs(reader = new InputReader(), env: NodeJS.ProcessEnv = process.env): Inputs {
  const environment = reader.string('environment', { required: true, ...CHART_NAME });
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  const environmentRepository = reader.string('environment-repository');
  const authorName = reader.string('author-name');
  const authorEmail = reader.string('author-email');
  return {
    config: readUmbrellaConfig(reader, {
      prefix: '',
      environment,
      versionsFile: repositoryPath('versions-file', reader.string('versions-file') || 'versions.yaml'),
      sourceCommit: reader.string('source-commit'),
      defaultRepoUrl: `${serverUrl}/${environmentRepository || env.GITHUB_REPOSITORY || 'org/environments'}.git`,
    }),
    verify: reader.boolean('verify', false),
    timeoutMs: positiveDuration(reader, 'timeout', DEFAULT_TIMEOUT_MS),
    workingDirectory: reader.string('working-directory') || env.GITHUB_WORKSPACE || process.cwd(),
    commit: reader.boolean('commit', false),
    environmentRepository,
    token: reader.secret('token'),
    commitMode: reader.enum('commit-mode', ['git', 'pull-request', 'api'], 'git'),
    branch: reader.string('branch'),
    maxAttempts: reader.integer('max-attempts', { min: 1, max: 100, fallback: 10 }),
    author: {
      name: authorName || 'github-actions[bot]',
      email: authorEmail || '41898282+github-actions[bot]@users.noreply.github.com',
      given: authorName !== '' || authorEmail !== '',
    },
    registry: { username: reader.string('registry-username'), password: reader.secret('registry-password') },
    registryTokenHosts: reader.list('registry-token-hosts'),
  };
}

function positiveDuration(reader: InputReader, name: string, fallbackMs: number): number {
  const milliseconds = reader.duration(name, fallbackMs);
  if (milliseconds < 1)
    throw new InputError(name, `${JSON.stringify(reader.string(name))} is not allowed; expected a duration of at least 1ms, such as 30s.`);
  return milliseconds;
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  const { config } = inputs;
  const cacheDir = path.join(process.env.RUNNER_TOOL_CACHE || os.tmpdir(), 'toolkit-chart-index');
  const credentials = inputs.registry.username ? { username: inputs.registry.username, password: inputs.registry.password } : undefined;
  const verified = new Set<string>();
  let last: UmbrellaResult | undefined;

  /** Generates (and verifies, once per set of dependencies) from the files as `read` gives them. */
  const generate = async (read: ReadFile): Promise<UmbrellaResult> => {
    const result = await generateUmbrella(read, config);
    const key = JSON.stringify(result.dependencies);
    if (inputs.verify && result.changed && !verified.has(key)) {
      const report = await verifyDependencies(result.dependencies, {
        cacheDir,
        timeoutMs: inputs.timeoutMs,
        tokenHosts: inputs.registryTokenHosts,
        ...(credentials ? { credentials } : {}),
      });
      core.info(
        `Verified ${result.dependencies.length} chart version(s): ${report.indexRequests} index request(s), ${report.notModified} answered from the ETag cache.`,
      );
      verified.add(key);
    }
    last = result;
    return result;
  };

  let written: GitOpsResult | undefined;
  if (!inputs.commit) {
    const root = inputs.workingDirectory;
    // Regular files inside the working directory only: a link there is refused, never followed.
    const where = `the working directory ${root}`;
    const read: ReadFile = (file) => readRepoFile(root, file, { where, maxBytes: VERSIONS_MAX_BYTES });
    const result = await generate(read);
    for (const [file, content] of Object.entries(result.files)) await writeRepoFile(root, file, content, { where });
  } else {
    if (!inputs.environmentRepository)
      throw new InputError('environment-repository', 'a repository is required with commit: true (owner/name or a git URL).');
    const serverUrl = process.env.GITHUB_SERVER_URL || 'https://github.com';
    const isGitHub = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(inputs.environmentRepository);
    const url = isGitHub ? `${serverUrl}/${inputs.environmentRepository}.git` : inputs.environmentRepository;
    const authUrl = isGitHub ? serverUrl : /^https?:\/\//.test(url) ? new URL(url).origin : undefined;
    const git = new Git({ cwd: os.tmpdir(), ...(inputs.token && authUrl ? { auth: { token: inputs.token, url: authUrl } } : {}) });
    const options: GitOpsOptions = {
      ...(inputs.branch ? { branch: inputs.branch } : {}),
      maxAttempts: inputs.maxAttempts,
      author: { name: inputs.author.name, email: inputs.author.email },
      authorGiven: inputs.author.given,
      edit: async (read) => {
        const result = await generate(read);
        return result.changed ? { files: result.files, message: umbrellaCommitMessage(config, result) } : undefined;
      },
      log: (message) => core.info(message),
    };
    const workRoot = process.env.RUNNER_TEMP || os.tmpdir();
    if (inputs.commitMode === 'git') written = await writeWithGit(git, url, workRoot, options);
    else {
      if (!isGitHub)
        throw new InputError('environment-repository', `commit-mode ${inputs.commitMode} needs a GitHub repository as owner/name.`);
      const repository = parseRepository(inputs.environmentRepository, 'environment-repository');
      const github = await githubClient(inputs.token);
      written =
        inputs.commitMode === 'api'
          ? await writeWithApi(github, repository, options)
          : await writeWithPullRequest(
              git,
              url,
              workRoot,
              {
                github,
                repository,
                naming: () => ({
                  branch: `umbrella/${config.environment}/${last?.chartVersion ?? 'next'}`,
                  reusePrefix: `umbrella/${config.environment}/`,
                }),
              },
              options,
            );
    }
  }

  const result = last as UmbrellaResult;
  const changed = written ? written.changed : result.changed;
  core.setOutput('chart-dir', config.outputDir);
  core.setOutput('chart-version', result.chartVersion);
  core.setOutput('changed', String(changed));
  core.setOutput('dependencies', String(result.dependencies.length));
  core.setOutput('commit', written?.commit ?? '');
  core.setOutput('pull-request-url', written?.pullRequestUrl ?? '');
  core.info(
    changed
      ? `${config.outputDir}: ${config.chartName} ${result.chartVersion}, ${result.dependencies.length} dependencies.`
      : `${config.outputDir} already says this: nothing written.`,
  );
  await writeJobSummary(
    summaryHeading(`${config.chartName} ${result.chartVersion}${changed ? '' : ' (unchanged)'}`),
    summaryTable(
      ['Service', 'Chart', 'Version', 'Repository'],
      result.dependencies.map((dependency) => [dependency.service, dependency.name, dependency.version, dependency.repository]),
    ),
    ...(result.differences.length > 0
      ? [
          summaryHeading('Changed since the previous chart', 4),
          summaryTable(
            ['Service', 'Before', 'After'],
            result.differences.map((d) => [d.service, d.before ?? '(added)', d.after ?? '(removed)']),
          ),
        ]
      : [summaryParagraph('No dependency changed since the previous chart.')]),
  );
}
