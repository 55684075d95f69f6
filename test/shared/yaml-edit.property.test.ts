/**
 * A property test of the YAML editor (packages/shared/src/yaml-edit.ts): on generated valid
 * versions.yaml files, in every convention a file may have (LF or CRLF, 2 or 4 spaces, a final
 * newline or none, a byte order mark or none, comments and blank lines, flow maps, quoting,
 * anchors and aliases elsewhere, merge keys), random edits give a text that re-parses to the
 * expected data, in the file's conventions, with every line outside the edited ones unchanged.
 * The files are made with the `yaml` Document API; fixed seed, so every run is the same.
 */
import { describe, expect, it } from '@jest/globals';
import { UserError, YamlEditor, type YamlValue } from '@toolkit/shared';
import fc from 'fast-check';
import { Document, LineCounter, type Node, type Pair, Scalar, type YAMLMap, isAlias, isMap, isScalar, parse, parseDocument } from 'yaml';

type Plain = Record<string, unknown>;

const ENVIRONMENTS = ['dev', 'uat', 'prod', 'qa'] as const;
const SERVICES = ['api', 'web', 'worker.v2', 'db_1'] as const;
const FIELDS = ['version', 'image', 'digest', 'commit', 'deployed_by', 'chart', 'previous'] as const;
const DEFAULTS = { image: 'ghcr.io/acme/base', deployed_by: 'octocat' };
const SHARED_CHART = { name: 'base', version: '0.1.0' };

/** Strings of every kind a scalar can be, among them those YAML would read as something else unquoted. */
const text = fc.oneof(
  fc.constantFrom(
    '1.0.0',
    '1.10',
    '2.0.0-rc.1',
    'yes',
    'null',
    '012',
    '1e3',
    '@scoped',
    'a: b',
    'x #y',
    "it's",
    '"q"',
    '~',
    '',
    ' lead',
    'trail ',
  ),
  fc.string({ maxLength: 12 }),
);
const chart = fc.record({ name: text, version: text }, { requiredKeys: [] });
const release = fc.record(
  { version: text, image: text, digest: text, commit: text, deployed_by: text, chart },
  { requiredKeys: ['version'] },
);
const entry = fc.record(
  { version: text, image: text, digest: text, commit: text, deployed_by: text, chart, previous: release },
  { requiredKeys: ['version'] },
);

const fileSpec = fc.record({
  environments: fc.dictionary(
    fc.constantFrom(...ENVIRONMENTS.slice(0, 3)),
    fc.dictionary(fc.constantFrom(...SERVICES), entry, { maxKeys: 3 }),
    {
      minKeys: 1,
      maxKeys: 3,
    },
  ),
  crlf: fc.boolean(),
  indent: fc.constantFrom(2, 4),
  finalNewline: fc.boolean(),
  bom: fc.boolean(),
  padding: fc.boolean(),
  promotion: fc.boolean(),
  /** `x-base: &base {…}` and `x-copy: *base`: anchors elsewhere. */
  anchors: fc.boolean(),
  /** Services that merge `x-defaults` (`<<: *defaults`). */
  merge: fc.boolean(),
  /** A service whose chart is `*chart`, an alias of `x-chart`. */
  chartAlias: fc.boolean(),
  /** Style choices, taken in turn: flow maps, quoting, comments, blank lines. */
  styles: fc.array(fc.nat(99), { minLength: 64, maxLength: 64 }),
});
type FileSpec = typeof fileSpec extends fc.Arbitrary<infer T> ? T : never;

const operation = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    env: fc.constantFrom(...ENVIRONMENTS),
    service: fc.constantFrom(...SERVICES),
    path: fc.constant([] as string[]),
    value: fc.record({ version: text, image: text, commit: text, chart, previous: release }, { requiredKeys: [] }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    env: fc.constantFrom(...ENVIRONMENTS),
    service: fc.constantFrom(...SERVICES),
    path: fc.constantFrom(['version'], ['digest'], ['chart', 'version'], ['previous', 'version'], ['previous', 'chart', 'name']),
    value: text,
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    env: fc.constantFrom(...ENVIRONMENTS),
    service: fc.constantFrom(...SERVICES),
    path: fc.constantFrom(...FIELDS.map((field) => [field]), ['chart', 'name'], ['previous', 'version'], ['previous', 'chart']),
  }),
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

