/**
 * scan with what trivy-action and sbom-action users write: their input names as aliases, Trivy's
 * scanners/skip-dirs/skip-files/timeout/config, limit-severities-for-sarif, the table of findings in
 * the log, the SBOM as a workflow artifact and in the dependency graph.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { InputReader, githubClient, runCommand } from '@toolkit/shared';
import { getInputs } from '../../actions/scan/src/main.js';
import { type ScanConfig, runScan, trivyArgs } from '../../actions/scan/src/scan.js';
import { dependencySnapshot, packageUrls, snapshotCommit, submitDependencySnapshot } from '../../actions/scan/src/sbom-publish.js';
import { type ArtifactService, startArtifactService } from '../support/artifact-service.js';
import { fakeTool } from '../support/fake-tools.js';
import { runBuiltAction } from '../support/harness.js';
import { GITHUB_API, mockGitHubApi } from '../support/nock.js';
import { tempDir } from '../support/temp.js';

/** A report of our own: one critical and one low in the OS packages, one high in a lock file. */
const REPORT = JSON.stringify({
  SchemaVersion: 2,
  ArtifactName: 'registry.example/acme/web:2.0.0',
  Results: [
    {
      Target: 'registry.example/acme/web:2.0.0 (debian 12.5)',
      Class: 'os-pkgs',
      Vulnerabilities: [
        {
          VulnerabilityID: 'CVE-2026-2000',
          PkgName: 'libssl3',
          InstalledVersion: '3.0.11',
          FixedVersion: '3.0.13',
          Severity: 'CRITICAL',
          Title: 'openssl: a remote heap overflow in the TLS handshake of every server that accepts client certificates',
        },
        { VulnerabilityID: 'CVE-2026-2001', PkgName: 'tar', InstalledVersion: '1.34', Severity: 'LOW', Title: 'tar: memory leak' },
      ],
    },
    {
      Target: 'app/package-lock.json',
      Class: 'lang-pkgs',
      Vulnerabilities: [
        {
          VulnerabilityID: 'GHSA-aaaa-bbbb-cccc',
          PkgName: 'lodash',
          InstalledVersion: '4.17.20',
          FixedVersion: '4.17.21',
          Severity: 'HIGH',
          Title: 'Prototype pollution',
        },
      ],
    },
  ],
});
const SBOM = JSON.stringify({
  spdxVersion: 'SPDX-2.3',
  creationInfo: { creators: ['Tool: syft-1.44.0'] },
  packages: [
    { name: 'registry.example/acme/web' },
    {
      name: 'libssl3',
      externalRefs: [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/libssl3@3.0.11?arch=amd64' },
      ],
    },
    {
      name: 'lodash',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/lodash@4.17.20' }],
    },
  ],
});

const inputs = (values: Record<string, string>, workspace = '/w') =>
  getInputs(
    new InputReader({ source: (name) => ({ image: 'registry.example/acme/web:2.0.0', ...values })[name] ?? '', mask: () => undefined }),
    {
      GITHUB_WORKSPACE: workspace,
    },
  );

async function setUp(): Promise<{ dir: string; bin: string; config: ScanConfig }> {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'cache'), { recursive: true });
  const config = getInputs(
    new InputReader({ source: (name) => ({ image: 'registry.example/acme/web:2.0.0' })[name] ?? '', mask: () => undefined }),
    {
      GITHUB_WORKSPACE: dir,
    },
  );
  return { dir, bin: path.join(dir, 'bin'), config: { ...config, sbomFormat: 'none', cacheDir: path.join(dir, 'cache') } };
}
const silent = { log: () => undefined, warn: () => undefined };

