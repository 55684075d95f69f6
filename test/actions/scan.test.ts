import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { InputReader, UserError, runCommand } from '@toolkit/shared';
import { getInputs } from '../../actions/scan/src/main.js';
import { type ScanConfig, ScanToolError, runScan, trivyArgs, withDbCache } from '../../actions/scan/src/scan.js';
import { fakeTool } from '../support/fake-tools.js';
import { runBuiltAction } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

/** A Trivy report of our own making: two critical, one medium. */
const REPORT = JSON.stringify({
  SchemaVersion: 2,
  ArtifactName: 'registry.example/acme/api:1.4.0',
  Results: [
    {
      Target: 'registry.example/acme/api:1.4.0 (alpine 3.20)',
      Class: 'os-pkgs',
      Vulnerabilities: [
        {
          VulnerabilityID: 'CVE-2026-1000',
          PkgName: 'openssl',
          InstalledVersion: '3.3.0',
          FixedVersion: '3.3.1',
          Severity: 'CRITICAL',
          PrimaryURL: 'https://avd.aquasec.com/nvd/cve-2026-1000',
        },
        { VulnerabilityID: 'CVE-2026-1001', PkgName: 'busybox', InstalledVersion: '1.36', FixedVersion: '', Severity: 'CRITICAL' },
        { VulnerabilityID: 'CVE-2026-1002', PkgName: 'zlib', InstalledVersion: '1.3', FixedVersion: '1.3.1', Severity: 'MEDIUM' },
      ],
    },
  ],
});
const SBOM = JSON.stringify({
  spdxVersion: 'SPDX-2.3',
  creationInfo: { creators: ['Tool: syft-1.44.0'] },
  packages: [{ name: 'openssl' }, { name: 'busybox' }, { name: 'zlib' }],
});

async function setUp(): Promise<{ dir: string; bin: string; config: ScanConfig }> {
  const dir = await tempDir();
  const bin = path.join(dir, 'bin');
  await mkdir(path.join(dir, 'cache'), { recursive: true });
  return {
    dir,
    bin,
    config: {
      image: 'registry.example/acme/api:1.4.0',
      severities: [],
      failOn: 'critical',
      ignoreUnfixed: false,
      ignoreFiles: [],
      scanners: [],
      skipDirs: [],
      skipFiles: [],
      timeoutMs: 0,
      trivyConfig: '',
      limitSeveritiesForSarif: true,
      reportFile: path.join(dir, 'report.json'),
      sarifFile: path.join(dir, 'results.sarif'),
      sbomFormat: 'spdx-json',
      sbomFile: path.join(dir, 'sbom.spdx.json'),
      dbRepositories: ['mirror.example/trivy-db', 'ghcr.io/aquasecurity/trivy-db'],
      dbMaxAgeMs: 7 * 86_400_000,
      cacheDir: path.join(dir, 'cache'),
    },
  };
}

const silent = { log: () => undefined, warn: () => undefined };

