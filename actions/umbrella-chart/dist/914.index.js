export const id = 914;
export const ids = [914];
export const modules = {

/***/ 9914:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  NAME_PATTERN: () => (/* reexport */ NAME_PATTERN),
  VERSIONS_HEADER: () => (/* binding */ VERSIONS_HEADER),
  VERSIONS_SCHEMA: () => (/* reexport */ VERSIONS_SCHEMA),
  compareReleaseVersions: () => (/* binding */ compareReleaseVersions),
  imageRepositoryProblem: () => (/* binding */ imageRepositoryProblem),
  isSemanticVersion: () => (/* binding */ isSemanticVersion),
  parseVersionsFile: () => (/* binding */ parseVersionsFile),
  readVersionsData: () => (/* binding */ readVersionsData),
  releaseVersion: () => (/* binding */ releaseVersion)
});

// EXTERNAL MODULE: ./node_modules/.pnpm/semver@7.8.6/node_modules/semver/functions/parse.js
var parse = __webpack_require__(1817);
// EXTERNAL MODULE: ./packages/shared/lib/versions-data.js + 1 modules
var versions_data = __webpack_require__(2336);
// EXTERNAL MODULE: ./node_modules/.pnpm/yaml@2.9.1/node_modules/yaml/dist/index.js
var dist = __webpack_require__(8009);
// EXTERNAL MODULE: ./packages/shared/lib/errors.js
var lib_errors = __webpack_require__(9929);
;// CONCATENATED MODULE: ./packages/shared/lib/yaml-edit.js


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
class YamlEditor {
    source;
    file;
    document;
    lineCounter = new dist.LineCounter();
    /** What an edit did besides the change asked for (an alias written out), with file:line:column: for the commit message. */
    notes = [];
    bom;
    eol;
    finalNewline;
    indentCache;
    aliasCache;
    jsCache = new Map();
    seq = 0;
    /** Pairs removed, with their lines. */
    removals = new Map();
    /** Block maps that lost pairs, with the pair that holds each (null: the root): one that loses all is written `{}`. */
    shrunk = new Map();
    /** Values written again (keyed by their pair, or ROOT for the document's contents). */
    rewrites = new Map();
    /** Pairs added at the end of a block map, at its keys' indentation, in call order. */
    inserts = new Map();
    /** Keys renamed, by their pair. */
    renames = new Map();
    /** List items removed, and text replaced inside scalars: splices of the source as they are. */
    itemRemovals = [];
    constructor(source, options = {}) {
        this.source = source;
        this.file = options.file ?? 'versions.yaml';
        // uniqueKeys: false, because yaml's own check compares each key with every key before it in its
        // map (quadratic: a 10 MB file took 92 s); parseVersionsFile checks duplicates in linear time.
        this.document = (0,dist.parseDocument)(source, { lineCounter: this.lineCounter, keepSourceTokens: true, uniqueKeys: false, merge: true });
        this.bom = source.startsWith('\uFEFF') ? 1 : 0;
        this.eol = options.eol ?? /\r?\n/.exec(source)?.[0] ?? '\n';
        this.indentCache = options.indentUnit;
        this.finalNewline = source.length === this.bom || source.endsWith('\n');
    }
    /** The indentation step the file uses (its most common step from a key to its child keys), 2 when none. */
    get indentUnit() {
        this.indentCache ??= this.detectIndent();
        return this.indentCache;
    }
    /** Sets `path` to `value`; maps are merged key by key, missing keys and maps are created. */
    set(path, value) {
        for (const [leafPath, leaf] of leaves(path, value))
            this.setLeaf(leafPath, leaf);
    }
    /** Removes the pair at `path` (its lines), if it is there. */
    delete(path) {
        if (path.length === 0)
            return;
        const chain = [];
        let slot = this.rootSlot();
        for (let depth = 0;; depth++) {
            const rest = path.slice(depth);
            const here = path.slice(0, depth);
            const rewrite = slot.item ? undefined : this.rewrites.get(slot.pair ?? ROOT);
            if (rewrite) {
                if (rewrite.kind !== 'scalar')
                    deleteNested(rewrite.value, rest);
                return;
            }
            const node = slot.node;
            const item = this.itemSlot(node, rest[0]);
            if (item) {
                if (rest.length === 1)
                    throw this.typeRefusal(node, here, 'a list', 'a mapping (remove a list item with deleteItem)');
                slot = item;
                continue;
            }
            if ((0,dist.isMap)(node) && !node.flow) {
                chain.push({ node, path: here, pair: slot.pair });
                const key = rest[0];
                const pair = findPair(node, key);
                if (pair && this.removals.has(pair))
                    return;
                if (!pair) {
                    const inserted = this.inserts.get(node)?.pairs;
                    if (inserted && key in inserted)
                        return deleteNested(inserted, rest);
                    const inherited = this.inherited(node, key);
                    if (inherited === undefined)
                        return;
                    if (rest.length === 1)
                        throw this.mergeRefusal(node, path, 'comes from');
                    if (!hasAt(inherited, rest.slice(1)))
                        return;
                    this.refuseShared(chain, path);
                    const pairs = this.insertInto(node);
                    pairs[key] = clone(inherited);
                    return deleteNested(pairs, rest);
                }
                if (rest.length === 1) {
                    if (this.inherited(node, key) !== undefined)
                        throw this.mergeRefusal(node, path, 'is also in');
                    this.refuseShared(chain, path);
                    this.refuseSharedInside(pair.value, path, true);
                    this.remove(pair);
                    this.shrunk.set(node, slot.pair);
                    return;
                }
                slot = this.pairSlot(pair);
                continue;
            }
            if (!(0,dist.isAlias)(node) && !(0,dist.isMap)(node))
                return;
            const current = this.js(node);
            if (!hasAt(current, rest))
                return;
            this.refuseShared([...chain, { node, path: here, pair: slot.pair }], path);
            deleteNested(this.rewriteAsMap(slot, node, current, here).value, rest);
            return;
        }
    }
    /**
     * Renames the key of the pair at `path` (a path may go through block lists by index, as
     * `['jobs', 'build', 'steps', '2', 'with', 'image-ref']`), keeping its value, comments and place.
     */
    renameKey(path, key) {
        const pair = this.pairAt(path);
        if (!pair)
            throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.file}: ${dotted(path)} is not there to rename.`);
        const node = pair.key;
        if (!(0,dist.isScalar)(node) || !node.range)
            throw this.typeRefusal(node, path, 'a key that is not a plain value', 'a plain key');
        const sibling = path.slice(0, -1);
        if (this.pairAt([...sibling, key]))
            throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.where(node.range[0])}: ${dotted([...sibling, key])} is already there.`);
        this.renames.set(pair, { start: node.range[0], end: node.range[1], text: this.scalarText(key, node.type) });
    }
    /**
     * Removes the item at `path` of a block list (its lines), and the comment lines right above it,
     * which describe it: they would otherwise seem to describe the next item.
     */
    deleteItem(path) {
        const list = this.nodeAt(path.slice(0, -1));
        const index = Number(path[path.length - 1]);
        const item = (0,dist.isSeq)(list) && !list.flow ? list.items[index] : undefined;
        if (!item?.range)
            throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.file}: ${dotted(path)} is not an item of a block list.`);
        let start = this.lineStart(item.range[0]);
        const column = this.column(item.range[0]);
        const dash = this.source.lastIndexOf('-', item.range[0]);
        const dashColumn = dash >= start ? dash - start : column;
        for (;;) {
            const above = this.lineStart(start - 1);
            const text = this.source.slice(above, start);
            if (start <= this.bom || !/^[ \t]*#/.test(text) || text.indexOf('#') !== dashColumn)
                break;
            start = above;
        }
        const end = this.lineEnd(item.range[1]);
        this.itemRemovals.push({ start, end, text: '', column: 0, order: this.seq++ });
    }
    /** Replaces matches of `pattern` (global) in the source text of the scalar at `path`, keeping its style (a block scalar stays one). */
    replaceInScalar(path, pattern, replacement) {
        const node = this.nodeAt(path);
        if (!(0,dist.isScalar)(node) || !node.range)
            return false;
        const text = this.source.slice(node.range[0], node.range[1]);
        const replaced = text.replace(pattern, replacement);
        if (replaced === text)
            return false;
        this.itemRemovals.push({ start: node.range[0], end: node.range[1], text: replaced, column: 0, order: this.seq++ });
        return true;
    }
    /** The node at `path` as the file has it (lists by index), or undefined. */
    nodeAt(path) {
        let node = this.document.contents;
        for (const key of path) {
            if ((0,dist.isMap)(node))
                node = findPair(node, key)?.value ?? null;
            else if ((0,dist.isSeq)(node) && /^\d+$/.test(key))
                node = node.items[Number(key)] ?? null;
            else
                return undefined;
            if (node === null)
                return undefined;
        }
        return node ?? undefined;
    }
    pairAt(path) {
        const map = this.nodeAt(path.slice(0, -1));
        return (0,dist.isMap)(map) ? findPair(map, path[path.length - 1]) : undefined;
    }
    /** The slot of a block list's item at index `key`, when `node` is such a list and the item a block map. */
    itemSlot(node, key) {
        if (!(0,dist.isSeq)(node) || node.flow || key === undefined || !/^\d+$/.test(key))
            return undefined;
        const item = node.items[Number(key)];
        if (!(0,dist.isMap)(item) || item.flow)
            throw this.typeRefusal(item ?? node, [key], item ? 'a value' : 'nothing', 'a block mapping');
        const first = item.items[0]?.key;
        return { pair: null, node: item, childColumn: first?.range ? this.column(first.range[0]) : 0, item: true };
    }
    /** The edited text. */
    toString() {
        const splices = [...this.itemRemovals];
        for (const [pair, rename] of this.renames)
            if (!this.removals.has(pair))
                splices.push({ ...rename, column: 0, order: 0 });
        for (const range of this.removals.values())
            splices.push({ ...range, text: '', column: 0, order: 0 });
        for (const [map, holder] of this.shrunk) {
            if (!map.items.every((pair) => this.removals.has(pair)) || Object.keys(this.inserts.get(map)?.pairs ?? {}).length > 0)
                continue;
            // A map with no pairs left is an empty map, not nothing: `key: {}`.
            const key = holder?.key;
            const at = key?.range ? this.source.indexOf(':', key.range[1]) + 1 : this.source.length;
            splices.push({ start: at, end: at, text: key ? ' {}' : this.lines(at, '{}\n'), column: 0, order: 0 });
        }
        for (const [holder, rewrite] of this.rewrites)
            splices.push(...this.renderRewrite(holder, rewrite));
        for (const [map, { pairs, order }] of this.inserts)
            if (Object.keys(pairs).length > 0)
                splices.push(this.renderInsert(map, pairs, order));
        const ordered = splices.sort((a, b) => b.start - a.start || b.end - a.end || a.column - b.column || b.order - a.order);
        let text = this.source;
        let limit = Number.POSITIVE_INFINITY;
        for (const splice of ordered) {
            if (splice.end > limit)
                throw new Error('Overlapping YAML edits');
            text = text.slice(0, splice.start) + splice.text + text.slice(splice.end);
            limit = splice.start;
        }
        return text;
    }
    // ─── Walking to an edit ──────────────────────────────────────────────────────────────────────
    rootSlot() {
        return { pair: null, node: this.document.contents, childColumn: 0 };
    }
    pairSlot(pair) {
        const key = pair.key;
        const keyColumn = key?.range ? this.column(key.range[0]) : 0;
        return { pair, node: pair.value, childColumn: keyColumn + this.indentUnit };
    }
    /** Sets one leaf: a scalar, or `{}` (a map that must exist). */
    setLeaf(path, value) {
        const chain = [];
        let slot = this.rootSlot();
        for (let depth = 0;; depth++) {
            const rest = path.slice(depth);
            const here = path.slice(0, depth);
            const rewrite = slot.item ? undefined : this.rewrites.get(slot.pair ?? ROOT);
            const item = rewrite ? undefined : this.itemSlot(slot.node, rest[0]);
            if (item) {
                if (rest.length === 1)
                    throw this.typeRefusal(slot.node, here, 'a list item', 'a value');
                slot = item;
                continue;
            }
            if (rewrite) {
                if (rewrite.kind === 'scalar') {
                    if (rest.length > 0 || isPlain(value))
                        throw this.typeRefusal(slot.node, here, 'a value', 'a mapping');
                    rewrite.value = value;
                }
                else
                    this.setPlain(rewrite.value, rest, value, slot.node, here);
                return;
            }
            const node = slot.node;
            if ((0,dist.isMap)(node) && !node.flow) {
                if (rest.length === 0) {
                    if (isPlain(value))
                        return;
                    throw this.typeRefusal(node, here, 'a mapping', 'a value');
                }
                chain.push({ node, path: here, pair: slot.pair });
                const key = rest[0];
                const pair = findPair(node, key);
                if (pair && !this.removals.has(pair)) {
                    slot = this.pairSlot(pair);
                    continue;
                }
                const inserted = this.inserts.get(node)?.pairs;
                if (inserted && key in inserted)
                    return this.setPlain(inserted, rest, value, node, here);
                // Missing, or inherited through a merge key: written in the map itself, which overrides it.
                const inherited = this.inherited(node, key);
                if (equalAt(inherited, rest.slice(1), value))
                    return;
                const start = inherited === undefined || rest.length === 1 ? {} : { [key]: clone(inherited) };
                this.setPlain(start, rest, value, node, here);
                this.refuseShared(chain, path);
                Object.assign(this.insertInto(node), start);
                return;
            }
            const holders = node ? [...chain, { node, path: here, pair: slot.pair }] : chain;
            if ((0,dist.isSeq)(node))
                throw this.typeRefusal(node, here, 'a list', rest.length > 0 || isPlain(value) ? 'a mapping' : 'a value');
            if ((0,dist.isAlias)(node) || ((0,dist.isMap)(node) && node.flow)) {
                const current = this.js(node);
                if (equalAt(current, rest, value))
                    return;
                this.refuseShared(holders, path);
                if (rest.length === 0 && !isPlain(value)) {
                    if (isPlain(current) || Array.isArray(current))
                        throw this.typeRefusal(node, here, 'a mapping or list', 'a value');
                    this.rewriteAsScalar(slot, node, here, value);
                    return;
                }
                if (!isPlain(current))
                    throw this.typeRefusal(node, here, 'a value', 'a mapping');
                this.setPlain(clone(current), rest, value, node, here);
                this.setPlain(this.rewriteAsMap(slot, node, current, here).value, rest, value, node, here);
                return;
            }
            // A scalar, or nothing at all.
            const empty = node === null || ((0,dist.isScalar)(node) && node.value === null);
            if (rest.length > 0 || isPlain(value)) {
                if (!empty)
                    throw this.typeRefusal(node, here, 'a value', 'a mapping');
                if (slot.pair === null && node !== null && node.range && node.range[1] > node.range[0])
                    throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.where(node.range[0])}: the YAML document is not a mapping at its top level.`);
                this.refuseShared(holders, path);
                this.rewrite(slot, { kind: 'block', value: {}, column: slot.childColumn });
                this.setPlain(this.rewrites.get(slot.pair ?? ROOT).value, rest, value, node, here);
                return;
            }
            if (slot.pair === null)
                throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.file}: the YAML document is not a mapping at its top level.`);
            if ((0,dist.isScalar)(node) && node.value === value)
                return;
            this.refuseShared(holders, path);
            this.rewrite(slot, { kind: 'scalar', value });
            return;
        }
    }
    /** setNested in a value to be written, refusing (as for the file's own nodes) to put a map where a value is, or the reverse. */
    setPlain(target, path, value, node, here) {
        let current = target;
        for (let depth = 0; depth < path.length; depth++) {
            const next = current[path[depth]];
            const at = [...here, ...path.slice(0, depth + 1)];
            if (next === undefined)
                break;
            const last = depth === path.length - 1;
            if (!isPlain(next) && (!last || isPlain(value)))
                throw this.typeRefusal(node, at, Array.isArray(next) ? 'a list' : 'a value', 'a mapping');
            if (isPlain(next) && last && !isPlain(value))
                throw this.typeRefusal(node, at, 'a mapping', 'a value');
            current = next;
        }
        setNested(target, path, value);
    }
    rewrite(slot, rewrite) {
        const entry = { ...rewrite, order: this.seq++ };
        this.rewrites.set(slot.pair ?? ROOT, entry);
        return entry;
    }
    /** An alias or a flow map about to change: its value, written again (an alias always as a block map). */
    rewriteAsMap(slot, node, current, here) {
        const value = clone(current);
        if ((0,dist.isAlias)(node)) {
            this.noteAlias(node, here);
            return this.rewrite(slot, { kind: 'block', value, column: slot.childColumn });
        }
        // A flow map is written again whole: anchors in it that are used elsewhere would be lost.
        this.refuseSharedInside(node, here, false);
        let aliases = 0;
        (0,dist.visit)(node, { Alias: () => void aliases++ });
        if (aliases > 0)
            this.notes.push(`${this.where(node.range?.[0] ?? 0)}: ${dotted(here)} was written again with its aliases written out in full; their anchors and other uses are unchanged.`);
        return this.rewrite(slot, { kind: 'flow', value, column: slot.childColumn });
    }
    rewriteAsScalar(slot, node, here, value) {
        if ((0,dist.isAlias)(node))
            this.noteAlias(node, here);
        this.rewrite(slot, { kind: 'scalar', value });
    }
    noteAlias(alias, here) {
        const target = this.users().targets.get(alias);
        const anchor = target ? ` (&${alias.source} at ${this.where(this.anchorOffset(target))})` : '';
        this.notes.push(`${this.where(alias.range?.[0] ?? 0)}: ${dotted(here)} was the alias *${alias.source}${anchor}; it is now written out in full with this change, so the anchor and its other uses are unchanged.`);
    }
    insertInto(map) {
        let entry = this.inserts.get(map);
        if (!entry) {
            entry = { pairs: {}, order: this.seq++ };
            this.inserts.set(map, entry);
        }
        return entry.pairs;
    }
    remove(pair) {
        const key = pair.key;
        const value = pair.value;
        let start = this.lineStart(key.range?.[0] ?? 0);
        const end = this.lineEnd(value?.range?.[1] ?? key.range?.[1] ?? 0);
        // The last lines of a file without a final newline: take the line break before them instead
        // (and the blank lines before that), so that the file still ends without one.
        if (end === this.source.length && !this.finalNewline) {
            while (start > this.bom && this.source[start - 1] === '\n') {
                start -= this.source[start - 2] === '\r' ? 2 : 1;
                const blankFrom = this.lineStart(start);
                if (this.source.slice(blankFrom, start).trim() !== '')
                    break;
                start = blankFrom;
            }
        }
        this.removals.set(pair, { start, end });
        // Edits inside what is removed are moot.
        const within = (node) => !!node?.range && node.range[0] >= start && node.range[1] <= end;
        for (const holder of [...this.rewrites.keys()])
            if (holder !== ROOT && within(holder.key))
                this.rewrites.delete(holder);
        for (const map of [...this.inserts.keys()])
            if (within(map))
                this.inserts.delete(map);
    }
    // ─── Anchors, aliases and merge keys ─────────────────────────────────────────────────────────
    /** Every alias by the node it refers to (the last anchor of its name before it), and the other way round. */
    users() {
        if (!this.aliasCache) {
            const users = new Map();
            const targets = new Map();
            const anchors = new Map();
            (0,dist.visit)(this.document, {
                Node: (_key, node) => {
                    if ((0,dist.isAlias)(node)) {
                        const target = anchors.get(node.source);
                        if (!target)
                            return;
                        users.set(target, [...(users.get(target) ?? []), node]);
                        targets.set(node, target);
                    }
                    else if (node.anchor)
                        anchors.set(node.anchor, node);
                },
            });
            this.aliasCache = { users, targets };
        }
        return this.aliasCache;
    }
    /** Refuses a change under a node that an alias elsewhere uses: it would change there too. */
    refuseShared(chain, path) {
        for (const holder of chain) {
            const aliases = holder.node ? this.users().users.get(holder.node) : undefined;
            if (aliases?.length)
                throw this.sharedRefusal(holder, aliases, path);
        }
    }
    /** Refuses to remove or rewrite a node with an anchor inside it (or, with `self`, on it) that an alias uses. */
    refuseSharedInside(node, path, self) {
        if (!node)
            return;
        const { users } = this.users();
        let found;
        (0,dist.visit)(node, {
            Node: (_key, inner, ancestors) => {
                if (inner === node && !self)
                    return undefined;
                if (!users.get(inner)?.length)
                    return undefined;
                const keys = ancestors.filter(dist.isPair).map((pair) => keyText(pair.key));
                const last = ancestors[ancestors.length - 1];
                found = { node: inner, path: [...path, ...keys], pair: (0,dist.isPair)(last) ? last : null };
                return dist.visit.BREAK;
            },
        });
        if (found)
            throw this.sharedRefusal(found, users.get(found.node) ?? [], path);
    }
    sharedRefusal(holder, aliases, path) {
        const anchor = holder.node.anchor;
        const uses = aliases.map((alias) => `${this.where(alias.range?.[0] ?? 0)} (*${anchor}${this.pathOf(alias)})`).join(', ');
        return new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.where(this.anchorOffset(holder.node, holder.pair))}: ${dotted(holder.path)} has the anchor &${anchor}, which ${uses} also ` +
            `use${aliases.length === 1 ? 's' : ''}: changing ${dotted(path)} here would change it there too, so nothing was changed. ` +
            `Write the value out in full in place of *${anchor} where it is used, or make the change by hand.`);
    }
    /** Where `&name` is written: in the pair's separator tokens (`key: &name value`), else the node. */
    anchorOffset(node, pair) {
        const owner = pair ?? this.pairOf(node);
        const token = owner?.srcToken?.sep?.find((part) => part.type === 'anchor');
        return token?.offset ?? node.range?.[0] ?? 0;
    }
    pairOf(node) {
        let owner = null;
        (0,dist.visit)(this.document, {
            Pair: (_key, pair) => {
                if (pair.value === node) {
                    owner = pair;
                    return dist.visit.BREAK;
                }
                return undefined;
            },
        });
        return owner;
    }
    /** ` at a.b.c`, the dotted path of an alias, for a message. */
    pathOf(target) {
        let found = '';
        (0,dist.visit)(this.document, {
            Node: (_key, node, ancestors) => {
                if (node !== target)
                    return undefined;
                const keys = ancestors.filter(dist.isPair).map((pair) => keyText(pair.key));
                found = keys.length > 0 ? ` at ${keys.join('.')}` : '';
                return dist.visit.BREAK;
            },
        });
        return found;
    }
    /** The value `key` gets in `map` from its merge keys (`<<: *defaults`, `<<: [*a, *b]`): the first source that has it. */
    inherited(map, key) {
        for (const pair of map.items) {
            if (!isMergePair(pair))
                continue;
            const value = pair.value;
            for (const source of (0,dist.isSeq)(value) ? value.items : [value]) {
                const data = this.js(source);
                if (isPlain(data) && Object.prototype.hasOwnProperty.call(data, key))
                    return data[key];
            }
        }
        return undefined;
    }
    mergeRefusal(map, path, how) {
        const merge = map.items.find(isMergePair);
        const at = this.where(merge.key.range?.[0] ?? 0);
        return new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', how === 'comes from'
            ? `${at}: ${dotted(path)} comes from the merge key (<<) there, so it cannot be removed from ${dotted(path.slice(0, -1))} alone; nothing was changed. Remove it where it is defined, or stop merging it.`
            : `${at}: ${dotted(path)} is also in the merge key (<<) there, so removing it from ${dotted(path.slice(0, -1))} would bring that value back; nothing was changed. Remove it by hand.`);
    }
    /** The plain value of a node, aliases and merge keys resolved (not to be changed: clone it first). */
    js(node) {
        if (!node)
            return null;
        if (!this.jsCache.has(node))
            this.jsCache.set(node, node.toJS(this.document));
        return this.jsCache.get(node);
    }
    // ─── Writing ─────────────────────────────────────────────────────────────────────────────────
    renderInsert(map, pairs, order) {
        const firstKey = map.items[0]?.key;
        const column = firstKey?.range ? this.column(firstKey.range[0]) : 0;
        const last = map.items[map.items.length - 1];
        const lastNode = (last?.value ?? last?.key);
        const end = lastNode?.range ? this.lineEnd(lastNode.range[1]) : (map.range?.[1] ?? this.source.length);
        return { start: end, end, text: this.lines(end, this.render(pairs, column)), column, order };
    }
    renderRewrite(holder, rewrite) {
        const node = (holder === ROOT ? this.document.contents : holder.value);
        const key = holder === ROOT ? null : holder.key;
        const { order } = rewrite;
        if (rewrite.kind === 'scalar') {
            const text = this.scalarText(rewrite.value, (0,dist.isScalar)(node) ? node.type : dist.Scalar.PLAIN);
            if (node?.range && node.range[1] > node.range[0]) {
                let end = node.range[1];
                while (end > node.range[0] && (this.source[end - 1] === '\n' || this.source[end - 1] === '\r'))
                    end--;
                return [{ start: node.range[0], end, text, column: 0, order }];
            }
            const at = node?.range?.[0] ?? this.source.indexOf(':', key?.range?.[1] ?? 0) + 1;
            return [{ start: at, end: at, text: this.source[at - 1] === ':' ? ` ${text}` : text, column: 0, order }];
        }
        if (rewrite.kind === 'flow' &&
            (0,dist.isMap)(node) &&
            node.flow &&
            node.range &&
            !(node.items.length === 0 && Object.keys(rewrite.value).length > 0)) {
            if (JSON.stringify(rewrite.value) === JSON.stringify(this.js(node)))
                return [];
            // Written as it was spaced: `{a: 1}` or `{ a: 1 }`.
            const padded = this.source[node.range[0] + 1] === ' ';
            const text = (0,dist.stringify)(rewrite.value, { collectionStyle: 'flow', flowCollectionPadding: padded, lineWidth: 0 }).trimEnd();
            return [{ start: node.range[0], end: node.range[1], text: text.replace(/\n/g, this.eol), column: 0, order }];
        }
        // A block mapping below the key: the old value's text (`~`, `{}`, `*alias`) goes, its line's comment stays.
        if (holder === ROOT) {
            const end = this.source.length;
            const old = node?.range && node.range[1] > node.range[0] ? [{ start: node.range[0], end: node.range[1], text: '', column: 0, order }] : [];
            return [...old, { start: end, end, text: this.lines(end, this.render(rewrite.value, 0)), column: 0, order }];
        }
        const splices = [];
        let after = key?.range?.[1] ?? 0;
        if (node?.range && node.range[1] > node.range[0]) {
            let start = node.range[0];
            while (start > 0 && (this.source[start - 1] === ' ' || this.source[start - 1] === '\t'))
                start--;
            splices.push({ start, end: node.range[1], text: '', column: 0, order });
            after = node.range[1];
        }
        else if (node?.range)
            after = node.range[1];
        const end = this.lineEnd(after);
        const text = Object.keys(rewrite.value).length === 0 ? `${' '.repeat(rewrite.column)}{}\n` : this.render(rewrite.value, rewrite.column);
        splices.push({ start: end, end, text: this.lines(end, text), column: rewrite.column, order });
        return splices;
    }
    /**
     * Whole lines (each ending in "\n") to insert at `at`, a line's end, in the file's conventions:
     * its line ending, and no final newline where the file had none.
     */
    lines(at, text) {
        let out = text;
        if (at > this.bom && this.source[at - 1] !== '\n')
            out = `\n${out}`;
        if (at === this.source.length && !this.finalNewline)
            out = out.replace(/\n$/, '');
        return out.replace(/\n/g, this.eol);
    }
    /** Block YAML for `value`, every line indented by `column` spaces, ending with a newline. */
    render(value, column) {
        const text = (0,dist.stringify)(value, { indent: this.indentUnit, lineWidth: 0 });
        return text
            .split('\n')
            .map((line) => (line === '' ? line : `${' '.repeat(column)}${line}`))
            .join('\n');
    }
    /** A scalar in the style the old one had (plain stays plain unless the value would read as another type), on one line. */
    scalarText(value, type) {
        const style = type === dist.Scalar.QUOTE_DOUBLE || type === dist.Scalar.QUOTE_SINGLE ? type : dist.Scalar.PLAIN;
        const text = (0,dist.stringify)(value, { defaultStringType: style, lineWidth: 0 }).trimEnd();
        // A line break would make a block scalar, whose indentation is not this line's: write it as JSON, which YAML reads.
        return text.includes('\n') ? JSON.stringify(value) : text;
    }
    detectIndent() {
        const counts = new Map();
        (0,dist.visit)(this.document, {
            Pair: (_key, pair) => {
                const child = pair.value;
                const key = pair.key;
                if (!(0,dist.isMap)(child) || child.flow || !key?.range)
                    return;
                const first = child.items[0]?.key;
                if (!first?.range)
                    return;
                const step = this.column(first.range[0]) - this.column(key.range[0]);
                if (step > 0)
                    counts.set(step, (counts.get(step) ?? 0) + 1);
            },
        });
        let best = 2;
        let seen = 0;
        for (const [step, count] of counts)
            if (count > seen || (count === seen && step < best))
                [best, seen] = [step, count];
        return best;
    }
    /** The column of an offset, counted from its line's start (after the byte order mark on the first line). */
    column(offset) {
        return offset - this.lineStart(offset);
    }
    lineStart(offset) {
        return Math.max(this.source.lastIndexOf('\n', offset - 1) + 1, this.bom);
    }
    lineEnd(offset) {
        if (offset > 0 && this.source[offset - 1] === '\n')
            return offset;
        const newline = this.source.indexOf('\n', offset);
        return newline < 0 ? this.source.length : newline + 1;
    }
    where(offset) {
        const { line } = this.lineCounter.linePos(offset);
        return `${this.file}:${line}:${this.column(offset) + 1}`;
    }
    typeRefusal(node, path, holds, expected) {
        return new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${this.where(node?.range?.[0] ?? 0)}: ${dotted(path)} holds ${holds} where ${expected} is expected.`);
    }
}
/** The leaves of a set: every scalar with its path, and `{}` for a map that must exist but gets no keys. */
function* leaves(path, value) {
    if (!isPlain(value)) {
        yield [path, value];
        return;
    }
    let any = false;
    for (const [key, child] of Object.entries(value)) {
        if (child === undefined)
            continue;
        any = true;
        yield* leaves([...path, key], child);
    }
    if (!any)
        yield [path, {}];
}
/** Sets `path` in a plain object, merging maps key by key as YamlEditor.set does. */
function setNested(target, path, value) {
    if (path.length === 0)
        return;
    const [key, ...rest] = path;
    if (rest.length > 0 || isPlain(value)) {
        const child = target[key];
        const next = isPlain(child) ? child : {};
        target[key] = next;
        if (rest.length > 0)
            setNested(next, rest, value);
        else
            for (const [childKey, childValue] of Object.entries(value))
                if (childValue !== undefined)
                    setNested(next, [childKey], childValue);
        return;
    }
    target[key] = value;
}
function deleteNested(target, path) {
    const [key, ...rest] = path;
    if (rest.length === 0) {
        delete target[key];
        return;
    }
    const child = target[key];
    if (isPlain(child))
        deleteNested(child, rest);
}
function getAt(value, path) {
    let node = value;
    for (const key of path) {
        if (!isPlain(node) || !Object.prototype.hasOwnProperty.call(node, key))
            return undefined;
        node = node[key];
    }
    return node;
}
function hasAt(value, path) {
    const parent = getAt(value, path.slice(0, -1));
    return isPlain(parent) && Object.prototype.hasOwnProperty.call(parent, path[path.length - 1]);
}
/** Whether setting `path` of `current` to `value` (`{}`: a map) would change nothing. */
function equalAt(current, path, value) {
    const here = getAt(current, path);
    return isPlain(value) ? isPlain(here) : here === value;
}
function isPlain(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
function clone(value) {
    return value === undefined ? undefined : structuredClone(value);
}
function dotted(path) {
    return path.length > 0 ? path.join('.') : 'the document';
}
function keyText(key) {
    if (!(0,dist.isScalar)(key))
        return '?';
    return typeof key.value === 'symbol' ? (key.value.description ?? '?') : String(key.value);
}
function isMergePair(pair) {
    return (0,dist.isScalar)(pair.key) && typeof pair.key.value === 'symbol';
}
function findPair(map, key) {
    return map.items.find((item) => (0,dist.isScalar)(item.key) && typeof item.key.value !== 'symbol' && String(item.key.value) === key);
}

;// CONCATENATED MODULE: ./packages/shared/lib/yaml-schema.js


/**
 * The data of a parsed document, checked against `validate`. Linear in the file's size: duplicate
 * keys are found with one pass over the parsed maps (yaml's own check is quadratic).
 */
function readYamlWithSchema(document, lineCounter, file, validate, options) {
    const position = (offset) => {
        const { line, col } = lineCounter.linePos(offset);
        return `${line}:${col}`;
    };
    const at = (offset) => `${file}:${position(offset)}`;
    if (document.errors.length > 0) {
        const lines = document.errors.map((error) => `${at(error.pos[0])}: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`);
        throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
    }
    const { duplicates, firstAlias } = scan(document.contents);
    if (duplicates.length > 0) {
        const lines = duplicates.map(({ key, offset, first }) => `${at(offset)}: the key ${JSON.stringify(key)} appears again in the same mapping (first at ${position(first)}); keys must be unique`);
        throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
    }
    let data;
    try {
        data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
    }
    catch (error) {
        // yaml's guard against "billion laughs": aliases of aliases that would expand exponentially.
        if (!(error instanceof ReferenceError))
            throw error;
        throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${firstAlias === undefined ? file : `${at(firstAlias)} (the first alias)`}: the aliases (*name) of ${file} expand to too many copies ` +
            `(more than ${MAX_ALIAS_COUNT} uses of one anchor, counting the aliases inside it), as a "billion laughs" attack does; it was not read${options.nothingWritten === false ? '' : ' and nothing was written'}. ` +
            'Write the values out, or use fewer aliases.', { cause: error });
    }
    if (!validate(data)) {
        const root = document.contents;
        // A bad key under propertyNames comes twice from ajv (its pattern, then propertyNames): said once.
        const errors = (validate.errors ?? []).filter((error) => !(error.keyword === 'pattern' && error.propertyName !== undefined));
        const lines = errors.map((error) => {
            const { offset, node } = locate(root, error);
            return `${at(offset)}: ${describe(error, node, options.patternWords)}`;
        });
        throw new lib_errors/* UserError */.yo('INVALID_CONFIGURATION', `${file} does not follow ${options.schema}:\n${[...new Set(lines)].join('\n')}`);
    }
    return data;
}
/** yaml's default: how many times one anchor may be used, counting the aliases inside it. */
const MAX_ALIAS_COUNT = 100;
/**
 * One pass over the document (aliases are not followed): every key that repeats a key of the same
 * mapping (scalar keys, compared by value as yaml compares them), and where the first alias is.
 */