/** The file's text and the data it holds. */
function build(spec: FileSpec): { text: string; data: Plain } {
  let turn = 0;
  const next = () => spec.styles[turn++ % spec.styles.length] as number;
  const doc = new Document({}, { merge: true });
  const root = doc.contents as YAMLMap;
  const data: Plain = {};
  doc.commentBefore = ' versions.yaml: what runs where (generated)';

  /** A node for `value` in a random style; comments and blank lines only where a block map holds them. */
  const node = (value: unknown, inFlow: boolean): Scalar | YAMLMap => {
    if (typeof value === 'object' && value !== null) {
      const map = doc.createNode({}) as YAMLMap;
      const flow = inFlow || next() < 25;
      map.flow = flow;
      for (const [key, child] of Object.entries(value)) add(map, key, node(child, flow), flow);
      return map;
    }
    const scalar = doc.createNode(value) as Scalar;
    const style = next();
    if (typeof value === 'string') scalar.type = style < 20 ? Scalar.QUOTE_SINGLE : style < 40 ? Scalar.QUOTE_DOUBLE : Scalar.PLAIN;
    if (!inFlow && next() < 15) scalar.comment = ` note ${turn}`;
    return scalar;
  };
  const add = (map: YAMLMap, key: string, value: Node, inFlow: boolean) => {
    const pair = doc.createPair(key, value) as Pair<Scalar, Node>;
    if (!inFlow && next() < 15) pair.key.commentBefore = ` about ${key}`;
    if (!inFlow && next() < 10) pair.key.spaceBefore = true;
    map.items.push(pair as Pair<unknown, unknown>);
  };

  if (spec.promotion) {
    const order = doc.createNode(['dev', 'uat', 'prod']) as Node & { flow: boolean };
    order.flow = true;
    add(root, 'promotion', order, false);
    data.promotion = ['dev', 'uat', 'prod'];
  }
  if (spec.anchors) {
    const base = node({ image: 'ghcr.io/acme/base', tags: 'a b' }, false);
    base.anchor = 'base';
    add(root, 'x-base', base, false);
    add(root, 'x-copy', doc.createAlias(base), false);
    data['x-base'] = { image: 'ghcr.io/acme/base', tags: 'a b' };
    data['x-copy'] = data['x-base'];
  }
  const defaults = node(DEFAULTS, false);
  defaults.anchor = 'defaults';
  if (spec.merge) {
    add(root, 'x-defaults', defaults, false);
    data['x-defaults'] = { ...DEFAULTS };
  }
  const sharedChart = node(SHARED_CHART, false);
  sharedChart.anchor = 'chart';
  if (spec.chartAlias) {
    add(root, 'x-chart', sharedChart, false);
    data['x-chart'] = { ...SHARED_CHART };
  }

  const environments = doc.createNode({}) as YAMLMap;
  add(root, 'environments', environments, false);
  const envData: Plain = {};
  data.environments = envData;
  let merged = 0;
  let aliased = 0;
  for (const [env, services] of Object.entries(spec.environments)) {
    const envMap = doc.createNode({}) as YAMLMap;
    const servicesMap = doc.createNode({}) as YAMLMap;
    servicesMap.flow = Object.keys(services).length === 0;
    add(envMap, 'services', servicesMap, false);
    add(environments, env, envMap, false);
    const servicesData: Plain = {};
    envData[env] = { services: servicesData };
    for (const [service, value] of Object.entries(services)) {
      const own: Plain = { ...value };
      let serviceData: Plain = { ...own };
      const mergeHere = spec.merge && merged++ % 2 === 0;
      const aliasHere = spec.chartAlias && own.chart === undefined && aliased++ === 0;
      if (mergeHere || aliasHere) {
        // Built by hand: a block map with `<<: *defaults` first, or `chart: *chart`.
        const map = doc.createNode({}) as YAMLMap;
        if (mergeHere) {
          add(map, '<<', doc.createAlias(defaults), false);
          serviceData = { ...DEFAULTS, ...own };
        }
        for (const [key, child] of Object.entries(own)) add(map, key, node(child, false), false);
        if (aliasHere) {
          add(map, 'chart', doc.createAlias(sharedChart), false);
          serviceData.chart = { ...SHARED_CHART };
        }
        add(servicesMap, service, map, false);
      } else add(servicesMap, service, node(own, false), false);
      servicesData[service] = serviceData;
    }
  }

  let out = doc.toString({ indent: spec.indent, lineWidth: 0, flowCollectionPadding: spec.padding });
  if (spec.crlf) out = out.replace(/\n/g, '\r\n');
  if (!spec.finalNewline) out = out.replace(/\r?\n$/, '');
  if (spec.bom) out = `\uFEFF${out}`;
  return { text: out, data: JSON.parse(JSON.stringify(data)) as Plain };
}

