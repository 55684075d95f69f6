/**
 * Reads many versions of one versions.yaml, one after another, reusing what did not change: a
 * promote commit changes one service's entry, so each service's lines (and the rest of the file)
 * are parsed once while they stay the same, not once per version. On a history of 10,000 promote
 * commits this is what keeps the report within its 2 s (bench/release-report.mjs): parsing every
 * version whole is most of the time otherwise.
 *
 * The parts are found by indentation only where that is certain (block mappings whose keys are
 * plain names alone on their line). Anything else (anchors or aliases, which may cross parts;
 * flow style, quoted keys or a byte order mark at those levels; a part that does not parse; a
 * duplicate key) reads the version whole with readVersionsData, which also names any problem with
 * file:line:column. Every version assembled from parts is validated against the schema like a
 * whole one.
 */
import { CORE_SCHEMA, load } from 'js-yaml';
import { type VersionsData, followsVersionsSchema, readVersionsData } from '@toolkit/shared';

/** `name:` alone on its line (a comment may follow): a key whose value is the block below it. */
const KEY_LINE = /^ *([a-z0-9][a-z0-9._-]*):[ \t]*(?:#.*)?\r?$/;
/** Only blank lines and comments. */
const BLANK = /^(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*(?:#[^\n]*)?\r?$/;

/** A line that holds something (not blank, not only a comment): where it starts and its indentation. */
interface Line {
  start: number;
  indent: number;
}

const shallow = new Map<number, RegExp>();

/**
 * The lines of text[from, to) that hold something and are indented by at most `deepest` spaces,
 * found by one native regular-expression scan (the deeper lines, most of the file, are never
 * looked at one by one). A tab counts as something, so that only the whole read judges it.
 */
function shallowLines(text: string, from: number, to: number, deepest: number): Line[] {
  // From the newline before each line: a pattern that starts with a plain character is scanned
  // for natively, where `^` in multiline mode is tried at every position.
  let pattern = shallow.get(deepest);
  if (!pattern) shallow.set(deepest, (pattern = new RegExp(`\\n( {0,${deepest}})[^ \\r\\n#]`, 'g')));
  pattern.lastIndex = from - 1;
  const lines: Line[] = [];
  for (let found = pattern.exec(text); found && found.index + 1 < to; found = pattern.exec(text))
    lines.push({ start: found.index + 1, indent: (found[1] as string).length });
  return lines;
}

function lineAt(text: string, start: number): string {
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end);
}

interface Entry {
  key: string;
  /** Its key line and the next entry's, in `lines`. */
  first: number;
  next: number;
  /** Its text: from its key line to the next entry's (or the block's end). */
  start: number;
  end: number;
}

/**
 * The entries of the block mapping whose lines are lines[first, next) and whose text ends at
 * `end`, or undefined when they are not certain: every line at the block's indentation is a key
 * alone on its line, no key repeats, and nothing but blank lines and comments comes between the
 * block's own key line (at `after`) and its first entry.
 */
function blockEntries(text: string, lines: readonly Line[], first: number, next: number, after: number, end: number): Entry[] | undefined {
  const head = lines[first];
  if (!head || first >= next) return [];
  const afterLine = text.indexOf('\n', after) + 1;
  if (afterLine <= 0 || (head.start > afterLine && !BLANK.test(text.slice(afterLine, head.start - 1)))) return undefined;
  const entries: Entry[] = [];
  for (let index = first; index < next; index++) {
    const line = lines[index] as Line;
    if (line.indent > head.indent) continue;
    const key = line.indent === head.indent ? KEY_LINE.exec(lineAt(text, line.start)) : null;
    if (!key) return undefined;
    const name = key[1] as string;
    if (entries.some((entry) => entry.key === name)) return undefined; // a duplicate: the whole read names it
    const last = entries.at(-1);
    if (last) {
      last.next = index;
      last.end = line.start;
    }
    entries.push({ key: name, first: index, next, start: line.start, end });
  }
  return entries;
}

export type VersionsReader = (text: string, file: string) => VersionsData;

/**
 * A reader for the versions of one file, one after another (in any order: the parts of the version
 * read last are kept for the next).
 */
export function versionsReader(): VersionsReader {
  let previous = new Map<string, { source: string; value: unknown }>();
  return (text, file) => {
    const parts = new Map<string, { source: string; value: unknown }>();
    const part = (where: string, source: string): unknown => {
      const known = previous.get(where);
      const value = known && known.source === source ? known.value : load(source, { schema: CORE_SCHEMA });
      parts.set(where, { source, value });
      return value;
    };
    let data: VersionsData | undefined;
    try {
      data = assemble(text, part);
    } catch {
      data = undefined; // a part that does not parse: the whole read says where and why
    }
    previous = parts;
    return data && followsVersionsSchema(data) ? data : readVersionsData(text, file);
  };
}

/** The version assembled from its parts, or undefined when they are not certain. */
function assemble(text: string, part: (where: string, source: string) => unknown): VersionsData | undefined {
  if (text.charCodeAt(0) === 0xfeff || /[&*!%\t]|^(?:---|\.\.\.)/m.test(text)) return undefined;
  const header = /^environments:[ \t]*(?:#.*)?\r?$/m.exec(text);
  if (!header) return undefined;
  const bodyStart = text.indexOf('\n', header.index) + 1;
  if (bodyStart <= 0) return undefined;
  // How deep the service keys are (the first `services:` block's first key): lines deeper than
  // that are inside a service's entry, and only the whole entry's parse reads them. (A wrong guess
  // only costs time: an environment whose service keys are not found is parsed whole.)
  const services = /^( +)services:[ \t]*(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*( +)[^ \r\n#]/gm;
  services.lastIndex = bodyStart;
  const found = services.exec(text);
  const deepest = found && (found[2] as string).length > (found[1] as string).length ? (found[2] as string).length : 1;
  // One scan finds the shallow lines and where the environments end (the next line at the top level).
  const all = shallowLines(text, bodyStart, text.length, deepest);
  let count = all.findIndex((line) => line.indent === 0);
  if (count < 0) count = all.length;
  const lines = all.slice(0, count);
  const bodyEnd = all[count]?.start ?? text.length;
  const rest = part('', `${text.slice(0, header.index)}environments: {}\n${text.slice(bodyEnd)}`);
  if (!rest || typeof rest !== 'object' || Array.isArray(rest)) return undefined;
  const environments = blockEntries(text, lines, 0, lines.length, header.index, bodyEnd);
  if (!environments) return undefined;
  const assembled: Record<string, unknown> = {};
  for (const environment of environments) {
    const inner = blockEntries(text, lines, environment.first + 1, environment.next, environment.start, environment.end);
    const block = inner?.length === 1 && inner[0]?.key === 'services' ? inner[0] : undefined;
    const entries = block ? blockEntries(text, lines, block.first + 1, block.next, block.start, block.end) : undefined;
    if (!block || !entries || entries.length === 0) {
      // Not a block of services (services: {}, empty, flow style, or indented otherwise): the environment as one part.
      const whole = part(environment.key, text.slice(environment.start, environment.end)) as Record<string, unknown> | null;
      if (!whole || typeof whole !== 'object') return undefined;
      assembled[environment.key] = whole[environment.key];
      continue;
    }
    const merged: Record<string, unknown> = {};
    for (const entry of entries) {
      const parsed = part(`${environment.key}\0${entry.key}`, text.slice(entry.start, entry.end)) as Record<string, unknown> | null;
      if (!parsed || typeof parsed !== 'object' || Object.keys(parsed).length !== 1) return undefined;
      merged[entry.key] = parsed[entry.key];
    }
    assembled[environment.key] = { services: merged };
  }
  return { ...(rest as object), environments: assembled } as VersionsData;
}
