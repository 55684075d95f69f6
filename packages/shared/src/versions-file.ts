/**
 * versions.yaml: the environment repository's single record of what runs where. Written by
 * actions/promote, read by actions/umbrella-chart; documented in docs/versions-yaml.md.
 */
import parseVersion from 'semver/functions/parse.js';
import { checkVersionsSize, readVersionsFast, validate } from './versions-data.js';
import { YamlEditor } from './yaml-edit.js';
import { readYamlWithSchema } from './yaml-schema.js';

export interface ChartRef {
  /** Defaults to the service's name. */
  name?: string;
  version?: string;
  /** An HTTP(S) chart repository or `oci://…`; defaults to the umbrella chart's repository. */
  repository?: string;
}

/** What one service runs in one environment. */
export interface Release {
  version: string;
  image?: string;
  digest?: string;
  chart?: ChartRef;
  /** The source commit the release was built from. */
  commit?: string;
  /** When the source commit was committed (RFC 3339): where lead time for changes starts. */
  committed_at?: string;
  deployed_at?: string;
  deployed_by?: string;
  run_url?: string;
}

export interface ServiceEntry extends Release {
  /** The release this one replaced: what a rollback restores. */
  previous?: Release;
}

export interface EnvironmentEntry {
  services?: Record<string, ServiceEntry>;
}

export interface VersionsData {
  /** Environments from first to last. */
  promotion?: string[];
  environments: Record<string, EnvironmentEntry>;
}

export { NAME_PATTERN, VERSIONS_SCHEMA } from './versions-schema.js';

/** The header of a versions.yaml made by the first bump. */
export const VERSIONS_HEADER = `# versions.yaml: what runs where. For every environment and service: the version, image and
# digest, the chart, the source commit, who released it and when, and the release before
# (what a rollback restores). Written by org/toolkit/actions/promote; the schema is in
# docs/versions-yaml.md. Comments and order are kept by every edit.
environments: {}
`;

/**
 * How release version `a` orders against `b` as semantic versions (-1 lower, 0 equal, 1 higher);
 * undefined when either is not one (a tag such as `main-3f2a`), since then no order is known.
 */
export function compareReleaseVersions(a: string, b: string): -1 | 0 | 1 | undefined {
  const left = parseVersion(a);
  const right = parseVersion(b);
  return left && right ? left.compare(right) : undefined;
}

/**
 * Whether a version is a semantic version (what Helm requires of chart versions). Whitespace is
 * never part of one (the semver package would trim it away: `0.7.0\n` is not 0.7.0).
 */
export function isSemanticVersion(text: string): boolean {
  return !/\s/.test(text) && parseVersion(text) !== null;
}

/**
 * A release version as given to promote: SemVer 2 (1.4.0, 1.4.0-rc.1, 1.4.0+build.5), with one
 * leading `v` accepted and stripped (v1.4.0 is recorded as 1.4.0). Undefined when it is not one:
 * `latest`, `1.4`, `main-3f2a9c`, anything with whitespace or a line break.
 */
export function releaseVersion(text: string): string | undefined {
  if (/\s/.test(text)) return undefined;
  const stripped = text.startsWith('v') ? text.slice(1) : text;
  // semver itself takes one more `v`, and `=` in loose mode: neither is a version here.
  if (!/^[0-9]/.test(stripped) || parseVersion(stripped) === null) return undefined;
  return stripped;
}

// The image name grammar of distribution/reference (regexp.go), which Docker, containerd and the
// registries share: an optional registry host (upper case allowed there, and a port), then
// lower-case path components; a tag (`:…`) or digest (`@…`) is not part of a repository.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/** distribution/reference's NameTotalLengthMax. */
const IMAGE_NAME_MAX = 255;

/**
 * What is wrong with an image repository (`ghcr.io/acme/api`: no tag, no digest), as a phrase for
 * an error message; undefined when it is one.
 */
export function imageRepositoryProblem(image: string): string | undefined {
  if (IMAGE_REPOSITORY.test(image) && image.length <= IMAGE_NAME_MAX) return undefined;
  if (/[\r\n]/.test(image)) return 'it contains a line break';
  if (/[\s\p{Cc}]/u.test(image)) return 'it contains whitespace or a control character';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) return 'it is a URL; an image repository has no scheme';
  if (image.length > IMAGE_NAME_MAX) return `it is ${image.length} characters long; an image name is at most ${IMAGE_NAME_MAX}`;
  const at = image.indexOf('@');
  if (at >= 0) return `it has a digest (${JSON.stringify(image.slice(at))}); give the digest in the digest input, not in the image`;
  const last = image.slice(image.lastIndexOf('/') + 1);
  if (last.includes(':'))
    return `it has a tag (${JSON.stringify(last.slice(last.indexOf(':')))}); the tag is what the version input records, not part of the image`;
  const [first, ...rest] = image.split('/');
  const lowered = rest.length > 0 ? [first, ...rest.map((part) => part.toLowerCase())].join('/') : image.toLowerCase();
  if (lowered !== image && IMAGE_REPOSITORY.test(lowered))
    return `its repository path has upper-case letters; image repositories are lower-case (${JSON.stringify(lowered)})`;
  return 'it is not an image reference';
}

export interface VersionsFile {
  file: string;
  editor: YamlEditor;
  data: VersionsData;
}

/**
 * Parses and validates a versions.yaml. Syntax and schema errors are refused with `file:line:column`
 * and what is wrong, all of them at once. Linear in the file's size: duplicate keys are found with
 * one pass over the parsed maps (yaml's own check is quadratic), and a file over
 * VERSIONS_MAX_BYTES is refused before it is parsed.
 */
export function parseVersionsFile(text: string, file = 'versions.yaml'): VersionsFile {
  checkVersionsSize(text, file);
  const editor = new YamlEditor(text, { file });
  const data = readYamlWithSchema(editor.document, editor.lineCounter, file, validate, {
    schema: 'the versions.yaml schema (docs/versions-yaml.md)',
  }) as VersionsData;
  return { file, editor, data };
}

/**
 * The data of a versions.yaml that is only read (not edited): js-yaml reads a large file about
 * fourteen times faster than the Document API, which is needed only to edit or to say where a
 * problem is. Any problem is therefore reported by parseVersionsFile, with file:line:column.
 */
export function readVersionsData(text: string, file = 'versions.yaml'): VersionsData {
  return readVersionsFast(text, file) ?? parseVersionsFile(text, file).data;
}