function setNested(target: Plain, path: readonly string[], value: unknown): void {
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length === 0 && (typeof value !== 'object' || value === null)) {
    target[key] = value;
    return;
  }
  const child = target[key];
  const nextTarget = typeof child === 'object' && child !== null ? (child as Plain) : {};
  target[key] = nextTarget;
  if (rest.length > 0) setNested(nextTarget, rest, value);
  else for (const [childKey, childValue] of Object.entries(value as Plain)) setNested(nextTarget, [childKey], childValue);
}

function deleteNested(target: Plain, path: readonly string[]): void {
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) delete target[key];
  else if (typeof target[key] === 'object' && target[key] !== null) deleteNested(target[key] as Plain, rest);
}

/** Every scalar path an operation writes (a set of a map writes each of its leaves). */
function leaves(path: readonly string[], value: unknown): string[][] {
  if (typeof value !== 'object' || value === null) return [[...path]];
  const all = Object.entries(value as Plain).flatMap(([key, child]) => leaves([...path, key], child));
  return all.length > 0 ? all : [[...path]];
}

/**
 * The lines of the original an edit of `path` may change: the line of the value it sets, the lines
 * of the pair it removes (and its parent's line, which gets `{}` when it was the last), or the
 * lines of a flow map or an alias it writes again. Inserting changes no line of the original.
 */
function editedLines(text: string, path: readonly string[], remove: boolean): Set<number> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true });
  const lines = new Set<number>();
  const allow = (start: number, end: number) => {
    const first = lineCounter.linePos(start).line;
    const last = lineCounter.linePos(Math.max(start, end - 1)).line;
    for (let line = first; line <= last; line++) lines.add(line);
  };
  let node = doc.contents as Node | null;
  let parentKey: number | undefined;
  for (let depth = 0; depth < path.length; depth++) {
    if (!isMap(node)) break;
    const pair = node.items.find((item) => isScalar(item.key) && item.key.value === path[depth]) as Pair<Scalar, Node> | undefined;
    if (!pair) break;
    const value = pair.value;
    const start = pair.key.range?.[0] ?? 0;
    const end = value?.range?.[1] ?? start;
    const rewritten = isAlias(value) || (isMap(value) && value.flow) || (isScalar(value) && value.value === null);
    if (rewritten && !(remove && depth === path.length - 1)) {
      allow(start, end);
      break;
    }
    if (depth < path.length - 1) {
      parentKey = start;
      node = value;
      continue;
    }
    allow(remove ? start : (value?.range?.[0] ?? start), end);
    if (remove) {
      // Removing the last pair of a map leaves `key: {}` on its parent's line.
      if (parentKey !== undefined) allow(parentKey, parentKey + 1);
      // Removing the last lines of a file without a final newline takes the blank lines before them too.
      if (!text.slice(end).includes('\n') && !text.endsWith('\n')) {
        const all = text.split(/\r?\n/);
        for (let line = lineCounter.linePos(start).line - 1; line > 0 && (all[line - 1] as string).trim() === ''; line--) lines.add(line);
      }
    }
    break;
  }
  return lines;
}

/**
 * An alignment of `before` with `after` (identical lines kept, in order) that removes as few lines
 * outside `allowed` (1-based) as can be: those it removes, and the lines it adds.
 */
