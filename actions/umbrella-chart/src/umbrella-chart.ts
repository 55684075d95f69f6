/**
 * umbrella-chart: one Helm umbrella chart per environment, generated from versions.yaml.
 *
 * The generation itself is in packages/shared (umbrella-chart.ts), which actions/promote runs too,
 * in the same commit as versions.yaml. What is here is what only this action does: checking that
 * every pinned chart version exists before anything is written.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Dependency, type RegistryCredentials, UserError, listTags, parseOciReference } from '@toolkit/shared';
import { CORE_SCHEMA, load } from 'js-yaml';
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
export async function verifyDependencies(
  dependencies: readonly Dependency[],
  options: { cacheDir: string; credentials?: RegistryCredentials },
): Promise<VerifyReport> {
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
        const versions = (await listTags(location, options.credentials)).map((tag) => tag.replace(/_/g, '+'));
        if (!versions.includes(dependency.version)) problems.push(missing(dependency, versions));
      }
      continue;
    }
    const index = await fetchIndex(repository, options.cacheDir, report);
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

/** Each chart's versions in a repository's index.yaml, downloaded only when its ETag changed. */
async function fetchIndex(repository: string, cacheDir: string, report: VerifyReport): Promise<Record<string, string[]>> {
  const url = `${repository}/index.yaml`;
  const cacheFile = path.join(cacheDir, `${createHash('sha256').update(url).digest('hex')}.json`);
  const cached = await readFile(cacheFile, 'utf8').then(
    (text) => JSON.parse(text) as CachedIndex,
    () => undefined,
  );
  report.indexRequests += 1;
  const response = await fetch(url, { headers: cached ? { 'if-none-match': cached.etag } : {} }).catch((error: Error) => {
    const cause = (error.cause as Error | undefined)?.message ?? error.message;
    throw new UserError('NOT_FOUND', `Could not read ${url} to verify the pinned chart versions: ${cause}.`);
  });
  if (response.status === 304 && cached) {
    report.notModified += 1;
    return cached.versions;
  }
  if (!response.ok) throw new UserError('NOT_FOUND', `Could not read ${url}: HTTP ${response.status}.`);
  // Helm writes index files by the megabyte; js-yaml reads them far faster than the Document API.
  const index = (load(await response.text(), { schema: CORE_SCHEMA }) ?? {}) as { entries?: Record<string, { version?: unknown }[]> };
  const versions = Object.fromEntries(
    Object.entries(index.entries ?? {}).map(([chart, list]) => [chart, list.map((entry) => String(entry.version))]),
  );
  const etag = response.headers.get('etag');
  if (etag) {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(cacheFile, JSON.stringify({ etag, versions } satisfies CachedIndex));
  }
  return versions;
}