describe('scan core, with fake trivy and syft that replay outputs and record argv', () => {
  it('runs Trivy once with exactly the flags asked for, and Syft for the SBOM', async () => {
    const { dir, bin, config } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT });
    const syft = await fakeTool(bin, 'syft', { output: SBOM });
    await writeFile(path.join(dir, '.trivyignore'), 'CVE-2026-9999\n');
    const scanned = await runScan(
      { ...config, severities: ['CRITICAL', 'HIGH'], ignoreUnfixed: true, ignoreFiles: [path.join(dir, '.trivyignore')] },
      { trivy: path.join(bin, 'trivy'), syft: path.join(bin, 'syft'), run: runCommand, ...silent },
    );
    expect(await trivy.calls()).toEqual([
      [
        'image',
        '--format',
        'json',
        '--output',
        config.reportFile,
        '--exit-code',
        '0',
        '--quiet',
        '--cache-dir',
        config.cacheDir,
        '--severity',
        'CRITICAL,HIGH',
        '--ignore-unfixed',
        '--ignorefile',
        path.join(dir, '.trivyignore'),
        '--db-repository',
        'mirror.example/trivy-db',
        '--db-repository',
        'ghcr.io/aquasecurity/trivy-db',
        'registry.example/acme/api:1.4.0',
      ],
    ]);
    expect(await syft.calls()).toEqual([
      ['scan', 'registry.example/acme/api:1.4.0', '--output', `spdx-json=${config.sbomFile}`, '--quiet'],
    ]);
    // The replayed report has a MEDIUM that severity does not ask for: it is not counted (Trivy
    // itself would not have reported it).
    expect(scanned.counts).toMatchObject({ critical: 2, medium: 0, fixable: 1, total: 2 });
    expect(scanned.verdict).toEqual({ passed: false, reason: '2 vulnerabilities at or above CRITICAL (2 critical)' });
    expect(scanned.sbom).toEqual({ format: 'spdx-json', formatVersion: 'SPDX-2.3', generator: 'syft-1.44.0', packages: 3 });
    // The SARIF holds every reported finding, whatever fail-on says.
    const sarif = JSON.parse(await readFile(config.sarifFile, 'utf8'));
    expect(sarif.runs[0].results.map((result: { ruleId: string; level: string }) => `${result.ruleId} ${result.level}`)).toEqual([
      'CVE-2026-1000 error',
      'CVE-2026-1001 error',
    ]);
  });

  it('passes below fail-on, and never fails with fail-on: none', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', { output: REPORT });
    const deps = { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent };
    expect((await runScan({ ...config, sbomFormat: 'none', failOn: 'none' }, deps)).verdict.passed).toBe(true);
    await fakeTool(bin, 'trivy', { output: REPORT.replace(/CRITICAL/g, 'LOW') });
    expect((await runScan({ ...config, sbomFormat: 'none' }, deps)).verdict).toEqual({
      passed: true,
      reason: 'No vulnerability at or above CRITICAL (3 in all).',
    });
  });

  it('tells a failed tool from a finding: its own error, with Trivy’s stderr', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', { exitCode: 2, stderr: 'FATAL\tunable to find the specified image "registry.example/acme/api:1.4.0"\n' });
    const attempt = runScan({ ...config, sbomFormat: 'none' }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent });
    await expect(attempt).rejects.toThrow(ScanToolError);
    await expect(
      runScan({ ...config, sbomFormat: 'none' }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent }),
    ).rejects.toThrow(
      'trivy failed (exit code 2), so the image was not judged:\nFATAL\tunable to find the specified image "registry.example/acme/api:1.4.0"',
    );
  });

  it('scans with a cached DB younger than db-max-age when every download fails, saying so', async () => {
    const { bin, config } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', { output: REPORT, dbDownloadFails: true });
    await mkdir(path.join(config.cacheDir, 'db'), { recursive: true });
    const now = new Date('2026-11-23T12:00:00Z');
    await writeFile(
      path.join(config.cacheDir, 'db', 'metadata.json'),
      JSON.stringify({ Version: 2, DownloadedAt: '2026-11-21T12:00:00Z' }),
    );
    const warnings: string[] = [];
    const scanned = await runScan(
      { ...config, sbomFormat: 'none' },
      { trivy: path.join(bin, 'trivy'), run: runCommand, now: () => now, log: () => undefined, warn: (m) => warnings.push(m) },
    );
    expect(scanned.staleDb).toEqual({ ageHours: 48 });
    expect(warnings).toEqual([
      'Trivy could not download its vulnerability DB from mirror.example/trivy-db, ghcr.io/aquasecurity/trivy-db; scanning with the cached DB, 48 hour(s) old (db-max-age allows 168).',
    ]);
    const calls = await trivy.calls();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toContain('--skip-db-update');
    expect(calls[1]).not.toContain('--db-repository');

    // Older than db-max-age: the scan fails as a tool failure, with the download error.
    await writeFile(
      path.join(config.cacheDir, 'db', 'metadata.json'),
      JSON.stringify({ Version: 2, DownloadedAt: '2026-11-01T12:00:00Z' }),
    );
    await expect(
      runScan({ ...config, sbomFormat: 'none' }, { trivy: path.join(bin, 'trivy'), run: runCommand, now: () => now, ...silent }),
    ).rejects.toThrow(/trivy failed \(exit code 1\).*TOOMANYREQUESTS/s);
  });

  it('saves the DB cache after every scan, one that crashed included', async () => {
    const { bin, config } = await setUp();
    const events: string[] = [];
    const cache = {
      restore: async () => {
        events.push('restore');
        return 'trivy-db-2026-11-22';
      },
      save: async (restored: string | undefined) => {
        events.push(`save after ${restored}`);
      },
    };
    await fakeTool(bin, 'trivy', { exitCode: 2, stderr: 'FATAL\tpanic\n' });
    await expect(
      withDbCache(cache, () => runScan({ ...config, sbomFormat: 'none' }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent })),
    ).rejects.toThrow(ScanToolError);
    await fakeTool(bin, 'trivy', { output: REPORT });
    const found = await withDbCache(cache, () =>
      runScan({ ...config, sbomFormat: 'none' }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent }),
    );
    expect(found.verdict.passed).toBe(false);
    expect(events).toEqual(['restore', 'save after trivy-db-2026-11-22', 'restore', 'save after trivy-db-2026-11-22']);
    await expect(withDbCache(undefined, async () => 'no cache')).resolves.toBe('no cache');
  });

  it('makes an SBOM that is not JSON a syft failure, naming syft and the file, and keeps Trivy’s result', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', { output: REPORT });
    await fakeTool(bin, 'syft', { output: '<html>502 Bad Gateway</html>\n' });
    const error = await runScan(config, { trivy: path.join(bin, 'trivy'), syft: path.join(bin, 'syft'), run: runCommand, ...silent }).then(
      () => undefined,
      (caught: unknown) => caught as ScanToolError,
    );
    expect(error).toBeInstanceOf(ScanToolError);
    expect(error).not.toBeInstanceOf(UserError);
    expect(error?.tool).toBe('syft');
    expect(error?.message.startsWith(`syft exited 0, but the SBOM it wrote, ${config.sbomFile}, is not JSON (`)).toBe(true);
    expect(error?.message).not.toMatch(/^Unexpected token/);
    expect(error?.trivy?.counts).toMatchObject({ critical: 2, medium: 1, fixable: 2, total: 3 });
    expect(error?.trivy?.verdict.passed).toBe(false);
  });

  it('refuses an SBOM in the other format than sbom-format (SPDX for CycloneDX, and the reverse), saying which', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', { output: REPORT });
    const deps = { trivy: path.join(bin, 'trivy'), syft: path.join(bin, 'syft'), run: runCommand, ...silent };
    const CDX = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ name: 'openssl' }] });
    await fakeTool(bin, 'syft', { output: CDX });
    await expect(runScan(config, deps)).rejects.toThrow(
      `syft exited 0, but the SBOM it wrote, ${config.sbomFile}, is CycloneDX JSON 1.6, not spdx-json as sbom-format asks; it is refused, since it would be attached and attested as the image's spdx-json SBOM.`,
    );
    await fakeTool(bin, 'syft', { output: SBOM });
    const cdxFile = path.join(path.dirname(config.sbomFile), 'sbom.cdx.json');
    await expect(runScan({ ...config, sbomFormat: 'cyclonedx-json', sbomFile: cdxFile }, deps)).rejects.toThrow(
      `syft exited 0, but the SBOM it wrote, ${cdxFile}, is SPDX JSON (SPDX-2.3), not cyclonedx-json as sbom-format asks`,
    );
    await fakeTool(bin, 'syft', { output: CDX });
    expect((await runScan({ ...config, sbomFormat: 'cyclonedx-json', sbomFile: cdxFile }, deps)).sbom).toMatchObject({
      format: 'cyclonedx-json',
      packages: 1,
    });
  });

  it('makes a Trivy report that is not JSON a trivy failure naming the file', async () => {
    const { bin, config } = await setUp();
    await fakeTool(bin, 'trivy', { output: 'panic: runtime error\n' });
    await expect(
      runScan({ ...config, sbomFormat: 'none' }, { trivy: path.join(bin, 'trivy'), run: runCommand, ...silent }),
    ).rejects.toThrow(`trivy exited 0, but the report it wrote, ${config.reportFile}, is not JSON (`);
  });

  it('builds Trivy’s argv without the DB repositories once it skips the update', async () => {
    const { config } = await setUp();
    expect(trivyArgs(config, { skipDbUpdate: true }).slice(-2)).toEqual(['--skip-db-update', config.image]);
  });
});