function changedLines(
  before: readonly string[],
  after: readonly string[],
  allowed: ReadonlySet<number>,
): { removed: number[]; added: string[] } {
  const n = before.length;
  const m = after.length;
  const cost = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  const at = (i: number, j: number) => (cost[i] as Uint32Array)[j] as number;
  for (let i = n; i >= 0; i--)
    for (let j = m; j >= 0; j--) {
      if (i === n) continue;
      const remove = (allowed.has(i + 1) ? 0 : 1) + at(i + 1, j);
      const keep = j < m && before[i] === after[j] ? at(i + 1, j + 1) : Number.POSITIVE_INFINITY;
      const add = j < m ? at(i, j + 1) : Number.POSITIVE_INFINITY;
      (cost[i] as Uint32Array)[j] = Math.min(remove, keep, add);
    }
  const removed: number[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j] && at(i, j) === at(i + 1, j + 1)) {
      i++;
      j++;
    } else if (i < n && at(i, j) === (allowed.has(i + 1) ? 0 : 1) + at(i + 1, j)) removed.push(++i);
    else added.push(after[j++] as string);
  }
  return { removed, added };
}

describe('YamlEditor, as a property', () => {
  it('a random edit of a generated versions.yaml changes only the edited values, in the file’s conventions', () => {
    fc.assert(
      fc.property(fileSpec, fc.array(operation, { minLength: 1, maxLength: 4 }), (spec, operations) => {
        const { text: original, data } = build(spec);
        expect(parse(original, { merge: true })).toEqual(data);

        const editor = new YamlEditor(original, { file: 'env/versions.yaml' });
        const expected = structuredClone(data);
        const allowed = new Set<number>();
        for (const op of operations as Operation[]) {
          const path = ['environments', op.env, 'services', op.service, ...op.path];
          const services = ((expected.environments as Plain)[op.env] as Plain | undefined)?.services as Plain | undefined;
          const service = services?.[op.service] as Plain | undefined;
          if (op.kind === 'delete') {
            const field = op.path[0] as string;
            const inherited =
              spec.merge && field in DEFAULTS && original.includes('<<') && service && isMerged(original, op.env, op.service);
            if (inherited) {
              // A key a merge key gives cannot be removed from the map alone: refused, with file:line:column, and nothing changes.
              expect(() => editor.delete(path)).toThrow(UserError);
              expect(() => editor.delete(path)).toThrow(/^env\/versions\.yaml:\d+:\d+: .* merge key \(<<\)/);
              continue;
            }
            editor.delete(path);
            if (service) deleteNested(expected, path);
            for (const line of editedLines(original, path, true)) allowed.add(line);
          } else {
            editor.set(path, op.value as YamlValue);
            setNested(expected, path, op.value);
            for (const leaf of leaves(path, op.value)) for (const line of editedLines(original, leaf, false)) allowed.add(line);
          }
        }
        const edited = editor.toString();

        // It re-parses to the expected data: the edits, and nothing else.
        expect(parse(edited, { merge: true })).toEqual(JSON.parse(JSON.stringify(expected)));
        // The file's conventions.
        expect(edited.startsWith('\uFEFF')).toBe(spec.bom);
        expect(edited.slice(1).includes('\uFEFF')).toBe(false);
        if (spec.crlf) expect(edited.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
        else expect(edited).not.toContain('\r');
        expect(/\n$/.test(edited)).toBe(spec.finalNewline);
        // Every line outside the edited ones is kept, byte for byte, in order; new lines are indented as the file is.
        const { removed, added } = changedLines(original.split(/\r?\n/), edited.split(/\r?\n/), allowed);
        expect(removed.filter((line) => !allowed.has(line))).toEqual([]);
        for (const line of added) expect((line.length - line.trimStart().length) % spec.indent).toBe(0);
        // With no alias in the way of an edit, there is nothing to tell.
        if (!spec.chartAlias) expect(editor.notes).toEqual([]);
      }),
      { seed: 20261123, numRuns: 300 },
    );
  });
});

/** Whether the service merges the defaults in the original text (the first of every two services does). */
function isMerged(text: string, env: string, service: string): boolean {
  const doc = parseDocument(text, { merge: true });
  const map = doc.getIn(['environments', env, 'services', service], true);
  return isMap(map) && map.items.some((pair) => isScalar(pair.key) && typeof pair.key.value === 'symbol');
}
