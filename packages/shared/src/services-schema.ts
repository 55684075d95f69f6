/** The JSON Schema of the services manifest, toolkit.yaml (draft-07), documented in docs/monorepo.md. */
import { CHART_SCHEMA, NAME_PATTERN } from './versions-schema.js';

/** A path inside the repository: relative, forward slashes, no `..`, `.git` or control characters. */
export const REPO_PATH_PATTERN = '^(?!/)(?!.*(^|/)\\.\\.?(/|$))(?!(.*/)?\\.git(/|$))[^\\\\\\u0000-\\u001f]+$';
/** A build context: a path inside the repository, or the repository itself (`.`). */
export const CONTEXT_PATTERN = `^\\.$|${REPO_PATH_PATTERN}`;
/**
 * A glob as git's `:(glob)` pathspec reads it (`*`, `**`, `?`, `[…]`), inside the repository: no
 * `!` exclusion, `{a,b}` braces or `@(…)` extglobs, which git does not have, so that the one log and
 * a path-limited one read a pattern alike.
 */
export const GLOB_PATTERN = '^(?!!)(?!.*[{}()])(?!/)(?!.*(^|/)\\.\\.?(/|$))(?!(.*/)?\\.git(/|$))[^\\\\\\u0000-\\u001f]+$';
const TAG_PREFIX_PATTERN = '^(?!.*\\.\\.)(?!.*//)[A-Za-z0-9._/-]*\\{service\\}[A-Za-z0-9._/-]*$';

/** What each pattern allows, in words, for the manifest's errors. */
export const SERVICES_PATTERN_WORDS: Readonly<Record<string, string>> = {
  [REPO_PATH_PATTERN]: 'a path inside the repository: relative, with /, without .., . or .git parts',
  [CONTEXT_PATTERN]: 'a path inside the repository (relative, with /, without .. or .git parts), or . for the repository itself',
  [GLOB_PATTERN]:
    'a git glob inside the repository (*, ** and ? and [...], relative, without .. or .git parts); ! exclusions, {a,b} and @(...) are not git globs',
  [TAG_PREFIX_PATTERN]: "letters, digits, '.', '_', '-' and '/' around {service}, without .. or //, such as {service}/v",
};

const paths = {
  type: 'array',
  items: { type: 'string', pattern: GLOB_PATTERN },
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
      pattern: TAG_PREFIX_PATTERN,
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
          context: {
            type: 'string',
            pattern: CONTEXT_PATTERN,
            description: 'The build context (default: path); . is the repository root.',
          },
          dockerfile: {
            type: 'string',
            pattern: REPO_PATH_PATTERN,
            description: 'The Dockerfile, from the repository root (default: <path>/Dockerfile).',
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
