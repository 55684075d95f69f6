import {
  type Alias,
  type Document,
  LineCounter,
  type Node,
  type Pair,
  Scalar,
  type YAMLMap,
  type YAMLSeq,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  stringify,
  visit,
} from 'yaml';
import { UserError } from './errors.js';

/** A plain value to write: a string, number, boolean, or a map of them. */
export type YamlValue = string | number | boolean | { [key: string]: YamlValue | undefined };

export interface YamlEditorOptions {
  /** The file's name, for `file:line:column` in refusals and notes. */
  file?: string;
  /**
   * For an editor of one part of a file (versions-edit.ts): the whole file's line ending and
   * indentation step, which the part alone may not show.
   */
  eol?: string;
  indentUnit?: number;
}

type Plain = Record<string, unknown>;

interface Splice {
  start: number;
  end: number;
  text: string;
  /** Of two inserts at one offset, the deeper one (higher column) comes first, then call order. */
  column: number;
  order: number;
}

/** A value whose text is written again at toString(), from a plain value. */
type Rewrite =
  | { kind: 'scalar'; value: YamlValue }
  /** A block mapping on the lines below the key (for an empty value, an alias, or `{}` that gained keys). */
  | { kind: 'block'; value: Plain; column: number }
  /** A flow map (`{a: 1}`) written again whole, with every edit made to it. */
  | { kind: 'flow'; value: Plain; column: number };

/** A node on the way from the document's root to an edit: what would change with it. */
interface Holder {
  node: Node;
  path: readonly string[];
  pair: Pair | null;
}

/** Where a value sits: the document's root (`pair` null), the value of a pair, or an item of a block list. */
interface Slot {
  pair: Pair | null;
  node: Node | null;
  /** The column its block mapping's keys go to, when one is written for it. */
  childColumn: number;
  /** An item of a block list (a path segment that is its index): only edited inside, never written again whole. */
  item?: boolean;
}

const ROOT = Symbol('root');

/**
 * Edits a YAML text so that only what changes differs: the `yaml` Document API finds each node
 * and its source range, and every change is a splice of the original text at that range. Comments,
 * key order, blank lines, quoting, indentation and anchors elsewhere stay byte for byte as they
 * were, which re-serialising a document does not guarantee (it re-indents and re-spaces). What is
 * written follows the file's own conventions: its line endings (LF or CRLF), its final newline or
 * the lack of one, its byte order mark, and its indentation step.
 *
 * Nodes shared through anchors and aliases (docs/versions-yaml.md, "Anchors, aliases and merge
 * keys"): a change under an alias writes that alias out as an explicit value, leaving the anchor
 * and its other uses alone, and says so in `notes`; a change to a node whose anchor an alias
 * uses elsewhere is refused, with file:line:column of the anchor and of each alias. Merge keys
 * (`<<: *defaults`) are read; a key that comes from one is overridden in the map itself.
 */
export class YamlEditor {
  readonly source: string;
  readonly file: string;
  readonly document: Document.Parsed;
  readonly lineCounter = new LineCounter();
  /** What an edit did besides the change asked for (an alias written out), with file:line:column: for the commit message. */
  readonly notes: string[] = [];
  private readonly bom: number;
  private readonly eol: string;
  private readonly finalNewline: boolean;
  private indentCache: number | undefined;
  private aliasCache: { users: Map<Node, Alias[]>; targets: Map<Alias, Node> } | undefined;
  private readonly jsCache = new Map<Node, unknown>();
  private seq = 0;
  /** Pairs removed, with their lines. */
  private readonly removals = new Map<Pair, { start: number; end: number }>();
  /** Block maps that lost pairs, with the pair that holds each (null: the root): one that loses all is written `{}`. */
  private readonly shrunk = new Map<YAMLMap, Pair | null>();
  /** Values written again (keyed by their pair, or ROOT for the document's contents). */
  private readonly rewrites = new Map<Pair | typeof ROOT, Rewrite & { order: number }>();
  /** Pairs added at the end of a block map, at its keys' indentation, in call order. */
  private readonly inserts = new Map<YAMLMap, { pairs: Plain; order: number }>();
  /** Keys renamed, by their pair. */
  private readonly renames = new Map<Pair, { start: number; end: number; text: string }>();
  /** List items removed, and text replaced inside scalars: splices of the source as they are. */
  private readonly itemRemovals: Splice[] = [];

