/**
 * editVersions (packages/shared/src/versions-edit.ts) edits each changed service entry on its own
 * where it can; that must write exactly what the whole-file editor writes. On generated valid
 * versions.yaml files in every convention (LF or CRLF, 2 or 4 spaces, a final newline or none, a
 * byte order mark, quoting, flow maps, comments and blank lines anywhere, at any indentation), random
 * edits give the same text both ways, and the short way is taken wherever the file allows it.
 * Files with anchors, aliases, merge keys or tags, and edits outside existing entries, go the
 * whole-file way. Fixed seed, so every run is the same.
 */
import { describe, expect, it } from '@jest/globals';
import { UserError, type VersionsData, type VersionsEditor, type YamlValue, editVersions } from '@toolkit/shared';
import fc from 'fast-check';
import { Document, type Node, type Pair, Scalar, type YAMLMap } from 'yaml';

const ENVIRONMENTS = ['dev', 'uat', 'prod'] as const;
const SERVICES = ['api', 'web', 'worker.v2', 'db_1', 'x'] as const;
const version = fc.constantFrom('1.0.0', '1.10', '2.0.0-rc.1', 'yes', '012', '1e3', "it's", 'a: b', 'x #y', '~', ' lead', 'v3');
const digest = fc.constantFrom(`sha256:${'a'.repeat(64)}`, `sha256:${'0'.repeat(63)}1`);
const commit = fc.constantFrom('abc1234', '0123456789abcdef0123456789abcdef01234567');
const when = fc.constantFrom('2026-11-01T10:00:00Z', '2026-11-23T05:00:00.5+01:00');
const chart = fc.record({ name: fc.constantFrom('api', 'base.v2'), version }, { requiredKeys: [] });
const releaseFields = {
  version,
  image: fc.constantFrom('ghcr.io/acme/api', 'reg:5000/a/b'),
  digest,
  chart,
  commit,
  deployed_at: when,
  deployed_by: fc.constantFrom('octocat', 'yes', ''),
};
const release = fc.record(releaseFields, { requiredKeys: ['version'] });
const entry = fc.record({ ...releaseFields, previous: release }, { requiredKeys: ['version'] });

const fileSpec = fc.record({
  environments: fc.dictionary(fc.constantFrom(...ENVIRONMENTS), fc.dictionary(fc.constantFrom(...SERVICES), entry, { maxKeys: 4 }), {
    minKeys: 1,
    maxKeys: 3,
  }),
  crlf: fc.boolean(),
  indent: fc.constantFrom(2, 4),
  finalNewline: fc.boolean(),
  bom: fc.boolean(),
  promotion: fc.boolean(),
  /** What sends the file the whole-file way: none, an anchor and alias, a merge key, a tag. */
  shared: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'none', 'alias', 'merge', 'tag'),
  /** Style choices, taken in turn: flow maps, quoting, comments, blank lines. */
  styles: fc.array(fc.nat(99), { minLength: 64, maxLength: 64 }),
  /** Comment and blank lines put between lines afterwards: [after line (fraction), indentation, blank]. */
  extraLines: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(14), fc.boolean()), { maxLength: 16 }),
});
type FileSpec = typeof fileSpec extends fc.Arbitrary<infer T> ? T : never;

const operation = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    env: fc.constantFrom(...ENVIRONMENTS),
    service: fc.constantFrom(...SERVICES),
    target: fc.nat(),
    path: fc.constant([] as string[]),
    value: fc.record({ ...releaseFields, previous: release }, { requiredKeys: [] }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    env: fc.constantFrom(...ENVIRONMENTS),
    service: fc.constantFrom(...SERVICES),
    target: fc.nat(),
    path: fc.constantFrom(['version'], ['chart', 'version'], ['previous', 'version'], ['previous', 'chart', 'name']),
    value: fc.constantFrom('1.0.0', '3.1.4', 'base'),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    env: fc.constantFrom(...ENVIRONMENTS),
    service: fc.constantFrom(...SERVICES),
    target: fc.nat(),
    path: fc.constantFrom(['digest'], ['chart'], ['chart', 'name'], ['previous'], ['previous', 'chart'], ['deployed_by']),
  }),
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