function scan(root) {
    const duplicates = [];
    let firstAlias;
    const stack = [root];
    while (stack.length > 0) {
        const node = stack.pop();
        if ((0,dist.isAlias)(node)) {
            const offset = node.range?.[0];
            if (offset !== undefined && (firstAlias === undefined || offset < firstAlias))
                firstAlias = offset;
        }
        else if ((0,dist.isMap)(node)) {
            const seen = new Map();
            for (const pair of node.items) {
                const key = pair.key;
                if ((0,dist.isScalar)(key)) {
                    const offset = key.range?.[0] ?? 0;
                    const first = seen.get(key.value);
                    if (first === undefined)
                        seen.set(key.value, offset);
                    else
                        duplicates.push({ key: String(key.value), offset, first });
                }
                else
                    stack.push(key);
                stack.push(pair.value);
            }
        }
        else if ((0,dist.isSeq)(node)) {
            for (const item of node.items)
                stack.push((0,dist.isPair)(item) ? item.value : item);
        }
    }
    duplicates.sort((a, b) => a.offset - b.offset);
    return { duplicates, ...(firstAlias === undefined ? {} : { firstAlias }) };
}
/** Where in the source an error is (the offending key for an unknown property, else the value), and its node. */
function locate(root, error) {
    const path = error.instancePath
        .split('/')
        .slice(1)
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (error.keyword === 'additionalProperties' || error.keyword === 'propertyNames') {
        const key = error.params.additionalProperty ??
            error.params.propertyName;
        if (key !== undefined)
            path.push(key);
        return { offset: keyOffset(root, path) };
    }
    const found = walk(root, path);
    return { offset: found.node?.range?.[0] ?? found.key?.range?.[0] ?? 0, node: found.complete ? found.node : undefined };
}
function walk(root, path) {
    let node = root;
    let key;
    for (const part of path) {
        if ((0,dist.isSeq)(node) && /^\d+$/.test(part)) {
            const item = node.items[Number(part)];
            if (item === undefined)
                return { node, key, complete: false };
            node = ((0,dist.isPair)(item) ? item.value : item);
            continue;
        }
        if (!(0,dist.isMap)(node))
            return { node, key, complete: false };
        const pair = node.items.find((item) => ((0,dist.isScalar)(item.key) ? String(item.key.value) : undefined) === part);
        if (!pair)
            return { node, key, complete: false };
        key = pair.key;
        node = pair.value;
    }
    return { node, key, complete: true };
}
function keyOffset(root, path) {
    const { node, key } = walk(root, path);
    return key?.range?.[0] ?? node?.range?.[0] ?? 0;
}
function describe(error, node, patternWords = {}) {
    const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : 'the file';
    switch (error.keyword) {
        case 'additionalProperties':
            return `${where} has an unknown key "${error.params.additionalProperty}"`;
        case 'required':
            return `${where} is missing "${error.params.missingProperty}"`;
        case 'pattern': {
            const words = patternWords[error.params.pattern];
            const value = (0,dist.isScalar)(node) ? ` (${JSON.stringify(node.value)})` : '';
            return words
                ? `${where}${value} is not allowed: expected ${words}`
                : `${where} is not allowed: ${error.message?.replace('must match pattern', 'expected a value matching')}`;
        }
        case 'type':
            return error.params.type === 'string'
                ? `${where} must be a string${notAString(node)}`
                : `${where} must be ${typeWords(error.params.type)}${node !== undefined ? `, not ${kindOf(node)}` : ''}`;
        case 'propertyNames':
            return `${where} has a name that is not allowed (expected lower-case letters, digits, '.', '_' and '-')`;
        default:
            return `${where} ${error.message ?? 'is not valid'}`;
    }
}
/** Why a value is not a string, and what to do: the quoting hint only for what YAML read as a number or boolean. */
function notAString(node) {
    if ((0,dist.isScalar)(node) && (typeof node.value === 'number' || typeof node.value === 'boolean' || typeof node.value === 'bigint')) {
        const source = node.srcToken?.source ?? String(node.value);
        return typeof node.value === 'boolean'
            ? `; YAML reads ${source} as a boolean: put the value in quotes ("${source}")`
            : `; put the value in quotes (YAML reads 1.10 or 1234567 as numbers): "${source}"`;
    }
    if (node === undefined)
        return '';
    return `, not ${kindOf(node)}`;
}
function typeWords(type) {
    const words = { object: 'a mapping', array: 'a list', string: 'a string', null: 'empty', number: 'a number' };
    return (Array.isArray(type) ? type : [type]).map((one) => words[one] ?? one).join(' or ');
}
function kindOf(node) {
    if (node === null || ((0,dist.isScalar)(node) && node.value === null))
        return 'empty (null)';
    if ((0,dist.isSeq)(node))
        return 'a list';
    if ((0,dist.isMap)(node))
        return 'a mapping';
    if ((0,dist.isAlias)(node))
        return `an alias (*${node.source})`;
    if ((0,dist.isScalar)(node))
        return `the ${typeof node.value} ${String(node.value)}`;
    return 'a value of another kind';
}

