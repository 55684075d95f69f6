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

export function summarizeSbom(document: unknown): SbomSummary {
  const json = (document ?? {}) as Json;
  if (typeof json.payloadType === 'string' && typeof json.payload === 'string') {
    const statement = JSON.parse(Buffer.from(json.payload, 'base64').toString('utf8')) as Json;
    return { ...summarizeSbom(statement.predicate), attestation: String(statement.predicateType ?? '') };
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
    const creator = ((json.creationInfo as Json | undefined)?.creators as string[] | undefined)?.find((entry) =>
      entry.startsWith('Tool: '),
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
  throw new UserError(
    'INVALID_CONFIGURATION',
    'Not an SBOM this toolkit knows: expected syft JSON, SPDX JSON, CycloneDX JSON, or a DSSE envelope carrying one.',
  );
}
