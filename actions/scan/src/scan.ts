/**
 * scan: Trivy once for vulnerabilities, Syft for an SBOM, against a container image.
 *
 * Trivy's JSON report is the single source: the counts, the verdict, the SARIF and the summary all
 * come from it. "Vulnerabilities at or above fail-on" and "the tool failed" are different
 * outcomes, with different messages. Trivy's vulnerability DB comes from a list of repositories
 * tried in order; if every download fails and the cached DB is younger than db-max-age, the scan
 * goes on with it, saying so.
 *
 * A tool's output that cannot be read (a report or an SBOM that is not JSON, an SBOM in another
 * format than sbom-format) is that tool's failure, named with its file. When Syft fails after
 * Trivy succeeded, Trivy's result goes with the error, so its counts are still reported.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type CommandRunner,
  type FailOn,
  type ReportCounts,
  type SbomSummary,
  type Severity,
  ToolkitError,
  type TrivyReport,
  UserError,
  countFindings,
  describeSbom,
  filterBySeverity,
  findingsTable,
  judge,
  readSbomText,
  readTrivyReport,
  toSarif,
} from '@toolkit/shared';

export interface ScanConfig {
  image: string;
  /** What to report; all severities when empty. */
  severities: Severity[];
  failOn: FailOn;
  ignoreUnfixed: boolean;
  /** .trivyignore files (several are joined into one, as trivy-action does), or one .trivyignore.yaml. */
  ignoreFiles: string[];
  /** Trivy's --scanners (vuln, misconfig, secret, license); Trivy's default when empty. */
  scanners: string[];
  skipDirs: string[];
  skipFiles: string[];
  /** Trivy's --timeout, in milliseconds; Trivy's default (5m) when 0. */
  timeoutMs: number;
  /** A trivy.yaml (Trivy's --config); the flags above win over it, as on Trivy's command line. */
  trivyConfig: string;
  /**
   * Whether the SARIF has only `severities` (true) or every severity (false, trivy-action's default
   * for SARIF); the counts, the verdict and the table follow `severities` either way.
   */
  limitSeveritiesForSarif: boolean;
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

/** What Trivy found: everything of a scan but the SBOM. */
export type TrivyOutcome = Omit<ScanResult, 'sbom'>;

/**
 * Trivy (or Syft) itself failed, or wrote what cannot be used: not a verdict on the image. When it
 * is Syft, after Trivy succeeded, `trivy` holds Trivy's result.
 */
export class ScanToolError extends ToolkitError {
  readonly trivy?: TrivyOutcome;

  constructor(
    readonly tool: string,
    readonly exitCode: number,
    readonly stderr: string,
    options: { message?: string; trivy?: TrivyOutcome } = {},
  ) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    const outcome = options.trivy ? 'so there is no SBOM' : 'so the image was not judged';
    super('COMMAND_FAILED', options.message ?? `${tool} failed (exit code ${exitCode}), ${outcome}:\n${tail}`);
    if (options.trivy) this.trivy = options.trivy;
  }
}

/** A tool that exited 0 but whose output file cannot be used. */
function unusableOutput(tool: string, what: string, file: string, problem: string, trivy?: TrivyOutcome): ScanToolError {
  return new ScanToolError(tool, 0, '', {
    message: `${tool} exited 0, but the ${what} it wrote, ${file}, ${problem}`,
    ...(trivy ? { trivy } : {}),
  });
}

async function readOutput(tool: string, what: string, file: string, trivy?: TrivyOutcome): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ScanToolError(tool, 0, '', {
        message: `${tool} exited 0, but did not write its ${what} to ${file}.`,
        ...(trivy ? { trivy } : {}),
      });
    }
    throw error;
  }
}

async function readReport(file: string): Promise<TrivyReport> {
  const text = await readOutput('trivy', 'report', file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw unusableOutput('trivy', 'report', file, `is not JSON (${(error as Error).message}).`);
  }
  try {
    return readTrivyReport(json);
  } catch (error) {
    throw unusableOutput('trivy', 'report', file, `cannot be read: ${(error as Error).message}`);
  }
}

/**
 * Syft's SBOM, read and recognised. One in another format than sbom-format is refused: the SBOM is
 * attached to the release and attested as that format, so it must be what it says.
 */
async function readSbom(file: string, format: 'spdx-json' | 'cyclonedx-json', trivy: TrivyOutcome): Promise<SbomSummary> {
  const read = readSbomText(await readOutput('syft', 'SBOM', file, trivy));
  if (read.problem !== undefined) throw unusableOutput('syft', 'SBOM', file, `${read.problem}; expected ${format} (sbom-format).`, trivy);
  if (read.sbom.format !== format || read.sbom.attestation !== undefined) {
    throw unusableOutput(
      'syft',
      'SBOM',
      file,
      `is ${describeSbom(read.sbom)}, not ${format} as sbom-format asks; it is refused, since it would be attached and attested as the image's ${format} SBOM. Check that syft-version is a Syft that writes ${format}.`,
      trivy,
    );
  }
  return read.sbom;
}

const DB_DOWNLOAD_FAILED =
  /TOOMANYREQUESTS|failed to download (the )?(vulnerability )?DB|DB (download|update) error|unable to (download|pull) .*db|db-repository/i;

