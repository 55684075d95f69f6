/**
 * release-report and promote's rollback reading histories that are not a straight line of promote
 * commits: merges, a branch other than the checked-out one, hand reverts, odd file names.
 */
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type FileVersion, Git, InputReader, gitFileHistory } from '@toolkit/shared';
import { rollbackTargets } from '../../actions/promote/src/rollback.js';
import { readHistory } from '../../actions/release-report/src/history.js';
import { getInputs, headline, runReport } from '../../actions/release-report/src/main.js';
import { buildReport } from '../../actions/release-report/src/report.js';
import { tempDir } from '../support/temp.js';

const NOW = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;

const at = (time: string) => ({
  GIT_AUTHOR_NAME: 'Hand',
  GIT_AUTHOR_EMAIL: 'hand@example.test',
  GIT_COMMITTER_NAME: 'Hand',
  GIT_COMMITTER_EMAIL: 'hand@example.test',
  GIT_AUTHOR_DATE: time,
  GIT_COMMITTER_DATE: time,
});

/** One service's entry as promote writes it. */
function entry(version: string, deployedAt: string, extra: { commit?: string; committedAt?: string; previous?: string } = {}): string {
  return [
    `        version: ${version}`,
    ...(extra.commit ? [`        commit: ${extra.commit}`] : []),
    ...(extra.committedAt ? [`        committed_at: '${extra.committedAt}'`] : []),
    `        deployed_at: '${deployedAt}'`,
    ...(extra.previous ? ['        previous:', `          version: ${extra.previous}`] : []),
  ].join('\n');
}

function file(environments: Record<string, Record<string, string>>, promotion = ['dev', 'prod']): string {
  const lines = [`promotion: [${promotion.join(', ')}]`, 'environments:'];
  for (const [environment, services] of Object.entries(environments)) {
    lines.push(`  ${environment}:`, '    services:');
    for (const [service, text] of Object.entries(services)) lines.push(`      ${service}:`, text);
  }
  return `${lines.join('\n')}\n`;
}

async function repo(): Promise<{ dir: string; git: (time: string) => Git }> {
  const dir = await tempDir('release-report-history-');
  await new Git({ cwd: dir }).run(['init', '--quiet', '--initial-branch=main']);
  return { dir, git: (time) => new Git({ cwd: dir, env: at(time) }) };
}

async function commitFile(
  r: { dir: string; git: (time: string) => Git },
  time: string,
  message: string,
  text: string,
  name = 'versions.yaml',
) {
  await writeFile(path.join(r.dir, name), text);
  await r.git(time).run(['add', '--', name]);
  await r.git(time).run(['commit', '--quiet', '-m', message]);
}

async function historyOf(dir: string, branch = 'main', name = 'versions.yaml'): Promise<FileVersion[]> {
  const all: FileVersion[] = [];
  for await (const version of gitFileHistory(new Git({ cwd: dir }), branch, { since: new Date(NOW.getTime() - 90 * DAY) })(
    name,
    Number.POSITIVE_INFINITY,
  ))
    all.push(version);
  return all;
}

const report = (history: FileVersion[]) => buildReport(history, { now: NOW, windowMs: 90 * DAY, fixWindowMs: DAY });

