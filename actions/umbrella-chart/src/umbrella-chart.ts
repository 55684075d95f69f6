/**
 * umbrella-chart: one Helm umbrella chart per environment, generated from versions.yaml.
 *
 * The generation itself is in packages/shared (umbrella-chart.ts), which actions/promote runs too,
 * in the same commit as versions.yaml. What is here is what only this action does: checking that
 * every pinned chart version exists before anything is written.
 *
 * Every read from a repository or registry has a deadline (the timeout input, 30s by default), and
 * every failure names the URL: a repository that does not answer, an index.yaml that is not valid
 * YAML or not shaped as Helm's index (pkg/repo/v1/index.go: apiVersion, entries of chart → list of
 * versions), and an HTML page (a login page served with 200) are each said as such.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Dependency, type RegistryCredentials, UserError, listTags, nodeCrypto, parseOciReference } from '@toolkit/shared';
import { CORE_SCHEMA, YAMLException, load } from 'js-yaml';
import parseVersion from 'semver/functions/parse.js';

export {
  type ArgoCdConfig,
  type Dependency,
  type UmbrellaConfig,
  type UmbrellaResult,
  CHART_REPOSITORY_PATTERN as REPOSITORY_PATTERN,
  dependenciesOf,
  generateUmbrella,
  parseRepositoryInput,
} from '@toolkit/shared';

// ─── verify ──────────────────────────────────────────────────────────────────────────────────────

export interface VerifyReport {
  /** HTTP requests made for index.yaml files (a 304 answered from the cache counts too). */
  indexRequests: number;
  /** Of those, how many were answered from the ETag cache (304 Not Modified). */
  notModified: number;
}

/** What is kept of an index: its ETag and each chart's versions (not the whole, often large, file). */
interface CachedIndex {
  etag: string;
  versions: Record<string, string[]>;
}

/**
 * Checks that every pinned chart version exists, before anything is written: in an HTTP
 * repository's index.yaml (fetched once per repository that is used, with its ETag cached in
 * `cacheDir` so an unchanged index is not downloaded again), or in an OCI registry's tag list.
 * Every missing version is reported, with the versions that do exist.
 */
export interface VerifyOptions {
  cacheDir: string;
  credentials?: RegistryCredentials;
  /** How long each repository or registry has to answer, body included (30s when unset). */
  timeoutMs?: number;
  /** Hosts an OCI registry's token service may be on, beyond the registry's own. */
  tokenHosts?: readonly string[];
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export async function verifyDependencies(dependencies: readonly Dependency[], options: VerifyOptions): Promise<VerifyReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const report: VerifyReport = { indexRequests: 0, notModified: 0 };
  const problems: string[] = [];
  const byRepository = new Map<string, Dependency[]>();
  for (const dependency of dependencies)
    byRepository.set(dependency.repository, [...(byRepository.get(dependency.repository) ?? []), dependency]);

  for (const [repository, pinned] of byRepository) {
    if (repository.startsWith('oci://')) {
      for (const dependency of pinned) {
        const location = parseOciReference(`${repository}/${dependency.name}`);
        // Helm pushes a version's '+' as '_' (OCI tags cannot hold '+').
        const tags = await withDeadline(
          listTags(location, options.credentials, { tokenHosts: options.tokenHosts ?? [] }),
          timeoutMs,
          `${repository}/${dependency.name}`,
        );
        const versions = tags.map((tag) => tag.replace(/_/g, '+'));
        if (!versions.includes(dependency.version)) problems.push(missing(dependency, versions));
      }
      continue;
    }
    const index = await fetchIndex(repository, options.cacheDir, timeoutMs, report);
    for (const dependency of pinned) {
      const versions = index[dependency.name] ?? [];
      if (!versions.includes(dependency.version)) problems.push(missing(dependency, versions));
    }
  }
  if (problems.length > 0)
    throw new UserError('NOT_FOUND', `Pinned chart versions that do not exist (nothing was written):\n${problems.join('\n')}`);
  return report;
}

function missing(dependency: Dependency, versions: readonly string[]): string {
  const known = [...versions]
    .filter((version) => parseVersion(version))
    .sort((a, b) => (parseVersion(b) as NonNullable<ReturnType<typeof parseVersion>>).compare(a))
    .slice(0, 10);
  const has =
    known.length > 0 ? `it has ${known.join(', ')}${versions.length > known.length ? ', …' : ''}` : 'it has no versions of that chart';
  return `- service "${dependency.service}": chart ${dependency.name} ${dependency.version} is not in ${dependency.repository}; ${has}.`;
}

/** A duration as the timeout input spells it: 300ms, 30s. */
function showDuration(milliseconds: number): string {
  return milliseconds % 1000 === 0 ? `${milliseconds / 1000}s` : `${milliseconds}ms`;
}

function timedOut(url: string, timeoutMs: number): UserError {
  return new UserError(
    'NOT_FOUND',
    `${url} did not answer within ${showDuration(timeoutMs)} (the timeout input), so the pinned chart versions could not be verified.`,
  );
}

