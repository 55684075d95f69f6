/**
 * Editing a versions.yaml: the one way promote changes the file. A promotion changes a few service
 * entries (`environments.<env>.services.<name>`) of a file that may hold thousands, and composing
 * the `yaml` Document of the whole file costs ten times a plain read (docs/performance.md). So
 * where the file allows it, each entry changed is edited on its own: js-yaml's event stream
 * (`parseEvents`, source offsets for every node) gives the data and the lines of every entry; a
 * YamlEditor over just those lines makes the change; the result is spliced back. Everything else
 * in the file is the original text, byte for byte.
 *
 * The short way is taken only where it is known to give what the whole-file editor gives: one
 * document without directives, no anchors, aliases, tags, merge keys, block scalars, explicit
 * keys, lone CRs, or keys the two libraries may read apart (`null:`, `1e400:`) anywhere (an edit
 * there may have to write an alias out, or be refused for a node used elsewhere), and every entry
 * edited an existing block mapping. Anything else, or any refusal on the short way (whose lines would be those of the
 * part), goes the whole-file way, which says what it refuses with the file's own lines. Both ways
 * read the written text back in full, and the short way also checks that what it reads back is the
 * data before with only the edited entries changed.
 */
import { isDeepStrictEqual } from 'node:util';
import { CORE_SCHEMA, EVENT_ID, type Event, constructFromEvents, getScalarValue, load, parseEvents } from 'js-yaml';
import { UserError } from './errors.js';
import { checkVersionsSize, followsVersionsSchema } from './versions-data.js';
import { type VersionsData, parseVersionsFile, readVersionsData } from './versions-file.js';
import { YamlEditor, type YamlValue } from './yaml-edit.js';

/** What an edit may do to a versions.yaml: YamlEditor's set and delete, by path from the root. */
export interface VersionsEditor {
  set(path: readonly string[], value: YamlValue): void;
  delete(path: readonly string[]): void;
}

export interface VersionsEdit<T> {
  /** What `edit` returned. */
  value: T;
  /** The edited text (the text as it was when `edit` changed nothing). */
  text: string;
  /** The edited text's data, read back. */
  data: VersionsData;
  changed: boolean;
  /** What the edit did besides the change asked for (an alias written out), for the commit message. */
  notes: string[];
  /** Whether each entry was edited on its own (for tests and benchmarks). */
  scoped: boolean;
}

export interface EditVersionsOptions {
  /** false: always the whole-file editor (tests compare both ways). */
  scoped?: boolean;
}

/**
 * Runs `edit` on the data and an editor of `text`, and returns the edited text, read back. `edit`
 * must be a function of the data alone: it may run twice (the short way, then the whole-file way).
 */
export function editVersions<T>(
  text: string,
  file: string,
  edit: (data: VersionsData, editor: VersionsEditor) => T,
  options: EditVersionsOptions = {},
): VersionsEdit<T> {
  checkVersionsSize(text, file);
  if (options.scoped !== false) {
    const scoped = ScopedEditor.open(text, file);
    if (scoped) {
      const result = attempt(() => {
        const value = edit(scoped.data, scoped);
        const finished = scoped.finish();
        return finished && { value, ...finished };
      });
      if (result) return { ...result, notes: [], scoped: true };
    }
  }
  const { data, editor } = parseVersionsFile(text, file);
  const value = edit(data, editor);
  const edited = editor.toString();
  if (edited === text) return { value, text, data, changed: false, notes: [], scoped: false };
  return { value, text: edited, data: readBack(edited, file), changed: true, notes: editor.notes, scoped: false };
}

/** The short way's result, or undefined where it gave way (the whole-file way then runs, and says what is wrong). */
function attempt<R>(run: () => R | undefined): R | undefined {
  try {
    return run();
  } catch {
    // Whatever the short way cannot do (a refusal, a part that does not read alone), the whole-file
    // way does or says, with the file's own lines.
    return undefined;
  }
}

/**
 * Never write a file that would not be read back. The inputs are checked before this, so text that
 * does not read back is the toolkit's own failure: it is reported as one, not blamed on a line of
 * the user's file that the file does not have.
 */
function readBack(edited: string, file: string): VersionsData {
  try {
    return readVersionsData(edited, file);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new Error(
      `promote's edit of ${file} does not read back, so nothing was written (a bug in promote, not in ${file}; the lines named are of the edited text): ${error.message}`,
      { cause: error },
    );
  }
}

/** An edit the short way cannot make: the whole-file way makes it. */
class ScopeMiss extends Error {}

/** One service entry's lines: [start, end) of the text, the key's line first. */
interface EntrySpan {
  environment: string;
  service: string;
  start: number;
  end: number;
  /** The key's column. */
  column: number;
}

