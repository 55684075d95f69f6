import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Git, type ReadFile, UserError } from '@toolkit/shared';
import { Ajv } from 'ajv';
import parseVersion from 'semver/functions/parse.js';
import { parse, stringify } from 'yaml';
import {
  type UmbrellaConfig,
  generateUmbrella,
  parseRepositoryInput,
  verifyDependencies,
} from '../../actions/umbrella-chart/src/umbrella-chart.js';
import { ROOT, runBuiltAction } from '../support/harness.js';
import { pushArtifact, startRegistry } from '../support/registry.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'umbrella');
const COMMIT = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const ARGOCD = {
  repoUrl: 'https://github.com/acme/environments.git',
  targetRevision: 'main',
  namespace: 'prod',
  project: 'default',
  destination: 'https://kubernetes.default.svc',
};

const config = (environment: string, overrides: Partial<UmbrellaConfig> = {}): UmbrellaConfig => ({
  versionsFile: 'versions.yaml',
  environment,
  chartName: `${environment}-umbrella`,
  outputDir: `golden/${environment}`,
  repository: 'https://charts.acme.example',
  chartVersion: 'patch',
  sourceCommit: COMMIT,
  ...overrides,
});

/** Reads from a map of files (path → content), like a repository. */
function filesReader(files: Record<string, string | undefined>): ReadFile {
  return async (file) => files[file];
}

const versionsText = () => readFile(path.join(FIXTURES, 'versions.yaml'), 'utf8');

