/**
 * Trivy's JSON report (SchemaVersion 2) as the single source of a scan: the counts, the verdict,
 * the SARIF and the summary all come from it, so they cannot disagree.
 */
import { UserError } from './errors.js';

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  id: string;
  pkg: string;
  installed: string;
  fixed?: string;
  severity: Severity;
  title?: string;
  description?: string;
  url?: string;
  /** `os-pkgs` or `lang-pkgs`. */
  class: string;
  target: string;
}

export interface TrivyReport {
  artifact: string;
  findings: Finding[];
  misconfigurations: { id: string; title: string; severity: string; target: string; message?: string }[];
  secrets: { id: string; title: string; severity: string; target: string; line?: number }[];
}

export interface ReportCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  fixable: number;
  total: number;
  misconfigurations: number;
  secrets: number;
}

interface RawReport {
  SchemaVersion?: number;
  ArtifactName?: string;
  Results?: {
    Target?: string;
    Class?: string;
    Vulnerabilities?: Record<string, unknown>[] | null;
    Misconfigurations?: Record<string, unknown>[] | null;
    Secrets?: Record<string, unknown>[] | null;
  }[];
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** Reads a report; anything but SchemaVersion 2 is refused, since its fields mean other things. */
export function readTrivyReport(json: unknown): TrivyReport {
  const raw = json as RawReport;
  if (!raw || typeof raw !== 'object' || raw.SchemaVersion !== 2) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      `Not a Trivy JSON report of SchemaVersion 2 (got ${JSON.stringify((raw as RawReport | null)?.SchemaVersion ?? null)}).`,
    );
  }
  const report: TrivyReport = { artifact: raw.ArtifactName ?? '', findings: [], misconfigurations: [], secrets: [] };
  for (const result of raw.Results ?? []) {
    const target = result.Target ?? '';
    for (const vulnerability of result.Vulnerabilities ?? []) {
      const severity = String(vulnerability.Severity ?? 'UNKNOWN').toUpperCase();
      report.findings.push({
        id: String(vulnerability.VulnerabilityID),
        pkg: String(vulnerability.PkgName ?? ''),
        installed: String(vulnerability.InstalledVersion ?? ''),
        ...(text(vulnerability.FixedVersion) ? { fixed: text(vulnerability.FixedVersion) } : {}),
        // A severity Trivy does not know (or a newer one) is counted as UNKNOWN, never dropped.
        severity: (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : 'UNKNOWN',
        ...(text(vulnerability.Title) ? { title: text(vulnerability.Title) } : {}),
        ...(text(vulnerability.Description) ? { description: text(vulnerability.Description) } : {}),
        ...(text(vulnerability.PrimaryURL) ? { url: text(vulnerability.PrimaryURL) } : {}),
        class: result.Class ?? '',
        target,
      });
    }
    for (const misconfiguration of result.Misconfigurations ?? []) {
      report.misconfigurations.push({
        id: String(misconfiguration.ID ?? misconfiguration.AVDID ?? ''),
        title: String(misconfiguration.Title ?? ''),
        severity: String(misconfiguration.Severity ?? 'UNKNOWN'),
        target,
        ...(text(misconfiguration.Message) ? { message: text(misconfiguration.Message) } : {}),
      });
    }
    for (const secret of result.Secrets ?? []) {
      report.secrets.push({
        id: String(secret.RuleID ?? ''),
        title: String(secret.Title ?? ''),
        severity: String(secret.Severity ?? 'UNKNOWN'),
        target,
        ...(typeof secret.StartLine === 'number' ? { line: secret.StartLine } : {}),
      });
    }
  }
  return report;
}

export function countFindings(report: TrivyReport): ReportCounts {
  const counts: ReportCounts = {
    critical: 0,
    high: 0,
    medium: 0,
    low: 0,
    unknown: 0,
    fixable: 0,
    total: 0,
    misconfigurations: report.misconfigurations.length,
    secrets: report.secrets.length,
  };
  for (const finding of report.findings) {
    counts[finding.severity.toLowerCase() as Lowercase<Severity>] += 1;
    if (finding.fixed) counts.fixable += 1;
    counts.total += 1;
  }
  return counts;
}

export type FailOn = Lowercase<Severity> | 'none';

