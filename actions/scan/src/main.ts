import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import {
  type FailOn,
  InputError,
  InputReader,
  SEVERITIES,
  type SbomSummary,
  type Severity,
  UserError,
  githubClient,
  installTool,
  pinnedToolSpec,
  runCommand,
  summaryFacts,
  summaryHeading,
  summaryParagraph,
  summaryTable,
  worstFirst,
  writeJobSummary,
} from '@toolkit/shared';
import { type DbCache, type ScanConfig, type ScanResult, ScanToolError, type TrivyOutcome, runScan, withDbCache } from './scan.js';

export interface Inputs extends ScanConfig {
  /** The workflow artifact the SBOM is uploaded as; none when empty. */
  sbomArtifact: string;
  /** Days GitHub keeps that artifact; the repository's setting when 0. */
  sbomArtifactRetentionDays: number;
  /** Submit the SBOM's packages to GitHub's dependency graph (the dependency submission API). */
  dependencySnapshot: boolean;
  token: string;
  dbCache: boolean;
  trivy: { version: string; sha256: string };
  syft: { version: string; sha256: string };
}

const IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
export const DEFAULT_DB_REPOSITORIES = [
  'mirror.gcr.io/aquasec/trivy-db',
  'ghcr.io/aquasecurity/trivy-db',
  'public.ecr.aws/aquasecurity/trivy-db',
];

/** The names trivy-action gives these inputs, accepted as theirs (both given is refused). */
export const SCAN_ALIASES = { image: 'image-ref', 'ignore-file': 'trivyignores' } as const;

const SCANNERS = ['vuln', 'misconfig', 'secret', 'license'];

function readScanners(reader: InputReader): string[] {
  return reader.list('scanners').map((item) => {
    const scanner = item.toLowerCase();
    if (!SCANNERS.includes(scanner))
      throw new InputError('scanners', `${JSON.stringify(item)} is not allowed; expected some of: ${SCANNERS.join(', ')}.`);
    return scanner;
  });
}

const FAIL_ON: readonly FailOn[] = ['critical', 'high', 'medium', 'low', 'unknown', 'none'];

/**
 * Severities as Trivy spells them (upper case). Workflows write them either way (`CRITICAL`,
 * `critical`), so the inputs take any case and the error shows the value as it was written.
 */
function readSeverities(reader: InputReader): Severity[] {
  return reader.list('severity').map((item) => {
    const severity = SEVERITIES.find((known) => known === item.toUpperCase());
    if (!severity)
      throw new InputError(
        'severity',
        `${JSON.stringify(item)} is not allowed; expected some of: ${SEVERITIES.join(', ')} (upper or lower case).`,
      );
    return severity;
  });
}

function readFailOn(reader: InputReader): FailOn {
  const value = reader.string('fail-on');
  if (value === '') return 'critical';
  const failOn = FAIL_ON.find((known) => known === value.toLowerCase());
  if (!failOn)
    throw new InputError(
      'fail-on',
      `${JSON.stringify(value)} is not allowed; expected one of: ${FAIL_ON.join(', ')} (upper or lower case).`,
    );
  return failOn;
}