describe('scan inputs', () => {
  const inputs = (values: Record<string, string>) =>
    getInputs(new InputReader({ source: (name) => ({ image: 'registry.example/acme/api:1.4.0', ...values })[name] ?? '' }), {
      GITHUB_WORKSPACE: '/w',
    });

  it('reads fail-on and severity in upper, lower or mixed case, as Trivy and the verdict spell them', () => {
    for (const failOn of ['CRITICAL', 'critical', 'Critical', ' High ']) {
      expect(inputs({ 'fail-on': failOn }).failOn).toBe(failOn.trim().toLowerCase());
    }
    expect(inputs({ 'fail-on': 'NONE' }).failOn).toBe('none');
    expect(inputs({}).failOn).toBe('critical');
    expect(inputs({ severity: 'critical, High,\nmedium , LOW' }).severities).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']);
    expect(inputs({}).severities).toEqual([]);
  });

  it('refuses a severity that is none of them, naming the input, the value as written and what is allowed', () => {
    expect(() => inputs({ 'fail-on': 'Severe' })).toThrow(
      'Invalid input "fail-on": "Severe" is not allowed; expected one of: critical, high, medium, low, unknown, none (upper or lower case).',
    );
    expect(() => inputs({ 'fail-on': 'critical,high' })).toThrow('Invalid input "fail-on": "critical,high" is not allowed');
    expect(() => inputs({ severity: 'high, none' })).toThrow(
      'Invalid input "severity": "none" is not allowed; expected some of: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN (upper or lower case).',
    );
  });
});

