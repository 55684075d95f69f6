/**
 * The umbrella chart of an environment, generated from versions.yaml: the one generator that
 * actions/umbrella-chart runs on its own and actions/promote runs in the same commit as its edit
 * of versions.yaml.
 *
 * Chart.yaml lists every service of the environment as a dependency (sorted, aliased where the
 * service's key is not its chart's name, `condition: <key>.enabled`), and values.yaml pins each
 * service's image by repository, tag and digest under the same key. A service's key is its name
 * as Helm takes it (`chartKey`: api.v2 → api-v2), and the Argo CD Application's name and namespace
 * are Kubernetes names (`kubernetesName`: prod.eu_1 → prod-eu-1); names that would become the same
 * are refused, naming both. The same inputs give the same bytes. The chart's
 * own version moves only when what it pins moves: the patch is bumped, or with content-hash a
 * version is derived from the content. Files are read through a `ReadFile`, so the same generation
 * runs on a workspace and inside the GitOps write path (where it is redone on every retry).
 */
import { CORE_SCHEMA, load } from 'js-yaml';
import parseVersion from 'semver/functions/parse.js';
import { InputError, UserError } from './errors.js';
import type { ReadFile } from './gitops.js';
import { nodeCrypto } from './node-crypto.js';
import { simpleYaml } from './simple-yaml.js';
import { readVersionsFast } from './versions-data.js';
import type { ServiceEntry } from './versions-file.js';

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
  /** The service as versions.yaml names it; `chartKey(service)` is its alias and values key. */
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

/** Helm's rule for a dependency's alias (helm pkg/chart/v2/chart.go, aliasNameFormat). */
export const HELM_ALIAS_PATTERN = /^[a-zA-Z0-9_-]+$/;

/**
 * A service's key in the umbrella chart: its dependency alias, its key in values.yaml and the first
 * part of its condition. Helm allows only letters, digits, '_' and '-' in an alias, and reads the
 * dots of a condition as a path into the values, so every other character (the '.' that
 * versions.yaml allows in a name) becomes '-': api.v2 → api-v2. Names that are valid stay as they are.
 */
export function chartKey(service: string): string {
  return service.replace(/[^a-zA-Z0-9_-]/g, '-');
}

/** A DNS-1123 label, as Kubernetes checks a namespace: at most 63 of a-z, 0-9 and '-', alphanumeric at both ends. */
export const DNS_LABEL = { pattern: /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, maxLength: 63 };

/**
 * A name as a Kubernetes name (a DNS-1123 label, which is also a valid DNS-1123 subdomain and
 * label value): lower-cased, every character but a-z, 0-9 and '-' becomes '-', and no '-' at either
 * end: prod.eu_1 → prod-eu-1. A name longer than 63 keeps its first 54 characters and ends in 8
 * hex digits of its SHA-256, so two long names stay apart. The same name always gives the same.
 */
export function kubernetesName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  if (label !== '' && label.length <= DNS_LABEL.maxLength) return label;
  const hash = nodeCrypto().createHash('sha256').update(name).digest('hex').slice(0, 8);
  const head = label.slice(0, DNS_LABEL.maxLength - hash.length - 1).replace(/-+$/, '');
  return head ? `${head}-${hash}` : `x${hash}`;
}

/** The chart's name when chart-name is empty: <environment>-umbrella, as a Kubernetes name. */
export function defaultChartName(environment: string): string {
  return kubernetesName(`${environment}-umbrella`);
}

/** The Argo CD Application's name: the chart's name as a Kubernetes name. */
export function applicationName(config: Pick<UmbrellaConfig, 'chartName'>): string {
  return kubernetesName(config.chartName);
}

