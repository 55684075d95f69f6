/**
 * A repository of three services, set up by `toolkit init --monorepo`, rehearsed through the real
 * templates, release-services.yml, cut-release.yml, build-scan-sign.yml and the built actions, with
 * the real docker-registry (images are the build context as one layer: no Docker engine is needed
 * for what this test asks). Each release ends in one environment commit holding every service it
 * built, and only those: a change to one service builds only it, a change to shared/ builds all three.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type DockerRegistry,
  type Rehearsal,
  type RehearsalReport,
  initRepository,
  prepareRehearsal,
  startDockerRegistry,
} from '@toolkit/cli';
import { Git, parseVersionsFile } from '@toolkit/shared';
import { ROOT, node24 } from '../support/harness.js';
import { inspectDigest } from '../support/registry.js';
import { makeRepo, tempDir } from '../support/temp.js';

const SERVICES = ['api', 'web', 'worker'];
let registry: DockerRegistry | undefined;

beforeAll(async () => {
  registry = await startDockerRegistry(await tempDir('monorepo-registry-'));
}, 60_000);
afterAll(async () => {
  await registry?.close();
});

async function write(dir: string, file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), text);
}

/** The shop: three services with a Dockerfile each and a shared library, set up by toolkit init --monorepo. */
async function shop(): Promise<{ dir: string; git: Git }> {
  const dir = path.join(await tempDir('rehearse-monorepo-'), 'shop');
  const git = await makeRepo(dir);
  for (const service of SERVICES) {
    await write(dir, `services/${service}/Dockerfile`, 'FROM busybox\nCOPY . /srv\n');
    await write(dir, `services/${service}/main.txt`, `${service} 1\n`);
  }
  await write(dir, 'shared/money.txt', 'rounding: half-even\n');
  await initRepository({
    root: ROOT,
    dir,
    org: 'acme/toolkit',
    ref: 'v1',
    envRepo: 'acme/environments',
    chartRepository: 'https://charts.acme.example',
    monorepo: true,
  });
  await git.run(['add', '--all']);
  await git.run(['commit', '--quiet', '-m', 'feat: the shop, in three services']);
  return { dir, git };
}

const cut = (rehearsal: Rehearsal) =>
  rehearsal.run(
    { name: 'workflow_dispatch', ref: 'main', inputs: { 'dry-run': 'false' } },
    { workflows: ['.github/workflows/services-cut-release.yml'] },
  );

function builtServices(report: RehearsalReport): string[] {
  return report.jobs
    .filter((job) => /\/build\/build$/.test(job.id) && job.result === 'success')
    .map((job) => job.outputs.image?.split('/').pop() ?? '')
    .sort();
}

