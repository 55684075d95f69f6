/**
 * versions.yaml: the environment repository's single record of what runs where. Written by
 * actions/promote, read by actions/umbrella-chart; documented in docs/versions-yaml.md.
 */
import type { ErrorObject } from 'ajv';
import { CORE_SCHEMA, load } from 'js-yaml';
import parseVersion from 'semver/functions/parse.js';
import { type Node, isMap, isScalar } from 'yaml';
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

/** Whether a version is a semantic version (what Helm requires of chart versions). */
export function isSemanticVersion(text: string): boolean {
  return parseVersion(text) !== null;
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
 * and what is wrong, all of them at once.
 */
export function parseVersionsFile(text: string, file = 'versions.yaml'): VersionsFile {
  const editor = new YamlEditor(text);
  const { document, lineCounter } = editor;
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    const lines = document.errors.map((error) => `${at(error.pos[0])}: ${error.message.split('\n')[0]}`);
    throw new UserError('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
  }
  const data = (document.toJS() ?? {}) as VersionsData;
  if (!validate(data)) {
    const lines = (validate.errors ?? []).map((error) => `${at(locate(document.contents as Node | null, error))}: ${describe(error)}`);
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${file} does not follow the versions.yaml schema (docs/versions-yaml.md):\n${[...new Set(lines)].join('\n')}`,
    );
  }
  return { file, editor, data };
}

/**
 * The data of a versions.yaml that is only read (not edited): js-yaml reads a large file about
 * fourteen times faster than the Document API, which is needed only to edit or to say where a
 * problem is. Any problem is therefore reported by parseVersionsFile, with file:line:column.
 */
export function readVersionsData(text: string, file = 'versions.yaml'): VersionsData {
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA, filename: file }) ?? {};
  } catch {
    return parseVersionsFile(text, file).data;
  }
  if (!validate(data)) return parseVersionsFile(text, file).data;
  return data as VersionsData;
}

/** Where in the source an error is: the offending key for an unknown property, else the value. */
function locate(root: Node | null, error: ErrorObject): number {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties' || error.keyword === 'propertyNames') {
    const key =
      (error.params as { additionalProperty?: string; propertyName?: string }).additionalProperty ??
      (error.params as { propertyName?: string }).propertyName;
    if (key !== undefined) path.push(key);
    return keyOffset(root, path);
  }
  return valueOffset(root, path);
}

function walk(root: Node | null, path: readonly string[]): { node: Node | null; key?: Node } {
  let node = root;
  let key: Node | undefined;
  for (const part of path) {
    if (!isMap(node)) return { node, key };
    const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : undefined) === part);
    if (!pair) return { node, key };
    key = pair.key as Node;
    node = pair.value as Node | null;
  }
  return { node, key };
}

function valueOffset(root: Node | null, path: readonly string[]): number {
  const { node, key } = walk(root, path);
  return node?.range?.[0] ?? key?.range?.[0] ?? 0;
}

function keyOffset(root: Node | null, path: readonly string[]): number {
  const { node, key } = walk(root, path);
  return key?.range?.[0] ?? node?.range?.[0] ?? 0;
}

function describe(error: ErrorObject): string {
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
        ? `${where} must be a string; put the value in quotes (YAML reads 1.10 or 1234567 as numbers)`
        : `${where} ${error.message ?? 'is not valid'}`;
    case 'propertyNames':
      return `${where} has a name that is not allowed (expected lower-case letters, digits, '.', '_' and '-')`;
    default:
      return `${where} ${error.message ?? 'is not valid'}`;
  }
}
