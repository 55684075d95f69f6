import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Git, InputReader, type ReadFile, UserError, chartKey, kubernetesName, readUmbrellaConfig } from '@toolkit/shared';
import { Ajv } from 'ajv';
import parseVersion from 'semver/functions/parse.js';
import { parse, stringify } from 'yaml';
import {
  type UmbrellaConfig,
  generateUmbrella,
  parseRepositoryInput,
  verifyDependencies,
} from '../../actions/umbrella-chart/src/umbrella-chart.js';
import { getInputs } from '../../actions/umbrella-chart/src/main.js';
import { ROOT, runBuiltAction } from '../support/harness.js';
import { startFileServer } from '../support/file-server.js';
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

  it('knows its own unchanged chart at any version by its text, and one spelled otherwise by reading it as YAML', async () => {
    const versions = await versionsText();
    const first = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat'));
    const chart = first.files['golden/uat/Chart.yaml'] as string;
    expect(chart).toContain('\nversion: 0.1.0\n');
    const over = (text: string) =>
      generateUmbrella(filesReader({ 'versions.yaml': versions, ...first.files, 'golden/uat/Chart.yaml': text }), config('uat'));
    // Written by an earlier run at another version: the same chart, that version kept.
    expect(await over(chart.replace('\nversion: 0.1.0\n', '\nversion: 2.30.4-rc.1\n'))).toMatchObject({
      changed: false,
      chartVersion: '2.30.4-rc.1',
    });
    // Spelled otherwise (quoted, a comment after it): read as YAML for its version, and written again
    // in the toolkit's own spelling at the next patch, as before.
    expect(await over(chart.replace('\nversion: 0.1.0\n', "\nversion: '0.4.0'\n"))).toMatchObject({ changed: true, chartVersion: '0.4.1' });
    expect(await over(chart.replace('\nversion: 0.1.0\n', '\nversion: 0.4.0 # hand-edited\n'))).toMatchObject({
      changed: true,
      chartVersion: '0.4.1',
    });
    // Text that only looks like the chart around the version is not taken for it.
    expect(await over(chart.replace('\nversion: 0.1.0\n', '\nversion: 0.4.0\nextra: 1\n'))).toMatchObject({
      changed: true,
      chartVersion: '0.4.1',
    });
    expect(await over(chart.replace('\nversion: 0.1.0\n', '\nversion: \n'))).toMatchObject({ changed: true });
  });

  it('leaves to the yaml library, loaded then, what the fast ways are not sure of: its bytes, its reading, its refusal', async () => {
    const versions = await versionsText();
    // A tag that reads as a number is quoted: simpleYaml leaves the file to yaml.stringify.
    const numeric = versions.replace('version: 1.4.0', 'version: "1.4"');
    const written = await generateUmbrella(filesReader({ 'versions.yaml': numeric }), config('uat'));
    const values = written.files['golden/uat/values.yaml'] as string;
    expect(values).toContain('tag: "1.4"\n');
    expect(values.replace(/^(#.*\n)+/, '')).toBe(stringify(parse(values), { lineWidth: 0 }));
    // A previous Chart.yaml that js-yaml refuses (a tag outside the core schema) and the yaml library reads.
    const first = await generateUmbrella(filesReader({ 'versions.yaml': versions }), config('uat'));
    const tagged = `${first.files['golden/uat/Chart.yaml']}x-note: !!binary aGk=\n`;
    const next = await generateUmbrella(
      filesReader({ 'versions.yaml': versions, ...first.files, 'golden/uat/Chart.yaml': tagged }),
      config('uat'),
    );
    expect(next).toMatchObject({ changed: true, chartVersion: '0.1.1' });
    // A versions.yaml that breaks the schema is refused with file:line:column.
    await expect(generateUmbrella(filesReader({ 'versions.yaml': 'environments:\n  uat: [1]\n' }), config('uat'))).rejects.toThrow(
      'versions.yaml:2:8: environments.uat must be a mapping, not a list',
    );
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

describe('umbrella-chart: names', () => {
  // Names versions.yaml allows (lower-case letters, digits, '.', '_' and '-') that Helm and
  // Kubernetes do not all take as they are.
  const dotted = [
    'environments:',
    '  prod.eu_1:',
    '    services:',
    '      api.v2: {version: 2.0.0, image: ghcr.io/acme/api, chart: {name: api, version: 1.0.0}}',
    '      cache.redis: {version: 7.2.4, chart: {version: 19.0.1}}',
    '      web_front: {version: 1.0.0, chart: {version: 0.3.0}}',
    '',
  ].join('\n');
  const read = filesReader({ 'versions.yaml': dotted });

  /** A condition's value as Helm reads it (PathValue: the dots are a path into the values). */
  const atPath = (values: Record<string, unknown>, condition: string): unknown =>
    condition.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], values);

  it('turns service names with dots into Helm aliases, values keys and conditions (api.v2 → api-v2)', async () => {
    const result = await generateUmbrella(read, config('prod.eu_1'));
    const chart = parse(result.files['golden/prod.eu_1/Chart.yaml'] as string);
    const values = parse(result.files['golden/prod.eu_1/values.yaml'] as string);
    expect(chart.dependencies).toEqual([
      { name: 'api', version: '1.0.0', repository: 'https://charts.acme.example', alias: 'api-v2', condition: 'api-v2.enabled' },
      {
        name: 'cache.redis',
        version: '19.0.1',
        repository: 'https://charts.acme.example',
        alias: 'cache-redis',
        condition: 'cache-redis.enabled',
      },
      { name: 'web_front', version: '0.3.0', repository: 'https://charts.acme.example', condition: 'web_front.enabled' },
    ]);
    expect(Object.keys(values)).toEqual(['api-v2', 'cache-redis', 'web_front']);
    for (const dependency of chart.dependencies) {
      // Helm gives a subchart the values under its alias (or its name), and enables it by the condition.
      expect(dependency.alias ?? dependency.name).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(atPath(values, dependency.condition)).toBe(true);
      expect(values[dependency.alias ?? dependency.name].enabled).toBe(true);
    }
    expect(values['api-v2'].image).toEqual({ repository: 'ghcr.io/acme/api', tag: '2.0.0' });
    // The summary and the differences still name the services as versions.yaml does.
    expect(result.dependencies.map((dependency) => dependency.service)).toEqual(['api.v2', 'cache.redis', 'web_front']);
    expect(result.differences.map((difference) => difference.service)).toEqual(['api.v2', 'cache.redis', 'web_front']);
    const again = await generateUmbrella(filesReader({ 'versions.yaml': dotted, ...result.files }), config('prod.eu_1'));
    expect(again).toMatchObject({ changed: false, differences: [] });
  });

  it('refuses two services that become the same alias, naming both, and a service named global', async () => {
    const clash = dotted.replace('      web_front:', '      api-v2: {version: 1.0.0, chart: {version: 0.1.0}}\n      web_front:');
    await expect(generateUmbrella(filesReader({ 'versions.yaml': clash }), config('prod.eu_1'))).rejects.toThrow(
      'Services "api-v2" and "api.v2" in prod.eu_1 both become "api-v2" as a Helm alias and values key',
    );
    const global = dotted.replace('web_front:', 'global:');
    await expect(generateUmbrella(filesReader({ 'versions.yaml': global }), config('prod.eu_1'))).rejects.toThrow(
      'Service "global" in prod.eu_1 cannot be a subchart: Helm reserves the values key "global"',
    );
  });

  it('gives an environment such as prod.eu_1 an Application name and a namespace that Kubernetes accepts', async () => {
    const reader = (values: Record<string, string>) => new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined });
    const umbrella = readUmbrellaConfig(reader({ argocd: 'true', repository: 'https://charts.acme.example' }), {
      prefix: '',
      environment: 'prod.eu_1',
      versionsFile: 'versions.yaml',
      sourceCommit: COMMIT,
      defaultRepoUrl: ARGOCD.repoUrl,
    });
    expect(umbrella).toMatchObject({
      chartName: 'prod-eu-1-umbrella',
      outputDir: 'umbrella/prod.eu_1',
      argocd: { namespace: 'prod-eu-1' },
    });
    const result = await generateUmbrella(read, umbrella);
    const application = parse(result.files['umbrella/prod.eu_1/application.yaml'] as string);
    expect(application.metadata.name).toBe('prod-eu-1-umbrella');
    expect(application.spec.destination.namespace).toBe('prod-eu-1');
    // A chart name given with '.' or '_' (which Helm takes) still gives a valid Application name.
    const given = await generateUmbrella(read, config('prod.eu_1', { chartName: 'prod.eu_1-umbrella', argocd: ARGOCD }));
    expect(parse(given.files['golden/prod.eu_1/application.yaml'] as string).metadata.name).toBe('prod-eu-1-umbrella');
    expect(parse(given.files['golden/prod.eu_1/Chart.yaml'] as string).name).toBe('prod.eu_1-umbrella');
  });

  it('maps names deterministically, keeping long ones within 63 characters and apart', () => {
    expect(kubernetesName('prod.eu_1')).toBe('prod-eu-1');
    expect(kubernetesName('prod')).toBe('prod');
    const long = `${'a'.repeat(70)}.x`;
    const other = `${'a'.repeat(70)}.y`;
    expect(kubernetesName(long)).toMatch(/^a{54}-[0-9a-f]{8}$/);
    expect(kubernetesName(long)).toBe(kubernetesName(long));
    expect(kubernetesName(long)).not.toBe(kubernetesName(other));
    expect(chartKey('api.v2')).toBe('api-v2');
    expect(chartKey('web_front')).toBe('web_front');
  });

  it('refuses, with Argo CD, two environments that become the same Kubernetes name, naming both', async () => {
    const two = `${dotted}  prod-eu-1:\n    services: {}\n`;
    await expect(
      generateUmbrella(
        filesReader({ 'versions.yaml': two }),
        config('prod.eu_1', { chartName: 'prod-eu-1-umbrella', argocd: { ...ARGOCD, namespace: 'prod-eu-1' } }),
      ),
    ).rejects.toThrow('Environments "prod-eu-1" and "prod.eu_1" in versions.yaml both become "prod-eu-1" as a Kubernetes name');
    // Without Argo CD there is no Kubernetes name to share; with names of its own, nothing is shared either.
    await expect(generateUmbrella(filesReader({ 'versions.yaml': two }), config('prod.eu_1'))).resolves.toMatchObject({ changed: true });
    await expect(
      generateUmbrella(
        filesReader({ 'versions.yaml': two }),
        config('prod.eu_1', { chartName: 'eu', argocd: { ...ARGOCD, namespace: 'eu' } }),
      ),
    ).resolves.toMatchObject({ changed: true });
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

  it('says, naming the URL, when an index.yaml is not one: bad YAML, entries that are not lists, an HTML page, nothing', async () => {
    const served = await startFileServer({
      '/bad/index.yaml': { body: 'apiVersion: v1\nentries:\n  api: [\n' },
      '/numbers/index.yaml': { body: 'apiVersion: v1\nentries: {chart0: 5}\n' },
      '/version/index.yaml': { body: 'apiVersion: v1\nentries:\n  api:\n    - version: 1.0\n' },
      '/login/index.yaml': {
        body: '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>…</form></body></html>\n',
        headers: { 'content-type': 'text/html; charset=utf-8' },
      },
      '/text/index.yaml': { body: 'Please sign in.\n' },
      '/empty/index.yaml': { body: '' },
    });
    const attempt = (where: string) =>
      verifyDependencies([{ service: 'api', name: 'api', version: '1.0.0', repository: `${served.url}/${where}` }], {
        cacheDir: path.join(cacheRoot, where),
      });
    let cacheRoot = '';
    try {
      cacheRoot = await tempDir();
      await expect(attempt('bad')).rejects.toThrow(
        new RegExp(
          `^${served.url}/bad/index\\.yaml is not valid YAML, so it is not a chart repository index: .+ \\(line 4, column 1\\)\\.$`,
        ),
      );
      await expect(attempt('numbers')).rejects.toThrow(
        `${served.url}/numbers/index.yaml is not a chart repository index: entries.chart0 is 5, not a list of chart versions.`,
      );
      await expect(attempt('version')).rejects.toThrow(
        `${served.url}/version/index.yaml is not a chart repository index: entries.api[0].version is the number 1, not a version string (quote it).`,
      );
      await expect(attempt('login')).rejects.toThrow(
        `${served.url}/login/index.yaml is an HTML page (text/html; charset=utf-8), not a chart repository's index.yaml: is the repository URL right, and does it need credentials?`,
      );
      await expect(attempt('text')).rejects.toThrow(
        `${served.url}/text/index.yaml is not a chart repository index: it is a string, not a mapping with apiVersion and entries.`,
      );
      await expect(attempt('empty')).rejects.toThrow(`${served.url}/empty/index.yaml is empty, not a chart repository index.`);
      for (const where of ['bad', 'numbers', 'login']) await expect(attempt(where)).rejects.toThrow(UserError);
    } finally {
      await served.close();
    }
  });

  it('gives up on a repository that never answers after the timeout, naming the URL', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = http.createServer(() => undefined);
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const repository = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/charts`;
    try {
      const started = Date.now();
      await expect(
        verifyDependencies([{ service: 'api', name: 'api', version: '1.0.0', repository }], { cacheDir: await tempDir(), timeoutMs: 300 }),
      ).rejects.toThrow(
        `${repository}/index.yaml did not answer within 300ms (the timeout input), so the pinned chart versions could not be verified.`,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
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
  it('refuses a versions.yaml or a chart folder in the workspace that is a symbolic link, writing nothing through it', async () => {
    const workspace = await tempDir();
    const outside = await tempDir();
    await writeFile(path.join(outside, 'versions.yaml'), await versionsText());
    await symlink(path.join(outside, 'versions.yaml'), path.join(workspace, 'versions.yaml'));
    const inputs = { environment: 'uat', repository: 'https://charts.acme.example', 'source-commit': COMMIT };
    const linked = await runBuiltAction('umbrella-chart', { workspace, inputs });
    expect(linked.exitCode).not.toBe(0);
    expect(linked.log.join('\n')).toMatch(/versions\.yaml in the working directory .* symbolic link/);

    await rm(path.join(workspace, 'versions.yaml'));
    await writeFile(path.join(workspace, 'versions.yaml'), await versionsText());
    await symlink(outside, path.join(workspace, 'umbrella'));
    const throughLink = await runBuiltAction('umbrella-chart', { workspace, inputs });
    expect(throughLink.exitCode).not.toBe(0);
    expect(await readdir(outside)).toEqual(['versions.yaml']);
  });

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

  it('loads the yaml library from its chunk where the fast ways leave a file to it, in a fresh process each time', async () => {
    const inputs = { environment: 'uat', repository: 'https://charts.acme.example', 'source-commit': COMMIT };
    const versions = await versionsText();
    const numeric = await tempDir();
    await writeFile(path.join(numeric, 'versions.yaml'), versions.replace('version: 1.4.0', 'version: "1.4"'));
    const quoted = await runBuiltAction('umbrella-chart', { workspace: numeric, inputs });
    expect(quoted.exitCode).toBe(0);
    expect(await readFile(path.join(numeric, 'umbrella', 'uat', 'values.yaml'), 'utf8')).toContain('tag: "1.4"\n');

    const tagged = await tempDir();
    await writeFile(path.join(tagged, 'versions.yaml'), versions);
    expect((await runBuiltAction('umbrella-chart', { workspace: tagged, inputs })).exitCode).toBe(0);
    const chart = path.join(tagged, 'umbrella', 'uat', 'Chart.yaml');
    await writeFile(chart, `${await readFile(chart, 'utf8')}x-note: !!binary aGk=\n`);
    const reread = await runBuiltAction('umbrella-chart', { workspace: tagged, inputs });
    expect(reread.outputs).toMatchObject({ changed: 'true', 'chart-version': '0.1.1' });

    const broken = await tempDir();
    await writeFile(path.join(broken, 'versions.yaml'), 'environments:\n  uat: [1]\n');
    const refused = await runBuiltAction('umbrella-chart', { workspace: broken, inputs });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.log.join('\n')).toContain('versions.yaml:2:8: ');
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

  it('reads the timeout input (30s when empty), and stops waiting for a silent repository when it runs out', async () => {
    const values = (extra: Record<string, string>) =>
      new InputReader({ source: (name) => ({ environment: 'uat', ...extra })[name] ?? '', mask: () => undefined });
    expect(getInputs(values({}), {}).timeoutMs).toBe(30_000);
    // A token service on another host than the registry's is allowed only when named.
    expect(getInputs(values({}), {}).registryTokenHosts).toEqual([]);
    expect(getInputs(values({ 'registry-token-hosts': 'gitlab.example.com\nauthn.nvidia.com' }), {}).registryTokenHosts).toEqual([
      'gitlab.example.com',
      'authn.nvidia.com',
    ]);
    expect(getInputs(values({ timeout: '2m' }), {}).timeoutMs).toBe(120_000);
    expect(() => getInputs(values({ timeout: 'soon' }), {})).toThrow('Invalid input "timeout": "soon" is not a duration');
    expect(() => getInputs(values({ timeout: '0s' }), {})).toThrow(
      'Invalid input "timeout": "0s" is not allowed; expected a duration of at least 1ms',
    );

    const sockets = new Set<import('node:net').Socket>();
    const silent = http.createServer(() => undefined);
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const repository = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/charts`;
    try {
      const workspace = await tempDir();
      await writeFile(path.join(workspace, 'versions.yaml'), await versionsText());
      const started = Date.now();
      const result = await runBuiltAction('umbrella-chart', {
        workspace,
        inputs: { environment: 'uat', repository, verify: 'true', timeout: '1s' },
      });
      expect(result.exitCode).toBe(1);
      expect(result.log).toContain(
        `Error: ${repository}/index.yaml did not answer within 1s (the timeout input), so the pinned chart versions could not be verified.`,
      );
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await readdir(workspace)).toEqual(['versions.yaml']);

      // A registry that never answers its tag list: the step ends on time too, though that request
      // cannot be aborted (listTags takes no signal).
      const registry = `oci://127.0.0.1:${(silent.address() as AddressInfo).port}/charts`;
      const ociStarted = Date.now();
      const oci = await runBuiltAction('umbrella-chart', {
        workspace,
        inputs: { environment: 'uat', repository: registry, verify: 'true', timeout: '1s' },
      });
      expect(oci.exitCode).toBe(1);
      expect(oci.log).toContain(
        `Error: ${registry}/api did not answer within 1s (the timeout input), so the pinned chart versions could not be verified.`,
      );
      expect(Date.now() - ociStarted).toBeLessThan(20_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
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