/** The dependencies of an environment, sorted by service; refused where a service cannot be pinned. */
export function dependenciesOf(services: Record<string, ServiceEntry>, config: UmbrellaConfig): Dependency[] {
  const where = (service: string) => `Service "${service}" in ${config.environment}`;
  const repositoryInput = config.repositoryInput ?? 'repository';
  const sorted = Object.entries(services).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keys = new Map<string, string>();
  for (const [service] of sorted) {
    const key = chartKey(service);
    if (key === 'global')
      throw new UserError(
        'INVALID_CONFIGURATION',
        `${where(service)} cannot be a subchart: Helm reserves the values key "global" for values every subchart shares. Rename the service in ${config.versionsFile}.`,
      );
    const other = keys.get(key);
    if (other !== undefined)
      throw new UserError(
        'INVALID_CONFIGURATION',
        `Services "${other}" and "${service}" in ${config.environment} both become "${key}" as a Helm alias and values key ` +
          `(Helm allows only letters, digits, '_' and '-' there, so '.' becomes '-'). Rename one of them in ${config.versionsFile}.`,
      );
    keys.set(key, service);
  }
  return sorted.map(([service, entry]) => {
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

/**
 * The yaml library, for what the fast ways leave to it: a file simpleYaml is not sure of, a previous
 * chart js-yaml refuses. generateUmbrella loads it only then: it is most of what a short run would
 * load and compile (docs/performance.md).
 */
let yamlLibrary: typeof import('yaml') | undefined;

/** Thrown where the yaml library is needed before it is loaded; generateUmbrella loads it and starts again. */
class NeedsYamlLibrary extends Error {}

function yamlLibraryLoaded(): typeof import('yaml') {
  if (!yamlLibrary) throw new NeedsYamlLibrary();
  return yamlLibrary;
}

/** The file's text as yaml.stringify writes it; without building a Document where simpleYaml can. */
function yamlText(value: Record<string, unknown>): string {
  return simpleYaml(value) ?? yamlLibraryLoaded().stringify(value, { lineWidth: 0 });
}

/**
 * The previous Chart.yaml's version and dependencies. Read with the fast reader (js-yaml, core
 * schema, as versions.yaml is); a file it refuses goes to the yaml library, whose error is the one
 * the user sees, as before.
 */
function readPreviousChart(text: string): { version?: string; dependencies?: { alias?: string; name: string; version: string }[] } {
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA });
  } catch {
    data = yamlLibraryLoaded().parse(text);
  }
  return (data ?? {}) as ReturnType<typeof readPreviousChart>;
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
      ...(dependency.name !== chartKey(dependency.service) ? { alias: chartKey(dependency.service) } : {}),
      condition: `${chartKey(dependency.service)}.enabled`,
    })),
  };
  return yamlText(chart);
}

function valuesYaml(services: Record<string, ServiceEntry>, dependencies: readonly Dependency[]): string {
  const values: Record<string, unknown> = {};
  for (const { service } of dependencies) {
    const entry = services[service] as ServiceEntry;
    values[chartKey(service)] = {
      enabled: true,
      image: { ...(entry.image ? { repository: entry.image } : {}), tag: entry.version, ...(entry.digest ? { digest: entry.digest } : {}) },
    };
  }
  return yamlText(values);
}

function applicationYaml(config: UmbrellaConfig, argocd: ArgoCdConfig): string {
  return yamlText({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: applicationName(config), namespace: 'argocd' },
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
  });
}