describe('scan built dist under Node 24 (tools: system, the fakes on PATH)', () => {
  async function run(
    inputs: Record<string, string>,
    behaviour: { trivy: Parameters<typeof fakeTool>[2]; syft?: Parameters<typeof fakeTool>[2] },
  ) {
    const { dir, bin } = await setUp();
    const trivy = await fakeTool(bin, 'trivy', behaviour.trivy);
    await fakeTool(bin, 'syft', behaviour.syft ?? { output: SBOM });
    const result = await runBuiltAction('scan', {
      workspace: dir,
      inputs: { image: 'registry.example/acme/api:1.4.0', 'trivy-version': 'system', 'syft-version': 'system', ...inputs },
      env: { PATH: `${bin}${path.delimiter}${process.env.PATH}`, RUNNER_TOOL_CACHE: path.join(dir, 'tools') },
    });
    return { dir, result, trivy };
  }

  it('fails on two criticals with one line, with every output and the summary written first', async () => {
    const { dir, result } = await run({}, { trivy: { output: REPORT } });
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain('Error: 2 vulnerabilities at or above CRITICAL (2 critical)');
    expect(result.outputs).toEqual({
      critical: '2',
      high: '0',
      medium: '1',
      low: '0',
      unknown: '0',
      fixable: '2',
      total: '3',
      'report-file': path.join(dir, 'trivy-report.json'),
      'sarif-file': path.join(dir, 'trivy-results.sarif'),
      'sbom-file': path.join(dir, 'sbom.spdx.json'),
      passed: 'false',
    });
    expect(result.summary).toContain('<a href="https://avd.aquasec.com/nvd/cve-2026-1000">CVE-2026-1000</a>');
    expect(result.summary).toContain('(spdx-json SPDX-2.3, 3 packages)');
    expect(result.log).toContain('The Actions cache service is not available here; the vulnerability DB is not cached.');
  });

  it('judges fail-on: CRITICAL (as build-scan-sign.yml passes it) exactly as fail-on: critical', async () => {
    const upper = await run({ 'fail-on': 'CRITICAL', 'sbom-format': 'none' }, { trivy: { output: REPORT } });
    const lower = await run({ 'fail-on': 'critical', 'sbom-format': 'none' }, { trivy: { output: REPORT } });
    // Two criticals and a medium: only a critical threshold gives this reason (medium would count 3).
    expect(upper.result.exitCode).toBe(1);
    expect(upper.result.log).toContain('Error: 2 vulnerabilities at or above CRITICAL (2 critical)');
    expect(upper.result.outputs).toMatchObject({ passed: 'false', critical: '2', medium: '1', total: '3' });
    expect(await upper.trivy.calls()).toHaveLength(1);
    expect([upper.result.exitCode, upper.result.outputs.passed]).toEqual([lower.result.exitCode, lower.result.outputs.passed]);
    expect(upper.result.log.filter((line) => line.startsWith('Error:'))).toEqual(
      lower.result.log.filter((line) => line.startsWith('Error:')),
    );

    // Below the threshold it passes: a HIGH does not fail CRITICAL.
    const high = await run({ 'fail-on': 'CRITICAL', 'sbom-format': 'none' }, { trivy: { output: REPORT.replace(/CRITICAL/g, 'HIGH') } });
    expect(high.result.exitCode).toBe(0);
    expect(high.result.outputs).toMatchObject({ passed: 'true', high: '2' });
    expect(high.result.log).toContain('No vulnerability at or above CRITICAL (3 in all).');
  });

  it('passes with fail-on: high on a report of lows', async () => {
    const { result } = await run(
      { 'fail-on': 'high', 'sbom-format': 'none' },
      { trivy: { output: REPORT.replace(/CRITICAL|MEDIUM/g, 'LOW') } },
    );
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toMatchObject({ passed: 'true', low: '3', 'sbom-file': '' });
  });

  it('says passed=error when Trivy itself fails, with its stderr', async () => {
    const { result } = await run({ 'sbom-format': 'none' }, { trivy: { exitCode: 1, stderr: 'FATAL\tscan error: image not found\n' } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.passed).toBe('error');
    expect(result.log.join('\n')).toContain(
      'Error: trivy failed (exit code 1), so the image was not judged:\nFATAL\tscan error: image not found',
    );
    expect(result.summary).toContain('trivy failed');
  });

  it('says passed=error when Syft’s SBOM is not JSON, naming syft and the file, with Trivy’s counts in the outputs and the summary', async () => {
    const { dir, result } = await run({}, { trivy: { output: REPORT }, syft: { output: 'not json at all' } });
    const sbomFile = path.join(dir, 'sbom.spdx.json');
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({
      critical: '2',
      high: '0',
      medium: '1',
      low: '0',
      unknown: '0',
      fixable: '2',
      total: '3',
      'report-file': path.join(dir, 'trivy-report.json'),
      'sarif-file': path.join(dir, 'trivy-results.sarif'),
      'sbom-file': '',
      passed: 'error',
    });
    const errors = result.log.filter((line) => line.startsWith('Error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.startsWith(`Error: syft exited 0, but the SBOM it wrote, ${sbomFile}, is not JSON (`)).toBe(true);
    expect(result.summary).toContain('Scan of registry.example/acme/api:1.4.0: syft failed');
    expect(result.summary).toContain(`the SBOM it wrote, ${sbomFile}, is not JSON`);
    expect(result.summary).toContain('Trivy: 2 vulnerabilities at or above CRITICAL (2 critical)');
    expect(result.summary).toContain('<td>2</td><td>0</td><td>1</td><td>0</td><td>0</td><td>2</td><td>3</td>');
    expect(result.summary).toContain('<a href="https://avd.aquasec.com/nvd/cve-2026-1000">CVE-2026-1000</a>');
  });

  it('says passed=error when Syft fails or writes CycloneDX for spdx-json, still with Trivy’s counts', async () => {
    const failed = await run({}, { trivy: { output: REPORT }, syft: { exitCode: 1, stderr: 'could not fetch image\n' } });
    expect(failed.result.exitCode).toBe(1);
    expect(failed.result.outputs).toMatchObject({ passed: 'error', critical: '2', total: '3', 'sbom-file': '' });
    expect(failed.result.summary).toContain('syft failed (exit code 1)');
    expect(failed.result.summary).toContain('<td>2</td><td>0</td><td>1</td>');

    const other = await run(
      {},
      { trivy: { output: REPORT }, syft: { output: JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [] }) } },
    );
    expect(other.result.exitCode).toBe(1);
    expect(other.result.outputs).toMatchObject({ passed: 'error', critical: '2', 'sbom-file': '' });
    expect(other.result.log.join('\n')).toContain('is CycloneDX JSON 1.5, not spdx-json as sbom-format asks; it is refused');
  });

  it('refuses a bad input by name', async () => {
    const { result, trivy } = await run({ severity: 'CRITICAL, SEVERE' }, { trivy: { output: REPORT } });
    expect(result.exitCode).toBe(1);
    expect(await trivy.calls()).toEqual([]);
    expect(result.log).toContain(
      'Error: Invalid input "severity": "SEVERE" is not allowed; expected some of: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN (upper or lower case).',
    );
  });
});
