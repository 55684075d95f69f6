/**
 * scan: Trivy once for vulnerabilities, Syft for an SBOM, against a container image.
 *
 * Trivy's JSON report is the single source: the counts, the verdict, the SARIF and the summary all
 * come from it. "Vulnerabilities at or above fail-on" and "the tool failed" are different
 * outcomes, with different messages. Trivy's vulnerability DB comes from a list of repositories
 * tried in order; if every download fails and the cached DB is younger than db-max-age, the scan
 * goes on with it, saying so.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type CommandRunner,
  type FailOn,
  type ReportCounts,
  type SbomSummary,
  type Severity,
  ToolkitError,
  type TrivyReport,
  countFindings,
  judge,
  readTrivyReport,
  summarizeSbom,
  toSarif,
} from '@toolkit/shared';

export interface ScanConfig {
  image: string;
  /** What to report; all severities when empty. */
  severities: Severity[];
  failOn: FailOn;
  ignoreUnfixed: boolean;
  ignoreFile: string;
  reportFile: string;
  sarifFile: string;
  sbomFormat: 'spdx-json' | 'cyclonedx-json' | 'none';
  sbomFile: string;
  dbRepositories: string[];
  dbMaxAgeMs: number;
  /** Trivy's cache directory (its vulnerability DB is in db/). */
  cacheDir: string;
}

export interface ScanDeps {
  trivy: string;
  syft?: string;
  run: CommandRunner;
  now?: () => Date;
  log: (message: string) => void;
  warn: (message: string) => void;
}

export interface ScanResult {
  report: TrivyReport;
  counts: ReportCounts;
  verdict: { passed: boolean; reason: string };
  /** Set when the DB could not be updated and the cached one was used. */
  staleDb?: { ageHours: number };
  sbom?: SbomSummary;
}

/** Trivy (or Syft) itself failed: not a verdict on the image. */
export class ScanToolError extends ToolkitError {
  constructor(
    readonly tool: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    super('COMMAND_FAILED', `${tool} failed (exit code ${exitCode}), so the image was not judged:\n${tail}`);
  }
}

const DB_DOWNLOAD_FAILED =
  /TOOMANYREQUESTS|failed to download (the )?(vulnerability )?DB|DB (download|update) error|unable to (download|pull) .*db|db-repository/i;

/** The argv of the one Trivy run: the JSON report, to `reportFile`, judged by us (exit code 0). */
export function trivyArgs(config: ScanConfig, options: { skipDbUpdate: boolean }): string[] {
  return [
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
    ...(config.severities.length > 0 ? ['--severity', config.severities.join(',')] : []),
    ...(config.ignoreUnfixed ? ['--ignore-unfixed'] : []),
    ...(config.ignoreFile ? ['--ignorefile', config.ignoreFile] : []),
    ...(options.skipDbUpdate ? ['--skip-db-update'] : config.dbRepositories.flatMap((repository) => ['--db-repository', repository])),
    config.image,
  ];
}

/** How old the cached vulnerability DB is, from Trivy's own metadata.json; undefined when there is none. */
export async function cachedDbAgeMs(cacheDir: string, now: Date): Promise<number | undefined> {
  try {
    const metadata = JSON.parse(await readFile(path.join(cacheDir, 'db', 'metadata.json'), 'utf8')) as {
      DownloadedAt?: string;
      UpdatedAt?: string;
    };
    const when = Date.parse(metadata.DownloadedAt ?? metadata.UpdatedAt ?? '');
    return Number.isNaN(when) ? undefined : now.getTime() - when;
  } catch {
    return undefined;
  }
}

export async function runScan(config: ScanConfig, deps: ScanDeps): Promise<ScanResult> {
  const now = deps.now ?? (() => new Date());
  let staleDb: ScanResult['staleDb'];
  let trivy = await deps.run(deps.trivy, trivyArgs(config, { skipDbUpdate: false }), { allowFailure: true });
  if (trivy.exitCode !== 0 && DB_DOWNLOAD_FAILED.test(trivy.stderr)) {
    const age = await cachedDbAgeMs(config.cacheDir, now());
    if (age !== undefined && age <= config.dbMaxAgeMs) {
      staleDb = { ageHours: Math.round(age / 3_600_000) };
      deps.warn(
        `Trivy could not download its vulnerability DB from ${config.dbRepositories.join(', ')}; scanning with the cached DB, ${staleDb.ageHours} hour(s) old (db-max-age allows ${Math.round(config.dbMaxAgeMs / 3_600_000)}).`,
      );
      trivy = await deps.run(deps.trivy, trivyArgs(config, { skipDbUpdate: true }), { allowFailure: true });
    }
  }
  if (trivy.exitCode !== 0) throw new ScanToolError('trivy', trivy.exitCode, trivy.stderr);

  const report = readTrivyReport(JSON.parse(await readFile(config.reportFile, 'utf8')));
  const counts = countFindings(report);
  await writeFile(config.sarifFile, `${JSON.stringify(toSarif(report), null, 2)}\n`);

  let sbom: SbomSummary | undefined;
  if (config.sbomFormat !== 'none' && deps.syft) {
    const syft = await deps.run(deps.syft, ['scan', config.image, '--output', `${config.sbomFormat}=${config.sbomFile}`, '--quiet'], {
      allowFailure: true,
    });
    if (syft.exitCode !== 0) throw new ScanToolError('syft', syft.exitCode, syft.stderr);
    sbom = summarizeSbom(JSON.parse(await readFile(config.sbomFile, 'utf8')));
  }
  return { report, counts, verdict: judge(counts, config.failOn), ...(staleDb ? { staleDb } : {}), ...(sbom ? { sbom } : {}) };
}

/** Trivy's DB in a cache between runs (the Actions cache in main; anything with restore and save in tests). */
export interface DbCache {
  /** The key restored, or undefined when nothing was. */
  restore(): Promise<string | undefined>;
  save(restoredKey: string | undefined): Promise<void>;
}

/**
 * Restores the DB, scans, and saves the DB whatever happened: a scan that found vulnerabilities or
 * crashed still leaves a warm cache for the next run.
 */
export async function withDbCache<T>(cache: DbCache | undefined, scan: () => Promise<T>): Promise<T> {
  const restored = await cache?.restore();
  try {
    return await scan();
  } finally {
    await cache?.save(restored);
  }
}