describe('a merge in the environment repository', () => {
  it('counts each change once, as the branch saw it (no phantom deployments)', async () => {
    const r = await repo();
    const api = (v: string, t: string) => entry(v, t);
    await commitFile(
      r,
      '2026-11-01T10:00:00Z',
      'base',
      file({ prod: { api: api('1.0.0', '2026-11-01T10:00:00Z'), web: api('1.0.0', '2026-11-01T10:00:00Z') } }),
    );
    await r.git('2026-11-02T10:00:00Z').run(['checkout', '--quiet', '-b', 'x']);
    await commitFile(
      r,
      '2026-11-02T10:00:00Z',
      'bump(prod): api 1.1.0',
      file({ prod: { api: api('1.1.0', '2026-11-02T10:00:00Z'), web: api('1.0.0', '2026-11-01T10:00:00Z') } }),
    );
    await r.git('2026-11-03T10:00:00Z').run(['checkout', '--quiet', 'main']);
    await commitFile(
      r,
      '2026-11-03T10:00:00Z',
      'bump(prod): web 1.1.0',
      file({ prod: { api: api('1.0.0', '2026-11-01T10:00:00Z'), web: api('1.1.0', '2026-11-03T10:00:00Z') } }),
    );
    const merge = await r.git('2026-11-04T10:00:00Z').run(['merge', '--quiet', '--no-edit', 'x'], { allowFailure: true });
    if (merge.exitCode !== 0) {
      // Both changed the file: resolved by hand, as a person would, taking both bumps.
      await writeFile(
        path.join(r.dir, 'versions.yaml'),
        file({ prod: { api: api('1.1.0', '2026-11-02T10:00:00Z'), web: api('1.1.0', '2026-11-03T10:00:00Z') } }),
      );
      await r.git('2026-11-04T10:00:00Z').run(['commit', '--quiet', '--all', '--no-edit']);
    }
    const deployments = report(await historyOf(r.dir)).deployments;
    expect(deployments.map((change) => `${change.service} ${change.version} ${change.kind}`)).toEqual([
      'api 1.0.0 deploy',
      'web 1.0.0 deploy',
      'web 1.1.0 deploy',
      'api 1.1.0 deploy',
    ]);
  });

  it('keeps a rollback merged from a pull request a rollback, for the report and for the next rollback', async () => {
    const r = await repo();
    await commitFile(r, '2026-11-01T10:00:00Z', 'bump(prod): api 1.0.0', file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }));
    await commitFile(
      r,
      '2026-11-02T10:00:00Z',
      'bump(prod): api 1.1.0',
      file({ prod: { api: entry('1.1.0', '2026-11-02T10:00:00Z', { previous: '1.0.0' }) } }),
    );
    await commitFile(
      r,
      '2026-11-03T10:00:00Z',
      'bump(prod): api 1.2.0',
      file({ prod: { api: entry('1.2.0', '2026-11-03T10:00:00Z', { previous: '1.1.0' }) } }),
    );
    // pull-request mode: the rollback is a commit on its own branch, merged with a merge commit.
    await r.git('2026-11-04T10:00:00Z').run(['checkout', '--quiet', '-b', 'promote/rollback']);
    await commitFile(
      r,
      '2026-11-04T10:00:00Z',
      'rollback(prod): api 1.1.0\n\n- prod/api: 1.2.0 -> 1.1.0',
      file({ prod: { api: entry('1.1.0', '2026-11-04T10:00:00Z', { previous: '1.2.0' }) } }),
    );
    await r.git('2026-11-04T11:00:00Z').run(['checkout', '--quiet', 'main']);
    await commitFile(r, '2026-11-04T11:00:00Z', 'notes', 'other\n', 'NOTES.md');
    await r
      .git('2026-11-04T12:00:00Z')
      .run(['merge', '--quiet', '--no-ff', '-m', 'Merge pull request #7 from acme/promote/rollback', 'promote/rollback']);
    const history = await historyOf(r.dir);
    expect(report(history).deployments.map((change) => `${change.version} ${change.kind} ${change.failure ?? ''}`)).toEqual([
      '1.0.0 deploy ',
      '1.1.0 deploy ',
      '1.2.0 deploy rolled-back',
      '1.1.0 rollback ',
    ]);
    // The next rollback passes over 1.2.0 (rolled back from) and 1.1.0 (running): 1.0.0.
    const now = file({ prod: { api: entry('1.1.0', '2026-11-04T10:00:00Z', { previous: '1.2.0' }) } });
    const { readVersionsData } = await import('@toolkit/shared');
    const targets = await rollbackTargets(
      readVersionsData(now, 'versions.yaml'),
      'prod',
      [{ name: 'api' }],
      'versions.yaml',
      gitFileHistory(new Git({ cwd: r.dir }), 'main'),
    );
    expect(targets.get('api')?.release?.version).toBe('1.0.0');
  });
});

