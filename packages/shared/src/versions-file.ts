/**
 * versions.yaml: the environment repository's single record of what runs where. Written by
 * actions/promote, read by actions/umbrella-chart; documented in docs/versions-yaml.md.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { type Node, isMap, isScalar } from 'yaml';
import { UserError } from './errors.js';
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

export const NAME_PATTERN = '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$';

const release = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: {
    version: { type: 'string', minLength: 1, description: 'The version running, e.g. 1.4.0 (usually the image tag).' },
    image: { type: 'string', minLength: 1, description: 'The image repository, e.g. ghcr.io/acme/api.' },
    digest: {
      type: 'string',
      pattern: '^sha256:[a-f0-9]{64}$',
      description: 'The image digest that runs: what is deployed is pinned by it.',
    },
    chart: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: NAME_PATTERN },
        version: { type: 'string', minLength: 1 },
        repository: { type: 'string', pattern: '^(https?|oci)://' },
      },
    },
    commit: { type: 'string', pattern: '^[0-9a-f]{7,64}$', description: 'The source commit.' },
    deployed_at: { type: 'string', format: 'date-time', description: 'When it was released here (UTC, RFC 3339).' },
    deployed_by: { type: 'string', description: 'Who released it (the GitHub actor).' },
    run_url: { type: 'string', pattern: '^https?://', description: 'The workflow run that released it.' },
  },
} as const;

/** The JSON Schema of versions.yaml (draft-07). */
export const VERSIONS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/org/toolkit/versions.schema.json',
  title: 'versions.yaml',
  description:
    'What runs where: every environment, every service, with version, image, digest, chart, source commit, who released it and when, and the release before.',
  type: 'object',
  required: ['environments'],
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  properties: {
    promotion: {
      type: 'array',
      items: { type: 'string', pattern: NAME_PATTERN },
      uniqueItems: true,
      minItems: 1,
      description: 'Environments from first to last.',
    },
    environments: {
      type: 'object',
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          services: {
            type: ['object', 'null'],
            propertyNames: { pattern: NAME_PATTERN },
            additionalProperties: { ...release, properties: { ...release.properties, previous: release } },
          },
        },
      },
    },
  },
} as const;

/** The header of a versions.yaml made by the first bump. */
export const VERSIONS_HEADER = `# versions.yaml: what runs where. For every environment and service: the version, image and
# digest, the chart, the source commit, who released it and when, and the release before
# (what a rollback restores). Written by org/toolkit/actions/promote; the schema is in
# docs/versions-yaml.md. Comments and order are kept by every edit.
environments: {}
`;

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator() {
  if (!compiled) {
    const ajv = new Ajv({
      allErrors: true,
      strict: true,
      formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/ },
    });
    compiled = ajv.compile(VERSIONS_SCHEMA);
  }
  return compiled;
}

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
  const validate = validator();
  if (!validate(data)) {
    const lines = (validate.errors ?? []).map((error) => `${at(locate(document.contents as Node | null, error))}: ${describe(error)}`);
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${file} does not follow the versions.yaml schema (docs/versions-yaml.md):\n${[...new Set(lines)].join('\n')}`,
    );
  }
  return { file, editor, data };
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
