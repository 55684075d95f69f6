/**
 * The umbrella chart of an environment, generated from versions.yaml: the one generator that
 * actions/umbrella-chart runs on its own and actions/promote runs in the same commit as its edit
 * of versions.yaml.
 *
 * Chart.yaml lists every service of the environment as a dependency (sorted, aliased where the
 * service is not named like its chart, `condition: <service>.enabled`), and values.yaml pins each
 * service's image by repository, tag and digest. The same inputs give the same bytes. The chart's
 * own version moves only when what it pins moves: the patch is bumped, or with content-hash a
 * version is derived from the content. Files are read through a `ReadFile`, so the same generation
 * runs on a workspace and inside the GitOps write path (where it is redone on every retry).
 */
import { createHash } from 'node:crypto';
import parseVersion from 'semver/functions/parse.js';
import { parse, stringify } from 'yaml';
import { InputError, UserError } from './errors.js';
import type { ReadFile } from './gitops.js';
import { type ServiceEntry, readVersionsData } from './versions-file.js';

export interface UmbrellaConfig {
  versionsFile: string;
  environment: string;
  chartName: string;
  outputDir: string;
  /** The chart repository of services whose chart names none (https://… or oci://…). */
  repository: string;
  /** The input `repository` comes from, named when it is needed and empty (repository when unset). */
  repositoryInput?: string;
  chartVersion: 'patch' | 'content-hash';
  /** Written in each file's header: the commit of the versions file. */
  sourceCommit: string;
  argocd?: ArgoCdConfig;
}

export interface ArgoCdConfig {
  repoUrl: string;
  targetRevision: string;
  namespace: string;
  project: string;
  destination: string;
}

export interface Dependency {
  /** The service, which is the dependency's alias when it differs from the chart's name. */
  service: string;
  name: string;
  version: string;
  repository: string;
}

export interface UmbrellaResult {
  changed: boolean;
  chartVersion: string;
  dependencies: Dependency[];
  /** Path in the repository → content; empty when nothing changed. */
  files: Record<string, string>;
  /** What changed since the previous chart: service → "old → new" (or added, removed). */
  differences: { service: string; before?: string; after?: string }[];
}

export const CHART_REPOSITORY_PATTERN = /^(https?|oci):\/\/[^\s/]+(\/[^\s]*)?$/;

/** A chart repository input (https://… or oci://…, or empty), without trailing slashes. */
export function parseRepositoryInput(text: string, input = 'repository'): string {
  if (text !== '' && !CHART_REPOSITORY_PATTERN.test(text)) {
    throw new InputError(
      input,
      `${JSON.stringify(text)} is not a chart repository; expected https://… (an index.yaml repository) or oci://… (a registry).`,
    );
  }
  return text.replace(/\/+$/, '');
}

/** The dependencies of an environment, sorted by service; refused where a service cannot be pinned. */
export function dependenciesOf(services: Record<string, ServiceEntry>, config: UmbrellaConfig): Dependency[] {
  const where = (service: string) => `Service "${service}" in ${config.environment}`;
  const repositoryInput = config.repositoryInput ?? 'repository';
  return Object.entries(services)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, entry]) => {
      const version = entry.chart?.version;
      if (!version)
        throw new UserError(
          'INVALID_CONFIGURATION',
          `${where(service)} has no chart version (chart.version in ${config.versionsFile}); its chart cannot be pinned. ` +
            `Set environments.${config.environment}.services.${service}.chart.version in ${config.versionsFile}, or give promote's chart-version input when bumping "${service}".`,
        );
      const repository = (entry.chart?.repository ?? config.repository).replace(/\/+$/, '');
      if (!repository) {
        throw new UserError(
          'INVALID_CONFIGURATION',
          `${where(service)} names no chart repository, and the ${repositoryInput} input is empty. ` +
            `Set ${repositoryInput} (https://… or oci://…, for every service that names none), or environments.${config.environment}.services.${service}.chart.repository ` +
            `in ${config.versionsFile} (promote's chart-repository input records it when bumping "${service}").`,
        );
      }
      if (!CHART_REPOSITORY_PATTERN.test(repository)) {
        throw new UserError(
          'INVALID_CONFIGURATION',
          `${where(service)} has chart repository ${JSON.stringify(repository)}; expected https://… or oci://….`,
        );
      }
      const parsed = parseVersion(version);
      if (!parsed)
        throw new UserError(
          'INVALID_CONFIGURATION',
          `${where(service)} has chart version ${JSON.stringify(version)}, which is not semantic versioning.`,
        );
      return { service, name: entry.chart?.name ?? service, version: parsed.version, repository };
    });
}

function header(config: UmbrellaConfig): string {
  return `# Generated by org/toolkit/actions/umbrella-chart from ${config.versionsFile} (environment ${config.environment}) at commit ${config.sourceCommit || 'unknown'}.\n# Do not edit: the next run overwrites it.\n`;
}