export function getInputs(plain = new InputReader(), env: NodeJS.ProcessEnv = process.env): Inputs {
  const reader = plain.withAliases(SCAN_ALIASES);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const sbomFormat = reader.enum('sbom-format', ['spdx-json', 'cyclonedx-json', 'none'], 'spdx-json');
  const inWorkspace = (input: string, fallback: string) => path.resolve(workspace, reader.string(input) || fallback);
  if (sbomFormat === 'none') {
    // dependency-snapshot read as the boolean it is (False is false); any sbom-artifact name is an upload.
    const asked = [
      ['sbom-artifact', reader.string('sbom-artifact') !== ''],
      ['dependency-snapshot', reader.boolean('dependency-snapshot', false)],
    ] as const;
    for (const [input, given] of asked)
      if (given)
        throw new InputError(
          input,
          `${JSON.stringify(reader.string(input))} needs an SBOM, but sbom-format is none; set sbom-format to spdx-json or cyclonedx-json.`,
        );
  }
  return {
    image: reader.string('image', {
      required: true,
      pattern: IMAGE,
      expected: 'an image reference such as ghcr.io/acme/api:1.4.0 or ghcr.io/acme/api@sha256:…',
    }),
    severities: readSeverities(reader),
    failOn: readFailOn(reader),
    ignoreUnfixed: reader.boolean('ignore-unfixed', false),
    ignoreFiles: reader.list('ignore-file').map((file) => path.resolve(workspace, file)),
    scanners: readScanners(reader),
    skipDirs: reader.list('skip-dirs'),
    skipFiles: reader.list('skip-files'),
    timeoutMs: reader.duration('timeout', 0),
    trivyConfig: reader.string('trivy-config') ? inWorkspace('trivy-config', '') : '',
    limitSeveritiesForSarif: reader.boolean('limit-severities-for-sarif', true),
    reportFile: inWorkspace('report-file', 'trivy-report.json'),
    sarifFile: inWorkspace('sarif-file', 'trivy-results.sarif'),
    sbomFormat,
    sbomFile: inWorkspace('sbom-file', `sbom.${sbomFormat === 'cyclonedx-json' ? 'cdx' : 'spdx'}.json`),
    dbRepositories: reader.list('db-repositories').length > 0 ? reader.list('db-repositories') : DEFAULT_DB_REPOSITORIES,
    dbMaxAgeMs: reader.duration('db-max-age', 7 * 86_400_000),
    cacheDir: path.join(env.RUNNER_TOOL_CACHE || os.tmpdir(), 'trivy-cache'),
    sbomArtifact: reader.string('sbom-artifact', {
      pattern: /^[^"<>:|*?\\/\r\n]+$/,
      expected: 'an artifact name without " : < > | * ? \\ / or line breaks (e.g. sbom.spdx.json)',
    }),
    sbomArtifactRetentionDays: reader.integer('sbom-artifact-retention-days', { min: 0, max: 90, fallback: 0 }),
    dependencySnapshot: reader.boolean('dependency-snapshot', false),
    token: reader.secret('token'),
    dbCache: reader.boolean('db-cache', true),
    trivy: { version: reader.string('trivy-version'), sha256: reader.string('trivy-sha256') },
    syft: { version: reader.string('syft-version'), sha256: reader.string('syft-sha256') },
  };
}

/**
 * Whether the runner configured its cache service, by the variables @actions/cache 6's
 * isFeatureAvailable() reads (internal/config.js): cache service v2 (ACTIONS_CACHE_SERVICE_V2, not
 * on GHES) needs ACTIONS_RESULTS_URL, v1 needs ACTIONS_CACHE_URL. Decided without loading the
 * library: its chunks (3.4 MB with Azure's storage client) cost ~170 ms to compile.
 */
export function actionsCacheConfigured(env: NodeJS.ProcessEnv): boolean {
  const host = new URL(env.GITHUB_SERVER_URL || 'https://github.com').hostname.trimEnd().toUpperCase();
  const ghes = host !== 'GITHUB.COM' && !host.endsWith('.GHE.COM') && !host.endsWith('.LOCALHOST');
  const v2 = !ghes && Boolean(env.ACTIONS_CACHE_SERVICE_V2);
  return Boolean(v2 ? env.ACTIONS_RESULTS_URL : env.ACTIONS_CACHE_URL);
}

/**
 * The Trivy DB through the Actions cache, keyed by day. @actions/cache (and Azure's storage
 * client under it) is imported only when the cache service is configured.
 */
async function actionsDbCache(inputs: Inputs): Promise<DbCache | undefined> {
  if (!inputs.dbCache) return undefined;
  // The library's own check stays, after the import, in case a later version asks for more.
  const cache = actionsCacheConfigured(process.env) ? await import('@actions/cache') : undefined;
  if (!cache?.isFeatureAvailable()) {
    core.info('The Actions cache service is not available here; the vulnerability DB is not cached.');
    return undefined;
  }
  const dbDir = path.join(inputs.cacheDir, 'db');
  const key = `trivy-db-${new Date().toISOString().slice(0, 10)}`;
  return {
    restore: async () => {
      const restored = await cache.restoreCache([dbDir], key, ['trivy-db-']).catch((error: Error) => {
        core.warning(`Could not restore the vulnerability DB from the cache: ${error.message}`);
        return undefined;
      });
      core.info(restored ? `Vulnerability DB restored from the cache (${restored}).` : 'No cached vulnerability DB yet.');
      return restored;
    },
    save: async (restored) => {
      if (restored === key) return;
      await cache
        .saveCache([dbDir], key)
        .catch((error: Error) => core.warning(`Could not save the vulnerability DB to the cache: ${error.message}`));
    },
  };
}

/** Trivy's counts and the report and SARIF files, as outputs. */
function setTrivyOutputs(inputs: Inputs, { counts }: TrivyOutcome): void {
  for (const [name, value] of Object.entries({
    critical: counts.critical,
    high: counts.high,
    medium: counts.medium,
    low: counts.low,
    unknown: counts.unknown,
    fixable: counts.fixable,
    total: counts.total,
  })) {
    core.setOutput(name, String(value));
  }
  core.setOutput('report-file', inputs.reportFile);
  core.setOutput('sarif-file', inputs.sarifFile);
}

/** The summary's sections on what Trivy found: its counts and the worst findings. */
function trivySections(result: TrivyOutcome): string[] {
  const { counts } = result;
  const top = worstFirst(result.report.findings, 20);
  return [
    summaryTable(
      ['Critical', 'High', 'Medium', 'Low', 'Unknown', 'Fixable', 'Total', 'Misconfigurations', 'Secrets'],
      [
        [
          counts.critical,
          counts.high,
          counts.medium,
          counts.low,
          counts.unknown,
          counts.fixable,
          counts.total,
          counts.misconfigurations,
          counts.secrets,
        ].map(String),
      ],
    ),
    ...(top.length > 0
      ? [
          summaryHeading(`Top ${top.length} of ${counts.total}, worst first`, 4),
          summaryTable(
            ['ID', 'Package', 'Installed', 'Fixed', 'Severity'],
            top.map((finding) => [
              { text: finding.id, ...(finding.url ? { href: finding.url } : {}) },
              finding.pkg,
              finding.installed,
              finding.fixed ?? '',
              finding.severity,
            ]),
          ),
        ]
      : []),
  ];
}

/**
 * The SBOM as a workflow artifact and in the dependency graph, where asked. The code and
 * @actions/artifact are loaded only then: the default path stays as small as it was.
 */
async function publishSbom(inputs: Inputs, sbom: SbomSummary, env: NodeJS.ProcessEnv = process.env): Promise<[string, string][]> {
  if (!inputs.sbomArtifact && !inputs.dependencySnapshot) return [];
  const publish = await import('./sbom-publish.js');
  const facts: [string, string][] = [];
  if (inputs.sbomArtifact) {
    const uploaded = await publish.uploadSbomArtifact(inputs.sbomFile, inputs.sbomArtifact, inputs.sbomArtifactRetentionDays);
    core.info(`SBOM uploaded as the artifact ${inputs.sbomArtifact}${uploaded.id ? ` (id ${uploaded.id})` : ''}.`);
    core.setOutput('sbom-artifact-id', uploaded.id === undefined ? '' : String(uploaded.id));
    facts.push(['SBOM artifact', inputs.sbomArtifact]);
  }
  if (inputs.dependencySnapshot) {
    const submitted = await publish.submitDependencySnapshot(
      inputs.sbomFile,
      {
        image: inputs.image,
        sha: await publish.snapshotCommit(env),
        ref: env.GITHUB_REF ?? '',
        workflow: env.GITHUB_WORKFLOW ?? '',
        job: env.GITHUB_JOB ?? '',
        runId: env.GITHUB_RUN_ID ?? '',
        serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
        repository: env.GITHUB_REPOSITORY ?? '',
        syftVersion: sbom.generator ?? '',
      },
      () => githubClient(inputs.token),
    );
    const skipped = submitted.without > 0 ? `; ${submitted.without} without a package URL were left out` : '';
    core.info(`Dependency graph: snapshot ${submitted.id} submitted with ${submitted.packages} packages${skipped}.`);
    facts.push(['Dependency graph', `snapshot ${submitted.id}, ${submitted.packages} packages${skipped}`]);
  }
  return facts;
}

const staleDbNote = (result: TrivyOutcome) =>
  result.staleDb ? ` The vulnerability DB could not be updated; the cached one (${result.staleDb.ageHours} h old) was used.` : '';

export async function main(): Promise<void> {
  const inputs = getInputs();
  await mkdir(inputs.cacheDir, { recursive: true });
  const trivy = await installTool(pinnedToolSpec('trivy', inputs.trivy));
  const syft = inputs.sbomFormat === 'none' ? undefined : await installTool(pinnedToolSpec('syft', inputs.syft));
  let result: ScanResult;
  try {
    // The DB is saved whether the scan passed, found vulnerabilities or failed: the next run starts warm.
    result = await withDbCache(await actionsDbCache(inputs), () =>
      runScan(inputs, { trivy: trivy.path, ...(syft ? { syft: syft.path } : {}), run: runCommand, log: core.info, warn: core.warning }),
    );
  } catch (error) {
    if (error instanceof ScanToolError) {
      // A tool failed: passed=error. When it is Syft, Trivy's counts are still outputs and in the summary.
      core.setOutput('passed', 'error');
      if (error.trivy) {
        setTrivyOutputs(inputs, error.trivy);
        core.setOutput('sbom-file', '');
        core.info(`Trivy: ${error.trivy.verdict.reason}`);
      }
      await writeJobSummary(
        summaryHeading(`Scan of ${inputs.image}: ${error.tool} failed`),
        summaryParagraph(error.message),
        ...(error.trivy
          ? [summaryParagraph(`Trivy: ${error.trivy.verdict.reason}${staleDbNote(error.trivy)}`), ...trivySections(error.trivy)]
          : []),
      );
    }
    throw error;
  }

  const { verdict } = result;
  setTrivyOutputs(inputs, result);
  core.setOutput('sbom-file', result.sbom ? inputs.sbomFile : '');
  core.setOutput('passed', String(verdict.passed));
  core.info(verdict.reason);
  // Uploaded and submitted whatever the verdict, as sbom-action does: the SBOM is the image's either
  // way. A failure there is said in the summary too, which is written before the step fails.
  let published: [string, string][] = [];
  let unpublished: unknown;
  try {
    if (result.sbom) published = await publishSbom(inputs, result.sbom);
  } catch (error) {
    unpublished = error;
  }

  await writeJobSummary(
    summaryHeading(`Scan of ${inputs.image}: ${verdict.passed ? 'passed' : 'failed'}`),
    summaryParagraph(verdict.reason + staleDbNote(result)),
    ...trivySections(result),
    ...(result.sbom
      ? [
          summaryFacts([
            ['SBOM', `${inputs.sbomFile} (${result.sbom.format} ${result.sbom.formatVersion}, ${result.sbom.packages} packages)`],
            ...published,
          ]),
        ]
      : []),
    ...(unpublished ? [summaryParagraph(unpublished instanceof Error ? unpublished.message : String(unpublished))] : []),
  );
  if (unpublished) throw unpublished;
  if (!verdict.passed) throw new UserError('REFUSED', verdict.reason);
}
