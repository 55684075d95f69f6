/**
 * A release of several services as one set. "Cut a release" tags each changed service
 * (`api/v1.4.0`) and the set (`UAT-2.3.0`) at the same commit, in one atomic push. The set's
 * environment tag is what the release workflow runs on, and what the PROD tag repeats: the services
 * a set releases are those whose release tags point at its commit.
 */
import {
  type Bump,
  type ReleaseTag,
  createAndPushTags,
  findLastRelease,
  highestBump,
  listVersionTags,
  nextVersion,
  releaseEnvironments,
} from '@toolkit/semantic-tag/core';
import { type Git, type ServiceDefinition, UserError } from '@toolkit/shared';
import { type MatrixEntry, type ServiceChangeReport, type VersioningConfig, matrixEntry, serviceChangelog } from './changed-services.js';

export interface ReleaseSet {
  version: string;
  tag: string;
  previousTag?: string;
  bump: Bump;
}

/**
 * The set's next version: the last set release reachable from HEAD (a `v` tag or an environment
 * tag), bumped by the highest bump among the services it releases (at least a patch: a set that
 * releases anything is a new set).
 */
export async function nextReleaseSet(
  git: Git,
  head: string,
  reports: readonly ServiceChangeReport[],
  environmentTag: string,
  environmentTags: readonly string[],
  config: VersioningConfig,
): Promise<ReleaseSet> {
  const environments = releaseEnvironments({ environmentTag, environmentTags: [...environmentTags] });
  const tags = await listVersionTags(git, 'v', environments);
  const last = await findLastRelease(git, tags, head);
  const bump = highestBump(['patch', ...reports.filter((report) => report.changed).map((report) => report.bump)]);
  const version = nextVersion(last?.version ?? config.initialVersion, bump, {
    majorZero: config.majorZero,
    prerelease: '',
    existing: [],
  });
  return { version, tag: `${environmentTag}-${version}`, ...(last ? { previousTag: last.tag } : {}), bump };
}

/** Creates the changed services' tags (annotated with their changelogs) and the set's tag, and pushes them in one atomic push. */
export async function pushReleaseSet(
  git: Git,
  remote: string,
  head: string,
  reports: readonly ServiceChangeReport[],
  set: ReleaseSet,
  log: (message: string) => void,
): Promise<string[]> {
  const changed = reports.filter((report) => report.changed);
  return createAndPushTags(
    git,
    remote,
    head,
    [
      ...changed.map((report) => ({ name: report.tag, message: `${report.tag}\n\n${serviceChangelog(report)}` })),
      { name: set.tag, message: `${set.tag}\n\n${changed.map((report) => `- ${report.tag}`).join('\n')}\n` },
    ],
    log,
  );
}

/**
 * The services a set's environment tag releases: those with a full release tag at its commit, in
 * the manifest's order. A set tag at a commit no service tag points at releases nothing.
 */
export function servicesReleasedAt(
  services: readonly ServiceDefinition[],
  tags: ReadonlyMap<string, ReleaseTag[]>,
  commit: string,
): MatrixEntry[] {
  return services.flatMap((service) => {
    const tag = (tags.get(service.name) ?? []).find((candidate) => candidate.commit === commit && candidate.release !== undefined);
    return tag ? [matrixEntry(service, tag.version, tag.tag)] : [];
  });
}

/** The commit of `ref` (refs/tags/UAT-1.4.0, or the tag alone), peeled. */
export async function tagCommit(git: Git, ref: string): Promise<string> {
  const name = ref.replace(/^refs\/tags\//, '');
  const result = await git.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `refs/tags/${name}^{commit}`], {
    allowFailure: true,
  });
  const sha = result.stdout.trim();
  if (result.exitCode !== 0 || !sha)
    throw new UserError(
      'NOT_FOUND',
      `released-at: the tag ${JSON.stringify(name)} is not in this checkout (check out with fetch-depth: 0, or fetch its tags).`,
    );
  return sha;
}