describe('trivy-action’s names as aliases', () => {
  it('reads image-ref as image, and refuses both, naming both', () => {
    const { image: _ignored, ...withoutImage } = { image: '' };
    expect(
      getInputs(
        new InputReader({
          source: (name) => ({ 'image-ref': 'ghcr.io/acme/api:1.0', ...withoutImage })[name] ?? '',
          mask: () => undefined,
        }),
        {},
      ).image,
    ).toBe('ghcr.io/acme/api:1.0');
    expect(() => inputs({ 'image-ref': 'ghcr.io/acme/api:1.0' })).toThrow(
      'Invalid input "image": it is given twice, as "image" and as its alias "image-ref"; give only one of them',
    );
    expect(() =>
      getInputs(new InputReader({ source: (name) => ({ 'image-ref': 'Not An Image' })[name] ?? '', mask: () => undefined }), {}),
    ).toThrow('Invalid input "image-ref": "Not An Image" is not allowed');
    expect(() => getInputs(new InputReader({ source: () => '', mask: () => undefined }), {})).toThrow(
      'Invalid input "image": a value is required (or its alias "image-ref").',
    );
  });

  it('reads trivyignores as a comma-separated list of files in the workspace, and refuses it with ignore-file', () => {
    expect(inputs({ trivyignores: '.trivyignore, security/.trivyignore' }).ignoreFiles).toEqual([
      '/w/.trivyignore',
      '/w/security/.trivyignore',
    ]);
    expect(inputs({ 'ignore-file': '.trivyignore\nother/.trivyignore' }).ignoreFiles).toEqual(['/w/.trivyignore', '/w/other/.trivyignore']);
    expect(() => inputs({ trivyignores: 'a', 'ignore-file': 'b' })).toThrow('as "ignore-file" and as its alias "trivyignores"');
  });

  it('reads scanners, skip-dirs, skip-files, timeout, trivy-config and limit-severities-for-sarif, refusing what Trivy would not take', () => {
    const read = inputs({
      scanners: 'vuln,Secret',
      'skip-dirs': 'node_modules, /usr/share/doc',
      'skip-files': '**/*.pem',
      timeout: '10m0s',
      'trivy-config': 'trivy.yaml',
      'limit-severities-for-sarif': 'false',
    });
    expect(read).toMatchObject({
      scanners: ['vuln', 'secret'],
      skipDirs: ['node_modules', '/usr/share/doc'],
      skipFiles: ['**/*.pem'],
      timeoutMs: 600_000,
      trivyConfig: '/w/trivy.yaml',
      limitSeveritiesForSarif: false,
    });
    expect(inputs({}).limitSeveritiesForSarif).toBe(true);
    expect(inputs({}).timeoutMs).toBe(0);
    expect(() => inputs({ scanners: 'vuln,rbac' })).toThrow(
      'Invalid input "scanners": "rbac" is not allowed; expected some of: vuln, misconfig, secret, license.',
    );
    expect(() => inputs({ timeout: 'soon' })).toThrow('Invalid input "timeout": "soon" is not a duration');
    expect(() => inputs({ 'sbom-format': 'none', 'sbom-artifact': 'sbom' })).toThrow(
      'Invalid input "sbom-artifact": "sbom" needs an SBOM, but sbom-format is none',
    );
    // dependency-snapshot is read as a boolean whatever the case, with or without an SBOM.
    expect(inputs({ 'sbom-format': 'none', 'dependency-snapshot': 'False' }).dependencySnapshot).toBe(false);
    expect(() => inputs({ 'sbom-format': 'none', 'dependency-snapshot': 'TRUE' })).toThrow(
      'Invalid input "dependency-snapshot": "TRUE" needs an SBOM, but sbom-format is none',
    );
    expect(() => inputs({ 'sbom-format': 'none', 'dependency-snapshot': 'yes' })).toThrow(
      'Invalid input "dependency-snapshot": "yes" is not a boolean; expected true or false.',
    );
    // An artifact named false is still an upload of an SBOM there is none of.
    expect(() => inputs({ 'sbom-format': 'none', 'sbom-artifact': 'false' })).toThrow(
      'Invalid input "sbom-artifact": "false" needs an SBOM',
    );
    expect(() => inputs({ 'sbom-artifact': 'a/b' })).toThrow('Invalid input "sbom-artifact": "a/b" is not allowed');
  });

  it('passes them to the one Trivy run as its flags', async () => {
    const { dir, bin, config } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT });
    await writeFile(path.join(dir, 'trivy.yaml'), 'cache:\n  backend: fs\n');
    const given = {
      ...config,
      scanners: ['vuln', 'secret'],
      skipDirs: ['node_modules', '/usr/share/doc'],
      skipFiles: ['**/*.pem'],
      timeoutMs: 600_000,
      trivyConfig: path.join(dir, 'trivy.yaml'),
    };
    await runScan(given, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent });
    const [argv] = await trivy.calls();
    const after = (flag: string) => (argv as string[]).flatMap((arg, index, all) => (arg === flag ? [all[index + 1]] : []));
    expect(after('--scanners')).toEqual(['vuln,secret']);
    expect(after('--skip-dirs')).toEqual(['node_modules', '/usr/share/doc']);
    expect(after('--skip-files')).toEqual(['**/*.pem']);
    expect(after('--timeout')).toEqual(['600s']);
    expect(after('--config')).toEqual([path.join(dir, 'trivy.yaml')]);
    expect(argv?.at(-1)).toBe('registry.example/acme/web:2.0.0');
    expect(await trivy.calls()).toHaveLength(1);
  });

  it('joins several .trivyignore files into the one Trivy takes, refuses a missing one and a .trivyignore.yaml among others', async () => {
    const { dir, bin, config } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT });
    await writeFile(path.join(dir, 'a.trivyignore'), 'CVE-2026-2000\n');
    await writeFile(path.join(dir, 'b.trivyignore'), 'CVE-2026-2001'); // no final newline
    await runScan(
      { ...config, ignoreFiles: [path.join(dir, 'a.trivyignore'), path.join(dir, 'b.trivyignore')] },
      { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent },
    );
    const [argv] = await trivy.calls();
    const combined = argv?.[(argv?.indexOf('--ignorefile') ?? 0) + 1] as string;
    expect(combined).toBe(path.join(config.cacheDir, 'trivyignore-combined'));
    const text = await readFile(combined, 'utf8');
    expect(text.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual(['CVE-2026-2000', 'CVE-2026-2001']);

    await expect(
      runScan({ ...config, ignoreFiles: [path.join(dir, 'missing')] }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent }),
    ).rejects.toThrow(`Invalid input "ignore-file" (or its alias "trivyignores"): ${path.join(dir, 'missing')} cannot be read (ENOENT).`);
    await writeFile(path.join(dir, '.trivyignore.yaml'), 'vulnerabilities: []\n');
    await expect(
      runScan(
        { ...config, ignoreFiles: [path.join(dir, 'a.trivyignore'), path.join(dir, '.trivyignore.yaml')] },
        { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent },
      ),
    ).rejects.toThrow('is a .trivyignore.yaml, which Trivy takes alone');
    expect(await trivy.calls()).toHaveLength(1);
  });
});

