import type { GitHub } from '@actions/github/lib/utils';
import { UserError } from './errors.js';
import { registerSecret } from './secrets.js';

export interface Repository {
  owner: string;
  repo: string;
}

/** `owner/name` (or `GITHUB_REPOSITORY` when empty) as owner and repo; anything else is refused. */
export function parseRepository(text: string | undefined, input = 'repository'): Repository {
  const value = (text || process.env.GITHUB_REPOSITORY || '').trim();
  const match = /^([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\/([A-Za-z0-9._-]+)$/.exec(value);
  if (!match) {
    throw new UserError('INVALID_INPUT', `Invalid input "${input}": ${JSON.stringify(value)} is not a repository; expected owner/name.`);
  }
  return { owner: match[1] as string, repo: match[2] as string };
}

export type GitHubClient = InstanceType<typeof GitHub>;

/**
 * An Octokit for the REST API, authenticated with `token` (masked here). @actions/github is loaded
 * on first use, so an action that never calls the API does not compile Octokit at start-up. It uses
 * the global fetch (so that tests can intercept it) and `GITHUB_API_URL` (GitHub Enterprise, or a
 * test server) for its base URL.
 */
export async function githubClient(token: string): Promise<GitHubClient> {
  if (!token) throw new UserError('INVALID_INPUT', 'Invalid input "token": a token is required to call the GitHub API.');
  registerSecret(token);
  const { getOctokit } = await import('@actions/github');
  return getOctokit(token, {
    baseUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
    request: { fetch: globalThis.fetch },
  });
}