interface Frame {
  map: boolean;
  /** In a map: the next node is a key. */
  expectKey: boolean;
  key: string;
  /** Offset of the current key (its quote, if quoted), for its column. */
  keyStart: number;
  /** The path from the root, kept to the depth of an entry (4) and no deeper. */
  path: readonly string[] | undefined;
  /** The entry this map is the value of. */
  entry: EntrySpan | undefined;
}

const ENTRY_DEPTH = 4;

class ScopedEditor implements VersionsEditor {
  private readonly editors = new Map<EntrySpan, YamlEditor>();

  private constructor(
    private readonly text: string,
    private readonly file: string,
    readonly data: VersionsData,
    private readonly entries: Map<string, EntrySpan>,
    private readonly eol: string,
    private readonly indentUnit: number,
  ) {}

  /** The short-way editor of `text`, or undefined where the file is not one it edits. */
  static open(text: string, file: string): ScopedEditor | undefined {
    let events: Event[];
    let data: unknown;
    try {
      events = parseEvents(text, { filename: file });
      data = constructFromEvents(events, { source: text, filename: file, schema: CORE_SCHEMA })[0] ?? {};
    } catch {
      return undefined;
    }
    if (!followsVersionsSchema(data)) return undefined;
    // A lone CR is a line break to js-yaml and not to the yaml library.
    if (/\r(?!\n)/.test(text)) return undefined;
    const layout = readLayout(text, events);
    if (!layout) return undefined;
    const eol = /\r?\n/.exec(text)?.[0] ?? '\n';
    return new ScopedEditor(text, file, data, layout.entries, eol, layout.indentUnit);
  }

  set(path: readonly string[], value: YamlValue): void {
    const { editor, rest } = this.editorOf(path);
    editor.set(rest, value);
  }

  delete(path: readonly string[]): void {
    // Removing a whole entry is not an edit inside it.
    if (path.length <= ENTRY_DEPTH) throw new ScopeMiss();
    const { editor, rest } = this.editorOf(path);
    editor.delete(rest);
  }

  /** The edited text, read back and checked against the data before; undefined where they differ. */
  finish(): { text: string; data: VersionsData; changed: boolean } | undefined {
    const splices: { span: EntrySpan; text: string }[] = [];
    for (const [span, editor] of this.editors) {
      const text = editor.toString();
      if (text !== editor.source) splices.push({ span, text });
    }
    if (splices.length === 0) return { text: this.text, data: this.data, changed: false };
    let edited = this.text;
    for (const { span, text } of splices.sort((a, b) => b.span.start - a.span.start))
      edited = edited.slice(0, span.start) + text + edited.slice(span.end);
    let data: VersionsData;
    try {
      data = readVersionsData(edited, this.file);
    } catch {
      return undefined;
    }
    // What was read back must be the data before with the edited entries, as their own lines read, in place.
    const expected = { ...this.data, environments: { ...this.data.environments } };
    for (const { span, text } of splices) {
      const entry = (load(text, { schema: CORE_SCHEMA }) as Record<string, unknown>)[span.service];
      const environment = expected.environments[span.environment] as { services: Record<string, unknown> };
      const copy = { ...environment, services: { ...environment.services, [span.service]: entry } };
      expected.environments[span.environment] = copy as VersionsData['environments'][string];
    }
    if (!isDeepStrictEqual(data, expected)) return undefined;
    return { text: edited, data, changed: true };
  }

  private editorOf(path: readonly string[]): { editor: YamlEditor; rest: string[] } {
    const [root, environment, services, service] = path;
    if (path.length < ENTRY_DEPTH || root !== 'environments' || services !== 'services') throw new ScopeMiss();
    const span = this.entries.get(entryKey(environment as string, service as string));
    if (!span) throw new ScopeMiss();
    let editor = this.editors.get(span);
    if (!editor) {
      const source = this.text.slice(span.start, span.end);
      // The entry's lines alone must hold what the file holds there (a block scalar's last lines
      // can look like comments, which its lines leave out).
      const before = (load(source, { schema: CORE_SCHEMA }) as Record<string, unknown> | null)?.[span.service];
      if (!isDeepStrictEqual(before, this.data.environments[span.environment]?.services?.[span.service])) throw new ScopeMiss();
      editor = new YamlEditor(source, { file: this.file, eol: this.eol, indentUnit: this.indentUnit });
      this.editors.set(span, editor);
    }
    return { editor, rest: [span.service, ...path.slice(ENTRY_DEPTH)] };
  }
}

const entryKey = (environment: string, service: string): string => `${environment}\u0000${service}`;

/**
 * The lines of every service entry that is a block mapping, and the file's indentation step
 * (YamlEditor's rule: the most common step from a key to its block mapping's first key, the
 * smaller on a tie, 2 when none); undefined where the file has what the short way leaves to the
 * whole-file editor.
 */
