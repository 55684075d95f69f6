/**
 * Conformance with real outputs of Trivy and Syft (../shared/fixtures, see its SOURCES.md): counts
 * from every Trivy report, the SARIF of alpine-310 against Trivy's own, and the SBOMs' formats and
 * package counts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { countFindings, readTrivyReport, summarizeSbom, toSarif } from '@toolkit/shared';
import { ROOT } from '../support/harness.js';

const FIXTURES = path.join(ROOT, '..', 'shared', 'fixtures');
const present = existsSync(path.join(FIXTURES, 'trivy', 'EXPECTED.tsv'));
if (!present)
  console.warn(
    `Conformance with real Trivy and Syft outputs is SKIPPED: ${FIXTURES} is absent (../shared/fixtures is not beside this checkout).`,
  );

function tsv(file: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const columns = (header as string).split('\t');
  return rows.map((row) => Object.fromEntries(row.split('\t').map((value, index) => [columns[index], value])));
}
const json = (...parts: string[]) => JSON.parse(readFileSync(path.join(FIXTURES, ...parts), 'utf8'));

(present ? describe : describe.skip)('conformance: Trivy reports and SARIF, Syft SBOMs', () => {
  it('counts every Trivy report as EXPECTED.tsv says', () => {
    const expected = tsv(path.join(FIXTURES, 'trivy', 'EXPECTED.tsv'));
    expect(expected.length).toBeGreaterThanOrEqual(14);
    for (const row of expected) {
      const counts = countFindings(readTrivyReport(json('trivy', row.file as string)));
      expect({ file: row.file, ...counts }).toEqual({
        file: row.file,
        critical: Number(row.critical),
        high: Number(row.high),
        medium: Number(row.medium),
        low: Number(row.low),
        unknown: Number(row.unknown),
        fixable: Number(row.fixable),
        total: Number(row.total),
        misconfigurations: Number(row.misconfigs),
        secrets: Number(row.secrets),
      });
    }
  });

  it('reads every JSON report in the folder, and recognises the SBOMs Trivy made there', () => {
    const files = readdirSync(path.join(FIXTURES, 'trivy')).filter((file) => file.endsWith('.json.golden'));
    const sboms = files.filter((file) => /cyclonedx|cdx|spdx/.test(file));
    for (const file of files.filter((name) => !sboms.includes(name))) expect(() => readTrivyReport(json('trivy', file))).not.toThrow();
    expect(sboms.map((file) => summarizeSbom(json('trivy', file)).format).sort()).toEqual([
      'cyclonedx-json',
      'cyclonedx-json',
      'spdx-json',
    ]);
  });

  it('writes the SARIF of alpine-310 with the rules, results and levels of Trivy’s own', () => {
    type Sarif = {
      runs: [
        {
          tool: { driver: { rules: { id: string; name: string; defaultConfiguration: { level: string } }[] } };
          results: {
            ruleId: string;
            ruleIndex: number;
            level: string;
            message: { text: string };
            locations: { physicalLocation: { artifactLocation: { uri: string } }; message: { text: string } }[];
          }[];
        },
      ];
    };
    const ours = toSarif(readTrivyReport(json('trivy', 'alpine-310.json.golden'))) as unknown as Sarif;
    const theirs = json('trivy', 'alpine-310.sarif.golden') as Sarif;
    const rules = (sarif: Sarif) =>
      sarif.runs[0].tool.driver.rules.map((rule) => ({ id: rule.id, name: rule.name, level: rule.defaultConfiguration.level }));
    const results = (sarif: Sarif) =>
      sarif.runs[0].results.map((result) => ({
        ruleId: result.ruleId,
        ruleIndex: result.ruleIndex,
        level: result.level,
        message: result.message.text,
        uri: result.locations[0]?.physicalLocation.artifactLocation.uri,
        where: result.locations[0]?.message.text,
      }));
    expect(rules(ours)).toEqual(rules(theirs));
    expect(results(ours)).toEqual(results(theirs));
  });

  it('recognises every Syft SBOM and counts its packages as PACKAGE_COUNTS.tsv says', () => {
    for (const row of tsv(path.join(FIXTURES, 'syft', 'PACKAGE_COUNTS.tsv'))) {
      const summary = summarizeSbom(json('syft', row.file as string));
      expect({ file: row.file, packages: summary.packages }).toEqual({ file: row.file, packages: Number(row.package_count) });
      if (!(row.format as string).startsWith('DSSE')) expect(summary.format).toBe(row.format);
      else expect(summary).toMatchObject({ format: 'cyclonedx-json', attestation: 'https://cyclonedx.org/bom' });
    }
  });
});