describe('severities and the SARIF (limit-severities-for-sarif)', () => {
  const sarifLevels = async (file: string) =>
    ((JSON.parse(await readFile(file, 'utf8')) as { runs: { results: { ruleId: string }[] }[] }).runs[0]?.results ?? [])
      .map((result) => result.ruleId)
      .sort();

  it('true (the default here): Trivy filters, and the SARIF has only those severities', async () => {
    const { bin, config } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT });
    await runScan({ ...config, severities: ['CRITICAL', 'HIGH'] }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent });
    expect((await trivy.calls())[0]).toContain('--severity');
  });

  it('false (trivy-action’s default): the SARIF has every severity, the counts and verdict only the asked ones', async () => {
    const { bin, config } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT });
    const scanned = await runScan(
      { ...config, severities: ['CRITICAL', 'HIGH'], limitSeveritiesForSarif: false, failOn: 'low' },
      { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent },
    );
    expect((await trivy.calls())[0]).not.toContain('--severity');
    expect(scanned.counts).toMatchObject({ critical: 1, high: 1, low: 0, total: 2 });
    expect(scanned.verdict.reason).toBe('2 vulnerabilities at or above LOW (1 critical, 1 high)');
    expect(await sarifLevels(config.sarifFile)).toEqual(['CVE-2026-2000', 'CVE-2026-2001', 'GHSA-aaaa-bbbb-cccc']);
    // With limit true, the same report gives only the asked severities in the SARIF.
    await runScan(
      { ...config, severities: ['CRITICAL', 'HIGH'], failOn: 'low' },
      { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent },
    );
    expect(await sarifLevels(config.sarifFile)).toEqual(['CVE-2026-2000', 'GHSA-aaaa-bbbb-cccc']);
  });

  it('builds no --severity flag when limit is false, and one when true', async () => {
    const { config } = await setUp();
    expect(trivyArgs({ ...config, severities: ['HIGH'], limitSeveritiesForSarif: false }, { skipDbUpdate: false })).not.toContain(
      '--severity',
    );
    expect(trivyArgs({ ...config, severities: ['HIGH'] }, { skipDbUpdate: false })).toEqual(expect.arrayContaining(['--severity', 'HIGH']));
  });
});