/** Text without the generated header, to compare what a chart says rather than when it was made. */
function body(text: string | undefined): string | undefined {
  return text?.replace(/^(#.*\n)+/, '');
}

function chartYaml(config: UmbrellaConfig, version: string, dependencies: readonly Dependency[]): string {
  const chart = {
    apiVersion: 'v2',
    name: config.chartName,
    description: `Everything that runs in ${config.environment}, as ${config.versionsFile} says.`,
    type: 'application',
    version,
    dependencies: dependencies.map((dependency) => ({
      name: dependency.name,
      version: dependency.version,
      repository: dependency.repository,
      ...(dependency.name !== dependency.service ? { alias: dependency.service } : {}),
      condition: `${dependency.service}.enabled`,
    })),
  };
  return stringify(chart, { lineWidth: 0 });
}

function valuesYaml(services: Record<string, ServiceEntry>, dependencies: readonly Dependency[]): string {
  const values: Record<string, unknown> = {};
  for (const { service } of dependencies) {
    const entry = services[service] as ServiceEntry;
    values[service] = {
      enabled: true,
      image: { ...(entry.image ? { repository: entry.image } : {}), tag: entry.version, ...(entry.digest ? { digest: entry.digest } : {}) },
    };
  }
  return stringify(values, { lineWidth: 0 });
}

function applicationYaml(config: UmbrellaConfig, argocd: ArgoCdConfig): string {
  return stringify(
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: config.chartName, namespace: 'argocd' },
      spec: {
        project: argocd.project,
        source: {
          repoURL: argocd.repoUrl,
          targetRevision: argocd.targetRevision,
          path: config.outputDir,
          helm: { valueFiles: ['values.yaml'] },
        },
        destination: { server: argocd.destination, namespace: argocd.namespace },
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
      },
    },
    { lineWidth: 0 },
  );
}

function nextChartVersion(previous: string | undefined, mode: UmbrellaConfig['chartVersion'], content: string): string {
  if (mode === 'content-hash') return `0.0.0-h${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
  const parsed = previous ? parseVersion(previous) : null;
  if (!parsed) return '0.1.0';
  return `${parsed.major}.${parsed.minor}.${parsed.patch + 1}`;
}

/** Generates the chart from the files as `read` gives them; nothing to write when nothing changed. */
export async function generateUmbrella(read: ReadFile, config: UmbrellaConfig): Promise<UmbrellaResult> {
  const source = await read(config.versionsFile);
  if (source === undefined) throw new UserError('NOT_FOUND', `${config.versionsFile} does not exist.`);
  const data = readVersionsData(source, config.versionsFile);
  const environment = data.environments[config.environment];
  if (!environment) {
    throw new InputError(
      'environment',
      `environment "${config.environment}" is not in ${config.versionsFile}; it has ${Object.keys(data.environments).join(', ') || 'no environments'}.`,
    );
  }
  const services = environment.services ?? {};
  const dependencies = dependenciesOf(services, config);

  const paths = {
    chart: `${config.outputDir}/Chart.yaml`,
    values: `${config.outputDir}/values.yaml`,
    application: `${config.outputDir}/application.yaml`,
  };
  const previousChart = await read(paths.chart);
  const previousValues = await read(paths.values);
  const previousApplication = config.argocd ? await read(paths.application) : undefined;
  const previous = previousChart
    ? (parse(previousChart) as { version?: string; dependencies?: { alias?: string; name: string; version: string }[] })
    : undefined;

  const values = valuesYaml(services, dependencies);
  const application = config.argocd ? applicationYaml(config, config.argocd) : undefined;
  // The version is not part of what is compared: it moves because the rest did.
  const withVersion = (version: string) => chartYaml(config, version, dependencies);
  const unchanged =
    previous?.version !== undefined &&
    body(previousChart) === withVersion(previous.version) &&
    body(previousValues) === values &&
    (!application || body(previousApplication) === application);

  const differences = diff(previous?.dependencies ?? [], dependencies);
  if (unchanged) return { changed: false, chartVersion: previous.version as string, dependencies, files: {}, differences: [] };

  const version = nextChartVersion(previous?.version, config.chartVersion, withVersion('0.0.0') + values);
  const files: Record<string, string> = {
    [paths.chart]: header(config) + withVersion(version),
    [paths.values]: header(config) + values,
    ...(application ? { [paths.application]: header(config) + application } : {}),
  };
  return { changed: true, chartVersion: version, dependencies, files, differences };
}

function diff(
  before: readonly { alias?: string; name: string; version: string }[],
  after: readonly Dependency[],
): UmbrellaResult['differences'] {
  const old = new Map(before.map((dependency) => [dependency.alias ?? dependency.name, `${dependency.name} ${dependency.version}`]));
  const now = new Map(after.map((dependency) => [dependency.service, `${dependency.name} ${dependency.version}`]));
  const services = [...new Set([...old.keys(), ...now.keys()])].sort();
  return services
    .filter((service) => old.get(service) !== now.get(service))
    .map((service) => ({
      service,
      ...(old.has(service) ? { before: old.get(service) } : {}),
      ...(now.has(service) ? { after: now.get(service) } : {}),
    }));
}

/** What changed since the previous chart, one line a service, for commit messages. */
export function describeChartChanges(result: UmbrellaResult): string[] {
  return result.differences.map(
    (difference) => `- ${difference.service}: ${difference.before ?? '(added)'} -> ${difference.after ?? '(removed)'}`,
  );
}

/** The commit message of a chart written on its own. */
export function umbrellaCommitMessage(config: UmbrellaConfig, result: UmbrellaResult): string {
  return `chart(${config.environment}): ${config.chartName} ${result.chartVersion}\n\n${describeChartChanges(result).join('\n')}`;
}
