/**
 * versions.yaml: the environment repository's single record of what runs where. Written by
 * actions/promote, read by actions/umbrella-chart; documented in docs/versions-yaml.md.
 */
import type { ErrorObject } from 'ajv';
import { CORE_SCHEMA, load } from 'js-yaml';
import parseVersion from 'semver/functions/parse.js';
import { type Node, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { UserError } from './errors.js';
import validateVersions from './generated/validate-versions.js';
import { YamlEditor } from './yaml-edit.js';

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

/** The largest versions.yaml read or edited (bytes of UTF-8): 20 MiB, documented in docs/versions-yaml.md. */
export const VERSIONS_MAX_BYTES = 20 * 1024 * 1024;

function checkSize(text: string, file: string): void {
  // UTF-8 takes at most three bytes per UTF-16 unit: short texts are not counted.
  if (text.length * 3 <= VERSIONS_MAX_BYTES) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= VERSIONS_MAX_BYTES) return;
  throw new UserError(
    'INVALID_CONFIGURATION',
    `${file} is ${bytes} bytes; a versions.yaml is at most ${VERSIONS_MAX_BYTES} bytes (20 MiB), so it was not read and nothing was written. ` +
      'Remove what it no longer needs (environments that are gone, x- keys), or split the environments over several files or repositories.',
  );
}

/** The schema's validator, generated at build time (scripts/generate-validators.mjs): no compiling at start-up. */
const validate = validateVersions as unknown as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

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
  checkSize(text, file);
  const editor = new YamlEditor(text, { file });
  const { document, lineCounter } = editor;
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${line}:${col}`;
  };
  const at = (offset: number) => `${file}:${position(offset)}`;
  if (document.errors.length > 0) {
    const lines = document.errors.map(
      (error) => `${at(error.pos[0])}: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
    );
    throw new UserError('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
  }
  const { duplicates, firstAlias } = scan(document.contents as Node | null);
  if (duplicates.length > 0) {
    const lines = duplicates.map(
      ({ key, offset, first }) =>
        `${at(offset)}: the key ${JSON.stringify(key)} appears again in the same mapping (first at ${position(first)}); keys must be unique`,
    );
    throw new UserError('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
  }
  let data: VersionsData;
  try {
    data = (document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {}) as VersionsData;
  } catch (error) {
    // yaml's guard against "billion laughs": aliases of aliases that would expand exponentially.
    if (!(error instanceof ReferenceError)) throw error;
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${firstAlias === undefined ? file : `${at(firstAlias)} (the first alias)`}: the aliases (*name) of ${file} expand to too many copies ` +
        `(more than ${MAX_ALIAS_COUNT} uses of one anchor, counting the aliases inside it), as a "billion laughs" attack does; it was not read and nothing was written. ` +
        'Write the values out, or use fewer aliases.',
      { cause: error },
    );
  }
  if (!validate(data)) {
    const root = document.contents as Node | null;
    const lines = (validate.errors ?? []).map((error) => {
      const { offset, node } = locate(root, error);
      return `${at(offset)}: ${describe(error, node)}`;
    });
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${file} does not follow the versions.yaml schema (docs/versions-yaml.md):\n${[...new Set(lines)].join('\n')}`,
    );
  }
  return { file, editor, data };
}

/** yaml's default: how many times one anchor may be used, counting the aliases inside it. */
const MAX_ALIAS_COUNT = 100;

/**
 * One pass over the document (aliases are not followed): every key that repeats a key of the same
 * mapping (scalar keys, compared by value as yaml compares them), and where the first alias is.
 */
function scan(root: Node | null): { duplicates: { key: string; offset: number; first: number }[]; firstAlias?: number } {
  const duplicates: { key: string; offset: number; first: number }[] = [];
  let firstAlias: number | undefined;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      const offset = node.range?.[0];
      if (offset !== undefined && (firstAlias === undefined || offset < firstAlias)) firstAlias = offset;
    } else if (isMap(node)) {
      const seen = new Map<unknown, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key)) {
          const offset = key.range?.[0] ?? 0;
          const first = seen.get(key.value);
          if (first === undefined) seen.set(key.value, offset);
          else duplicates.push({ key: String(key.value), offset, first });
        } else stack.push(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  duplicates.sort((a, b) => a.offset - b.offset);
  return { duplicates, ...(firstAlias === undefined ? {} : { firstAlias }) };
}

