/**
 * Reading a versions.yaml the fast way (js-yaml and the generated validator), with no yaml library
 * (Document API) in reach: an action that only reads the file loads that library only when the
 * file must be refused with file:line:column (versions-file.ts).
 */
import { CORE_SCHEMA, load } from 'js-yaml';
import { UserError } from './errors.js';
import validateVersions from './generated/validate-versions.js';
import type { VersionsData } from './versions-file.js';
import type { SchemaValidator } from './yaml-schema.js';

/** The largest versions.yaml read or edited (bytes of UTF-8): 20 MiB, documented in docs/versions-yaml.md. */
export const VERSIONS_MAX_BYTES = 20 * 1024 * 1024;

/** Refuses a file over VERSIONS_MAX_BYTES before it is parsed. */
export function checkVersionsSize(text: string, file: string): void {
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
export const validate = validateVersions as unknown as SchemaValidator;

/**
 * The data of a versions.yaml as js-yaml reads it, if it reads and follows the schema; undefined
 * otherwise, for parseVersionsFile to say what is wrong and where. For a reader that loads the yaml
 * library only when that is needed (umbrella-chart).
 */
export function readVersionsFast(text: string, file = 'versions.yaml'): VersionsData | undefined {
  checkVersionsSize(text, file);
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA, filename: file }) ?? {};
  } catch {
    return undefined;
  }
  return validate(data) ? (data as VersionsData) : undefined;
}

/**
 * Whether data already parsed follows the versions.yaml schema: for a reader that assembles a
 * version from parts it parsed before (release-report's history reader). A problem is reported by
 * parseVersionsFile, with file:line:column.
 */
export function followsVersionsSchema(data: unknown): data is VersionsData {
  return validate(data);
}