describe('the table of findings in the log, from the one JSON report', () => {
  it('draws one table per target with its totals, worst first, titles cut short', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', { output: REPORT });
    const logged: string[] = [];
    await runScan(config, { trivy: path.join(bin, 'trivy'), run: runCommand, log: (line) => logged.push(line), warn: () => undefined });
    const table = logged.join('\n');
    expect(table).toContain(
      'registry.example/acme/web:2.0.0 (debian 12.5) (os-pkgs)\nTotal: 2 (CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0)',
    );
    expect(table).toContain('app/package-lock.json (lang-pkgs)\nTotal: 1 (CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0)');
    const rows = table.split('\n').filter((line) => line.startsWith('│'));
    expect(rows[0]).toMatch(/^│ Library +│ Vulnerability +│ Severity +│ Installed Version +│ Fixed Version +│ Title +│$/);
    expect(rows[1]).toMatch(/^│ libssl3 +│ CVE-2026-2000 +│ CRITICAL +│ 3\.0\.11 +│ 3\.0\.13 +│ openssl: a remote heap overflow .*… │$/);
    expect(rows[2]).toMatch(/^│ tar +│ CVE-2026-2001 +│ LOW +│ 1\.34 +│ +│ tar: memory leak +│$/);
    // Every line of one table is as wide as its header.
    const lines = table.split('\n');
    const first = lines.slice(
      lines.findIndex((line) => line.startsWith('┌')),
      lines.findIndex((line) => line.startsWith('└')) + 1,
    );
    expect(first.length).toBe(6);
    expect(new Set(first.map((line) => line.length)).size).toBe(1);
  });

  it('says so when there is nothing', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', {
      output: JSON.stringify({ SchemaVersion: 2, ArtifactName: 'registry.example/acme/web:2.0.0', Results: [] }),
    });
    const logged: string[] = [];
    await runScan(config, { trivy: path.join(bin, 'trivy'), run: runCommand, log: (line) => logged.push(line), warn: () => undefined });
    expect(logged).toContain('registry.example/acme/web:2.0.0: no vulnerabilities, misconfigurations or secrets reported.');
  });
});

