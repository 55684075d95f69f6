/** The JSON Schema of versions.yaml (draft-07), documented in docs/versions-yaml.md. */

export const NAME_PATTERN = '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$';

/** An RFC 3339 date-time, as deployed_at and committed_at hold it. */
const RFC3339_PATTERN = '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)$';

/** A service's chart: its name, version and repository (each optional). */
export const CHART_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    version: { type: 'string', pattern: '\\S' },
    repository: { type: 'string', pattern: '^(https?|oci)://' },
  },
} as const;

const release = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: {
    version: { type: 'string', pattern: '\\S', description: 'The version running, e.g. 1.4.0 (usually the image tag).' },
    image: { type: 'string', pattern: '\\S', description: 'The image repository, e.g. ghcr.io/acme/api.' },
    digest: {
      type: 'string',
      pattern: '^sha256:[a-f0-9]{64}$',
      description: 'The image digest that runs: what is deployed is pinned by it.',
    },
    chart: CHART_SCHEMA,
    commit: { type: 'string', pattern: '^[0-9a-f]{7,64}$', description: 'The source commit.' },
    committed_at: {
      type: 'string',
      pattern: RFC3339_PATTERN,
      description: 'When the source commit was committed (RFC 3339): where lead time for changes starts.',
    },
    deployed_at: {
      type: 'string',
      pattern: RFC3339_PATTERN,
      description: 'When it was released here (RFC 3339).',
    },
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