describe('umbrella-chart: generation', () => {
  it('gives the golden files for a small environment, and for one with aliases and OCI charts (with an Argo CD Application)', async () => {
    const versions = await versionsText();
    const uat = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat'));
    const prod = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('prod', { argocd: ARGOCD }));
    for (const result of [uat, prod]) {
      for (const [file, content] of Object.entries(result.files)) expect(content).toBe(await readFile(path.join(FIXTURES, file), 'utf8'));
    }
    expect(Object.keys(prod.files).sort()).toEqual(['golden/prod/Chart.yaml', 'golden/prod/application.yaml', 'golden/prod/values.yaml']);
    expect(uat).toMatchObject({ changed: true, chartVersion: '0.1.0' });
    expect(prod.dependencies.map((dependency) => [dependency.service, dependency.name])).toEqual([
      ['orders', 'microservice'],
      ['payments', 'microservice'],
      ['redis', 'redis'],
    ]);
  });

  it('is byte-identical for the same inputs, and writes nothing when nothing changed', async () => {
    const versions = await versionsText();
    const first = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat'));
    const again = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat'));
    expect(again.files).toEqual(first.files);
    // A later run over its own output: same pins, so no new version and nothing to write, even
    // from another commit of the versions file.
    const unchanged = await generateUmbrella(
      filesReader({ 'versions.yaml': versions, ...first.files }),
      config('uat', { sourceCommit: 'f'.repeat(40) }),
    );
    expect(unchanged).toMatchObject({ changed: false, chartVersion: '0.1.0', files: {}, differences: [] });
  });

  it('bumps the patch when a pin changes, and says what changed', async () => {
    const versions = await versionsText();
    const first = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat'));
    const moved = versions.replace('chart: {version: 0.7.0}', 'chart: {version: 0.8.0}');
    const next = await generateUmbrella(filesReader({ 'versions.yaml': moved, ...first.files }), config('uat'));
    expect(next).toMatchObject({
      changed: true,
      chartVersion: '0.1.1',
      differences: [{ service: 'api', before: 'api 0.7.0', after: 'api 0.8.0' }],
    });
  });

  it('derives the version from the content with chart-version: content-hash', async () => {
    const versions = await versionsText();
    const hashed = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat', { chartVersion: 'content-hash' }));
    expect(hashed.chartVersion).toMatch(/^0\.0\.0-h[0-9a-f]{12}$/);
    const same = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat', { chartVersion: 'content-hash' }));
    expect(same.chartVersion).toBe(hashed.chartVersion);
    const moved = await generateUmbrella(
      filesReader({ 'versions.yaml': versions.replace('version: 1.4.0', 'version: 1.4.1') }),
      config('uat', { chartVersion: 'content-hash' }),
    );
    expect(moved.chartVersion).not.toBe(hashed.chartVersion);
  });

  it('writes a Chart.yaml that passes Helm’s Chart.yaml (v2) schema, with semver versions throughout', async () => {
    const schema = JSON.parse(await readFile(path.join(ROOT, 'test', 'schemas', 'helm-chart-v2.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);
    const versions = await versionsText();
    for (const environment of ['uat', 'prod']) {
      const result = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config(environment));
      const chart = parse(result.files[`golden/${environment}/Chart.yaml`] as string);
      expect({ environment, errors: validate(chart) ? [] : validate.errors }).toEqual({ environment, errors: [] });
      for (const version of [chart.version, ...chart.dependencies.map((dependency: { version: string }) => dependency.version)])
        expect(parseVersion(version)?.version).toBe(version);
    }
    // The schema does catch a broken chart.
    expect(validate({ apiVersion: 'v1', name: 'x', version: '1.0.0', dependencies: [{ version: '1.0.0' }] })).toBe(false);
  });

  it('refuses a service without a chart version, an unknown environment and a malformed repository, writing nothing', async () => {
    const versions = await versionsText();
    await expect(
      generateUmbrella(filesReader({ 'versions.yaml': versions.replace('chart: {version: 1.2.0}', 'chart: {}') }), config('uat')),
    ).rejects.toThrow('Service "web" in uat has no chart version (chart.version in versions.yaml); its chart cannot be pinned.');
    await expect(generateUmbrella(filesReader({ 'versions.yaml': versions }), config('staging'))).rejects.toThrow(
      'Invalid input "environment": environment "staging" is not in versions.yaml; it has uat, prod.',
    );
    await expect(generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat', { repository: '' }))).rejects.toThrow(
      'Service "api" in uat names no chart repository, and the repository input is empty.',
    );
    expect(() => parseRepositoryInput('charts.acme.example')).toThrow(
      'Invalid input "repository": "charts.acme.example" is not a chart repository; expected https://… (an index.yaml repository) or oci://… (a registry).',
    );
  });
});

describe('umbrella-chart: verify', () => {
  let server: http.Server;
  let url: string;
  const requests: { ifNoneMatch?: string; status: number }[] = [];
  const index = stringify({
    apiVersion: 'v1',
    entries: { api: [{ version: '0.7.0' }, { version: '0.6.0' }], web: [{ version: '1.1.0' }] },
  });

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const ifNoneMatch = request.headers['if-none-match'];
      if (request.url !== '/charts/index.yaml') {
        response.writeHead(404).end();
        return;
      }
      const status = ifNoneMatch === '"v1"' ? 304 : 200;
      requests.push({ ...(ifNoneMatch ? { ifNoneMatch } : {}), status });
      response.writeHead(status, { etag: '"v1"' }).end(status === 200 ? index : undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charts`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches an HTTP repository’s index once, then only asks whether it changed (ETag), and names what is missing', async () => {
    const cacheDir = await tempDir();
    requests.length = 0;
    const dependencies = [
      { service: 'api', name: 'api', version: '0.7.0', repository: url },
      { service: 'api-canary', name: 'api', version: '0.6.0', repository: url },
    ];
    expect(await verifyDependencies(dependencies, { cacheDir })).toEqual({ indexRequests: 1, notModified: 0 });
    expect(await verifyDependencies(dependencies, { cacheDir })).toEqual({ indexRequests: 1, notModified: 1 });
    expect(requests).toEqual([{ status: 200 }, { ifNoneMatch: '"v1"', status: 304 }]);

    const attempt = verifyDependencies([{ service: 'web', name: 'web', version: '1.2.0', repository: url }], { cacheDir });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(verifyDependencies([{ service: 'web', name: 'web', version: '1.2.0', repository: url }], { cacheDir })).rejects.toThrow(
      `Pinned chart versions that do not exist (nothing was written):\n- service "web": chart web 1.2.0 is not in ${url}; it has 1.1.0.`,
    );
  });

  it('checks OCI charts against a real registry’s tags (docker-registry, artifacts pushed with skopeo)', async () => {
    const dir = await tempDir();
    const registry = await startRegistry(dir);
    try {
      await pushArtifact(registry, dir, 'acme/charts/microservice', '4.1.0');
      await pushArtifact(registry, dir, 'acme/charts/microservice', '4.0.0');
      const repository = `oci://${registry.address}/acme/charts`;
      await expect(
        verifyDependencies(
          [
            { service: 'orders', name: 'microservice', version: '4.1.0', repository },
            { service: 'payments', name: 'microservice', version: '4.0.0', repository },
          ],
          { cacheDir: dir },
        ),
      ).resolves.toEqual({ indexRequests: 0, notModified: 0 });
      await expect(
        verifyDependencies([{ service: 'billing', name: 'microservice', version: '5.0.0', repository }], { cacheDir: dir }),
      ).rejects.toThrow(`- service "billing": chart microservice 5.0.0 is not in ${repository}; it has 4.1.0, 4.0.0.`);
      await expect(
        verifyDependencies([{ service: 'x', name: 'nothing', version: '1.0.0', repository }], { cacheDir: dir }),
      ).rejects.toThrow('it has no versions of that chart');
    } finally {
      await registry.close();
    }
  });
});