/**
 * The data of a versions.yaml that is only read (not edited): js-yaml reads a large file about
 * fourteen times faster than the Document API, which is needed only to edit or to say where a
 * problem is. Any problem is therefore reported by parseVersionsFile, with file:line:column.
 */
export function readVersionsData(text: string, file = 'versions.yaml'): VersionsData {
  checkSize(text, file);
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA, filename: file }) ?? {};
  } catch {
    return parseVersionsFile(text, file).data;
  }
  if (!validate(data)) return parseVersionsFile(text, file).data;
  return data as VersionsData;
}

/** Where in the source an error is (the offending key for an unknown property, else the value), and its node. */
function locate(root: Node | null, error: ErrorObject): { offset: number; node?: Node | null } {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties' || error.keyword === 'propertyNames') {
    const key =
      (error.params as { additionalProperty?: string; propertyName?: string }).additionalProperty ??
      (error.params as { propertyName?: string }).propertyName;
    if (key !== undefined) path.push(key);
    return { offset: keyOffset(root, path) };
  }
  const found = walk(root, path);
  return { offset: found.node?.range?.[0] ?? found.key?.range?.[0] ?? 0, node: found.complete ? found.node : undefined };
}

function walk(root: Node | null, path: readonly string[]): { node: Node | null; key?: Node; complete: boolean } {
  let node = root;
  let key: Node | undefined;
  for (const part of path) {
    if (!isMap(node)) return { node, key, complete: false };
    const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : undefined) === part);
    if (!pair) return { node, key, complete: false };
    key = pair.key as Node;
    node = pair.value as Node | null;
  }
  return { node, key, complete: true };
}

function keyOffset(root: Node | null, path: readonly string[]): number {
  const { node, key } = walk(root, path);
  return key?.range?.[0] ?? node?.range?.[0] ?? 0;
}

function describe(error: ErrorObject, node?: Node | null): string {
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : 'the file';
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where} has an unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    case 'required':
      return `${where} is missing "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'pattern':
      return `${where} is not allowed: ${error.message?.replace('must match pattern', 'expected a value matching')}`;
    case 'type':
      return (error.params as { type: string | string[] }).type === 'string'
        ? `${where} must be a string${notAString(node)}`
        : `${where} must be ${typeWords((error.params as { type: string | string[] }).type)}${node !== undefined ? `, not ${kindOf(node)}` : ''}`;
    case 'propertyNames':
      return `${where} has a name that is not allowed (expected lower-case letters, digits, '.', '_' and '-')`;
    default:
      return `${where} ${error.message ?? 'is not valid'}`;
  }
}

/** Why a value is not a string, and what to do: the quoting hint only for what YAML read as a number or boolean. */
function notAString(node: Node | null | undefined): string {
  if (isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean' || typeof node.value === 'bigint')) {
    const source = (node.srcToken as { source?: string } | undefined)?.source ?? String(node.value);
    return typeof node.value === 'boolean'
      ? `; YAML reads ${source} as a boolean: put the value in quotes ("${source}")`
      : `; put the value in quotes (YAML reads 1.10 or 1234567 as numbers): "${source}"`;
  }
  if (node === undefined) return '';
  return `, not ${kindOf(node)}`;
}

function typeWords(type: string | string[]): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', null: 'empty', number: 'a number' };
  return (Array.isArray(type) ? type : [type]).map((one) => words[one] ?? one).join(' or ');
}

function kindOf(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return 'empty (null)';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isAlias(node)) return `an alias (*${node.source})`;
  if (isScalar(node)) return `the ${typeof node.value} ${String(node.value)}`;
  return 'a value of another kind';
}

/**
 * Whether data already parsed follows the versions.yaml schema: for a reader that assembles a
 * version from parts it parsed before (release-report's history reader). A problem is reported by
 * parseVersionsFile, with file:line:column.
 */
export function followsVersionsSchema(data: unknown): data is VersionsData {
  return validate(data);
}
