import { type Document, LineCounter, type Node, Scalar, type YAMLMap, isAlias, isMap, isScalar, parseDocument, stringify } from 'yaml';
import { UserError } from './errors.js';

/** A plain value to write: a string, number, boolean, or a map of them. */
export type YamlValue = string | number | boolean | { [key: string]: YamlValue | undefined };

interface Splice {
  start: number;
  end: number;
  text: string;
  /** Call order: of two inserts at one offset, the earlier call's text comes first. */
  order: number;
}

/**
 * Edits a YAML text so that only what changes differs: the `yaml` Document API finds each node
 * and its source range, and every change is a splice of the original text at that range. Comments,
 * key order, blank lines, quoting, indentation and anchors elsewhere stay byte for byte as they
 * were, which re-serialising a document does not guarantee (it re-indents and re-spaces).
 */
export class YamlEditor {
  readonly source: string;
  readonly document: Document.Parsed;
  readonly lineCounter = new LineCounter();
  private readonly splices: Splice[] = [];
  private spliceCount = 0;
  /** Flow maps (`{a: 1}`) are rewritten whole, once, with every edit made to them. */
  private readonly flowEdits = new Map<YAMLMap, { value: Record<string, unknown>; column: number }>();
  private readonly indentUnit: number;

  constructor(source: string) {
    this.source = source;
    this.document = parseDocument(source, { lineCounter: this.lineCounter, keepSourceTokens: true, uniqueKeys: true });
    this.indentUnit = detectIndent(source);
  }

  /** Sets `path` to `value`; maps are merged key by key, missing keys and maps are created. */
  set(path: readonly string[], value: YamlValue): void {
    const root = this.document.contents;
    if (!isMap(root)) {
      if (root === null || (isScalar(root) && root.value === null)) {
        // An empty document (or only comments): append the whole value at the end.
        this.append(this.render(nest(path, value) as Record<string, YamlValue>, 0));
        return;
      }
      throw new UserError('INVALID_CONFIGURATION', 'The YAML document is not a mapping at its top level.');
    }
    this.setIn(root, 0, path, value, []);
  }

  /** Removes the pair at `path` (its lines), if it is there. */
  delete(path: readonly string[]): void {
    const parent = path.length === 1 ? this.document.contents : this.document.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return;
    if (parent.flow) {
      delete this.flowObject(parent, 0).value[path[path.length - 1] as string];
      return;
    }
    const pair = parent.items.find((item) => keyOf(item.key) === path[path.length - 1]);
    if (!pair || !isScalar(pair.key) || !pair.key.range) return;
    const start = this.lineStart(pair.key.range[0]);
    const valueEnd = (pair.value as Node | null)?.range?.[2] ?? pair.key.range[2];
    this.splice({ start, end: this.lineEnd(valueEnd), text: '' });
  }

  private splice(change: Omit<Splice, 'order'>): void {
    this.splices.push({ ...change, order: this.spliceCount++ });
  }

  /** The edited text. */
  toString(): string {
    for (const [map, { value, column }] of this.flowEdits) this.renderFlow(map, value, column);
    this.flowEdits.clear();
    const ordered = [...this.splices].sort((a, b) => b.start - a.start || b.end - a.end || b.order - a.order);
    let text = this.source;
    let limit = Number.POSITIVE_INFINITY;
    for (const splice of ordered) {
      if (splice.end > limit) throw new Error('Overlapping YAML edits');
      text = text.slice(0, splice.start) + splice.text + text.slice(splice.end);
      limit = splice.start;
    }
    return text;
  }