  constructor(source: string, options: YamlEditorOptions = {}) {
    this.source = source;
    this.file = options.file ?? 'versions.yaml';
    // uniqueKeys: false, because yaml's own check compares each key with every key before it in its
    // map (quadratic: a 10 MB file took 92 s); parseVersionsFile checks duplicates in linear time.
    this.document = parseDocument(source, { lineCounter: this.lineCounter, keepSourceTokens: true, uniqueKeys: false, merge: true });
    this.bom = source.startsWith('\uFEFF') ? 1 : 0;
    this.eol = options.eol ?? /\r?\n/.exec(source)?.[0] ?? '\n';
    this.indentCache = options.indentUnit;
    this.finalNewline = source.length === this.bom || source.endsWith('\n');
  }

  /** The indentation step the file uses (its most common step from a key to its child keys), 2 when none. */
  get indentUnit(): number {
    this.indentCache ??= this.detectIndent();
    return this.indentCache;
  }

  /** Sets `path` to `value`; maps are merged key by key, missing keys and maps are created. */
  set(path: readonly string[], value: YamlValue): void {
    for (const [leafPath, leaf] of leaves(path, value)) this.setLeaf(leafPath, leaf);
  }

  /** Removes the pair at `path` (its lines), if it is there. */
  delete(path: readonly string[]): void {
    if (path.length === 0) return;
    const chain: Holder[] = [];
    let slot = this.rootSlot();
    for (let depth = 0; ; depth++) {
      const rest = path.slice(depth);
      const here = path.slice(0, depth);
      const rewrite = slot.item ? undefined : this.rewrites.get(slot.pair ?? ROOT);
      if (rewrite) {
        if (rewrite.kind !== 'scalar') deleteNested(rewrite.value, rest);
        return;
      }
      const node = slot.node;
      const item = this.itemSlot(node, rest[0]);
      if (item) {
        if (rest.length === 1) throw this.typeRefusal(node, here, 'a list', 'a mapping (remove a list item with deleteItem)');
        slot = item;
        continue;
      }
      if (isMap(node) && !node.flow) {
        chain.push({ node, path: here, pair: slot.pair });
        const key = rest[0] as string;
        const pair = findPair(node, key);
        if (pair && this.removals.has(pair)) return;
        if (!pair) {
          const inserted = this.inserts.get(node)?.pairs;
          if (inserted && key in inserted) return deleteNested(inserted, rest);
          const inherited = this.inherited(node, key);
          if (inherited === undefined) return;
          if (rest.length === 1) throw this.mergeRefusal(node, path, 'comes from');
          if (!hasAt(inherited, rest.slice(1))) return;
          this.refuseShared(chain, path);
          const pairs = this.insertInto(node);
          pairs[key] = clone(inherited);
          return deleteNested(pairs, rest);
        }
        if (rest.length === 1) {
          if (this.inherited(node, key) !== undefined) throw this.mergeRefusal(node, path, 'is also in');
          this.refuseShared(chain, path);
          this.refuseSharedInside(pair.value as Node | null, path, true);
          this.remove(pair);
          this.shrunk.set(node, slot.pair);
          return;
        }
        slot = this.pairSlot(pair);
        continue;
      }
      if (!isAlias(node) && !isMap(node)) return;
      const current = this.js(node);
      if (!hasAt(current, rest)) return;
      this.refuseShared([...chain, { node, path: here, pair: slot.pair }], path);
      deleteNested(this.rewriteAsMap(slot, node, current, here).value, rest);
      return;
    }
  }

  /**
   * Renames the key of the pair at `path` (a path may go through block lists by index, as
   * `['jobs', 'build', 'steps', '2', 'with', 'image-ref']`), keeping its value, comments and place.
   */
  renameKey(path: readonly string[], key: string): void {
    const pair = this.pairAt(path);
    if (!pair) throw new UserError('INVALID_CONFIGURATION', `${this.file}: ${dotted(path)} is not there to rename.`);
    const node = pair.key as Node;
    if (!isScalar(node) || !node.range) throw this.typeRefusal(node, path, 'a key that is not a plain value', 'a plain key');
    const sibling = path.slice(0, -1);
    if (this.pairAt([...sibling, key]))
      throw new UserError('INVALID_CONFIGURATION', `${this.where(node.range[0])}: ${dotted([...sibling, key])} is already there.`);
    this.renames.set(pair, { start: node.range[0], end: node.range[1], text: this.scalarText(key, node.type) });
  }

