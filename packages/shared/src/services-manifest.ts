/**
 * The services manifest (toolkit.yaml): the services of a repository that holds several, each with
 * its folder, build, image, chart and the other paths whose changes change it. Read by
 * actions/changed-services and written by `toolkit init --monorepo`; documented in docs/monorepo.md.
 */
import { LineCounter, parseDocument } from 'yaml';
import { UserError } from './errors.js';
import validateServices from './generated/validate-services.js';
import { SERVICES_PATTERN_WORDS } from './services-schema.js';
import type { ChartRef } from './versions-file.js';
import { type SchemaValidator, readYamlWithSchema } from './yaml-schema.js';

export const SERVICES_MANIFEST = 'toolkit.yaml';
/** What a service's release tags start with: `api/v1.4.0`. */
export const DEFAULT_SERVICE_TAG_PREFIX = '{service}/v';

export interface ServiceDefinition {
  name: string;
  /** The service's folder, without a trailing slash. */
  path: string;
  context: string;
  dockerfile: string;
  image: string;
  chart: ChartRef;
  /** Globs, besides the folder, whose changes change the service (the manifest's own and the service's). */
  alsoChangedBy: string[];
  /** e.g. `api/v` */
  tagPrefix: string;
}

export interface ServicesManifest {
  file: string;
  services: ServiceDefinition[];
}

interface ManifestData {
  'tag-prefix'?: string;
  'image-prefix'?: string;
  'also-changed-by'?: string[];
  chart?: ChartRef;
  services: Record<
    string,
    { path: string; context?: string; dockerfile?: string; image?: string; chart?: ChartRef; 'also-changed-by'?: string[] }
  >;
}

const validate = validateServices as unknown as SchemaValidator;

/** A path as the manifest may write it (`services/api/`), as git prints paths (`services/api`). */
function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

/**
 * Reads toolkit.yaml: syntax and schema problems are refused with `file:line:column`, all at once.
 * `imagePrefix` is the default for services that name no image and a manifest without image-prefix;
 * null where no image is needed (tagging a release), when a service may have none.
 */
export function parseServicesManifest(text: string, file = SERVICES_MANIFEST, imagePrefix: string | null = ''): ServicesManifest {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false, merge: true, keepSourceTokens: true });
  const data = readYamlWithSchema(document, lineCounter, file, validate, {
    schema: 'the services manifest schema (docs/monorepo.md)',
    patternWords: SERVICES_PATTERN_WORDS,
    nothingWritten: false,
  }) as ManifestData;
  const at = (...path: string[]) => {
    const node = document.getIn(path, true) as { range?: [number, number] } | undefined;
    const { line, col } = lineCounter.linePos(node?.range?.[0] ?? 0);
    return `${file}:${line}:${col}`;
  };
  const prefix = data['image-prefix'] ?? trimSlash(imagePrefix ?? '');
  const shared = data['also-changed-by'] ?? [];
  const tagPrefix = data['tag-prefix'] ?? DEFAULT_SERVICE_TAG_PREFIX;
  const problems: string[] = [];
  const services = Object.entries(data.services).map(([name, entry]) => {
    const path = trimSlash(entry.path);
    const context = trimSlash(entry.context ?? path);
    const image = entry.image ?? (prefix ? `${prefix}/${name}` : '');
    if (!image && imagePrefix !== null)
      problems.push(
        `${at('services', name)}: service "${name}" has no image; give it image:, give the manifest image-prefix:, or give the action image-prefix`,
      );
    return {
      name,
      path,
      context,
      // The service's own folder holds its Dockerfile, whatever the context (often . for shared/).
      dockerfile: entry.dockerfile ?? `${path}/Dockerfile`,
      image,
      chart: { name, ...data.chart, ...entry.chart },
      alsoChangedBy: [...new Set([...shared, ...(entry['also-changed-by'] ?? [])])],
      tagPrefix: tagPrefix.replaceAll('{service}', name),
    };
  });
  const byPath = new Map<string, string>();
  for (const service of services) {
    const other = byPath.get(service.path);
    if (other)
      problems.push(
        `${at('services', service.name, 'path')}: service "${service.name}" has the path ${service.path} of service "${other}"; each service has its own folder`,
      );
    else byPath.set(service.path, service.name);
  }
  if (problems.length > 0)
    throw new UserError('INVALID_CONFIGURATION', `${file} is not a usable services manifest:\n${problems.join('\n')}`);
  return { file, services };
}