  private setIn(map: Node, column: number, path: readonly string[], value: YamlValue, above: readonly string[]): void {
    if (!isMap(map)) throw new Error('setIn on a node that is not a map');
    if (map.flow) {
      setNested(this.flowObject(map, column).value, path, value);
      return;
    }
    const [key, ...rest] = path as [string, ...string[]];
    const pair = map.items.find((item) => keyOf(item.key) === key);
    if (!pair) {
      this.insert(map, column, { [key]: nest(rest, value) });
      return;
    }
    const node = pair.value as Node | null;
    const keyColumn = isScalar(pair.key) && pair.key.range ? this.column(pair.key.range[0]) : column;
    const here = [...above, key];
    if (isAlias(node)) {
      throw new UserError(
        'INVALID_CONFIGURATION',
        `${this.where(node)}: ${here.join('.')} is an alias (*${node.source}); edit it by hand, since changing it here would change every place that uses its anchor.`,
      );
    }
    if (rest.length > 0 || (typeof value === 'object' && value !== null)) {
      const target = rest.length > 0 ? rest : [];
      if (isMap(node)) {
        if (target.length > 0) return this.setIn(node, this.childColumn(node, keyColumn), target, value, here);
        for (const [child, childValue] of Object.entries(value as Record<string, YamlValue | undefined>)) {
          if (childValue !== undefined) this.setIn(node, this.childColumn(node, keyColumn), [child], childValue, here);
        }
        return;
      }
      if (node === null || (isScalar(node) && node.value === null)) {
        this.replaceEmptyValue(pair.key as Node, node, keyColumn, nest(target, value) as Record<string, YamlValue>);
        return;
      }
      throw new UserError(
        'INVALID_CONFIGURATION',
        `${this.where(node)}: ${here.join('.')} holds a ${isScalar(node) ? 'value' : 'list'} where a mapping is expected.`,
      );
    }
    if (isScalar(node) && node.range) {
      if (node.value === value) return;
      const empty = node.range[0] === node.range[1];
      const text = this.scalarText(value, empty ? Scalar.PLAIN : node.type);
      const before = this.source[node.range[0] - 1];
      this.splice({ start: node.range[0], end: node.range[1], text: empty && before === ':' ? ` ${text}` : text });
      return;
    }
    if (node === null) {
      const end = (pair.key as Node).range?.[1] ?? 0;
      const colon = this.source.indexOf(':', end);
      this.splice({ start: colon + 1, end: colon + 1, text: ` ${this.scalarText(value, Scalar.PLAIN)}` });
      return;
    }
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${this.where(node)}: ${here.join('.')} holds a mapping or list where a value is expected.`,
    );
  }

  /** Adds pairs at the end of a block map, at its keys' indentation. */
  private insert(map: Node, column: number, pairs: Record<string, YamlValue>): void {
    if (!isMap(map) || !map.range) throw new Error('insert into a node that is not a map');
    const firstKey = map.items[0]?.key as Node | undefined;
    const keyColumn = firstKey?.range ? this.column(firstKey.range[0]) : column;
    const lastValue = (map.items[map.items.length - 1]?.value ?? map.items[map.items.length - 1]?.key) as Node | undefined;
    const end = lastValue?.range ? this.lineEnd(lastValue.range[2]) : map.range[1];
    const text = this.render(pairs, keyColumn);
    this.splice({ start: end, end, text: end > 0 && this.source[end - 1] !== '\n' ? `\n${text}` : text });
  }

  private flowObject(map: YAMLMap, column: number): { value: Record<string, unknown>; column: number } {
    let pending = this.flowEdits.get(map);
    if (!pending) {
      pending = { value: (map.toJSON() ?? {}) as Record<string, unknown>, column };
      this.flowEdits.set(map, pending);
    }
    return pending;
  }

  /**
   * A flow map with its edits: `{}` that gained keys becomes a block below its key (its comment
   * stays on the key's line); any other stays a flow map, written again.
   */
  private renderFlow(map: YAMLMap, value: Record<string, unknown>, column: number): void {
    if (!map.range || JSON.stringify(value) === JSON.stringify(map.toJSON() ?? {})) return;
    if (map.items.length === 0 && Object.keys(value).length > 0) {
      let start = map.range[0];
      while (start > 0 && this.source[start - 1] === ' ') start--;
      this.splice({ start, end: map.range[1], text: '' });
      const end = this.lineEnd(map.range[1]);
      this.splice({
        start: end,
        end,
        text: `${end > 0 && this.source[end - 1] !== '\n' ? '\n' : ''}${this.render(value as Record<string, YamlValue>, column)}`,
      });
      return;
    }
    // Written as it was spaced: `{a: 1}` or `{ a: 1 }`.
    const padded = this.source[map.range[0] + 1] === ' ';
    this.splice({
      start: map.range[0],
      end: map.range[1],
      text: stringify(value, { collectionStyle: 'flow', flowCollectionPadding: padded, lineWidth: 0 }).trimEnd(),
    });
  }

  /** `key:` with nothing after it (or `~`, `null`) gets a block mapping on the lines below it. */
  private replaceEmptyValue(key: Node, node: Node | null, keyColumn: number, pairs: Record<string, YamlValue>): void {
    if (node?.range && node.range[1] > node.range[0]) {
      let start = node.range[0];
      while (start > 0 && this.source[start - 1] === ' ') start--;
      this.splice({ start, end: node.range[1], text: '' });
    }
    const end = this.lineEnd(node?.range?.[1] ?? key.range?.[1] ?? 0);
    this.splice({
      start: end,
      end,
      text: `${end > 0 && this.source[end - 1] !== '\n' ? '\n' : ''}${this.render(pairs, keyColumn + this.indentUnit)}`,
    });
  }

  private append(text: string): void {
    const end = this.source.length;
    this.splice({ start: end, end, text: end > 0 && !this.source.endsWith('\n') ? `\n${text}` : text });
  }

  /** Block YAML for `value`, every line indented by `column` spaces, ending with a newline. */
  private render(value: Record<string, YamlValue>, column: number): string {
    const text = stringify(value, { indent: this.indentUnit, lineWidth: 0 });
    return text
      .split('\n')
      .map((line) => (line === '' ? line : `${' '.repeat(column)}${line}`))
      .join('\n');
  }

  /** A scalar in the style the old one had (plain stays plain unless the value would read as another type). */
  private scalarText(value: YamlValue, type: Scalar.Type | undefined): string {
    const style = type === Scalar.QUOTE_DOUBLE || type === Scalar.QUOTE_SINGLE ? type : Scalar.PLAIN;
    return stringify(value, { defaultStringType: style, lineWidth: 0 }).trimEnd();
  }

  private childColumn(map: Node, parentColumn: number): number {
    const first = isMap(map) ? (map.items[0]?.key as Node | undefined) : undefined;
    return first?.range ? this.column(first.range[0]) : parentColumn + this.indentUnit;
  }

  private column(offset: number): number {
    return this.lineCounter.linePos(offset).col - 1;
  }

  private lineStart(offset: number): number {
    return this.source.lastIndexOf('\n', offset - 1) + 1;
  }

  private lineEnd(offset: number): number {
    if (offset > 0 && this.source[offset - 1] === '\n') return offset;
    const newline = this.source.indexOf('\n', offset);
    return newline < 0 ? this.source.length : newline + 1;
  }

  private where(node: Node | null): string {
    if (!node?.range) return 'the file';
    const { line, col } = this.lineCounter.linePos(node.range[0]);
    return `${line}:${col}`;
  }
}

/** Sets `path` in a plain object, merging maps key by key as YamlEditor.set does. */
function setNested(target: Record<string, unknown>, path: readonly string[], value: YamlValue): void {
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length > 0) {
    const child = target[key];
    const next = child && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {};
    target[key] = next;
    setNested(next, rest, value);
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const child = target[key];
    const next = child && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {};
    target[key] = next;
    for (const [childKey, childValue] of Object.entries(value)) if (childValue !== undefined) setNested(next, [childKey], childValue);
    return;
  }
  target[key] = value;
}

function keyOf(key: unknown): unknown {
  return isScalar(key) ? key.value : key;
}

function nest(path: readonly string[], value: YamlValue): YamlValue {
  return path.reduceRight<YamlValue>((inner, key) => ({ [key]: inner }), value);
}

/** The indentation step the file uses (the smallest increase from a key to its child), 2 when none. */
function detectIndent(source: string): number {
  let smallest = Number.POSITIVE_INFINITY;
  let previous = 0;
  for (const line of source.split('\n')) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent > previous) smallest = Math.min(smallest, indent - previous);
    previous = indent;
  }
  return Number.isFinite(smallest) ? smallest : 2;
}