/** Whether the counts breach `failOn`, with a one-line reason such as "2 vulnerabilities at or above CRITICAL (2 critical)". */
export function judge(counts: ReportCounts, failOn: FailOn): { passed: boolean; reason: string } {
  if (failOn === 'none') return { passed: true, reason: `${counts.total} vulnerabilities; fail-on is none.` };
  const upTo = SEVERITIES.slice(0, SEVERITIES.indexOf(failOn.toUpperCase() as Severity) + 1);
  const parts = upTo
    .map((severity) => [severity, counts[severity.toLowerCase() as Lowercase<Severity>]] as const)
    .filter(([, count]) => count > 0);
  const breaching = parts.reduce((sum, [, count]) => sum + count, 0);
  if (breaching === 0) return { passed: true, reason: `No vulnerability at or above ${failOn.toUpperCase()} (${counts.total} in all).` };
  const detail = parts.map(([severity, count]) => `${count} ${severity.toLowerCase()}`).join(', ');
  return {
    passed: false,
    reason: `${breaching} ${breaching === 1 ? 'vulnerability' : 'vulnerabilities'} at or above ${failOn.toUpperCase()} (${detail})`,
  };
}

/** The findings worst first (by severity, then ID), for the summary's top list. */
export function worstFirst(findings: readonly Finding[], limit: number): Finding[] {
  return [...findings]
    .sort(
      (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.id.localeCompare(b.id) || a.pkg.localeCompare(b.pkg),
    )
    .slice(0, limit);
}

const LEVEL: Record<string, 'error' | 'warning' | 'note'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};

/**
 * SARIF 2.1.0 of every finding in the report (whatever fail-on is), as Trivy's own SARIF writes
 * it: one rule per vulnerability ID, named by where it was found; one result per affected
 * package; levels error (critical, high), warning (medium), note (low, unknown). Misconfigurations
 * and secrets are results too.
 */
export function toSarif(report: TrivyReport): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  const ruleIndex = new Map<string, number>();
  const results: Record<string, unknown>[] = [];
  const rule = (id: string, make: () => Record<string, unknown>) => {
    if (!ruleIndex.has(id)) {
      ruleIndex.set(id, rules.length);
      rules.push({ id, ...make() });
    }
    return ruleIndex.get(id) as number;
  };
  const location = (uri: string, message: string, line = 1) => ({
    physicalLocation: {
      artifactLocation: { uri, uriBaseId: 'ROOTPATH' },
      region: { startLine: line, startColumn: 1, endLine: line, endColumn: 1 },
    },
    message: { text: message },
  });

  for (const finding of report.findings) {
    const index = rule(finding.id, () => ({
      name: finding.class === 'lang-pkgs' ? 'LanguageSpecificPackageVulnerability' : 'OsPackageVulnerability',
      shortDescription: { text: finding.title ?? finding.id },
      fullDescription: { text: finding.description ?? finding.title ?? finding.id },
      defaultConfiguration: { level: LEVEL[finding.severity] },
      ...(finding.url ? { helpUri: finding.url } : {}),
      properties: { precision: 'very-high', tags: ['vulnerability', 'security', finding.severity] },
    }));
    const uri = finding.class === 'lang-pkgs' ? finding.target : report.artifact;
    const message = [
      `Package: ${finding.pkg}`,
      `Installed Version: ${finding.installed}`,
      `Vulnerability ${finding.id}`,
      `Severity: ${finding.severity}`,
      `Fixed Version: ${finding.fixed ?? ''}`,
      `Link: [${finding.id}](${finding.url ?? ''})`,
    ].join('\n');
    results.push({
      ruleId: finding.id,
      ruleIndex: index,
      level: LEVEL[finding.severity],
      message: { text: message },
      locations: [location(uri, `${uri}: ${finding.pkg}@${finding.installed}`)],
    });
  }
  for (const misconfiguration of report.misconfigurations) {
    const severity = misconfiguration.severity.toUpperCase();
    const index = rule(misconfiguration.id, () => ({
      name: 'Misconfiguration',
      shortDescription: { text: misconfiguration.title },
      defaultConfiguration: { level: LEVEL[severity] ?? 'note' },
      properties: { precision: 'very-high', tags: ['misconfiguration', 'security', severity] },
    }));
    results.push({
      ruleId: misconfiguration.id,
      ruleIndex: index,
      level: LEVEL[severity] ?? 'note',
      message: { text: misconfiguration.message ?? misconfiguration.title },
      locations: [location(misconfiguration.target, `${misconfiguration.target}: ${misconfiguration.id}`)],
    });
  }
  for (const secret of report.secrets) {
    const severity = secret.severity.toUpperCase();
    const index = rule(secret.id, () => ({
      name: 'Secret',
      shortDescription: { text: secret.title },
      defaultConfiguration: { level: LEVEL[severity] ?? 'note' },
      properties: { precision: 'very-high', tags: ['secret', 'security', severity] },
    }));
    results.push({
      ruleId: secret.id,
      ruleIndex: index,
      level: LEVEL[severity] ?? 'note',
      message: { text: `${secret.title} (${secret.id})` },
      locations: [location(secret.target, `${secret.target}: ${secret.id}`, secret.line ?? 1)],
    });
  }
  return {
    version: '2.1.0',
    $schema: 'https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            fullName: 'Trivy Vulnerability Scanner',
            informationUri: 'https://github.com/aquasecurity/trivy',
            name: 'Trivy',
            rules,
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}

