/**
 * publish-release: the GitHub release of a version, carrying its changelog, the image by digest,
 * the scan summary and files such as the SBOM.
 *
 * 1. Everything that can be checked here is checked first: the inputs, then every file (read and
 *    hashed). A missing file or a bad path stops the run before GitHub is asked anything.
 * 2. Reads: the release of the tag, or (when there is none) the tag itself, since creating a release
 *    for a missing tag would make GitHub create the tag on the default branch. Then the body is
 *    composed and checked, and the release's current assets listed.
 * 3. Writes: the release is created, or its body updated (only if it changed); then each file is
 *    uploaded, after deleting an asset of the same name. Running again replaces, never duplicates.
 */
import { type GitHubClient, InputError, type Repository, ToolkitError, UserError } from '@toolkit/shared';
// The parse function alone: the whole package would add its ranges and comparators to every start-up.
import parseSemver from 'semver/functions/parse.js';
import { assertBodyLength, assertNoMarkers, mergeReleaseBody, renderSection } from './release-body.js';
import { type ReleaseFile, readReleaseFiles } from './release-files.js';

export interface PublishReleaseConfig {
  repository: Repository;
  tag: string;
  /** The release's title; '' is the tag for a new release, and leaves an existing one's as it is. */
  name: string;
  /** Markdown: the body of a new release (or of one whose body is empty). */
  changelog: string;
  /** name@sha256:…, or undefined for no image. */
  image?: string;
  /** Markdown. */
  scanSummary: string;
  /** Paths of files to attach, relative to the workspace. */
  files: readonly string[];
  workspace: string;
  /** undefined: a new release is a pre-release when its tag's version is one; an existing one is left as it is. */
  prerelease?: boolean;
}

export interface PublishReleaseDeps {
  github: GitHubClient;
  log: (message: string) => void;
}

export interface PublishedAsset {
  name: string;
  size: number;
  sha256: string;
  /** Where it is downloaded from (browser_download_url). */
  url: string;
  /** Whether an asset of the same name was there before, and was deleted for this one. */
  replaced: boolean;
}

export interface PublishReleaseResult {
  releaseId: number;
  htmlUrl: string;
  /** created: the release is new; updated: its body, name or pre-release flag changed; unchanged: none of them did. */
  release: 'created' | 'updated' | 'unchanged';
  prerelease: boolean;
  image?: string;
  assets: PublishedAsset[];
}

