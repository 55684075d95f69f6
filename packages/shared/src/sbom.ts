/**
 * What an SBOM file is and how many packages it lists: syft JSON, SPDX JSON, CycloneDX JSON, or a
 * DSSE envelope (an in-toto attestation) carrying one of them.
 */
import { UserError } from './errors.js';

export interface SbomSummary {
  format: 'syft-json' | 'spdx-json' | 'cyclonedx-json';
  /** e.g. `schema 13.0.0`, `SPDX-2.2`, `1.4` */
  formatVersion: string;
  /** The tool that made it, e.g. `syft 0.43.2`, where the SBOM says. */
  generator?: string;
  packages: number;
  /** The in-toto predicate type, when the SBOM came in an attestation. */
  attestation?: string;
}

type Json = Record<string, unknown>;

function tools(metadata: Json | undefined): string | undefined {
  const listed = metadata?.tools;
  const entries = Array.isArray(listed) ? listed : ((listed as Json | undefined)?.components as unknown[] | undefined);
  const first = entries?.[0] as Json | undefined;
  return first?.name ? `${String(first.name)}${first.version ? ` ${String(first.version)}` : ''}` : undefined;
}

const UNKNOWN = 'expected syft JSON, SPDX JSON, CycloneDX JSON, or a DSSE envelope carrying one';

/** The summary of a parsed SBOM, or why it is none (a phrase: "is JSON, but …"). */
function describeDocument(document: unknown): SbomSummary | string {
  const json = (document !== null && typeof document === 'object' && !Array.isArray(document) ? document : {}) as Json;
  if (typeof json.payloadType === 'string' && typeof json.payload === 'string') {
    let statement: Json;
    try {
      statement = JSON.parse(Buffer.from(json.payload, 'base64').toString('utf8')) as Json;
    } catch {
      return 'is a DSSE envelope whose payload is not base64-encoded JSON';
    }
    const inner = describeDocument(statement?.predicate);
    if (typeof inner === 'string') return `is a DSSE envelope whose predicate is not an SBOM this toolkit knows (${UNKNOWN})`;
    return { ...inner, attestation: String(statement.predicateType ?? '') };
  }
  if (Array.isArray(json.artifacts) && json.descriptor) {
    const descriptor = json.descriptor as Json;
    return {
      format: 'syft-json',
      formatVersion: `schema ${String((json.schema as Json | undefined)?.version ?? '?')}`,
      generator: `${String(descriptor.name)} ${String(descriptor.version ?? '')}`.trim(),
      packages: json.artifacts.length,
    };
  }
  if (typeof json.spdxVersion === 'string') {
    const creators = (json.creationInfo as Json | undefined)?.creators;
    const creator = (Array.isArray(creators) ? creators : []).find(
      (entry): entry is string => typeof entry === 'string' && entry.startsWith('Tool: '),
    );
    return {
      format: 'spdx-json',
      formatVersion: json.spdxVersion,
      ...(creator ? { generator: creator.slice('Tool: '.length) } : {}),
      packages: Array.isArray(json.packages) ? json.packages.length : 0,
    };
  }
  if (json.bomFormat === 'CycloneDX') {
    const generator = tools(json.metadata as Json | undefined);
    return {
      format: 'cyclonedx-json',
      formatVersion: String(json.specVersion ?? '?'),
      ...(generator ? { generator } : {}),
      packages: Array.isArray(json.components) ? json.components.length : 0,
    };
  }
  return `is JSON, but not an SBOM this toolkit knows (${UNKNOWN})`;
}

export function summarizeSbom(document: unknown): SbomSummary {
  const summary = describeDocument(document);
  if (typeof summary === 'string') throw new UserError('INVALID_CONFIGURATION', `Not an SBOM this toolkit knows: ${UNKNOWN}.`);
  return summary;
}

/**
 * An SBOM file's text, read: its summary, or the problem as a phrase to follow the file's name
 * ("is not JSON (…)", "is empty", "is JSON, but not an SBOM …"). It never throws, so that the caller
 * words the error as its own: a bad input (sign's attest-sbom) or a tool that failed (scan's Syft).
 * A leading byte order mark is allowed.
 */
export function readSbomText(text: string): { sbom: SbomSummary; problem?: undefined } | { sbom?: undefined; problem: string } {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') return { problem: 'is empty' };
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch (error) {
    return { problem: `is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const summary = describeDocument(document);
  return typeof summary === 'string' ? { problem: summary } : { sbom: summary };
}

const FORMAT_NAMES: Record<SbomSummary['format'], string> = {
  'syft-json': 'syft JSON',
  'spdx-json': 'SPDX JSON',
  'cyclonedx-json': 'CycloneDX JSON',
};

/** How an SBOM is named in messages: `SPDX JSON (SPDX-2.3)`, `CycloneDX JSON 1.6`, `syft JSON (schema 16.0.0)`. */
export function describeSbom(sbom: SbomSummary): string {
  const format =
    sbom.format === 'cyclonedx-json'
      ? `${FORMAT_NAMES[sbom.format]} ${sbom.formatVersion}`
      : `${FORMAT_NAMES[sbom.format]} (${sbom.formatVersion})`;
  return sbom.attestation !== undefined ? `a DSSE envelope (in-toto attestation) carrying ${format}` : format;
}