function readLayout(text: string, events: readonly Event[]): { entries: Map<string, EntrySpan>; indentUnit: number } | undefined {
  const entries = new Map<string, EntrySpan>();
  const steps = new Map<number, number>();
  const stack: Frame[] = [];
  let documents = 0;
  /** An entry whose map just closed: it ends at the line of whatever comes next. */
  let ending: EntrySpan | undefined;
  // A byte order mark is not a column (YamlEditor counts columns after it).
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const lineStart = (offset: number): number => Math.max(bom, text.lastIndexOf('\n', offset - 1) + 1);
  for (const event of events) {
    if (event.type === EVENT_ID.ALIAS) return undefined;
    if (event.type === EVENT_ID.POP) {
      const frame = stack.pop();
      if (frame?.entry) ending = frame.entry;
      continue;
    }
    if (event.type === EVENT_ID.DOCUMENT) {
      // Directives (`%YAML 1.1` reads `yes` as a boolean in the yaml library) are left to the whole file.
      if (++documents > 1 || event.directives.length > 0) return undefined;
      stack.push({ map: false, expectKey: false, key: '', keyStart: 0, path: [], entry: undefined });
      continue;
    }
    if (event.anchorStart >= 0 || event.tagStart >= 0) return undefined;
    // Block scalars (their lines and trailing blank lines are the yaml library's to measure) are left to the whole file.
    if (event.type === EVENT_ID.SCALAR && (event.style === 4 || event.style === 5)) return undefined;
    const offset = event.type === EVENT_ID.SCALAR ? event.valueStart : event.start;
    if (ending) {
      ending.end = trimTrailing(text, ending, lineStart(offset));
      ending = undefined;
    }
    const parent = stack[stack.length - 1];
    if (!parent) return undefined;
    if (parent.map && parent.expectKey) {
      if (event.type !== EVENT_ID.SCALAR) return undefined;
      const key = getScalarValue(text, event);
      // Keys the two libraries may read apart (`null:`, `1e400:`, `~:`, an empty or very long key), or `<<`.
      if (event.style === 1 && (key === '' || /^[-+.~0-9<]|^(null|true|false)$/i.test(key))) return undefined;
      if (key.length > 1000) return undefined;
      const quoted = event.style === 2 || event.style === 3;
      parent.key = key;
      parent.keyStart = event.valueStart - (quoted ? 1 : 0);
      parent.expectKey = false;
      continue;
    }
    // The document's root has the empty path; a map's value its key's; list items and deeper nodes none.
    const path = !parent.map
      ? parent === stack[0]
        ? []
        : undefined
      : parent.path && parent.path.length < ENTRY_DEPTH
        ? [...parent.path, parent.key]
        : undefined;
    if (parent.map) parent.expectKey = true;
    if (event.type === EVENT_ID.SCALAR) continue;
    const block = event.style === 1;
    let entry: EntrySpan | undefined;
    // Explicit keys (`? key`) are left to the whole file.
    if (event.type === EVENT_ID.MAPPING && block && text[event.start] === '?') return undefined;
    if (event.type === EVENT_ID.MAPPING && block && parent.map) {
      const step = event.start - lineStart(event.start) - (parent.keyStart - lineStart(parent.keyStart));
      if (step > 0) steps.set(step, (steps.get(step) ?? 0) + 1);
      if (path?.length === ENTRY_DEPTH && path[0] === 'environments' && path[2] === 'services') {
        const start = lineStart(parent.keyStart);
        // The key alone at the start of its line (indentation only), so its lines are a document of their own.
        if (/^ *$/.test(text.slice(start, parent.keyStart))) {
          entry = { environment: path[1] as string, service: path[3] as string, start, end: text.length, column: parent.keyStart - start };
          entries.set(entryKey(entry.environment, entry.service), entry);
        }
      }
    }
    stack.push({ map: event.type === EVENT_ID.MAPPING, expectKey: true, key: '', keyStart: 0, path: block ? path : undefined, entry });
  }
  if (ending) ending.end = trimTrailing(text, ending, text.length);
  let indentUnit = 2;
  let seen = 0;
  for (const [step, count] of steps) if (count > seen || (count === seen && step < indentUnit)) [indentUnit, seen] = [step, count];
  return { entries, indentUnit };
}

/**
 * The end of an entry's lines without the blank lines and the comments at or left of its key's
 * column after its last value: those are the next entry's (or the file's), as the whole-file editor
 * has them too. A comment indented deeper stays with the entry, as it does there.
 */
function trimTrailing(text: string, entry: EntrySpan, end: number): number {
  let at = end;
  while (at > entry.start) {
    const lineBegin = text.lastIndexOf('\n', at - 2) + 1;
    const line = /^([ \t]*)(#.*)?\r?\n?$/.exec(text.slice(lineBegin, at));
    if (lineBegin <= entry.start || !line || (line[2] !== undefined && (line[1] as string).length > entry.column)) break;
    at = lineBegin;
  }
  return at;
}
