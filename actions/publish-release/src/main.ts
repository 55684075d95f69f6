import * as core from '@actions/core';
import {
  InputReader,
  type Repository,
  githubClient,
  parseRepository,
  summaryFacts,
  summaryHeading,
  summaryParagraph,
  summaryTable,
  writeJobSummary,
} from '@toolkit/shared';
import { type PublishReleaseResult, imageByDigest, parseReleaseTag, publishRelease } from './publish-release.js';
import { formatSize } from './release-body.js';

export interface Inputs {
  tag: string;
  name: string;
  changelog: string;
  /** name@sha256:…, or undefined for no image. */
  image?: string;
  scanSummary: string;
  files: string[];
  /** undefined: decided from the tag on creation, left as it is on an existing release. */
  prerelease?: boolean;
  token: string;
  repository: Repository;
  workspace: string;
}

export function getInputs(reader = new InputReader(), env: NodeJS.ProcessEnv = process.env): Inputs {
  const tag = parseReleaseTag(reader.string('tag', { required: true }));
  const digest = reader.string('digest', {
    pattern: /^sha256:[a-f0-9]{64}$/,
    expected: 'sha256: followed by 64 lower-case hexadecimal digits',
  });
  const image = imageByDigest(reader.string('image'), digest);
  const prerelease = reader.string('prerelease') === '' ? undefined : reader.boolean('prerelease');
  return {
    tag,
    name: reader.string('name'),
    changelog: reader.string('changelog'),
    ...(image ? { image } : {}),
    scanSummary: reader.string('scan-summary'),
    files: reader.list('files', { separator: 'newline' }),
    ...(prerelease === undefined ? {} : { prerelease }),
    token: reader.secret('token', { required: true }),
    repository: parseRepository(reader.string('repository') || env.GITHUB_REPOSITORY, 'repository'),
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
  };
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  const result = await publishRelease(inputs, { github: await githubClient(inputs.token), log: (message) => core.info(message) });
  core.setOutput('release-id', String(result.releaseId));
  core.setOutput('html-url', result.htmlUrl);
  core.setOutput('created', String(result.release === 'created'));
  core.setOutput('assets', JSON.stringify(result.assets.map(({ name, size, sha256, url }) => ({ name, size, sha256, url }))));
  await writeJobSummary(...summary(inputs, result));
}

function summary(inputs: Inputs, result: PublishReleaseResult): string[] {
  const what = { created: 'created', updated: 'updated in place', unchanged: 'already up to date' }[result.release];
  return [
    summaryHeading(`Release ${inputs.tag}`),
    summaryFacts([
      ['Release', { text: result.htmlUrl, href: result.htmlUrl }],
      ['Repository', `${inputs.repository.owner}/${inputs.repository.repo}`],
      ['This run', `${what}${result.prerelease ? ' (pre-release)' : ''}`],
      ['Image', result.image ? { text: result.image, code: true } : 'none'],
      ['Scan summary', inputs.scanSummary ? 'in the body' : 'none'],
    ]),
    ...(result.assets.length > 0
      ? [
          summaryTable(
            ['Attached', 'Size', 'SHA-256', ''],
            result.assets.map((asset) => [
              { text: asset.name, href: asset.url },
              formatSize(asset.size),
              { text: asset.sha256, code: true },
              asset.replaced ? 'replaced the previous one' : 'new',
            ]),
          ),
        ]
      : [summaryParagraph('No files were attached.')]),
  ];
}