;// CONCATENATED MODULE: ./packages/shared/lib/versions-schema.js
/** The JSON Schema of versions.yaml (draft-07), documented in docs/versions-yaml.md. */
const NAME_PATTERN = '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$';
/** An RFC 3339 date-time, as deployed_at and committed_at hold it. */
const RFC3339_PATTERN = '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)$';
/** A service's chart: its name, version and repository (each optional). */
const CHART_SCHEMA = {
    type: 'object',
    additionalProperties: false,
    properties: {
        name: { type: 'string', pattern: NAME_PATTERN },
        version: { type: 'string', pattern: '\\S' },
        repository: { type: 'string', pattern: '^(https?|oci)://' },
    },
};
const release = {
    type: 'object',
    required: ['version'],
    additionalProperties: false,
    properties: {
        version: { type: 'string', pattern: '\\S', description: 'The version running, e.g. 1.4.0 (usually the image tag).' },
        image: { type: 'string', pattern: '\\S', description: 'The image repository, e.g. ghcr.io/acme/api.' },
        digest: {
            type: 'string',
            pattern: '^sha256:[a-f0-9]{64}$',
            description: 'The image digest that runs: what is deployed is pinned by it.',
        },
        chart: CHART_SCHEMA,
        commit: { type: 'string', pattern: '^[0-9a-f]{7,64}$', description: 'The source commit.' },
        committed_at: {
            type: 'string',
            pattern: RFC3339_PATTERN,
            description: 'When the source commit was committed (RFC 3339): where lead time for changes starts.',
        },
        deployed_at: {
            type: 'string',
            pattern: RFC3339_PATTERN,
            description: 'When it was released here (RFC 3339).',
        },
        deployed_by: { type: 'string', description: 'Who released it (the GitHub actor).' },
        run_url: { type: 'string', pattern: '^https?://', description: 'The workflow run that released it.' },
    },
};
/** The JSON Schema of versions.yaml (draft-07). */
const VERSIONS_SCHEMA = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/org/toolkit/versions.schema.json',
    title: 'versions.yaml',
    description: 'What runs where: every environment, every service, with version, image, digest, chart, source commit, who released it and when, and the release before.',
    type: 'object',
    required: ['environments'],
    additionalProperties: false,
    patternProperties: { '^x-': {} },
    properties: {
        promotion: {
            type: 'array',
            items: { type: 'string', pattern: NAME_PATTERN },
            uniqueItems: true,
            minItems: 1,
            description: 'Environments from first to last.',
        },
        environments: {
            type: 'object',
            propertyNames: { pattern: NAME_PATTERN },
            additionalProperties: {
                type: 'object',
                additionalProperties: false,
                properties: {
                    services: {
                        type: ['object', 'null'],
                        propertyNames: { pattern: NAME_PATTERN },
                        additionalProperties: { ...release, properties: { ...release.properties, previous: release } },
                    },
                },
            },
        },
    },
};