function build(spec: FileSpec): string {
  let turn = 0;
  const next = () => spec.styles[turn++ % spec.styles.length] as number;
  const doc = new Document({});
  const root = doc.contents as YAMLMap;
  doc.commentBefore = ' versions.yaml (generated)';
  const node = (value: unknown, inFlow: boolean): Scalar | YAMLMap => {
    if (typeof value === 'object' && value !== null) {
      const map = doc.createNode({}) as YAMLMap;
      const flow = inFlow || next() < 15;
      map.flow = flow;
      // Keys in a random order, so that a nested map is often an entry's last value.
      const entries = Object.entries(value);
      const rotate = next() % Math.max(1, entries.length);
      for (const [key, child] of [...entries.slice(rotate), ...entries.slice(0, rotate)]) add(map, key, node(child, flow), flow);
      return map;
    }
    const scalar = doc.createNode(value) as Scalar;
    const style = next();
    scalar.type = style < 20 ? Scalar.QUOTE_SINGLE : style < 40 ? Scalar.QUOTE_DOUBLE : Scalar.PLAIN;
    if (!inFlow && next() < 15) scalar.comment = ` note ${turn}`;
    return scalar;
  };
  const add = (map: YAMLMap, key: string, value: Node, inFlow: boolean) => {
    const pair = doc.createPair(key, value) as Pair<Scalar, Node>;
    if (!inFlow && next() < 15) pair.key.commentBefore = ` about ${key}`;
    if (!inFlow && next() < 10) pair.key.spaceBefore = true;
    if (next() < 10) pair.key.type = Scalar.QUOTE_DOUBLE;
    map.items.push(pair as Pair<unknown, unknown>);
  };
  if (spec.promotion) {
    const order = doc.createNode(['dev', 'uat', 'prod']) as Node & { flow: boolean };
    order.flow = true;
    add(root, 'promotion', order, false);
  }
  const base = node({ image: 'ghcr.io/acme/base' }, false);
  if (spec.shared === 'alias' || spec.shared === 'merge') {
    base.anchor = 'base';
    add(root, 'x-base', base, false);
    if (spec.shared === 'alias') add(root, 'x-copy', doc.createAlias(base), false);
  }
  if (spec.shared === 'tag') add(root, 'x-tagged', Object.assign(doc.createNode('t') as Scalar, { tag: 'tag:yaml.org,2002:str' }), false);
  const environments = doc.createNode({}) as YAMLMap;
  add(root, 'environments', environments, false);
  for (const [env, services] of Object.entries(spec.environments)) {
    const envMap = doc.createNode({}) as YAMLMap;
    const servicesMap = doc.createNode({}) as YAMLMap;
    servicesMap.flow = Object.keys(services).length === 0;
    add(envMap, 'services', servicesMap, false);
    add(environments, env, envMap, false);
    let first = true;
    for (const [service, value] of Object.entries(services)) {
      const map = node(value, false);
      if (first && spec.shared === 'merge' && !(map as YAMLMap).flow)
        (map as YAMLMap).items.unshift(doc.createPair('<<', doc.createAlias(base)));
      first = false;
      add(servicesMap, service, map, false);
    }
  }
  let out = doc.toString({ indent: spec.indent, lineWidth: 0 });
  const lines = out.split('\n');
  for (const [at, indent, blank] of spec.extraLines) {
    const index = Math.floor(at * (lines.length - 1));
    lines.splice(index, 0, blank ? ' '.repeat(indent % 3) : `${' '.repeat(indent)}# extra ${index}`);
  }
  out = lines.join('\n');
  if (spec.crlf) out = out.replace(/\n/g, '\r\n');
  if (!spec.finalNewline) out = out.replace(/(\r?\n)+$/, '');
  if (spec.bom) out = `\uFEFF${out}`;
  return out;
}

