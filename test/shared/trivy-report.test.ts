import { describe, expect, it } from '@jest/globals';
import { UserError, countFindings, judge, readTrivyReport, summarizeSbom, toSarif, worstFirst } from '@toolkit/shared';

/** A report of our own making, in Trivy's SchemaVersion 2 shape. */
const vulnerability = (id: string, pkg: string, severity: string, fixed = '') => ({
  VulnerabilityID: id,
  PkgName: pkg,
  InstalledVersion: '1.0.0',
  FixedVersion: fixed,
  Severity: severity,
  Title: `${id} title`,
  PrimaryURL: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
});
const REPORT = {
  SchemaVersion: 2,
  ArtifactName: 'ghcr.io/acme/api:1.4.0',
  Results: [
    {
      Target: 'ghcr.io/acme/api:1.4.0 (debian 12)',
      Class: 'os-pkgs',
      Vulnerabilities: [
        vulnerability('CVE-2026-0001', 'openssl', 'CRITICAL', '3.0.2'),
        vulnerability('CVE-2026-0002', 'zlib', 'LOW'),
        vulnerability('CVE-2026-0001', 'libssl3', 'CRITICAL', '3.0.2'),
      ],
    },
    {
      Target: 'app/package-lock.json',
      Class: 'lang-pkgs',
      Vulnerabilities: [vulnerability('GHSA-xxxx', 'lodash', 'HIGH', '4.17.21'), vulnerability('CVE-2026-0003', 'left-pad', 'NEGLIGIBLE')],
    },
    {
      Target: 'Dockerfile',
      Class: 'config',
      Misconfigurations: [{ ID: 'DS002', Title: 'Image user should not be root', Severity: 'HIGH', Message: 'Add USER' }],
    },
    {
      Target: 'deploy.sh',
      Class: 'secret',
      Secrets: [{ RuleID: 'aws-access-key-id', Title: 'AWS Access Key ID', Severity: 'CRITICAL', StartLine: 3 }],
    },
  ],
};

describe('Trivy report', () => {
  it('counts vulnerabilities by severity (an unknown severity as UNKNOWN), fixable ones, misconfigurations and secrets', () => {
    expect(countFindings(readTrivyReport(REPORT))).toEqual({
      critical: 2,
      high: 1,
      medium: 0,
      low: 1,
      unknown: 1,
      fixable: 3,
      total: 5,
      misconfigurations: 1,
      secrets: 1,
    });
  });

  it('judges fail-on with one line saying what breached it', () => {
    const counts = countFindings(readTrivyReport(REPORT));
    expect(judge(counts, 'critical')).toEqual({ passed: false, reason: '2 vulnerabilities at or above CRITICAL (2 critical)' });
    expect(judge(counts, 'high')).toEqual({ passed: false, reason: '3 vulnerabilities at or above HIGH (2 critical, 1 high)' });
    expect(judge(counts, 'none')).toEqual({ passed: true, reason: '5 vulnerabilities; fail-on is none.' });
    expect(judge({ ...counts, critical: 0, high: 0 }, 'high')).toEqual({
      passed: true,
      reason: 'No vulnerability at or above HIGH (5 in all).',
    });
  });

  it('lists the worst first', () => {
    expect(worstFirst(readTrivyReport(REPORT).findings, 3).map((finding) => `${finding.severity} ${finding.id} ${finding.pkg}`)).toEqual([
      'CRITICAL CVE-2026-0001 libssl3',
      'CRITICAL CVE-2026-0001 openssl',
      'HIGH GHSA-xxxx lodash',
    ]);
  });

  it('writes SARIF of every finding: one rule per ID, one result per package, levels by severity', () => {
    const sarif = toSarif(readTrivyReport(REPORT)) as {
      version: string;
      runs: [
        {
          tool: { driver: { rules: { id: string; name: string }[] } };
          results: {
            ruleId: string;
            ruleIndex: number;
            level: string;
            locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
          }[];
        },
      ];
    };
    const [run] = sarif.runs;
    expect(sarif.version).toBe('2.1.0');
    expect(run.tool.driver.rules.map((rule) => [rule.id, rule.name])).toEqual([
      ['CVE-2026-0001', 'OsPackageVulnerability'],
      ['CVE-2026-0002', 'OsPackageVulnerability'],
      ['GHSA-xxxx', 'LanguageSpecificPackageVulnerability'],
      ['CVE-2026-0003', 'LanguageSpecificPackageVulnerability'],
      ['DS002', 'Misconfiguration'],
      ['aws-access-key-id', 'Secret'],
    ]);
    expect(
      run.results.map((result) => [
        result.ruleId,
        result.ruleIndex,
        result.level,
        result.locations[0]?.physicalLocation.artifactLocation.uri,
      ]),
    ).toEqual([
      ['CVE-2026-0001', 0, 'error', 'ghcr.io/acme/api:1.4.0'],
      ['CVE-2026-0002', 1, 'note', 'ghcr.io/acme/api:1.4.0'],
      ['CVE-2026-0001', 0, 'error', 'ghcr.io/acme/api:1.4.0'],
      ['GHSA-xxxx', 2, 'error', 'app/package-lock.json'],
      ['CVE-2026-0003', 3, 'note', 'app/package-lock.json'],
      ['DS002', 4, 'error', 'Dockerfile'],
      ['aws-access-key-id', 5, 'error', 'deploy.sh'],
    ]);
  });

  it('refuses what is not a SchemaVersion 2 report', () => {
    expect(() => readTrivyReport({ SchemaVersion: 1 })).toThrow(UserError);
    expect(() => readTrivyReport([])).toThrow('Not a Trivy JSON report of SchemaVersion 2');
  });

  it('recognises an SBOM it does not know as such', () => {
    expect(() => summarizeSbom({ hello: 'world' })).toThrow('Not an SBOM this toolkit knows');
    expect(summarizeSbom({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{}, {}] })).toEqual({
      format: 'cyclonedx-json',
      formatVersion: '1.6',
      packages: 2,
    });
  });
});