;// CONCATENATED MODULE: ./packages/shared/lib/versions-file.js
/**
 * versions.yaml: the environment repository's single record of what runs where. Written by
 * actions/promote, read by actions/umbrella-chart; documented in docs/versions-yaml.md.
 */





/** The header of a versions.yaml made by the first bump. */
const VERSIONS_HEADER = `# versions.yaml: what runs where. For every environment and service: the version, image and
# digest, the chart, the source commit, who released it and when, and the release before
# (what a rollback restores). Written by org/toolkit/actions/promote; the schema is in
# docs/versions-yaml.md. Comments and order are kept by every edit.
environments: {}
`;
/**
 * How release version `a` orders against `b` as semantic versions (-1 lower, 0 equal, 1 higher);
 * undefined when either is not one (a tag such as `main-3f2a`), since then no order is known.
 */
function compareReleaseVersions(a, b) {
    const left = parse(a);
    const right = parse(b);
    return left && right ? left.compare(right) : undefined;
}
/**
 * Whether a version is a semantic version (what Helm requires of chart versions). Whitespace is
 * never part of one (the semver package would trim it away: `0.7.0\n` is not 0.7.0).
 */
function isSemanticVersion(text) {
    return !/\s/.test(text) && parse(text) !== null;
}
/**
 * A release version as given to promote: SemVer 2 (1.4.0, 1.4.0-rc.1, 1.4.0+build.5), with one
 * leading `v` accepted and stripped (v1.4.0 is recorded as 1.4.0). Undefined when it is not one:
 * `latest`, `1.4`, `main-3f2a9c`, anything with whitespace or a line break.
 */