/** The argv of the one Trivy run: the JSON report, to `reportFile`, judged by us (exit code 0). */
export function trivyArgs(config: ScanConfig, options: { skipDbUpdate: boolean; ignoreFile?: string }): string[] {
  // Without limit-severities-for-sarif, Trivy reports every severity (for the SARIF) and the
  // severities are kept here for everything else.
  const severities = config.limitSeveritiesForSarif ? config.severities : [];
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
    ...(severities.length > 0 ? ['--severity', severities.join(',')] : []),
    ...(config.ignoreUnfixed ? ['--ignore-unfixed'] : []),
    ...(options.ignoreFile ? ['--ignorefile', options.ignoreFile] : []),
    ...(config.scanners.length > 0 ? ['--scanners', config.scanners.join(',')] : []),
    ...config.skipDirs.flatMap((dir) => ['--skip-dirs', dir]),
    ...config.skipFiles.flatMap((file) => ['--skip-files', file]),
    ...(config.timeoutMs > 0 ? ['--timeout', `${Math.ceil(config.timeoutMs / 1000)}s`] : []),
    ...(config.trivyConfig ? ['--config', config.trivyConfig] : []),
    ...(options.skipDbUpdate ? ['--skip-db-update'] : config.dbRepositories.flatMap((repository) => ['--db-repository', repository])),
    config.image,
  ];
}

/**
 * The one ignore file Trivy is given: the file itself when there is one, else the .trivyignore files
 * joined into `combined` (trivy-action's trivyignores does the same). A .trivyignore.yaml cannot be
 * joined with others; a missing file is refused by name rather than ignored.
 */
export async function ignoreFileFor(files: readonly string[], combined: string): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  const texts = await Promise.all(
    files.map((file) =>
      readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UserError(
          'INVALID_INPUT',
          `Invalid input "ignore-file" (or its alias "trivyignores"): ${file} cannot be read (${error.code ?? error.message}).`,
        );
      }),
    ),
  );
  if (files.length === 1) return files[0];
  const yamlFile = files.find((file) => /\.ya?ml$/i.test(file));
  if (yamlFile)
    throw new UserError(
      'INVALID_INPUT',
      `Invalid input "ignore-file" (or its alias "trivyignores"): ${yamlFile} is a .trivyignore.yaml, which Trivy takes alone; give it as the only file, or list .trivyignore files only.`,
    );
  await writeFile(combined, texts.map((text, index) => `# ${files[index]}\n${text.endsWith('\n') ? text : `${text}\n`}`).join(''));
  return combined;
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
  // A file left from before (or committed to the repository) is never taken for a tool's output,
  // and a symbolic link there is replaced, not written through.
  const outputs = [config.reportFile, config.sarifFile, ...(config.sbomFormat !== 'none' && deps.syft ? [config.sbomFile] : [])];
  await Promise.all(outputs.map((file) => rm(file, { force: true })));
  const ignoreFile = await ignoreFileFor(config.ignoreFiles, path.join(config.cacheDir, 'trivyignore-combined'));
  const args = (skipDbUpdate: boolean) => trivyArgs(config, { skipDbUpdate, ...(ignoreFile ? { ignoreFile } : {}) });
  let trivy = await deps.run(deps.trivy, args(false), { allowFailure: true });
  if (trivy.exitCode !== 0 && DB_DOWNLOAD_FAILED.test(trivy.stderr)) {
    const age = await cachedDbAgeMs(config.cacheDir, now());
    if (age !== undefined && age <= config.dbMaxAgeMs) {
      staleDb = { ageHours: Math.round(age / 3_600_000) };
      deps.warn(
        `Trivy could not download its vulnerability DB from ${config.dbRepositories.join(', ')}; scanning with the cached DB, ${staleDb.ageHours} hour(s) old (db-max-age allows ${Math.round(config.dbMaxAgeMs / 3_600_000)}).`,
      );
      trivy = await deps.run(deps.trivy, args(true), { allowFailure: true });
    }
  }
  if (trivy.exitCode !== 0) throw new ScanToolError('trivy', trivy.exitCode, trivy.stderr);

  const full = await readReport(config.reportFile);
  const report = filterBySeverity(full, config.severities);
  const counts = countFindings(report);
  await writeFile(config.sarifFile, `${JSON.stringify(toSarif(config.limitSeveritiesForSarif ? report : full), null, 2)}\n`);
  deps.log(findingsTable(report));
  const scanned: TrivyOutcome = { report, counts, verdict: judge(counts, config.failOn), ...(staleDb ? { staleDb } : {}) };

  if (config.sbomFormat === 'none' || !deps.syft) return scanned;
  const syft = await deps.run(deps.syft, ['scan', config.image, '--output', `${config.sbomFormat}=${config.sbomFile}`, '--quiet'], {
    allowFailure: true,
  });
  if (syft.exitCode !== 0) throw new ScanToolError('syft', syft.exitCode, syft.stderr, { trivy: scanned });
  return { ...scanned, sbom: await readSbom(config.sbomFile, config.sbomFormat, scanned) };
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
