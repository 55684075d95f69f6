/**
 * The release's body: whatever a person or semantic-tag wrote (the changelog), and one section of
 * ours between two HTML comments, which GitHub does not show. A run replaces its section and keeps
 * everything outside it, so running again changes nothing, and a second run never adds a second
 * section.
 */
import { InputError, UserError } from '@toolkit/shared';

export const SECTION_START = '<!-- toolkit:publish-release:start -->';
export const SECTION_END = '<!-- toolkit:publish-release:end -->';

/** GitHub refuses a longer release body. */
export const MAX_BODY_CHARACTERS = 125_000;

export interface SectionContent {
  /** name@sha256:… */
  image?: string;
  /** Markdown. */
  scanSummary: string;
  assets: readonly { name: string; size: number; sha256: string }[];
}

/** Refuses text that holds our markers: it would cut the section short on the next run. */
export function assertNoMarkers(text: string, input: string): void {
  for (const marker of [SECTION_START, SECTION_END]) {
    if (text.includes(marker)) throw new InputError(input, `the text contains ${marker}, which marks this action's section of the body.`);
  }
}

export function renderSection(content: SectionContent): string {
  const parts: string[] = [];
  if (content.image) {
    parts.push('### Image', '', `\`${content.image}\``, '', '```sh', `docker pull ${content.image}`, '```');
  }
  if (content.scanSummary.trim()) parts.push(...(parts.length ? [''] : []), '### Scan', '', content.scanSummary.trim());
  if (content.assets.length > 0) {
    parts.push(...(parts.length ? [''] : []), '### Files', '', '| File | Size | SHA-256 |', '| --- | ---: | --- |');
    for (const asset of content.assets) parts.push(`| \`${asset.name}\` | ${formatSize(asset.size)} | \`${asset.sha256}\` |`);
  }
  return [SECTION_START, ...parts, SECTION_END].join('\n');
}

/**
 * The body with `section` in it: in place of the previous section when there is one, else after the
 * text. The changelog is used where there is no text of a person's or semantic-tag's (a new
 * release, or one whose body was empty).
 */
export function mergeReleaseBody(existing: string, section: string, changelog: string): string {
  const starts = occurrences(existing, SECTION_START);
  const ends = occurrences(existing, SECTION_END);
  if (starts.length === 0 && ends.length === 0) return joinBlocks(existing.trim() ? existing.trimEnd() : changelog.trim(), section);
  const [start] = starts;
  const [end] = ends;
  if (starts.length !== 1 || ends.length !== 1 || start === undefined || end === undefined || end < start) {
    throw new UserError(
      'REFUSED',
      `The release body has ${starts.length} ${SECTION_START} and ${ends.length} ${SECTION_END} (expected one of each, in that order), so this action's section cannot be told apart from the rest; edit the release body to keep one pair or none. Nothing was written.`,
    );
  }
  const before = existing.slice(0, start);
  const after = existing.slice(end + SECTION_END.length);
  if (!before.trim() && !after.trim()) return joinBlocks(changelog.trim(), section);
  return `${before}${section}${after}`;
}

export function assertBodyLength(body: string): void {
  if (body.length > MAX_BODY_CHARACTERS) {
    throw new UserError(
      'REFUSED',
      `The release body would be ${body.length} characters, and GitHub allows ${MAX_BODY_CHARACTERS}; shorten the changelog or scan-summary. Nothing was written.`,
    );
  }
}

function occurrences(text: string, marker: string): number[] {
  const found: number[] = [];
  for (let index = text.indexOf(marker); index >= 0; index = text.indexOf(marker, index + marker.length)) found.push(index);
  return found;
}

function joinBlocks(text: string, section: string): string {
  return text ? `${text}\n\n${section}` : section;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