/**
 * The report with only `severities` in it (all when empty): what Trivy's `--severity` keeps, for a
 * report made without it (the SARIF then has every severity, the counts and the verdict only these).
 */
export function filterBySeverity(report: TrivyReport, severities: readonly Severity[]): TrivyReport {
  if (severities.length === 0) return report;
  const keep = (severity: string) => (severities as readonly string[]).includes(severity.toUpperCase());
  return {
    ...report,
    findings: report.findings.filter((finding) => keep(finding.severity)),
    misconfigurations: report.misconfigurations.filter((misconfiguration) => keep(misconfiguration.severity)),
    secrets: report.secrets.filter((secret) => keep(secret.severity)),
  };
}

const TITLE_WIDTH = 60;

/** Rows as a box-drawn text table, as Trivy's `--format table` draws them. */
function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const rule = (left: string, middle: string, right: string) =>
    `${left}${widths.map((width) => '─'.repeat(width + 2)).join(middle)}${right}`;
  const line = (cells: readonly string[]) => `│${cells.map((cell, column) => ` ${cell.padEnd(widths[column] as number)} `).join('│')}│`;
  return [rule('┌', '┬', '┐'), line(header), rule('├', '┼', '┤'), ...rows.map(line), rule('└', '┴', '┘')];
}

const shorten = (value: string) => (value.length > TITLE_WIDTH ? `${value.slice(0, TITLE_WIDTH - 1)}…` : value);

/**
 * The findings as text tables for the log, one per target with its total per severity, as
 * trivy-action's default `format: table` shows them: drawn from the JSON report, so Trivy runs once.
 */
export function findingsTable(report: TrivyReport): string {
  const targets = new Map<string, Finding[]>();
  for (const finding of report.findings) targets.set(finding.target, [...(targets.get(finding.target) ?? []), finding]);
  const blocks: string[][] = [];
  for (const [target, findings] of targets) {
    const counts = SEVERITIES.map((severity) => `${severity}: ${findings.filter((finding) => finding.severity === severity).length}`);
    blocks.push([
      `${target}${findings[0]?.class ? ` (${findings[0].class})` : ''}`,
      `Total: ${findings.length} (${counts.join(', ')})`,
      '',
      ...textTable(
        ['Library', 'Vulnerability', 'Severity', 'Installed Version', 'Fixed Version', 'Title'],
        worstFirst(findings, findings.length).map((finding) => [
          finding.pkg,
          finding.id,
          finding.severity,
          finding.installed,
          finding.fixed ?? '',
          shorten(finding.title ?? finding.url ?? ''),
        ]),
      ),
    ]);
  }
  if (report.misconfigurations.length > 0)
    blocks.push([
      `Misconfigurations: ${report.misconfigurations.length}`,
      '',
      ...textTable(
        ['Target', 'ID', 'Severity', 'Title'],
        report.misconfigurations.map((item) => [item.target, item.id, item.severity.toUpperCase(), shorten(item.title)]),
      ),
    ]);
  if (report.secrets.length > 0)
    blocks.push([
      `Secrets: ${report.secrets.length}`,
      '',
      ...textTable(
        ['Target', 'Rule', 'Severity', 'Line', 'Title'],
        report.secrets.map((item) => [
          item.target,
          item.id,
          item.severity.toUpperCase(),
          item.line === undefined ? '' : String(item.line),
          shorten(item.title),
        ]),
      ),
    ]);
  if (blocks.length === 0) return `${report.artifact || 'The image'}: no vulnerabilities, misconfigurations or secrets reported.`;
  return blocks.map((block) => block.join('\n')).join('\n\n');
}