  /**
   * Removes the item at `path` of a block list (its lines), and the comment lines right above it,
   * which describe it: they would otherwise seem to describe the next item.
   */
  deleteItem(path: readonly string[]): void {
    const list = this.nodeAt(path.slice(0, -1));
    const index = Number(path[path.length - 1]);
    const item = isSeq(list) && !list.flow ? (list.items[index] as Node | undefined) : undefined;
    if (!item?.range) throw new UserError('INVALID_CONFIGURATION', `${this.file}: ${dotted(path)} is not an item of a block list.`);
    let start = this.lineStart(item.range[0]);
    const column = this.column(item.range[0]);
    const dash = this.source.lastIndexOf('-', item.range[0]);
    const dashColumn = dash >= start ? dash - start : column;
    for (;;) {
      const above = this.lineStart(start - 1);
      const text = this.source.slice(above, start);
      if (start <= this.bom || !/^[ \t]*#/.test(text) || text.indexOf('#') !== dashColumn) break;
      start = above;
    }
    const end = this.lineEnd(item.range[1]);
    this.itemRemovals.push({ start, end, text: '', column: 0, order: this.seq++ });
  }

  /** Replaces matches of `pattern` (global) in the source text of the scalar at `path`, keeping its style (a block scalar stays one). */
  replaceInScalar(path: readonly string[], pattern: RegExp, replacement: (match: string) => string): boolean {
    const node = this.nodeAt(path);
    if (!isScalar(node) || !node.range) return false;
    const text = this.source.slice(node.range[0], node.range[1]);
    const replaced = text.replace(pattern, replacement);
    if (replaced === text) return false;
    this.itemRemovals.push({ start: node.range[0], end: node.range[1], text: replaced, column: 0, order: this.seq++ });
    return true;
  }

  /** The node at `path` as the file has it (lists by index), or undefined. */
  nodeAt(path: readonly string[]): Node | undefined {
    let node = this.document.contents as Node | null;
    for (const key of path) {
      if (isMap(node)) node = (findPair(node, key)?.value as Node | null) ?? null;
      else if (isSeq(node) && /^\d+$/.test(key)) node = ((node as YAMLSeq).items[Number(key)] as Node | undefined) ?? null;
      else return undefined;
      if (node === null) return undefined;
    }
    return node ?? undefined;
  }

  private pairAt(path: readonly string[]): Pair | undefined {
    const map = this.nodeAt(path.slice(0, -1));
    return isMap(map) ? findPair(map, path[path.length - 1] as string) : undefined;
  }

  /** The slot of a block list's item at index `key`, when `node` is such a list and the item a block map. */
  private itemSlot(node: Node | null, key: string | undefined): Slot | undefined {
    if (!isSeq(node) || node.flow || key === undefined || !/^\d+$/.test(key)) return undefined;
    const item = node.items[Number(key)] as Node | undefined;
    if (!isMap(item) || item.flow) throw this.typeRefusal(item ?? node, [key], item ? 'a value' : 'nothing', 'a block mapping');
    const first = item.items[0]?.key as Node | undefined;
    return { pair: null, node: item, childColumn: first?.range ? this.column(first.range[0]) : 0, item: true };
  }

  /** The edited text. */
  toString(): string {
    const splices: Splice[] = [...this.itemRemovals];
    for (const [pair, rename] of this.renames) if (!this.removals.has(pair)) splices.push({ ...rename, column: 0, order: 0 });
    for (const range of this.removals.values()) splices.push({ ...range, text: '', column: 0, order: 0 });
    for (const [map, holder] of this.shrunk) {
      if (!map.items.every((pair) => this.removals.has(pair)) || Object.keys(this.inserts.get(map)?.pairs ?? {}).length > 0) continue;
      // A map with no pairs left is an empty map, not nothing: `key: {}`.
      const key = holder?.key as Node | undefined;
      const at = key?.range ? this.source.indexOf(':', key.range[1]) + 1 : this.source.length;
      splices.push({ start: at, end: at, text: key ? ' {}' : this.lines(at, '{}\n'), column: 0, order: 0 });
    }
    for (const [holder, rewrite] of this.rewrites) splices.push(...this.renderRewrite(holder, rewrite));
    for (const [map, { pairs, order }] of this.inserts)
      if (Object.keys(pairs).length > 0) splices.push(this.renderInsert(map, pairs, order));
    const ordered = splices.sort((a, b) => b.start - a.start || b.end - a.end || a.column - b.column || b.order - a.order);
    let text = this.source;
    let limit = Number.POSITIVE_INFINITY;
    for (const splice of ordered) {
      if (splice.end > limit) throw new Error('Overlapping YAML edits');
      text = text.slice(0, splice.start) + splice.text + text.slice(splice.end);
      limit = splice.start;
    }
    return text;
  }

  // ─── Walking to an edit ──────────────────────────────────────────────────────────────────────

  private rootSlot(): Slot {
    return { pair: null, node: this.document.contents as Node | null, childColumn: 0 };
  }

  private pairSlot(pair: Pair): Slot {
    const key = pair.key as Node | null;
    const keyColumn = key?.range ? this.column(key.range[0]) : 0;
    return { pair, node: pair.value as Node | null, childColumn: keyColumn + this.indentUnit };
  }

  /** Sets one leaf: a scalar, or `{}` (a map that must exist). */
  private setLeaf(path: readonly string[], value: YamlValue): void {
    const chain: Holder[] = [];
    let slot = this.rootSlot();
    for (let depth = 0; ; depth++) {
      const rest = path.slice(depth);
      const here = path.slice(0, depth);
      const rewrite = slot.item ? undefined : this.rewrites.get(slot.pair ?? ROOT);
      const item = rewrite ? undefined : this.itemSlot(slot.node, rest[0]);
      if (item) {
        if (rest.length === 1) throw this.typeRefusal(slot.node, here, 'a list item', 'a value');
        slot = item;
        continue;
      }
      if (rewrite) {
        if (rewrite.kind === 'scalar') {
          if (rest.length > 0 || isPlain(value)) throw this.typeRefusal(slot.node, here, 'a value', 'a mapping');
          rewrite.value = value;
        } else this.setPlain(rewrite.value, rest, value, slot.node, here);
        return;
      }
      const node = slot.node;
      if (isMap(node) && !node.flow) {
        if (rest.length === 0) {
          if (isPlain(value)) return;
          throw this.typeRefusal(node, here, 'a mapping', 'a value');
        }
        chain.push({ node, path: here, pair: slot.pair });
        const key = rest[0] as string;
        const pair = findPair(node, key);
        if (pair && !this.removals.has(pair)) {
          slot = this.pairSlot(pair);
          continue;
        }
        const inserted = this.inserts.get(node)?.pairs;
        if (inserted && key in inserted) return this.setPlain(inserted, rest, value, node, here);
        // Missing, or inherited through a merge key: written in the map itself, which overrides it.
        const inherited = this.inherited(node, key);
        if (equalAt(inherited, rest.slice(1), value)) return;
        const start: Plain = inherited === undefined || rest.length === 1 ? {} : { [key]: clone(inherited) };
        this.setPlain(start, rest, value, node, here);
        this.refuseShared(chain, path);
        Object.assign(this.insertInto(node), start);
        return;
      }

      const holders: Holder[] = node ? [...chain, { node, path: here, pair: slot.pair }] : chain;
      if (isSeq(node)) throw this.typeRefusal(node, here, 'a list', rest.length > 0 || isPlain(value) ? 'a mapping' : 'a value');
      if (isAlias(node) || (isMap(node) && node.flow)) {
        const current = this.js(node);
        if (equalAt(current, rest, value)) return;
        this.refuseShared(holders, path);
        if (rest.length === 0 && !isPlain(value)) {
          if (isPlain(current) || Array.isArray(current)) throw this.typeRefusal(node, here, 'a mapping or list', 'a value');
          this.rewriteAsScalar(slot, node, here, value);
          return;
        }
        if (!isPlain(current)) throw this.typeRefusal(node, here, 'a value', 'a mapping');
        this.setPlain(clone(current) as Plain, rest, value, node, here);
        this.setPlain(this.rewriteAsMap(slot, node, current, here).value, rest, value, node, here);
        return;
      }
      // A scalar, or nothing at all.
      const empty = node === null || (isScalar(node) && node.value === null);
      if (rest.length > 0 || isPlain(value)) {
        if (!empty) throw this.typeRefusal(node, here, 'a value', 'a mapping');
        if (slot.pair === null && node !== null && node.range && node.range[1] > node.range[0])
          throw new UserError(
            'INVALID_CONFIGURATION',
            `${this.where(node.range[0])}: the YAML document is not a mapping at its top level.`,
          );
        this.refuseShared(holders, path);
        this.rewrite(slot, { kind: 'block', value: {}, column: slot.childColumn });
        this.setPlain((this.rewrites.get(slot.pair ?? ROOT) as { value: Plain }).value, rest, value, node, here);
        return;
      }
      if (slot.pair === null)
        throw new UserError('INVALID_CONFIGURATION', `${this.file}: the YAML document is not a mapping at its top level.`);
      if (isScalar(node) && node.value === value) return;
      this.refuseShared(holders, path);
      this.rewrite(slot, { kind: 'scalar', value });
      return;
    }
  }

  /** setNested in a value to be written, refusing (as for the file's own nodes) to put a map where a value is, or the reverse. */
  private setPlain(target: Plain, path: readonly string[], value: YamlValue, node: Node | null, here: readonly string[]): void {
    let current: unknown = target;
    for (let depth = 0; depth < path.length; depth++) {
      const next = (current as Plain)[path[depth] as string];
      const at = [...here, ...path.slice(0, depth + 1)];
      if (next === undefined) break;
      const last = depth === path.length - 1;
      if (!isPlain(next) && (!last || isPlain(value)))
        throw this.typeRefusal(node, at, Array.isArray(next) ? 'a list' : 'a value', 'a mapping');
      if (isPlain(next) && last && !isPlain(value)) throw this.typeRefusal(node, at, 'a mapping', 'a value');
      current = next;
    }
    setNested(target, path, value);
  }

  private rewrite(slot: Slot, rewrite: Rewrite): Rewrite {
    const entry = { ...rewrite, order: this.seq++ };
    this.rewrites.set(slot.pair ?? ROOT, entry);
    return entry;
  }

  /** An alias or a flow map about to change: its value, written again (an alias always as a block map). */
  private rewriteAsMap(slot: Slot, node: Node, current: unknown, here: readonly string[]): { value: Plain } {
    const value = clone(current) as Plain;
    if (isAlias(node)) {
      this.noteAlias(node, here);
      return this.rewrite(slot, { kind: 'block', value, column: slot.childColumn }) as { value: Plain };
    }
    // A flow map is written again whole: anchors in it that are used elsewhere would be lost.
    this.refuseSharedInside(node, here, false);
    let aliases = 0;
    visit(node, { Alias: () => void aliases++ });
    if (aliases > 0)
      this.notes.push(
        `${this.where(node.range?.[0] ?? 0)}: ${dotted(here)} was written again with its aliases written out in full; their anchors and other uses are unchanged.`,
      );
    return this.rewrite(slot, { kind: 'flow', value, column: slot.childColumn }) as { value: Plain };
  }

  private rewriteAsScalar(slot: Slot, node: Node, here: readonly string[], value: YamlValue): void {
    if (isAlias(node)) this.noteAlias(node, here);
    this.rewrite(slot, { kind: 'scalar', value });
  }

  private noteAlias(alias: Alias, here: readonly string[]): void {
    const target = this.users().targets.get(alias);
    const anchor = target ? ` (&${alias.source} at ${this.where(this.anchorOffset(target))})` : '';
    this.notes.push(
      `${this.where(alias.range?.[0] ?? 0)}: ${dotted(here)} was the alias *${alias.source}${anchor}; it is now written out in full with this change, so the anchor and its other uses are unchanged.`,
    );
  }

  private insertInto(map: YAMLMap): Plain {
    let entry = this.inserts.get(map);
    if (!entry) {
      entry = { pairs: {}, order: this.seq++ };
      this.inserts.set(map, entry);
    }
    return entry.pairs;
  }

  private remove(pair: Pair): void {
    const key = pair.key as Node;
    const value = pair.value as Node | null;
    let start = this.lineStart(key.range?.[0] ?? 0);
    const end = this.lineEnd(value?.range?.[1] ?? key.range?.[1] ?? 0);
    // The last lines of a file without a final newline: take the line break before them instead
    // (and the blank lines before that), so that the file still ends without one.
    if (end === this.source.length && !this.finalNewline) {
      while (start > this.bom && this.source[start - 1] === '\n') {
        start -= this.source[start - 2] === '\r' ? 2 : 1;
        const blankFrom = this.lineStart(start);
        if (this.source.slice(blankFrom, start).trim() !== '') break;
        start = blankFrom;
      }
    }
    this.removals.set(pair, { start, end });
    // Edits inside what is removed are moot.
    const within = (node: Node | null | undefined) => !!node?.range && node.range[0] >= start && node.range[1] <= end;
    for (const holder of [...this.rewrites.keys()]) if (holder !== ROOT && within(holder.key as Node)) this.rewrites.delete(holder);
    for (const map of [...this.inserts.keys()]) if (within(map)) this.inserts.delete(map);
  }

  // ─── Anchors, aliases and merge keys ─────────────────────────────────────────────────────────

  /** Every alias by the node it refers to (the last anchor of its name before it), and the other way round. */
  private users(): { users: Map<Node, Alias[]>; targets: Map<Alias, Node> } {
    if (!this.aliasCache) {
      const users = new Map<Node, Alias[]>();
      const targets = new Map<Alias, Node>();
      const anchors = new Map<string, Node>();
      visit(this.document, {
        Node: (_key, node) => {
          if (isAlias(node)) {
            const target = anchors.get(node.source);
            if (!target) return;
            users.set(target, [...(users.get(target) ?? []), node]);
            targets.set(node, target);
          } else if (node.anchor) anchors.set(node.anchor, node);
        },
      });
      this.aliasCache = { users, targets };
    }
    return this.aliasCache;
  }

  /** Refuses a change under a node that an alias elsewhere uses: it would change there too. */
  private refuseShared(chain: readonly Holder[], path: readonly string[]): void {
    for (const holder of chain) {
      const aliases = holder.node ? this.users().users.get(holder.node) : undefined;
      if (aliases?.length) throw this.sharedRefusal(holder, aliases, path);
    }
  }

  /** Refuses to remove or rewrite a node with an anchor inside it (or, with `self`, on it) that an alias uses. */
  private refuseSharedInside(node: Node | null, path: readonly string[], self: boolean): void {
    if (!node) return;
    const { users } = this.users();
    let found: Holder | undefined;
    visit(node, {
      Node: (_key, inner, ancestors) => {
        if (inner === node && !self) return undefined;
        if (!users.get(inner)?.length) return undefined;
        const keys = ancestors.filter(isPair).map((pair) => keyText(pair.key));
        const last = ancestors[ancestors.length - 1];
        found = { node: inner, path: [...path, ...keys], pair: isPair(last) ? last : null };
        return visit.BREAK;
      },
    });
    if (found) throw this.sharedRefusal(found, users.get(found.node) ?? [], path);
  }

  private sharedRefusal(holder: Holder, aliases: readonly Alias[], path: readonly string[]): UserError {
    const anchor = holder.node.anchor as string;
    const uses = aliases.map((alias) => `${this.where(alias.range?.[0] ?? 0)} (*${anchor}${this.pathOf(alias)})`).join(', ');
    return new UserError(
      'INVALID_CONFIGURATION',
      `${this.where(this.anchorOffset(holder.node, holder.pair))}: ${dotted(holder.path)} has the anchor &${anchor}, which ${uses} also ` +
        `use${aliases.length === 1 ? 's' : ''}: changing ${dotted(path)} here would change it there too, so nothing was changed. ` +
        `Write the value out in full in place of *${anchor} where it is used, or make the change by hand.`,
    );
  }

  /** Where `&name` is written: in the pair's separator tokens (`key: &name value`), else the node. */
  private anchorOffset(node: Node, pair?: Pair | null): number {
    const owner = pair ?? this.pairOf(node);
    const token = (owner?.srcToken as { sep?: { type: string; offset: number }[] } | undefined)?.sep?.find(
      (part) => part.type === 'anchor',
    );
    return token?.offset ?? node.range?.[0] ?? 0;
  }

  private pairOf(node: Node): Pair | null {
    let owner: Pair | null = null;
    visit(this.document, {
      Pair: (_key, pair) => {
        if (pair.value === node) {
          owner = pair;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return owner;
  }

  /** ` at a.b.c`, the dotted path of an alias, for a message. */
  private pathOf(target: Node): string {
    let found = '';
    visit(this.document, {
      Node: (_key, node, ancestors) => {
        if (node !== target) return undefined;
        const keys = ancestors.filter(isPair).map((pair) => keyText(pair.key));
        found = keys.length > 0 ? ` at ${keys.join('.')}` : '';
        return visit.BREAK;
      },
    });
    return found;
  }

  /** The value `key` gets in `map` from its merge keys (`<<: *defaults`, `<<: [*a, *b]`): the first source that has it. */
  private inherited(map: YAMLMap, key: string): unknown {
    for (const pair of map.items) {
      if (!isMergePair(pair)) continue;
      const value = pair.value as Node | null;
      for (const source of isSeq(value) ? (value.items as Node[]) : [value]) {
        const data = this.js(source);
        if (isPlain(data) && Object.prototype.hasOwnProperty.call(data, key)) return data[key];
      }
    }
    return undefined;
  }

  private mergeRefusal(map: YAMLMap, path: readonly string[], how: 'comes from' | 'is also in'): UserError {
    const merge = map.items.find(isMergePair) as Pair;
    const at = this.where((merge.key as Node).range?.[0] ?? 0);
    return new UserError(
      'INVALID_CONFIGURATION',
      how === 'comes from'
        ? `${at}: ${dotted(path)} comes from the merge key (<<) there, so it cannot be removed from ${dotted(path.slice(0, -1))} alone; nothing was changed. Remove it where it is defined, or stop merging it.`
        : `${at}: ${dotted(path)} is also in the merge key (<<) there, so removing it from ${dotted(path.slice(0, -1))} would bring that value back; nothing was changed. Remove it by hand.`,
    );
  }

  /** The plain value of a node, aliases and merge keys resolved (not to be changed: clone it first). */
  private js(node: Node | null): unknown {
    if (!node) return null;
    if (!this.jsCache.has(node)) this.jsCache.set(node, (node as Node & { toJS(doc: Document): unknown }).toJS(this.document));
    return this.jsCache.get(node);
  }

  // ─── Writing ─────────────────────────────────────────────────────────────────────────────────

  private renderInsert(map: YAMLMap, pairs: Plain, order: number): Splice {
    const firstKey = map.items[0]?.key as Node | undefined;
    const column = firstKey?.range ? this.column(firstKey.range[0]) : 0;
    const last = map.items[map.items.length - 1];
    const lastNode = (last?.value ?? last?.key) as Node | undefined;
    const end = lastNode?.range ? this.lineEnd(lastNode.range[1]) : (map.range?.[1] ?? this.source.length);
    return { start: end, end, text: this.lines(end, this.render(pairs, column)), column, order };
  }

  private renderRewrite(holder: Pair | typeof ROOT, rewrite: Rewrite & { order: number }): Splice[] {
    const node = (holder === ROOT ? this.document.contents : holder.value) as Node | null;
    const key = holder === ROOT ? null : (holder.key as Node);
    const { order } = rewrite;
    if (rewrite.kind === 'scalar') {
      const text = this.scalarText(rewrite.value, isScalar(node) ? node.type : Scalar.PLAIN);
      if (node?.range && node.range[1] > node.range[0]) {
        let end = node.range[1];
        while (end > node.range[0] && (this.source[end - 1] === '\n' || this.source[end - 1] === '\r')) end--;
        return [{ start: node.range[0], end, text, column: 0, order }];
      }
      const at = node?.range?.[0] ?? this.source.indexOf(':', key?.range?.[1] ?? 0) + 1;
      return [{ start: at, end: at, text: this.source[at - 1] === ':' ? ` ${text}` : text, column: 0, order }];
    }
    if (
      rewrite.kind === 'flow' &&
      isMap(node) &&
      node.flow &&
      node.range &&
      !(node.items.length === 0 && Object.keys(rewrite.value).length > 0)
    ) {
      if (JSON.stringify(rewrite.value) === JSON.stringify(this.js(node))) return [];
      // Written as it was spaced: `{a: 1}` or `{ a: 1 }`.
      const padded = this.source[node.range[0] + 1] === ' ';
      const text = stringify(rewrite.value, { collectionStyle: 'flow', flowCollectionPadding: padded, lineWidth: 0 }).trimEnd();
      return [{ start: node.range[0], end: node.range[1], text: text.replace(/\n/g, this.eol), column: 0, order }];
    }
    // A block mapping below the key: the old value's text (`~`, `{}`, `*alias`) goes, its line's comment stays.
    if (holder === ROOT) {
      const end = this.source.length;
      const old =
        node?.range && node.range[1] > node.range[0] ? [{ start: node.range[0], end: node.range[1], text: '', column: 0, order }] : [];
      return [...old, { start: end, end, text: this.lines(end, this.render(rewrite.value, 0)), column: 0, order }];
    }
    const splices: Splice[] = [];
    let after = key?.range?.[1] ?? 0;
    if (node?.range && node.range[1] > node.range[0]) {
      let start = node.range[0];
      while (start > 0 && (this.source[start - 1] === ' ' || this.source[start - 1] === '\t')) start--;
      splices.push({ start, end: node.range[1], text: '', column: 0, order });
      after = node.range[1];
    } else if (node?.range) after = node.range[1];
    const end = this.lineEnd(after);
    const text = Object.keys(rewrite.value).length === 0 ? `${' '.repeat(rewrite.column)}{}\n` : this.render(rewrite.value, rewrite.column);
    splices.push({ start: end, end, text: this.lines(end, text), column: rewrite.column, order });
    return splices;
  }

  /**
   * Whole lines (each ending in "\n") to insert at `at`, a line's end, in the file's conventions:
   * its line ending, and no final newline where the file had none.
   */
  private lines(at: number, text: string): string {
    let out = text;
    if (at > this.bom && this.source[at - 1] !== '\n') out = `\n${out}`;
    if (at === this.source.length && !this.finalNewline) out = out.replace(/\n$/, '');
    return out.replace(/\n/g, this.eol);
  }

  /** Block YAML for `value`, every line indented by `column` spaces, ending with a newline. */
  private render(value: Plain, column: number): string {
    const text = stringify(value, { indent: this.indentUnit, lineWidth: 0 });
    return text
      .split('\n')
      .map((line) => (line === '' ? line : `${' '.repeat(column)}${line}`))
      .join('\n');
  }

  /** A scalar in the style the old one had (plain stays plain unless the value would read as another type), on one line. */
  private scalarText(value: YamlValue, type: Scalar.Type | undefined): string {
    const style = type === Scalar.QUOTE_DOUBLE || type === Scalar.QUOTE_SINGLE ? type : Scalar.PLAIN;
    const text = stringify(value, { defaultStringType: style, lineWidth: 0 }).trimEnd();
    // A line break would make a block scalar, whose indentation is not this line's: write it as JSON, which YAML reads.
    return text.includes('\n') ? JSON.stringify(value) : text;
  }

  private detectIndent(): number {
    const counts = new Map<number, number>();
    visit(this.document, {
      Pair: (_key, pair) => {
        const child = pair.value;
        const key = pair.key as Node | null;
        if (!isMap(child) || child.flow || !key?.range) return;
        const first = child.items[0]?.key as Node | undefined;
        if (!first?.range) return;
        const step = this.column(first.range[0]) - this.column(key.range[0]);
        if (step > 0) counts.set(step, (counts.get(step) ?? 0) + 1);
      },
    });
    let best = 2;
    let seen = 0;
    for (const [step, count] of counts) if (count > seen || (count === seen && step < best)) [best, seen] = [step, count];
    return best;
  }

  /** The column of an offset, counted from its line's start (after the byte order mark on the first line). */
  private column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  private lineStart(offset: number): number {
    return Math.max(this.source.lastIndexOf('\n', offset - 1) + 1, this.bom);
  }

  private lineEnd(offset: number): number {
    if (offset > 0 && this.source[offset - 1] === '\n') return offset;
    const newline = this.source.indexOf('\n', offset);
    return newline < 0 ? this.source.length : newline + 1;
  }

  private where(offset: number): string {
    const { line } = this.lineCounter.linePos(offset);
    return `${this.file}:${line}:${this.column(offset) + 1}`;
  }

  private typeRefusal(node: Node | null, path: readonly string[], holds: string, expected: string): UserError {
    return new UserError(
      'INVALID_CONFIGURATION',
      `${this.where(node?.range?.[0] ?? 0)}: ${dotted(path)} holds ${holds} where ${expected} is expected.`,
    );
  }
}

/** The leaves of a set: every scalar with its path, and `{}` for a map that must exist but gets no keys. */
function* leaves(path: readonly string[], value: YamlValue): Generator<[readonly string[], YamlValue]> {
  if (!isPlain(value)) {
    yield [path, value];
    return;
  }
  let any = false;
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    any = true;
    yield* leaves([...path, key], child);
  }
  if (!any) yield [path, {}];
}

/** Sets `path` in a plain object, merging maps key by key as YamlEditor.set does. */
function setNested(target: Plain, path: readonly string[], value: YamlValue): void {
  if (path.length === 0) return;
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length > 0 || isPlain(value)) {
    const child = target[key];
    const next = isPlain(child) ? child : {};
    target[key] = next;
    if (rest.length > 0) setNested(next, rest, value);
    else
      for (const [childKey, childValue] of Object.entries(value as Plain))
        if (childValue !== undefined) setNested(next, [childKey], childValue as YamlValue);
    return;
  }
  target[key] = value;
}

function deleteNested(target: Plain, path: readonly string[]): void {
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    delete target[key];
    return;
  }
  const child = target[key];
  if (isPlain(child)) deleteNested(child, rest);
}

function getAt(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) {
    if (!isPlain(node) || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function hasAt(value: unknown, path: readonly string[]): boolean {
  const parent = getAt(value, path.slice(0, -1));
  return isPlain(parent) && Object.prototype.hasOwnProperty.call(parent, path[path.length - 1] as string);
}

/** Whether setting `path` of `current` to `value` (`{}`: a map) would change nothing. */
function equalAt(current: unknown, path: readonly string[], value: YamlValue): boolean {
  const here = getAt(current, path);
  return isPlain(value) ? isPlain(here) : here === value;
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}

function dotted(path: readonly string[]): string {
  return path.length > 0 ? path.join('.') : 'the document';
}

function keyText(key: unknown): string {
  if (!isScalar(key)) return '?';
  return typeof key.value === 'symbol' ? (key.value.description ?? '?') : String(key.value);
}

function isMergePair(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === 'symbol';
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((item) => isScalar(item.key) && typeof item.key.value !== 'symbol' && String(item.key.value) === key) as
    Pair | undefined;
}