describe('the branch and the file read', () => {
  it('reads the branch asked for from a clone on disk, not whatever is checked out', async () => {
    const r = await repo();
    await commitFile(r, '2026-11-01T10:00:00Z', 'bump(prod): api 1.0.0', file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }));
    await commitFile(r, '2026-11-02T10:00:00Z', 'bump(prod): api 1.1.0', file({ prod: { api: entry('1.1.0', '2026-11-02T10:00:00Z') } }));
    await r.git('2026-11-03T10:00:00Z').run(['checkout', '--quiet', '-b', 'experiment', 'HEAD~1']);
    await commitFile(r, '2026-11-03T10:00:00Z', 'bump(prod): api 9.9.9', file({ prod: { api: entry('9.9.9', '2026-11-03T10:00:00Z') } }));
    const versions: string[] = [];
    await readHistory(
      new Git({ cwd: r.dir }),
      { clonePath: r.dir, branch: 'main', file: 'versions.yaml', since: new Date(NOW.getTime() - 90 * DAY), workRoot: r.dir },
      (version) => versions.push(version.message),
    );
    expect(versions).toEqual(['bump(prod): api 1.1.0', 'bump(prod): api 1.0.0']);
  });

  it('takes the file name literally, not as a pathspec pattern', async () => {
    const r = await repo();
    await commitFile(
      r,
      '2026-11-01T10:00:00Z',
      'the file',
      file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }),
      'versions[1].yaml',
    );
    await commitFile(
      r,
      '2026-11-02T10:00:00Z',
      'another file',
      file({ prod: { api: entry('2.0.0', '2026-11-02T10:00:00Z') } }),
      'versions1.yaml',
    );
    expect((await historyOf(r.dir, 'main', 'versions[1].yaml')).map((version) => version.message)).toEqual(['the file']);
  });
});

describe('going back to an earlier release by hand', () => {
  it('counts a git revert of a bump as a rollback at the revert, after the release it reverts', async () => {
    const r = await repo();
    await commitFile(r, '2026-11-01T10:00:00Z', 'bump(prod): api 1.0.0', file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }));
    await commitFile(
      r,
      '2026-11-05T10:00:00Z',
      'bump(prod): api 1.1.0',
      file({
        prod: {
          api: entry('1.1.0', '2026-11-05T10:00:00Z', { previous: '1.0.0', commit: 'b'.repeat(40), committedAt: '2026-11-05T09:00:00Z' }),
        },
      }),
    );
    await r.git('2026-11-05T13:00:00Z').run(['revert', '--no-edit', 'HEAD']);
    const result = report(await historyOf(r.dir));
    expect(
      result.deployments.map((change) => [change.version, change.kind, change.at, change.failure ?? null, change.restoreSeconds ?? null]),
    ).toEqual([
      ['1.0.0', 'deploy', '2026-11-01T10:00:00Z', null, null],
      ['1.1.0', 'deploy', '2026-11-05T10:00:00Z', 'rolled-back', 3 * 3600],
      ['1.0.0', 'rollback', '2026-11-05T13:00:00Z', null, null],
    ]);
    expect(result.environments.find((environment) => environment.name === 'prod')?.metrics).toMatchObject({
      deployments: 2,
      rollbacks: 1,
      changeFailureRate: { failed: 1, rolledBack: 1 },
    });
  });

  it('counts a hand edit back to the release before (its previous) as a rollback', async () => {
    const r = await repo();
    await commitFile(r, '2026-11-01T10:00:00Z', 'bump(prod): api 1.0.0', file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }));
    await commitFile(
      r,
      '2026-11-05T10:00:00Z',
      'bump(prod): api 1.1.0',
      file({ prod: { api: entry('1.1.0', '2026-11-05T10:00:00Z', { previous: '1.0.0' }) } }),
    );
    await commitFile(r, '2026-11-05T12:00:00Z', 'api back to 1.0.0', file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }));
    expect(
      report(await historyOf(r.dir)).deployments.map((change) => [change.version, change.kind, change.at, change.failure ?? null]),
    ).toEqual([
      ['1.0.0', 'deploy', '2026-11-01T10:00:00Z', null],
      ['1.1.0', 'deploy', '2026-11-05T10:00:00Z', 'rolled-back'],
      ['1.0.0', 'rollback', '2026-11-05T12:00:00Z', null],
    ]);
  });
});

