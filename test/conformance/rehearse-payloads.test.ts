/**
 * The rehearsal's event payloads against real webhook payloads (../shared/fixtures/github-events,
 * octokit/webhooks' examples; see its SOURCES.md): started from a real one, every field GitHub
 * sends is still there, and the fields that name the local repository and commit are the
 * rehearsal's.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type Json, eventPayload } from '@toolkit/cli';
import { ROOT } from '../support/harness.js';

const EVENTS = path.join(ROOT, '..', 'shared', 'fixtures', 'github-events');
const present = existsSync(EVENTS);
if (!present) {
  console.warn(`Conformance with real webhook payloads is SKIPPED: ${EVENTS} is absent (../shared/fixtures is not beside this checkout).`);
}

const real = (file: string) => JSON.parse(readFileSync(path.join(EVENTS, file), 'utf8')) as Record<string, Json>;
const repo = { fullName: 'acme/shop', defaultBranch: 'main', private: true, serverUrl: 'http://127.0.0.1:1' };
const SHA = 'a'.repeat(40);

(present ? describe : describe.skip)('conformance: rehearsal payloads started from real webhook payloads', () => {
  it.each([
    ['push', 'push-payload.json', { name: 'push' as const, ref: 'refs/tags/UAT-1.0.0', sha: SHA, actor: 'dev' }],
    [
      'workflow_dispatch',
      'workflow_dispatch-payload.json',
      { name: 'workflow_dispatch' as const, ref: 'refs/heads/main', sha: SHA, actor: 'dev', inputs: { tag: 'UAT-1.0.0' } },
    ],
    [
      'pull_request',
      'pull_request-opened.payload.json',
      {
        name: 'pull_request' as const,
        ref: 'refs/pull/7/merge',
        sha: SHA,
        actor: 'dev',
        pullRequest: { number: 7, base: 'main', baseSha: 'b'.repeat(40), head: 'feature', headSha: 'c'.repeat(40) },
      },
    ],
  ])('%s keeps every field of %s and names the local repository', (_name, file, event) => {
    const base = real(file);
    const payload = eventPayload(event, repo, base);
    expect(Object.keys(payload).sort()).toEqual(expect.arrayContaining(Object.keys(base).sort()));
    const repository = payload.repository as Record<string, Json>;
    expect(Object.keys(repository)).toEqual(expect.arrayContaining(Object.keys(base.repository as Record<string, Json>)));
    expect(repository).toMatchObject({
      full_name: 'acme/shop',
      name: 'shop',
      owner: { login: 'acme' },
      default_branch: 'main',
      private: true,
    });
    if (event.name === 'push') expect(payload).toMatchObject({ ref: 'refs/tags/UAT-1.0.0', after: SHA });
    if (event.name === 'workflow_dispatch') expect(payload).toMatchObject({ ref: 'refs/heads/main', inputs: { tag: 'UAT-1.0.0' } });
    if (event.name === 'pull_request') {
      const pr = payload.pull_request as Record<string, Json>;
      expect(Object.keys(pr)).toEqual(expect.arrayContaining(Object.keys(base.pull_request as Record<string, Json>)));
      expect(pr).toMatchObject({ number: 7, head: { ref: 'feature', sha: 'c'.repeat(40) }, base: { ref: 'main', sha: 'b'.repeat(40) } });
    }
  });
});
