import * as core from '@actions/core';
import { Git, InputReader, REMOTE_NAME, summaryFacts, summaryHeading, writeJobSummary } from '@toolkit/shared';
import {
  type EnvironmentPrefix,
  type ReleaseContext,
  parseEnvironmentPrefixes,
  parsePromotionOrder,
  resolveReleaseContext,
} from './release-context.js';

export interface Inputs {
  ref: string;
  environmentPrefixes: EnvironmentPrefix[];
  promotionOrder: string[];
  promotionGate: boolean;
  remote: string;
  repositoryPath: string;
  /** Sent to the remote (GITHUB_SERVER_URL only) when tags are asked for: a private repository wants it. */
  token: string;
}

export function getInputs(reader = new InputReader()): Inputs {
  const promotionOrder = parsePromotionOrder(reader.list('promotion-order'));
  return {
    ref: reader.string('ref', { required: true }),
    environmentPrefixes: parseEnvironmentPrefixes(reader.list('environment-prefixes'), promotionOrder),
    promotionOrder,
    promotionGate: reader.boolean('promotion-gate', true),
    remote: reader.string('remote', REMOTE_NAME) || 'origin',
    repositoryPath: reader.string('repository-path') || process.env.GITHUB_WORKSPACE || process.cwd(),
    token: reader.string('token'),
  };
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  // A checkout made with persist-credentials: false has no token for the remote; a private
  // repository refuses an anonymous ls-remote, so the gate sends the job's token (to GitHub only).
  const git = new Git({
    cwd: inputs.repositoryPath,
    ...(inputs.token ? { auth: { token: inputs.token, url: process.env.GITHUB_SERVER_URL || 'https://github.com' } } : {}),
  });
  const context = await resolveReleaseContext(inputs, (tags) => git.tagCommits(tags, inputs.remote));
  core.setOutput('environment', context.environment);
  core.setOutput('version', context.version);
  core.setOutput('tag', context.tag);
  core.setOutput('commit', context.commit);
  core.setOutput('is-production', String(context.isProduction));
  core.setOutput('previous-environment', context.previousEnvironment ?? '');
  core.setOutput('previous-tag', context.previousTag ?? '');
  core.info(`${context.tag}: version ${context.version} to ${context.environment} at ${context.commit} (${describeGate(context)}).`);
  await writeJobSummary(
    summaryHeading(`Release ${context.version} to ${context.environment}`),
    summaryFacts([
      ['Tag', { text: context.tag, code: true }],
      ['Environment', `${context.environment}${context.isProduction ? ' (production)' : ''}`],
      ['Version', context.version],
      ['Commit', { text: context.commit, code: true }],
      ['Promotion gate', describeGate(context)],
    ]),
  );
}

function describeGate(context: ReleaseContext): string {
  const { gate } = context;
  switch (gate.status) {
    case 'passed':
      return `passed: ${gate.tag} is at the same commit`;
    case 'not-required':
      return `not required: ${gate.reason}`;
    case 'off':
      return `off (promotion-gate: false)${gate.tag ? `; ${gate.tag} was not checked` : ''}`;
  }
}
