import { afterEach, beforeEach } from '@jest/globals';
import nock from 'nock';

export const GITHUB_API = 'https://api.github.com';

/** For a test file that mocks GitHub's API: no real connection, the API URL pointed at the mock, scopes cleared after each test. */
export function mockGitHubApi(): void {
  beforeEach(() => {
    nock.disableNetConnect();
    process.env.GITHUB_API_URL = GITHUB_API;
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
}