describe('the SBOM in the dependency graph (dependency submission API, through nock)', () => {
  mockGitHubApi();
  const context = {
    image: 'registry.example/acme/web:2.0.0',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    workflow: 'build',
    job: 'scan',
    runId: '77',
    serverUrl: 'https://github.com',
    repository: 'acme/web',
    syftVersion: 'syft-1.44.0',
  };

  it('takes SPDX purls and CycloneDX purls (nested too), counting packages without one', () => {
    expect(packageUrls(JSON.parse(SBOM))).toEqual({
      purls: ['pkg:deb/debian/libssl3@3.0.11?arch=amd64', 'pkg:npm/lodash@4.17.20'],
      without: 1,
    });
    expect(
      packageUrls({
        bomFormat: 'CycloneDX',
        components: [{ name: 'a', purl: 'pkg:npm/a@1', components: [{ name: 'b', purl: 'pkg:npm/b@2' }] }, { name: 'c' }],
      }),
    ).toEqual({ purls: ['pkg:npm/a@1', 'pkg:npm/b@2'], without: 1 });
  });

  it('posts one snapshot per image to /repos/{owner}/{repo}/dependency-graph/snapshots', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'sbom.spdx.json');
    await writeFile(file, SBOM);
    let posted: Record<string, unknown> | undefined;
    const scope = nock(GITHUB_API)
      .post('/repos/acme/web/dependency-graph/snapshots', (body: Record<string, unknown>) => {
        posted = body;
        return true;
      })
      .matchHeader('authorization', 'token ghs_snapshot')
      .reply(201, { id: 4242, created_at: '2026-12-02T00:00:00Z', result: 'SUCCESS' });
    const submitted = await submitDependencySnapshot(file, context, () => githubClient('ghs_snapshot'), new Date('2026-12-02T06:00:00Z'));
    expect(scope.isDone()).toBe(true);
    expect(submitted).toEqual({ id: 4242, packages: 2, without: 1 });
    expect(posted).toEqual({
      version: 0,
      sha: 'a'.repeat(40),
      ref: 'refs/heads/main',
      job: { correlator: 'build_scan_registry.example/acme/web', id: '77', html_url: 'https://github.com/acme/web/actions/runs/77' },
      detector: { name: 'toolkit scan (syft)', version: 'syft-1.44.0', url: 'https://github.com/anchore/syft' },
      scanned: '2026-12-02T06:00:00.000Z',
      manifests: {
        'registry.example/acme/web:2.0.0': {
          name: 'registry.example/acme/web:2.0.0',
          resolved: {
            'pkg:deb/debian/libssl3@3.0.11?arch=amd64': {
              package_url: 'pkg:deb/debian/libssl3@3.0.11?arch=amd64',
              relationship: 'direct',
              scope: 'runtime',
            },
            'pkg:npm/lodash@4.17.20': { package_url: 'pkg:npm/lodash@4.17.20', relationship: 'direct', scope: 'runtime' },
          },
        },
      },
    });
  });

  it('says what the token needs when GitHub refuses, and needs the commit and ref', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'sbom.spdx.json');
    await writeFile(file, SBOM);
    nock(GITHUB_API).post('/repos/acme/web/dependency-graph/snapshots').reply(403, { message: 'Resource not accessible by integration' });
    await expect(submitDependencySnapshot(file, context, () => githubClient('ghs_snapshot'))).rejects.toThrow(
      /could not be submitted to the dependency graph \(dependency-snapshot\): Resource not accessible by integration.*contents: write/,
    );
    await expect(submitDependencySnapshot(file, { ...context, ref: '' }, () => githubClient('ghs_snapshot'))).rejects.toThrow(
      'dependency-snapshot needs GITHUB_SHA and GITHUB_REF',
    );
  });

  it('names a snapshot by the image without its digest, and correlates it by the repository alone', () => {
    const snapshot = dependencySnapshot(JSON.parse(SBOM), {
      ...context,
      image: `ghcr.io/acme/web@sha256:${'b'.repeat(64)}`,
      scanned: new Date(0),
    });
    expect(Object.keys(snapshot.manifests)).toEqual(['ghcr.io/acme/web']);
    // The same image at the next commit (another tag, another digest) replaces this snapshot.
    const correlator = (image: string) => dependencySnapshot({}, { ...context, image, scanned: new Date(0) }).job.correlator;
    expect(correlator('localhost:5000/acme/web:1.2.3')).toBe('build_scan_localhost:5000/acme/web');
    expect(correlator(`localhost:5000/acme/web:sha-1234@sha256:${'c'.repeat(64)}`)).toBe('build_scan_localhost:5000/acme/web');
    expect(correlator('localhost:5000/acme/api')).toBe('build_scan_localhost:5000/acme/api');
  });

  it('on pull_request submits the pull request’s head commit, not GitHub’s merge commit', async () => {
    const dir = await tempDir();
    const eventPath = path.join(dir, 'event.json');
    const head = 'd'.repeat(40);
    await writeFile(eventPath, JSON.stringify({ pull_request: { number: 7, head: { sha: head, ref: 'feature' } } }));
    const env = { GITHUB_SHA: 'e'.repeat(40), GITHUB_EVENT_PATH: eventPath };
    expect(await snapshotCommit({ ...env, GITHUB_EVENT_NAME: 'pull_request' })).toBe(head);
    expect(await snapshotCommit({ ...env, GITHUB_EVENT_NAME: 'push' })).toBe('e'.repeat(40));
    await writeFile(eventPath, JSON.stringify({ pull_request: { number: 7 } }));
    expect(await snapshotCommit({ ...env, GITHUB_EVENT_NAME: 'pull_request' })).toBe('e'.repeat(40));
  });
});

