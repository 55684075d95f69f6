import * as core from '@actions/core';
import {
  Git,
  InputError,
  InputReader,
  REMOTE_NAME,
  githubClient,
  parseRepository,
  summaryFacts,
  summaryHeading,
  summaryList,
  summaryParagraph,
  writeJobSummary,
} from '@toolkit/shared';
import {
  DEFAULT_BUMP_VALUES,
  type SemanticTagConfig,
  type SemanticTagResult,
  changelogEntryText,
  parseInitialVersion,
  parsePrereleaseIdentifier,
  parseReleaseRules,
  parseTagPrefix,
  runSemanticTag,
} from './semantic-tag.js';

export interface Inputs extends SemanticTagConfig {
  token: string;
  repositoryPath: string;
}

/** An environment tag's prefix without its hyphen: UAT for UAT-1.3.0. */
const ENVIRONMENT_PREFIX = /^[A-Za-z][A-Za-z0-9_]*$/;

export function getInputs(reader = new InputReader()): Inputs {
  const environmentTag = reader.string('environment-tag', {
    pattern: ENVIRONMENT_PREFIX,
    expected: 'a tag prefix without the hyphen, such as UAT',
  });
  const environmentTags = reader.list('environment-tags');
  for (const item of environmentTags) {
    if (!ENVIRONMENT_PREFIX.test(item))
      throw new InputError(
        'environment-tags',
        `${JSON.stringify(item)} is not allowed; expected tag prefixes without the hyphen, separated by commas or newlines, such as UAT,PROD.`,
      );
  }
  return {
    tagPrefix: parseTagPrefix(reader.string('tag-prefix')),
    initialVersion: parseInitialVersion(reader.string('initial-version', { required: true })),
    releaseRules: parseReleaseRules(reader.list('release-rules')),
    defaultBump: reader.enum('default-bump', DEFAULT_BUMP_VALUES, 'none'),
    majorZero: reader.enum('major-zero', ['breaking-is-minor', 'breaking-is-major'], 'breaking-is-minor'),
    prerelease: parsePrereleaseIdentifier(reader.string('prerelease')),
    paths: reader.list('paths'),
    annotate: reader.boolean('annotate', true),
    environmentTag,
    environmentTags,
    dryRun: reader.boolean('dry-run', false),
    remote: reader.string('remote', REMOTE_NAME) || 'origin',
    githubRelease: reader.boolean('github-release', false),
    dispatchWorkflow: reader.string('dispatch-workflow', {
      pattern: /^[\w.-]+\.ya?ml$|^\d+$/,
      expected: 'a workflow file name such as release.yml, or a workflow id',
    }),
    token: reader.secret('token'),
    repositoryPath: reader.string('repository-path') || process.env.GITHUB_WORKSPACE || process.cwd(),
  };
}

/** The identity of annotated tags where the checkout has none (a fresh runner has none). */
const BOT_IDENTITY = {
  GIT_COMMITTER_NAME: 'github-actions[bot]',
  GIT_COMMITTER_EMAIL: '41898282+github-actions[bot]@users.noreply.github.com',
};

export async function main(): Promise<void> {
  const inputs = getInputs();
  // Annotated tags need a tagger; a fresh runner has none configured. A dry run tags nothing.
  const probe = new Git({ cwd: inputs.repositoryPath });
  const hasIdentity = inputs.dryRun || (await probe.run(['config', 'user.email'], { allowFailure: true })).stdout.trim() !== '';
  const git = new Git({
    cwd: inputs.repositoryPath,
    env: hasIdentity ? {} : BOT_IDENTITY,
    ...(inputs.token ? { auth: { token: inputs.token, url: process.env.GITHUB_SERVER_URL || 'https://github.com' } } : {}),
  });
  const needsApi = !inputs.dryRun && (inputs.githubRelease || inputs.dispatchWorkflow !== '');
  const result = await runSemanticTag(inputs, {
    git,
    log: (message) => core.info(message),
    ...(needsApi
      ? { github: () => githubClient(inputs.token), repository: parseRepository(process.env.GITHUB_REPOSITORY, 'GITHUB_REPOSITORY') }
      : {}),
  });

  core.setOutput('version', result.version);
  core.setOutput('tag', result.tag);
  core.setOutput('previous-version', result.previousVersion ?? '');
  core.setOutput('previous-tag', result.previousTag ?? '');
  core.setOutput('bump', result.bump);
  core.setOutput('released', String(result.released));
  core.setOutput('environment-tag', result.environmentTag ?? '');
  core.setOutput('changelog', result.changelog);
  core.setOutput('commits', String(result.commits.length));
  core.info(describe(result, inputs.dryRun));
  await writeJobSummary(...summary(result, inputs));
}

function describe(result: SemanticTagResult, dryRun: boolean): string {
  const since = result.previousTag ? `since ${result.previousTag}` : 'in the whole history (no release yet)';
  const cancelled = result.commits.filter((commit) => commit.cancelledBy).length;
  // A commit and its revert in the same range count for nothing; say so, or a feat seems ignored.
  const from = cancelled > 0 ? `${since}, ${cancelled} of them cancelled out by reverts in the same range` : since;
  if (result.bump === 'none') return `No release: none of the ${result.commits.length} commit(s) ${from} calls for one.`;
  const what = dryRun ? 'would be released (dry run)' : result.released ? 'released' : 'already released at HEAD';
  return `${result.tag} ${what}: a ${result.bump} bump from ${result.commits.length} commit(s) ${from}.`;
}

const SUMMARY_ENTRIES = 50;

function summary(result: SemanticTagResult, { dryRun }: Inputs): string[] {
  const { sections } = result;
  return [
    summaryHeading(result.bump === 'none' ? 'No new version' : `${result.tag}${dryRun ? ' (dry run)' : ''}`),
    summaryParagraph(describe(result, dryRun)),
    summaryFacts([
      ['Previous', result.previousTag ? { text: result.previousTag, code: true } : '(none)'],
      ['Next', result.bump === 'none' ? '(none)' : { text: result.tag, code: true }],
      ['Bump', result.bump],
      ['Commits', String(result.commits.length)],
      ['Released', result.released ? `yes${result.environmentTag ? `, with ${result.environmentTag}` : ''}` : 'no'],
      ...(result.githubReleaseUrl ? ([['GitHub release', { text: result.githubReleaseUrl, href: result.githubReleaseUrl }]] as const) : []),
      ...(result.dispatched ? ([['Dispatched', `workflow_dispatch for ${result.dispatched}`]] as const) : []),
    ]),
    // The summary shows the first entries of each section; the changelog output has the rest.
    ...sections.flatMap((section) => [
      summaryHeading(section.title, 4),
      summaryList([
        ...section.entries.slice(0, SUMMARY_ENTRIES).map(changelogEntryText),
        ...(section.entries.length > SUMMARY_ENTRIES
          ? [`… and ${section.entries.length - SUMMARY_ENTRIES} more (see the changelog output)`]
          : []),
      ]),
    ]),
  ];
}