function releaseVersion(text) {
    if (/\s/.test(text))
        return undefined;
    const stripped = text.startsWith('v') ? text.slice(1) : text;
    // semver itself takes one more `v`, and `=` in loose mode: neither is a version here.
    if (!/^[0-9]/.test(stripped) || parse(stripped) === null)
        return undefined;
    return stripped;
}
// The image name grammar of distribution/reference (regexp.go), which Docker, containerd and the
// registries share: an optional registry host (upper case allowed there, and a port), then
// lower-case path components; a tag (`:…`) or digest (`@…`) is not part of a repository.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const IMAGE_REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/** distribution/reference's NameTotalLengthMax. */
const IMAGE_NAME_MAX = 255;
/**
 * What is wrong with an image repository (`ghcr.io/acme/api`: no tag, no digest), as a phrase for
 * an error message; undefined when it is one.
 */
function imageRepositoryProblem(image) {
    if (IMAGE_REPOSITORY.test(image) && image.length <= IMAGE_NAME_MAX)
        return undefined;
    if (/[\r\n]/.test(image))
        return 'it contains a line break';
    if (/[\s\p{Cc}]/u.test(image))
        return 'it contains whitespace or a control character';
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image))
        return 'it is a URL; an image repository has no scheme';
    if (image.length > IMAGE_NAME_MAX)
        return `it is ${image.length} characters long; an image name is at most ${IMAGE_NAME_MAX}`;
    const at = image.indexOf('@');
    if (at >= 0)
        return `it has a digest (${JSON.stringify(image.slice(at))}); give the digest in the digest input, not in the image`;
    const last = image.slice(image.lastIndexOf('/') + 1);
    if (last.includes(':'))
        return `it has a tag (${JSON.stringify(last.slice(last.indexOf(':')))}); the tag is what the version input records, not part of the image`;
    const [first, ...rest] = image.split('/');
    const lowered = rest.length > 0 ? [first, ...rest.map((part) => part.toLowerCase())].join('/') : image.toLowerCase();
    if (lowered !== image && IMAGE_REPOSITORY.test(lowered))
        return `its repository path has upper-case letters; image repositories are lower-case (${JSON.stringify(lowered)})`;
    return 'it is not an image reference';
}
/**
 * Parses and validates a versions.yaml. Syntax and schema errors are refused with `file:line:column`
 * and what is wrong, all of them at once. Linear in the file's size: duplicate keys are found with
 * one pass over the parsed maps (yaml's own check is quadratic), and a file over
 * VERSIONS_MAX_BYTES is refused before it is parsed.
 */
function parseVersionsFile(text, file = 'versions.yaml') {
    (0,versions_data/* checkVersionsSize */.ve)(text, file);
    const editor = new YamlEditor(text, { file });
    const data = readYamlWithSchema(editor.document, editor.lineCounter, file, versions_data/* validate */.tf, {
        schema: 'the versions.yaml schema (docs/versions-yaml.md)',
    });
    return { file, editor, data };
}
/**
 * The data of a versions.yaml that is only read (not edited): js-yaml reads a large file about
 * fourteen times faster than the Document API, which is needed only to edit or to say where a
 * problem is. Any problem is therefore reported by parseVersionsFile, with file:line:column.
 */
function readVersionsData(text, file = 'versions.yaml') {
    return (0,versions_data/* readVersionsFast */.Wn)(text, file) ?? parseVersionsFile(text, file).data;
}


/***/ })

};

//# sourceMappingURL=914.index.js.map