let abandoned = 0;

/**
 * Whether a request was given up on without being aborted (a registry's tag list that did not
 * answer in time): its socket would hold the process open, so the entry point exits once the step
 * has failed.
 */
export function hasAbandonedRequests(): boolean {
  return abandoned > 0;
}

/**
 * `promise`, or a refusal naming `url` when it takes longer than `timeoutMs`. For the registry's tag
 * list, whose requests take no signal: the step fails on time, though the request is not aborted.
 */
async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandoned += 1;
      reject(timedOut(url, timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each chart's versions in a repository's index.yaml, downloaded only when its ETag changed. */
async function fetchIndex(
  repository: string,
  cacheDir: string,
  timeoutMs: number,
  report: VerifyReport,
): Promise<Record<string, string[]>> {
  const url = `${repository}/index.yaml`;
  const cacheFile = path.join(cacheDir, `${nodeCrypto().createHash('sha256').update(url).digest('hex')}.json`);
  const cached = await readFile(cacheFile, 'utf8').then(
    (text) => JSON.parse(text) as CachedIndex,
    () => undefined,
  );
  report.indexRequests += 1;
  // One deadline for the whole exchange: the headers and the body.
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (error: Error): never => {
    if (signal.aborted) throw timedOut(url, timeoutMs);
    const cause = (error.cause as Error | undefined)?.message ?? error.message;
    throw new UserError('NOT_FOUND', `Could not read ${url} to verify the pinned chart versions: ${cause}.`);
  };
  const response = await fetch(url, { headers: cached ? { 'if-none-match': cached.etag } : {}, signal }).catch(failed);
  if (response.status === 304 && cached) {
    report.notModified += 1;
    return cached.versions;
  }
  if (!response.ok) throw new UserError('NOT_FOUND', `Could not read ${url}: HTTP ${response.status}.`);
  const text = await response.text().catch(failed);
  const served = response.url && response.url !== url ? ` (served from ${response.url})` : '';
  const versions = readIndex(text, `${url}${served}`, response.headers.get('content-type') ?? '');
  const etag = response.headers.get('etag');
  if (etag) {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(cacheFile, JSON.stringify({ etag, versions } satisfies CachedIndex));
  }
  return versions;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/**
 * Each chart's versions in the text of an index.yaml, read as Helm reads one (pkg/repo/v1/index.go,
 * loadIndex): not empty, a mapping with an apiVersion, entries of chart name → list of versions
 * (an empty item, or one without a version, is skipped, as Helm skips it), each version a string. Anything else is refused,
 * naming `where` and what is wrong.
 */
export function readIndex(text: string, where: string, contentType = ''): Record<string, string[]> {
  const notIndex = (problem: string) => new UserError('INVALID_CONFIGURATION', `${where} is not a chart repository index: ${problem}.`);
  if (text.trim() === '') throw new UserError('INVALID_CONFIGURATION', `${where} is empty, not a chart repository index.`);
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/html' || type === 'application/xhtml+xml' || /^\s*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])/i.test(text)) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${where} is an HTML page${contentType ? ` (${contentType})` : ''}, not a chart repository's index.yaml: is the repository URL right, and does it need credentials?`,
    );
  }
  let index: unknown;
  try {
    // Helm writes index files by the megabyte; js-yaml reads them far faster than the Document API.
    index = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const at = error.mark ? ` (line ${error.mark.line + 1}, column ${error.mark.column + 1})` : '';
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${where} is not valid YAML, so it is not a chart repository index: ${error.reason}${at}.`,
    );
  }
  if (!isMapping(index))
    throw notIndex(`it is ${typeof index === 'string' ? 'a string' : describeValue(index)}, not a mapping with apiVersion and entries`);
  if (index.apiVersion === undefined || index.apiVersion === null || index.apiVersion === '') throw notIndex('it has no apiVersion');
  const entries = index.entries ?? {};
  if (!isMapping(entries)) throw notIndex(`entries is ${describeValue(entries)}, not a mapping of chart names to their versions`);
  const versions: Record<string, string[]> = {};
  for (const [chart, list] of Object.entries(entries)) {
    if (list === null) continue;
    if (!Array.isArray(list)) throw notIndex(`entries.${chart} is ${describeValue(list)}, not a list of chart versions`);
    versions[chart] = [];
    list.forEach((entry: unknown, position) => {
      if (entry === null) return;
      if (!isMapping(entry)) throw notIndex(`entries.${chart}[${position}] is ${describeValue(entry)}, not a chart version`);
      const { version } = entry;
      // Helm skips an entry without a version (it fails Validate), and cannot read one that is not a string.
      if (version === undefined || version === null || version === '') return;
      if (typeof version !== 'string') {
        throw notIndex(
          `entries.${chart}[${position}].version is ${typeof version === 'number' ? `the number ${version}` : describeValue(version)}, not a version string (quote it)`,
        );
      }
      (versions[chart] as string[]).push(version);
    });
  }
  return versions;
}