function nextChartVersion(previous: string | undefined, mode: UmbrellaConfig['chartVersion'], content: string): string {
  if (mode === 'content-hash') return `0.0.0-h${nodeCrypto().createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
  const parsed = previous ? parseVersion(previous) : null;
  if (!parsed) return '0.1.0';
  return `${parsed.major}.${parsed.minor}.${parsed.patch + 1}`;
}

/** Generates the chart from the files as `read` gives them; nothing to write when nothing changed. */
export async function generateUmbrella(read: ReadFile, config: UmbrellaConfig): Promise<UmbrellaResult> {
  const source = await read(config.versionsFile);
  if (source === undefined) throw new UserError('NOT_FOUND', `${config.versionsFile} does not exist.`);
  // A file js-yaml cannot read, or that breaks the schema, is refused by the Document reader, with
  // file:line:column: the only case here that loads it.
  const data =
    readVersionsFast(source, config.versionsFile) ??
    (await import('./versions-file.js')).parseVersionsFile(source, config.versionsFile).data;
  const environment = data.environments[config.environment];
  if (!environment) {
    throw new InputError(
      'environment',
      `environment "${config.environment}" is not in ${config.versionsFile}; it has ${Object.keys(data.environments).join(', ') || 'no environments'}.`,
    );
  }
  if (config.argocd) refuseSharedKubernetesNames(Object.keys(data.environments), config, config.argocd);
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
  const previous = { chart: previousChart, values: previousValues, application: previousApplication };
  try {
    return renderUmbrella(config, services, dependencies, paths, previous);
  } catch (error) {
    if (!(error instanceof NeedsYamlLibrary)) throw error;
    yamlLibrary = await import('yaml');
    return renderUmbrella(config, services, dependencies, paths, previous);
  }
}

/** The files of the chart as the previous run left them (undefined: not there). */
type PreviousFiles = Record<'chart' | 'values' | 'application', string | undefined>;

/** The chart's files from the data and the previous files; nothing to write when nothing changed. */
function renderUmbrella(
  config: UmbrellaConfig,
  services: Record<string, ServiceEntry>,
  dependencies: Dependency[],
  paths: Record<keyof PreviousFiles, string>,
  previousFiles: PreviousFiles,
): UmbrellaResult {
  const { chart: previousChart, values: previousValues, application: previousApplication } = previousFiles;
  const values = valuesYaml(services, dependencies);
  const application = config.argocd ? applicationYaml(config, config.argocd) : undefined;
  // The version is not part of what is compared: it moves because the rest did.
  const withVersion = (version: string) => chartYaml(config, version, dependencies);
  const sameValues = body(previousValues) === values && (!application || body(previousApplication) === application);
  const sameChartAt =
    sameValues && previousChart !== undefined ? versionOfSameChart(body(previousChart) as string, withVersion) : undefined;
  if (sameChartAt !== undefined) return { changed: false, chartVersion: sameChartAt, dependencies, files: {}, differences: [] };

  const previous = previousChart ? readPreviousChart(previousChart) : undefined;
  const unchanged = sameValues && previous?.version !== undefined && body(previousChart) === withVersion(previous.version);

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

/**
 * The version at which `previous` is exactly the Chart.yaml this run writes, or undefined: found by
 * comparing with the text written at a marker version, so that an unchanged chart (every run after
 * the first) is never read as YAML. Anything else (an edited file, another version's spelling) is
 * left to the YAML read.
 */
function versionOfSameChart(previous: string, withVersion: (version: string) => string): string | undefined {
  const marker = '0.0.0-toolkit.marker';
  const template = withVersion(marker);
  const at = template.indexOf(marker);
  if (at < 0 || template.includes(marker, at + 1)) return undefined;
  const [before, after] = [template.slice(0, at), template.slice(at + marker.length)];
  if (previous.length <= before.length + after.length || !previous.startsWith(before) || !previous.endsWith(after)) return undefined;
  const version = previous.slice(before.length, previous.length - after.length);
  return withVersion(version) === previous ? version : undefined;
}

/**
 * With Argo CD, refuses an environment whose Kubernetes name is another environment's (prod.eu_1
 * and prod-eu-1) while its Application or namespace is the one both would get by default: the two
 * Applications, or the two environments' workloads, would be one.
 */
function refuseSharedKubernetesNames(environments: readonly string[], config: UmbrellaConfig, argocd: ArgoCdConfig): void {
  const name = kubernetesName(config.environment);
  const shared = config.chartName === defaultChartName(config.environment) || argocd.namespace === name;
  if (!shared) return;
  const other = environments.find((environment) => environment !== config.environment && kubernetesName(environment) === name);
  if (other === undefined) return;
  const prefix = (config.repositoryInput ?? 'repository').replace(/repository$/, '');
  const [first, second] = [other, config.environment].sort();
  throw new UserError(
    'INVALID_CONFIGURATION',
    `Environments "${first}" and "${second}" in ${config.versionsFile} both become "${name}" as a Kubernetes name, ` +
      `so their Argo CD Applications (${applicationName(config)}) or namespaces (${argocd.namespace}) would be the same. ` +
      `Rename one of them, or give ${config.environment} its own ${prefix}chart-name and ${prefix}argocd-namespace.`,
  );
}

function diff(
  before: readonly { alias?: string; name: string; version: string }[],
  after: readonly Dependency[],
): UmbrellaResult['differences'] {
  const old = new Map(before.map((dependency) => [dependency.alias ?? dependency.name, `${dependency.name} ${dependency.version}`]));
  const now = new Map(after.map((dependency) => [chartKey(dependency.service), `${dependency.name} ${dependency.version}`]));
  // Differences name services as versions.yaml does; a removed one is known only by its key.
  const services = new Map(after.map((dependency) => [chartKey(dependency.service), dependency.service]));
  const keys = [...new Set([...old.keys(), ...now.keys()])];
  return keys
    .map((key) => ({ key, service: services.get(key) ?? key }))
    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
    .filter(({ key }) => old.get(key) !== now.get(key))
    .map(({ key, service }) => ({
      service,
      ...(old.has(key) ? { before: old.get(key) } : {}),
      ...(now.has(key) ? { after: now.get(key) } : {}),
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
