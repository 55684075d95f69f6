/**
 * What a release in versions.yaml is, as the readers of its history see it: promote's rollback
 * (which release to go back to) and release-report (which commits deployed what).
 */
import type { Release, ServiceEntry } from './versions-file.js';

/** What makes a release: who released it and when do not count. */
const IDENTITY_FIELDS = ['version', 'image', 'digest', 'chart'] as const;

/** A service's entry without `previous`: the release it runs. */
export function releaseOf(entry: ServiceEntry): Release {
  const { previous: _previous, ...release } = entry;
  return release;
}

/** The same release: version, image, digest and chart (who released it and when do not count). */
export function sameRelease(a: Release, b: Release): boolean {
  return IDENTITY_FIELDS.every((field) => JSON.stringify(a[field] ?? null) === JSON.stringify(b[field] ?? null));
}

/** Whether a commit is a rollback of `environment` made by promote (its commit message's subject). */
export function isRollbackCommit(message: string | undefined, environment: string): boolean {
  return !!message && message.startsWith(`rollback(${environment}): `);
}

/**
 * The commit messages that say how a version of the file came to be: its commit's, and for a merge
 * those of the commits it brought in (packages/shared/src/file-history.ts).
 */
export function messagesOf(version: { message: string; merged?: readonly string[] }): string[] {
  return [version.message, ...(version.merged ?? [])];
}

/** Whether a version of the file (a commit, or a merge that brought one in) is a rollback of `environment` made by promote. */
export function isRollbackVersion(version: { message: string; merged?: readonly string[] }, environment: string): boolean {
  return messagesOf(version).some((message) => isRollbackCommit(message, environment));
}