/** `refs/tags/v1.4.0` or `v1.4.0`, checked against git's rules for ref names. */
export function parseReleaseTag(text: string, input = 'tag'): string {
  if (text.startsWith('refs/') && !text.startsWith('refs/tags/')) {
    throw new InputError(input, `${JSON.stringify(text)} is not a tag; expected a tag name such as v1.4.0 (or refs/tags/v1.4.0).`);
  }
  const tag = text.replace(/^refs\/tags\//, '');
  const invalid =
    tag === '' ||
    tag === '@' ||
    // Control characters, space and ~ ^ : ? * [ \ are not allowed anywhere in a ref name.
    // eslint-disable-next-line no-control-regex
    /[\x00-\x20\x7f~^:?*[\\]/.test(tag) ||
    tag.includes('..') ||
    tag.includes('@{') ||
    tag.includes('//') ||
    /^[-/]|[/.]$|(^|\/)\.|\.lock(\/|$)/.test(tag);
  if (invalid) {
    throw new InputError(input, `${JSON.stringify(text)} is not a tag name git allows; expected a tag such as v1.4.0 or UAT-1.4.0.`);
  }
  return tag;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\\d+)?';
/** An image name as the distribution spec writes it: an optional host[:port], then path components. */
const IMAGE_NAME = new RegExp(`^(?:${HOST}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;

/**
 * The image as the release records it, by digest: `image` is a name (a tag is dropped, since a tag
 * can move) or name@sha256:…, and `digest` the digest when the name has none. No image is undefined.
 */
export function imageByDigest(image: string, digest: string): string | undefined {
  if (!image) {
    if (digest)
      throw new InputError('image', `a value is required when digest is given; expected the image's name, such as ghcr.io/acme/shop.`);
    return undefined;
  }
  const shown = JSON.stringify(image);
  const [named, given, ...rest] = image.split('@') as [string, string | undefined, ...string[]];
  if (rest.length > 0 || (given !== undefined && !DIGEST.test(given))) {
    throw new InputError('image', `${shown} has a digest that is not sha256: followed by 64 lower-case hexadecimal digits.`);
  }
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const name = hasTag ? named.slice(0, colon) : named;
  if (!IMAGE_NAME.test(name) || (hasTag && !IMAGE_TAG.test(named.slice(colon + 1)))) {
    throw new InputError(
      'image',
      `${shown} is not an image reference; expected name, name:tag or name@sha256:…, such as ghcr.io/acme/shop.`,
    );
  }
  if (digest && given && digest !== given) {
    throw new InputError('digest', `${digest} is not the digest in image (${given}); give the digest once, or the same one in both.`);
  }
  const chosen = digest || given;
  if (!chosen) {
    throw new InputError(
      'digest',
      `a value is required with image ${shown}: a release records its image by digest, since a tag can move; give digest (such as the build's digest output) or image as name@sha256:….`,
    );
  }
  return `${name}@${chosen}`;
}

/** Whether the version in a tag (v1.4.0-rc.1, UAT-1.4.0-rc.1) is a pre-release. */
export function isPrereleaseTag(tag: string): boolean {
  const digit = tag.search(/\d/);
  const version = digit < 0 ? null : parseSemver(tag.slice(digit));
  return version !== null && version.prerelease.length > 0;
}

interface Release {
  id: number;
  html_url: string;
  upload_url: string;
  body?: string | null;
  name: string | null;
  prerelease: boolean;
}

export async function publishRelease(config: PublishReleaseConfig, deps: PublishReleaseDeps): Promise<PublishReleaseResult> {
  const { repository, tag } = config;
  const { github, log } = deps;
  const where = `${repository.owner}/${repository.repo}`;

  assertNoMarkers(config.changelog, 'changelog');
  assertNoMarkers(config.scanSummary, 'scan-summary');
  const files = await readReleaseFiles(config.files, config.workspace);
  const section = renderSection({ ...(config.image ? { image: config.image } : {}), scanSummary: config.scanSummary, assets: files });

  const existing = await findRelease(github, repository, tag);
  if (!existing) await assertTagExists(github, repository, tag);
  const body = mergeReleaseBody(existing?.body ?? '', section, config.changelog);
  assertBodyLength(body);
  const currentAssets = existing
    ? await api(`listing the assets of the release ${tag} in ${where}`, () =>
        github.paginate(github.rest.repos.listReleaseAssets, { ...repository, release_id: existing.id, per_page: 100 }),
      )
    : [];

  let release: Release;
  let state: PublishReleaseResult['release'];
  if (!existing) {
    const prerelease = config.prerelease ?? isPrereleaseTag(tag);
    const created = await api(`creating the release for ${tag} in ${where}`, () =>
      github.rest.repos.createRelease({ ...repository, tag_name: tag, name: config.name || tag, body, prerelease }),
    );
    release = created.data;
    state = 'created';
    log(`Created the release ${release.html_url}${prerelease ? ' (pre-release)' : ''}.`);
  } else {
    const changes = {
      ...(body !== (existing.body ?? '') ? { body } : {}),
      ...(config.name && config.name !== existing.name ? { name: config.name } : {}),
      ...(config.prerelease !== undefined && config.prerelease !== existing.prerelease ? { prerelease: config.prerelease } : {}),
    };
    if (Object.keys(changes).length > 0) {
      const updated = await api(`updating the release ${tag} in ${where}`, () =>
        github.rest.repos.updateRelease({ ...repository, release_id: existing.id, ...changes }),
      );
      release = updated.data;
      state = 'updated';
      log(`Updated the release ${release.html_url} (${Object.keys(changes).join(', ')}).`);
    } else {
      release = existing;
      state = 'unchanged';
      log(`The release ${release.html_url} already says all this; its body is unchanged.`);
    }
  }

  const assets: PublishedAsset[] = [];
  for (const file of files) {
    const previous = currentAssets.find((asset) => asset.name === file.name);
    if (previous) {
      await api(`deleting the previous ${file.name} of the release ${tag} in ${where}`, () =>
        github.rest.repos.deleteReleaseAsset({ ...repository, asset_id: previous.id }),
      );
    }
    const uploaded = await uploadAsset(github, repository, release, file, `uploading ${file.name} to the release ${tag} in ${where}`);
    assets.push({ name: file.name, size: file.size, sha256: file.sha256, url: uploaded.browser_download_url, replaced: Boolean(previous) });
    log(`${previous ? 'Replaced' : 'Attached'} ${file.name} (${file.size} bytes, sha256:${file.sha256}).`);
  }

  return {
    releaseId: release.id,
    htmlUrl: release.html_url,
    release: state,
    prerelease: release.prerelease,
    ...(config.image ? { image: config.image } : {}),
    assets,
  };
}

async function findRelease(github: GitHubClient, repository: Repository, tag: string): Promise<Release | undefined> {
  try {
    return (await github.rest.repos.getReleaseByTag({ ...repository, tag })).data;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw apiError(`looking up the release of ${tag} in ${repository.owner}/${repository.repo}`, error);
  }
}

async function assertTagExists(github: GitHubClient, repository: Repository, tag: string): Promise<void> {
  try {
    await github.rest.git.getRef({ ...repository, ref: `tags/${tag}` });
  } catch (error) {
    if (statusOf(error) !== 404) throw apiError(`looking up the tag ${tag} in ${repository.owner}/${repository.repo}`, error);
    throw new UserError(
      'NOT_FOUND',
      `The tag ${tag} does not exist in ${repository.owner}/${repository.repo}, and a release is only made for a pushed tag (this action never creates one). Push ${tag} first, or check the tag input. Nothing was written.`,
    );
  }
}

/**
 * The upload goes to the release's own upload_url (uploads.github.com, or GitHub Enterprise's), an
 * RFC 6570 template ending in `{?name,label}`: given as `url`, Octokit expands it with `name`.
 */
async function uploadAsset(
  github: GitHubClient,
  repository: Repository,
  release: Release,
  file: ReleaseFile,
  doing: string,
): Promise<{ browser_download_url: string }> {
  const uploaded = await api(doing, () =>
    github.rest.repos.uploadReleaseAsset({
      ...repository,
      release_id: release.id,
      url: release.upload_url,
      name: file.name,
      // Octokit's type says string; the bytes are sent as they are (a Buffer is not JSON-encoded).
      data: file.content as unknown as string,
      headers: { 'content-type': file.contentType },
    }),
  );
  return uploaded.data;
}

async function api<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw apiError(doing, error);
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

const HINTS: Record<number, string> = {
  401: ' The token is not valid (expired, revoked, or not a token).',
  403: ' Publishing a release needs a token with contents: write (in a workflow: permissions: contents: write).',
  404: ' The repository or release does not exist, or the token cannot see it.',
};

/** Says what was being done and GitHub's HTTP status; what the user can fix (4xx) is a UserError. */
function apiError(doing: string, error: unknown): Error {
  const status = statusOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (status === undefined)
    return new ToolkitError('COMMAND_FAILED', `GitHub could not be reached while ${doing}: ${detail}`, { cause: error });
  const message = `GitHub answered HTTP ${status} while ${doing}: ${detail}.${HINTS[status] ?? ''}`;
  if (status >= 400 && status < 500) return new UserError(status === 404 ? 'NOT_FOUND' : 'REFUSED', message, { cause: error });
  return new ToolkitError('COMMAND_FAILED', message, { cause: error });
}
