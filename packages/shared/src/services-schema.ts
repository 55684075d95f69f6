/** The JSON Schema of the services manifest, toolkit.yaml (draft-07), documented in docs/monorepo.md. */
import { CHART_SCHEMA, NAME_PATTERN } from './versions-schema.js';

/** A path inside the repository: relative, forward slashes, no `..`, `.git` or control characters. */
export const REPO_PATH_PATTERN = '^(?!/)(?!.*(^|/)\\.\\.?(/|$))(?!(.*/)?\\.git(/|$))[^\\\\\\u0000-\\u001f]+$';

const paths = {
  type: 'array',
  items: { type: 'string', pattern: REPO_PATH_PATTERN },
  description: 'Globs (git pathspec glob: ** crosses folders, * does not) whose changes also change the service.',
} as const;

const chart = CHART_SCHEMA;

export const SERVICES_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/org/toolkit/toolkit.schema.json',
  title: 'toolkit.yaml',
  description:
    'The services of a repository that holds several: where each one is, how it is built, imaged and charted, and what changes it.',
  type: 'object',
  required: ['services'],
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  properties: {
    'tag-prefix': {
      type: 'string',
      pattern: '^[A-Za-z0-9._/-]*\\{service\\}[A-Za-z0-9._/-]*$',
      description: "What each service's release tags start with, {service} standing for its name (default {service}/v).",
    },
    'image-prefix': {
      type: 'string',
      pattern: '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$',
      description: 'The default image of a service is <image-prefix>/<name>.',
    },
    'also-changed-by': paths,
    chart,
    services: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        required: ['path'],
        additionalProperties: false,
        patternProperties: { '^x-': {} },
        properties: {
          path: { type: 'string', pattern: REPO_PATH_PATTERN, description: "The service's folder." },
          context: { type: 'string', pattern: REPO_PATH_PATTERN, description: 'The build context (default: path).' },
          dockerfile: {
            type: 'string',
            pattern: REPO_PATH_PATTERN,
            description: 'The Dockerfile, from the repository root (default: <context>/Dockerfile).',
          },
          image: {
            type: 'string',
            pattern: '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$',
            description: 'The image repository, without tag or digest (default: <image-prefix>/<name>).',
          },
          chart,
          'also-changed-by': paths,
        },
      },
    },
  },
} as const;
