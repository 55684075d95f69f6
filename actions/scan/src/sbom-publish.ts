/**
 * Where the SBOM goes after the scan, as anchore/sbom-action users expect: a workflow artifact
 * (artifact-name there, sbom-artifact here) and GitHub's dependency graph (dependency-snapshot),
 * through the dependency submission API. main.ts loads this file only when one of them is asked
 * for, so the default path does not carry @actions/artifact (and Azure's storage client under it).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type GitHubClient, ToolkitError, UserError, parseRepository } from '@toolkit/shared';

/** Uploads the SBOM file as the artifact `name` (one file, archived as GitHub's artifacts are). */
export async function uploadSbomArtifact(
  file: string,
  name: string,
  retentionDays: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ id: number | undefined; size: number | undefined }> {
  // The runner gives JavaScript actions these two; without them (toolkit run, a container step
  // that drops them) there is no artifact service to upload to.
  const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      `sbom-artifact needs GitHub's artifact service, which the runner announces in ${missing.join(' and ')}; ${missing.length === 1 ? 'it is' : 'they are'} not set here. Leave sbom-artifact empty where the step does not run on a GitHub runner.`,
    );
  }
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const client = new DefaultArtifactClient();
  try {
    const uploaded = await client.uploadArtifact(name, [file], path.dirname(file), retentionDays > 0 ? { retentionDays } : {});
    return { id: uploaded.id, size: uploaded.size };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ToolkitError(
      'COMMAND_FAILED',
      `The SBOM ${file} could not be uploaded as the artifact ${JSON.stringify(name)} (sbom-artifact): ${message}`,
    );
  }
}

/** A package as the dependency submission API takes it. */
interface ResolvedDependency {
  package_url: string;
  relationship: 'direct' | 'indirect';
  scope: 'runtime' | 'development';
}

export interface DependencySnapshot {
  version: 0;
  sha: string;
  ref: string;
  job: { correlator: string; id: string; html_url?: string };
  detector: { name: string; version: string; url: string };
  scanned: string;
  manifests: Record<string, { name: string; resolved: Record<string, ResolvedDependency> }>;
}

type Json = Record<string, unknown>;

/**
 * The package URLs an SBOM lists: SPDX packages' PACKAGE-MANAGER purl references, CycloneDX
 * components' purl (nested components included). Packages without one cannot be submitted.
 */
export function packageUrls(sbom: unknown): { purls: string[]; without: number } {
  const document = (sbom ?? {}) as Json;
  const purls = new Set<string>();
  let without = 0;
  if (Array.isArray(document.packages)) {
    for (const pkg of document.packages as Json[]) {
      const refs = Array.isArray(pkg.externalRefs) ? (pkg.externalRefs as Json[]) : [];
      const purl = refs.find((ref) => String(ref.referenceType).toLowerCase() === 'purl')?.referenceLocator;
      // SPDX lists the image itself as a package; it has no purl of a dependency.
      if (typeof purl === 'string' && purl.startsWith('pkg:')) purls.add(purl);
      else without += 1;
    }
  } else {
    const walk = (components: unknown) => {
      for (const component of Array.isArray(components) ? (components as Json[]) : []) {
        if (typeof component.purl === 'string' && component.purl.startsWith('pkg:')) purls.add(component.purl);
        else without += 1;
        walk(component.components);
      }
    };
    walk(document.components);
  }
  return { purls: [...purls].sort(), without };
}

export interface SnapshotContext {
  image: string;
  sha: string;
  ref: string;
  workflow: string;
  job: string;
  runId: string;
  serverUrl: string;
  repository: string;
  scanned: Date;
  syftVersion: string;
}

/** An image reference's repository, without its tag and digest (`localhost:5000/acme/web`). */
export function imageRepository(image: string): string {
  const name = image.split('@')[0] as string;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * The commit a snapshot belongs to. On pull_request GITHUB_SHA is GitHub's merge commit, which no
 * branch has; the pull request's head commit is the one the dependency review compares (as
 * sbom-action submits it). Elsewhere, GITHUB_SHA.
 */
export async function snapshotCommit(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.GITHUB_EVENT_NAME !== 'pull_request' || !env.GITHUB_EVENT_PATH) return env.GITHUB_SHA ?? '';
  const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as { pull_request?: { head?: { sha?: unknown } } };
  const head = event.pull_request?.head?.sha;
  return typeof head === 'string' && /^[0-9a-f]{40}$/.test(head) ? head : (env.GITHUB_SHA ?? '');
}

/**
 * The snapshot of one image: one manifest named after the image, every package in it as a runtime
 * dependency (an image has no dependency tree to tell direct from indirect; sbom-action's Syft says
 * direct too). The correlator names the image's repository (not its tag or digest, which change
 * every commit): the next scan of it replaces this one, and two images in one job do not.
 */
export function dependencySnapshot(sbom: unknown, context: SnapshotContext): DependencySnapshot {
  const { purls } = packageUrls(sbom);
  const name = context.image.split('@')[0] as string;
  const resolved: Record<string, ResolvedDependency> = {};
  for (const purl of purls) resolved[purl] = { package_url: purl, relationship: 'direct', scope: 'runtime' };
  return {
    version: 0,
    sha: context.sha,
    ref: context.ref,
    job: {
      correlator: `${context.workflow}_${context.job}_${imageRepository(context.image)}`,
      id: context.runId,
      ...(context.repository && context.runId
        ? { html_url: `${context.serverUrl}/${context.repository}/actions/runs/${context.runId}` }
        : {}),
    },
    detector: { name: 'toolkit scan (syft)', version: context.syftVersion || 'unknown', url: 'https://github.com/anchore/syft' },
    scanned: context.scanned.toISOString(),
    manifests: { [name]: { name, resolved } },
  };
}

/** Reads the SBOM and submits it; returns the snapshot's id and how many packages went in. */
export async function submitDependencySnapshot(
  file: string,
  context: Omit<SnapshotContext, 'scanned'>,
  github: () => Promise<GitHubClient>,
  now = new Date(),
): Promise<{ id: number; packages: number; without: number }> {
  if (!context.sha || !/^refs\//.test(context.ref)) {
    throw new UserError(
      'INVALID_CONFIGURATION',
      'dependency-snapshot needs GITHUB_SHA and GITHUB_REF (refs/…) to say which commit the SBOM belongs to; they are not set here.',
    );
  }
  const sbom = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const snapshot = dependencySnapshot(sbom, { ...context, scanned: now });
  const { owner, repo } = parseRepository(context.repository, 'GITHUB_REPOSITORY');
  const client = await github();
  try {
    const response = await client.request('POST /repos/{owner}/{repo}/dependency-graph/snapshots', {
      owner,
      repo,
      ...snapshot,
    } as never);
    const data = response.data as { id?: number };
    return {
      id: data.id ?? 0,
      packages: Object.keys(Object.values(snapshot.manifests)[0]?.resolved ?? {}).length,
      without: packageUrls(sbom).without,
    };
  } catch (error) {
    const status = (error as { status?: number }).status;
    const hint =
      status === 404 || status === 403 ? ' The token needs contents: write, and the repository needs the dependency graph enabled.' : '';
    throw new ToolkitError(
      'COMMAND_FAILED',
      `The SBOM could not be submitted to the dependency graph (dependency-snapshot): ${error instanceof Error ? error.message : String(error)}.${hint}`,
    );
  }
}