describe('going forward again', () => {
  it('counts a bump back to the release a rollback left (its previous) as a deploy, not a rollback', async () => {
    const r = await repo();
    await commitFile(r, '2026-11-01T10:00:00Z', 'bump(prod): api 1.0.0', file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') } }));
    await commitFile(
      r,
      '2026-11-05T10:00:00Z',
      'bump(prod): api 1.1.0',
      file({ prod: { api: entry('1.1.0', '2026-11-05T10:00:00Z', { previous: '1.0.0' }) } }),
    );
    await commitFile(
      r,
      '2026-11-05T12:00:00Z',
      'rollback(prod): api 1.0.0',
      file({ prod: { api: entry('1.0.0', '2026-11-05T12:00:00Z', { previous: '1.1.0' }) } }),
    );
    await commitFile(
      r,
      '2026-11-06T12:00:00Z',
      'bump(prod): api 1.1.0',
      file({ prod: { api: entry('1.1.0', '2026-11-06T12:00:00Z', { previous: '1.0.0' }) } }),
    );
    expect(report(await historyOf(r.dir)).deployments.map((change) => `${change.version} ${change.kind}`)).toEqual([
      '1.0.0 deploy',
      '1.1.0 deploy',
      '1.0.0 rollback',
      '1.1.0 deploy',
    ]);
  });
});

describe('lead time', () => {
  it('takes no second sample from a rebuild of the same source commit', async () => {
    const r = await repo();
    const source = { commit: 'c'.repeat(40), committedAt: '2026-11-01T08:00:00Z' };
    await commitFile(
      r,
      '2026-11-01T10:00:00Z',
      'bump(prod): api 1.0.0',
      file({ prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z', source) } }),
    );
    // Rebuilt five days later (new digest, same version and commit).
    await commitFile(
      r,
      '2026-11-06T10:00:00Z',
      'bump(prod): api 1.0.0',
      file({ prod: { api: `${entry('1.0.0', '2026-11-06T10:00:00Z', source)}\n        digest: sha256:${'d'.repeat(64)}` } }),
    );
    const prod = report(await historyOf(r.dir)).environments.find((environment) => environment.name === 'prod');
    expect(prod?.metrics.deployments).toBe(2);
    expect(prod?.metrics.leadTime).toEqual({ count: 1, median: 7200, p90: 7200, withoutCommitTime: 0, rebuilds: 1, level: 'elite' });
  });
});

describe('the headline environment', () => {
  it('is the last of the promotion order in the report, not an environment outside it sorted after', async () => {
    const r = await repo();
    await commitFile(
      r,
      '2026-11-01T10:00:00Z',
      'bump',
      file({
        dev: { api: entry('1.0.0', '2026-11-01T10:00:00Z') },
        prod: { api: entry('1.0.0', '2026-11-01T10:00:00Z') },
        preview: { api: entry('2.0.0', '2026-11-01T10:00:00Z') },
      }),
    );
    const result = report(await historyOf(r.dir));
    expect(result.environments.map((environment) => environment.name)).toEqual(['dev', 'prod', 'preview']);
    expect(result.promotion).toEqual(['dev', 'prod']);
    expect(headline(result, '')?.name).toBe('prod');
    expect(headline(result, 'preview')?.name).toBe('preview');
  });
});

describe('the token', () => {
  /** A git server that answers nothing but records the Authorization headers it was sent. */
  async function recordingServer(): Promise<{ url: string; headers: string[]; close: () => Promise<void> }> {
    const headers: string[] = [];
    const server = createServer((request, response) => {
      headers.push(request.headers.authorization ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, headers, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  async function reportFrom(repository: string, serverUrl: string): Promise<void> {
    const dir = await tempDir('release-report-token-');
    const saved = process.env.GITHUB_SERVER_URL;
    process.env.GITHUB_SERVER_URL = serverUrl;
    try {
      const inputs = getInputs(new InputReader({ source: (name) => ({ repository })[name] ?? '', mask: () => undefined }), {
        RUNNER_TEMP: dir,
      });
      await expect(runReport({ ...inputs, token: 'ghs_thejobstoken' }, NOW)).rejects.toThrow();
    } finally {
      if (saved === undefined) delete process.env.GITHUB_SERVER_URL;
      else process.env.GITHUB_SERVER_URL = saved;
    }
  }

  it('is sent to the GitHub server only, never to another host named by repository', async () => {
    const other = await recordingServer();
    try {
      await reportFrom(`${other.url}/acme/environments.git`, 'https://github.example');
      expect(other.headers.length).toBeGreaterThan(0);
      expect(other.headers.filter((header) => header !== '')).toEqual([]);
      // The same server as GITHUB_SERVER_URL gets it (the check above can fail).
      await reportFrom(`${other.url}/acme/environments.git`, other.url);
      expect(other.headers.filter((header) => header !== '').length).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });
});