describe('the built action: aliases, the table, and the SBOM uploaded as a workflow artifact', () => {
  let service: ArtifactService;
  beforeAll(async () => {
    service = await startArtifactService();
  });
  afterAll(() => service.close());

  async function run(inputsGiven: Record<string, string>, env: Record<string, string> = {}) {
    const dir = await tempDir();
    const bin = path.join(dir, 'bin');
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT });
    await fakeTool(bin, 'syft', { output: SBOM });
    const result = await runBuiltAction('scan', {
      workspace: dir,
      inputs: { 'trivy-version': 'system', 'syft-version': 'system', 'fail-on': 'critical', ...inputsGiven },
      env: { PATH: `${bin}${path.delimiter}${process.env.PATH}`, RUNNER_TOOL_CACHE: path.join(dir, 'tools'), ...env },
    });
    return { dir, result, trivy };
  }

  it('scans image-ref, prints the table, and uploads the SBOM under sbom-artifact even though the verdict fails', async () => {
    const { dir, result, trivy } = await run(
      { 'image-ref': 'registry.example/acme/web:2.0.0', 'sbom-artifact': 'web.spdx.json', 'sbom-artifact-retention-days': '5' },
      service.env,
    );
    expect((await trivy.calls())[0]?.at(-1)).toBe('registry.example/acme/web:2.0.0');
    expect(result.log.join('\n')).toContain('Total: 2 (CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0)');
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ passed: 'false', 'sbom-artifact-id': '41' });
    expect(result.log).toContain('SBOM uploaded as the artifact web.spdx.json (id 41).');
    // The run and job come from the runtime token's scope; the retention from sbom-artifact-retention-days.
    const created = service.created.at(-1) as Record<string, unknown>;
    expect(created.name).toBe('web.spdx.json');
    expect(created.workflow_run_backend_id ?? created.workflowRunBackendId).toBe('ce7f54c7-61c7-4aae-887f-30da475f5f1a');
    const expires = Date.parse(String(created.expires_at ?? created.expiresAt));
    expect(Math.round((expires - Date.now()) / 86_400_000)).toBe(5);
    const zip = path.join(dir, 'uploaded.zip');
    await writeFile(zip, service.blobs.get('web.spdx.json') as Buffer);
    expect(execFileSync('unzip', ['-p', zip, 'sbom.spdx.json'], { encoding: 'utf8' })).toBe(SBOM);
    expect(result.summary).toContain('web.spdx.json');
  });

  it('uploads sbom-file under its own name: with sbom-file the artifact name (as migrate gives it), a download finds that file', async () => {
    const { dir, result } = await run(
      { image: 'registry.example/acme/web:2.0.0', 'sbom-artifact': 'image.spdx.json', 'sbom-file': 'image.spdx.json', 'fail-on': 'none' },
      service.env,
    );
    expect(result.exitCode).toBe(0);
    const zip = path.join(dir, 'uploaded.zip');
    await writeFile(zip, service.blobs.get('image.spdx.json') as Buffer);
    expect(execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim()).toBe('image.spdx.json');
    expect(execFileSync('unzip', ['-p', zip, 'image.spdx.json'], { encoding: 'utf8' })).toBe(SBOM);
  });

  it('fails the step, saying which artifact, when the upload is refused', async () => {
    const refusing = await startArtifactService({ failCreate: true });
    try {
      const { result } = await run(
        { image: 'registry.example/acme/web:2.0.0', 'sbom-artifact': 'web-sbom', 'fail-on': 'none' },
        { ...refusing.env, ACTIONS_ARTIFACT_MAX_ATTEMPTS: '1' },
      );
      expect(result.exitCode).toBe(1);
      expect(result.log.join('\n')).toContain('could not be uploaded as the artifact "web-sbom" (sbom-artifact)');
      expect(result.outputs.passed).toBe('true');
      // The summary is written all the same, with the scan's result and what went wrong.
      expect(result.summary).toContain('Scan of registry.example/acme/web:2.0.0: passed');
      expect(result.summary).toContain('could not be uploaded as the artifact');
    } finally {
      await refusing.close();
    }
  });

  it('says what is missing when there is no artifact service (not on a runner), after the scan’s outputs are set', async () => {
    const { result } = await run({ image: 'registry.example/acme/web:2.0.0', 'sbom-artifact': 'web-sbom', 'fail-on': 'none' });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain(
      "Error: sbom-artifact needs GitHub's artifact service, which the runner announces in ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL; they are not set here. Leave sbom-artifact empty where the step does not run on a GitHub runner.",
    );
    expect(result.outputs).toMatchObject({ passed: 'true', critical: '1' });
  });

  it('refuses image and image-ref both given before running anything', async () => {
    const { result, trivy } = await run({ image: 'registry.example/acme/web:2.0.0', 'image-ref': 'registry.example/acme/web:2.0.0' });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain(
      'Error: Invalid input "image": it is given twice, as "image" and as its alias "image-ref"; give only one of them (the two names mean the same).',
    );
    expect(await trivy.calls()).toEqual([]);
  });
});