describe('a repository of several services, rehearsed', () => {
  it('cuts, builds only what changed, and records each release set in one environment commit; PROD promotes the set, an empty cut does nothing', async () => {
    if (!registry) throw new Error('docker-registry did not start');
    const { dir, git } = await shop();
    const lines: string[] = [];
    const rehearsal = await prepareRehearsal({
      root: ROOT,
      appDir: dir,
      node: node24(),
      registry: { address: registry.address, kind: 'docker-registry', close: async () => {} },
      log: (line) => lines.push(line),
    });
    const envGit = new Git({ cwd: rehearsal.world.repositories.get('acme/environments')?.bareDir ?? '' });
    const app = new Git({ cwd: rehearsal.appRemote });
    const versions = async () => parseVersionsFile(await envGit.output(['show', 'main:versions.yaml'])).data;
    const envCommits = async () => (await envGit.output(['rev-list', '--count', 'main']).catch(() => '0')).trim();
    try {
      // 1. The first cut: no service was ever released, so all three are, as one set.
      const first = await cut(rehearsal);
      expect(first.runs.map((run) => [run.workflow, run.conclusion])).toEqual([
        ['acme/shop/.github/workflows/services-cut-release.yml@refs/heads/main', 'success'],
        ['acme/shop/.github/workflows/services-release-on-tag.yml@refs/tags/UAT-0.2.0', 'success'],
      ]);
      expect(builtServices(first)).toEqual(SERVICES);
      const head1 = await app.output(['rev-parse', 'main']);
      expect((await app.output(['tag', '--points-at', head1])).split('\n').sort()).toEqual([
        'UAT-0.2.0',
        'api/v0.2.0',
        'web/v0.2.0',
        'worker/v0.2.0',
      ]);
      expect(await envCommits()).toBe('1');
      const uat1 = (await versions()).environments.uat?.services ?? {};
      for (const service of SERVICES) {
        expect(uat1[service]).toMatchObject({
          version: '0.2.0',
          image: `${registry.address}/acme/shop/${service}`,
          digest: await inspectDigest(registry, `acme/shop/${service}`, '0.2.0'),
          chart: { name: service, repository: 'https://charts.acme.example' },
          // Where release-report's lead time starts: the released commit's time.
          committed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        });
      }
      // The umbrella chart of uat, in the same commit, depends on all three.
      const chart = await envGit.output(['show', 'main:umbrella/uat/Chart.yaml']);
      for (const service of SERVICES) expect(chart).toContain(`name: ${service}`);

      // 2. A change to one service: only it is tagged, built and recorded.
      await write(dir, 'services/api/main.txt', 'api 2\n');
      await git.run(['commit', '--quiet', '--all', '-m', 'feat(api): search']);
      const second = await cut(rehearsal);
      expect(second.conclusion).toBe('success');
      expect(builtServices(second)).toEqual(['api']);
      expect(await envCommits()).toBe('2');
      const uat2 = (await versions()).environments.uat?.services ?? {};
      expect(SERVICES.filter((service) => JSON.stringify(uat2[service]) !== JSON.stringify(uat1[service]))).toEqual(['api']);
      expect((await versions()).environments.uat?.services).toMatchObject({
        api: { version: '0.3.0' },
        web: { version: '0.2.0' },
        worker: { version: '0.2.0' },
      });

      // 3. A change to shared/: every service, in one commit.
      await write(dir, 'shared/money.txt', 'rounding: half-up\n');
      await git.run(['commit', '--quiet', '--all', '-m', 'fix(shared): rounding']);
      const third = await cut(rehearsal);
      expect(third.runs.at(-1)?.workflow).toBe('acme/shop/.github/workflows/services-release-on-tag.yml@refs/tags/UAT-0.3.1');
      expect(builtServices(third)).toEqual(SERVICES);
      expect(await envCommits()).toBe('3');
      const uat3 = (await versions()).environments.uat?.services ?? {};
      expect(Object.fromEntries(SERVICES.map((service) => [service, uat3[service]?.version]))).toEqual({
        api: '0.3.1',
        web: '0.2.1',
        worker: '0.2.1',
      });

      // 4. PROD-0.3.1 on the same commit: the set's digests UAT recorded, nothing rebuilt, one commit.
      await git.run(['fetch', '--quiet', rehearsal.appRemote, '+refs/tags/*:refs/tags/*']);
      await git.run(['tag', 'PROD-0.3.1', 'UAT-0.3.1']);
      const prod = await rehearsal.run({ name: 'push', ref: 'refs/tags/PROD-0.3.1' });
      expect(prod.conclusion).toBe('success');
      expect(builtServices(prod)).toEqual([]);
      expect(await envCommits()).toBe('4');
      const prodServices = (await versions()).environments.prod?.services ?? {};
      for (const service of SERVICES)
        expect(prodServices[service]).toMatchObject({ version: uat3[service]?.version, digest: uat3[service]?.digest });

      // 5. A cut with nothing to release: it succeeds, tags nothing, starts nothing, writes nothing.
      await git.run(['commit', '--quiet', '--allow-empty', '-m', 'docs: nothing for the services']);
      const empty = await cut(rehearsal);
      expect(empty.runs.map((run) => [run.workflow, run.conclusion])).toEqual([
        ['acme/shop/.github/workflows/services-cut-release.yml@refs/heads/main', 'success'],
      ]);
      expect(await app.output(['tag', '--points-at', 'main'])).toBe('');
      expect(await envCommits()).toBe('4');

      // 6. A push to main with a change to web: web's next version as a dev build, recorded in dev alone.
      await write(dir, 'services/web/main.txt', 'web 2\n');
      await git.run(['commit', '--quiet', '--all', '-m', 'fix(web): contrast']);
      const dev = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' });
      expect(dev.conclusion).toBe('success');
      expect(builtServices(dev)).toEqual(['web']);
      const devServices = (await versions()).environments.dev?.services ?? {};
      expect(Object.keys(devServices)).toEqual(['web']);
      expect(devServices.web?.version).toMatch(/^0\.2\.2-dev\.\d+\.g[0-9a-f]{12}$/);

      // 6b. A push that changes no service (web's dev build aside, already recorded): the matrix is empty, nothing is built or written.
      const devCommits = await envCommits();
      await write(dir, 'README.md', '# shop\n');
      await git.run(['add', '--all']);
      await git.run(['commit', '--quiet', '-m', 'docs: readme']);
      await git.run(['tag', 'web/v0.2.2']);
      const quiet = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' });
      expect(quiet.conclusion).toBe('success');
      expect(builtServices(quiet)).toEqual([]);
      expect(quiet.jobs.filter((job) => job.result === 'skipped').map((job) => job.id.split('/').pop())).toEqual(['build', 'release']);
      expect(await envCommits()).toBe(devCommits);

      // 7. A pull request that touches worker: the report names worker alone, and nothing is built or recorded.
      await git.run(['checkout', '--quiet', '-b', 'feature']);
      await write(dir, 'services/worker/main.txt', 'worker 2\n');
      await git.run(['commit', '--quiet', '--all', '-m', 'feat(worker): retries']);
      const before = await envCommits();
      const pr = await rehearsal.run({ name: 'pull_request', ref: 'refs/heads/feature', pullRequest: { base: 'main', head: 'feature' } });
      expect(pr.conclusion).toBe('success');
      const context = pr.jobs.find((job) => /context$/.test(job.id));
      expect(JSON.parse(context?.outputs.matrix ?? '{}').include.map((entry: { service: string }) => entry.service)).toEqual(['worker']);
      expect(builtServices(pr)).toEqual([]);
      expect(await envCommits()).toBe(before);
      // 8. A release started by hand on a branch with a set tag as input: refused, as what would be built is not what was tagged.
      const byHand = await rehearsal.run(
        { name: 'workflow_dispatch', ref: 'main', inputs: { tag: 'UAT-0.3.1' } },
        { workflows: ['.github/workflows/services-release-on-tag.yml'] },
      );
      expect(byHand.conclusion).toBe('failure');
      expect(lines.join('\n')).toMatch(/UAT-0\.3\.1 is at [0-9a-f]{40}, but this run checked out [0-9a-f]{40}/);
      expect(builtServices(byHand)).toEqual([]);
      expect(await envCommits()).toBe(before);
      // 9. A set whose one build fails records nothing, not even the services that built.
      await git.run(['checkout', '--quiet', 'main']);
      await write(dir, 'services/api/main.txt', 'api 3\n');
      await git.run(['rm', '--quiet', 'services/worker/Dockerfile']);
      await git.run(['commit', '--quiet', '--all', '-m', 'fix: api and worker, worker without its Dockerfile']);
      const failing = await cut(rehearsal);
      expect(failing.runs.map((run) => run.conclusion)).toEqual(['success', 'failure']);
      const builds = failing.jobs.filter((job) => /\/build\/build$/.test(job.id)).map((job) => job.result);
      expect(builds).toEqual(['success', 'failure']);
      expect(failing.jobs.find((job) => job.id.endsWith('release/release'))?.result).toBe('skipped');
      expect(await envCommits()).toBe(before);
      expect(first.denials.concat(second.denials, third.denials, prod.denials, dev.denials)).toEqual([]);
    } finally {
      // What the runs printed, for the one who reads a failure of this test.
      await writeFile(path.join(path.dirname(dir), 'rehearsal.log'), lines.join('\n'));
      await rehearsal.close();
    }
  }, 600_000);
});