describe('umbrella-chart built dist under Node 24', () => {
  it('writes the chart into the workspace, then finds nothing to change', async () => {
    const workspace = await tempDir();
    await writeFile(path.join(workspace, 'versions.yaml'), await versionsText());
    const inputs = { environment: 'uat', repository: 'https://charts.acme.example', 'source-commit': COMMIT };
    const first = await runBuiltAction('umbrella-chart', { workspace, inputs });
    expect(first.exitCode).toBe(0);
    expect(first.outputs).toMatchObject({ 'chart-dir': 'umbrella/uat', 'chart-version': '0.1.0', changed: 'true', dependencies: '2' });
    expect(await readdir(path.join(workspace, 'umbrella', 'uat'))).toEqual(['Chart.yaml', 'values.yaml']);
    expect(first.summary).toContain('<td>api</td><td>api</td><td>0.7.0</td><td>https://charts.acme.example</td>');

    const second = await runBuiltAction('umbrella-chart', { workspace, inputs });
    expect(second.outputs).toMatchObject({ 'chart-version': '0.1.0', changed: 'false' });
    expect(second.log).toContain('umbrella/uat already says this: nothing written.');
  });

  it('commits the chart to the environment repository through the shared write path, once', async () => {
    const dir = await tempDir();
    const seed = await makeRepo(path.join(dir, 'seed'));
    await writeFile(path.join(seed.cwd, 'versions.yaml'), await versionsText());
    await seed.run(['add', 'versions.yaml']);
    await commit(seed, 'chore: start');
    const bare = path.join(dir, 'env.git');
    await seed.run(['clone', '--quiet', '--bare', seed.cwd, bare]);
    const inputs = {
      environment: 'prod',
      repository: 'https://charts.acme.example',
      commit: 'true',
      'environment-repository': `file://${bare}`,
      argocd: 'true',
      'argocd-repo-url': ARGOCD.repoUrl,
    };
    const first = await runBuiltAction('umbrella-chart', { workspace: dir, inputs });
    expect(first.exitCode).toBe(0);
    const served = new Git({ cwd: bare });
    expect(first.outputs).toMatchObject({ changed: 'true', 'chart-version': '0.1.0', commit: await served.output(['rev-parse', 'main']) });
    expect(await served.output(['log', '-1', '--format=%s', 'main'])).toBe('chart(prod): prod-umbrella 0.1.0');
    expect((await served.output(['ls-tree', '-r', '--name-only', 'main'])).split('\n')).toEqual([
      'umbrella/prod/Chart.yaml',
      'umbrella/prod/application.yaml',
      'umbrella/prod/values.yaml',
      'versions.yaml',
    ]);
    const second = await runBuiltAction('umbrella-chart', { workspace: dir, inputs });
    expect(second.outputs).toMatchObject({ changed: 'false', commit: '' });
    expect(await served.output(['rev-list', '--count', 'main'])).toBe('2');
  });

  it('fails with one clear line, writing nothing, when verify finds a missing version', async () => {
    const workspace = await tempDir();
    await mkdir(workspace, { recursive: true });
    await writeFile(path.join(workspace, 'versions.yaml'), await versionsText());
    // A port that was free a moment ago: nothing listens there.
    const closed = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const result = await runBuiltAction('umbrella-chart', {
      workspace,
      inputs: { environment: 'uat', repository: `http://127.0.0.1:${closed}/nowhere`, verify: 'true' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain(
      `Error: Could not read http://127.0.0.1:${closed}/nowhere/index.yaml to verify the pinned chart versions: connect ECONNREFUSED 127.0.0.1:${closed}.`,
    );
    expect(await readdir(workspace)).toEqual(['versions.yaml']);
  });
});