/** The result of editing `text` with `operations` one way, or the refusal's message. */
function run(text: string, operations: readonly Operation[], scoped: boolean) {
  try {
    const result = editVersions(
      text,
      'env/versions.yaml',
      (data: VersionsData, editor) => {
        let blockEntries = true;
        for (const op of operations) {
          const path = ['environments', op.env, 'services', op.service, ...op.path];
          if (data.environments[op.env]?.services?.[op.service] === undefined) blockEntries = false;
          if (op.kind === 'delete') editor.delete(path);
          else editor.set(path, op.value as YamlValue);
        }
        return blockEntries;
      },
      { scoped },
    );
    return { text: result.text, data: result.data, notes: result.notes, scoped: result.scoped, blockEntries: result.value };
  } catch (error) {
    if (error instanceof UserError || (error instanceof Error && /does not read back/.test(error.message)))
      return { refused: error.message.replace(/:\d+:\d+:/g, ':L:C:') };
    throw error;
  }
}

describe('editVersions, as a property', () => {
  it('edits each entry on its own exactly as the whole-file editor edits the file, wherever the file allows it', () => {
    let scopedRuns = 0;
    fc.assert(
      fc.property(fileSpec, fc.array(operation, { minLength: 1, maxLength: 4 }), (spec, generated) => {
        const text = build(spec);
        // Most edits are of entries the file has (where the short way applies), some of others.
        const present = Object.entries(spec.environments).flatMap(([env, services]) =>
          Object.keys(services).map((service) => ({ env, service })),
        );
        const operations: Operation[] = generated.map((op) =>
          op.target % 5 !== 0 && present.length > 0 ? ({ ...op, ...present[op.target % present.length] } as Operation) : op,
        );
        const whole = run(text, operations, false);
        const short = run(text, operations, true);
        if ('refused' in whole) {
          expect(short).toEqual(whole);
          return;
        }
        expect('refused' in short).toBe(false);
        if ('refused' in short) return;
        expect(short.text).toBe(whole.text);
        expect(short.data).toEqual(whole.data);
        expect(whole.scoped).toBe(false);
        const isBlock = (op: Operation) => !new RegExp(`${op.service}"?: *\\{`).test(text);
        if (spec.shared === 'none' && short.blockEntries && operations.every(isBlock) && short.text !== text) {
          expect(short.scoped).toBe(true);
          scopedRuns++;
        }
        if (spec.shared !== 'none') expect(short.scoped).toBe(false);
      }),
      { seed: 20261202, numRuns: 1000 },
    );
    // The short way was really exercised, not given way on every run.
    expect(scopedRuns).toBeGreaterThan(80);
  });

  const bump = (text: string, scoped: boolean, service = 'api') =>
    editVersions(
      text,
      'versions.yaml',
      (_data, editor) => editor.set(['environments', 'uat', 'services', service], { version: '2.0.0', previous: { version: '1.0.0' } }),
      { scoped },
    );
  it.each([
    [
      'a comment deeper than the entry after its last, nested, value',
      'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n        chart:\n          name: api\n            # old chart\n      web:\n        version: 1.0.0\n',
    ],
    [
      'the last entry at the end of a file without a final newline',
      'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0 # pinned',
    ],
    [
      'CRLF, and comments and blank lines after the entry',
      'environments:\r\n  uat:\r\n    services:\r\n      api:\r\n        version: 1.0.0\r\n\r\n  # prod next\r\n  prod:\r\n    services: {}\r\n',
    ],
    [
      'a block scalar last, with lines that look like comments',
      'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n        deployed_by: |\n          me\n\n          # not a comment\n      web:\n        version: 1.0.0\n',
    ],
    ['a quoted key, 4 spaces', 'environments:\n    uat:\n        services:\n            "api":\n                version: \'1.0.0\'\n'],
  ])('%s: the same text both ways', (_name, text) => {
    const short = bump(text, true);
    const whole = bump(text, false);
    expect(short.text).toBe(whole.text);
    expect(whole.text).not.toBe(text);
    expect(short.data.environments.uat?.services?.api).toMatchObject({ version: '2.0.0', previous: { version: '1.0.0' } });
  });

  it('takes the short way on a plain file, and the whole-file way for a new entry, a flow entry or an alias', () => {
    const plain = 'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n      web: {version: 1.0.0}\n';
    expect(bump(plain, true).scoped).toBe(true);
    expect(bump(plain, true, 'new').scoped).toBe(false);
    expect(bump(plain, true, 'web').scoped).toBe(false);
    const aliased = `x-v: &v 1.0.0\n${plain.replace('version: 1.0.0\n      web', 'version: *v\n      web')}`;
    expect(bump(aliased, true).scoped).toBe(false);
    expect(bump(aliased, true).text).toBe(bump(aliased, false).text);
  });

  it("says what is refused with the file's own line, not the line of the entry alone", () => {
    const text = 'environments:\n  uat:\n    services:\n      api:\n        image: ghcr.io/a/b\n        version: 1.0.0\n';
    const refusal = () =>
      editVersions(text, 'versions.yaml', (_data, editor) => editor.set(['environments', 'uat', 'services', 'api', 'version', 'x'], 'y'));
    expect(refusal).toThrow(/^versions\.yaml:6:\d+: environments\.uat\.services\.api\.version holds a value/);
  });

  it('writes the same both ways with a comment or a blank line on any line, at any indentation', () => {
    const base = [
      'environments:',
      '  uat:',
      '    services:',
      '      api:',
      '        version: 1.0.0',
      '        digest: sha256:' + 'a'.repeat(64),
      '        chart:',
      '          name: api',
      '          version: 0.1.0',
      '      web:',
      '        version: 1.0.0',
      '        previous:',
      '          version: 0.9.0',
      '  prod:',
      '    services:',
      '      api:',
      '        version: 1.0.0',
    ];
    const edits: ((editor: VersionsEditor) => void)[] = [
      (editor) => editor.set(['environments', 'uat', 'services', 'api'], { version: '2.0.0', previous: { version: '1.0.0' } }),
      (editor) => editor.set(['environments', 'uat', 'services', 'web', 'previous', 'image'], 'ghcr.io/a/b'),
      (editor) => editor.delete(['environments', 'uat', 'services', 'api', 'chart', 'version']),
      (editor) => editor.set(['environments', 'prod', 'services', 'api', 'commit'], 'abc1234'),
    ];
    let scoped = 0;
    for (let line = 1; line <= base.length; line++)
      for (const extra of [...Array.from({ length: 13 }, (_, indent) => `${' '.repeat(indent)}# c`), '', '   '])
        for (const [index, edit] of edits.entries()) {
          const text = [...base.slice(0, line), extra, ...base.slice(line)].join('\n') + '\n';
          const short = editVersions(text, 'versions.yaml', (_data, editor) => edit(editor));
          const whole = editVersions(text, 'versions.yaml', (_data, editor) => edit(editor), { scoped: false });
          expect({ line, extra, index, text: short.text }).toEqual({ line, extra, index, text: whole.text });
          if (short.scoped) scoped++;
        }
    expect(scoped).toBe(base.length * 15 * edits.length);
  });

  it.each([
    ['a byte order mark, 3 spaces', '\uFEFFenvironments:\n   uat:\n      services:\n         api:\n           version: 1.0.0\n'],
    ['explicit keys elsewhere', 'x-0:\n  ? b\n  : c\nenvironments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n'],
    [
      'an empty block scalar, then a blank line',
      'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n        deployed_by: |\n\n      web:\n        version: "1"\n',
    ],
    ['an explicit entry key', 'environments:\n  uat:\n    services:\n      ?\n        api\n      :\n        version: 1.0.0\n'],
  ])('found by review — %s: the same text both ways, no failure', (_name, text) => {
    expect(bump(text, true).text).toBe(bump(text, false).text);
  });
});
