import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { simpleYaml } from '../../packages/shared/src/simple-yaml.js';

const library = (value: Record<string, unknown>) => stringify(value, { lineWidth: 0 });

/** Values that yaml writes quoted, or that read back as something else than the string. */
const TRICKY = [
  '',
  ' ',
  'true',
  'True',
  'FALSE',
  'yes',
  'no',
  'on',
  'off',
  'null',
  '~',
  'Null',
  '1',
  '-1',
  '+1',
  '1.2',
  '1.',
  '.5',
  '1e5',
  '1E-3',
  '0x1F',
  '0o17',
  '017',
  '.inf',
  '-.Inf',
  '.nan',
  '1.2.3',
  '0.1.0-rc.1+build.5',
  'v1.2.3',
  'sha256:0123abcdef',
  'https://charts.example/x',
  'oci://ghcr.io/acme/charts',
  'a: b',
  'a:b',
  'trailing:',
  'trailing ',
  ' leading',
  'a #comment',
  'a#b',
  '#x',
  '- x',
  '-x',
  '? x',
  '?x',
  ':x',
  '@x',
  '`x',
  '%x',
  '&x',
  '*x',
  '!x',
  '|x',
  '>x',
  '"x"',
  "'x'",
  "it's",
  'say "hi"',
  '[x]',
  '{x}',
  'a, b',
  ',x',
  'a  b',
  'tab\tin',
  'new\nline',
  'crlf\r\n',
  'é',
  'ünïcödé',
  '日本',
  '🙂',
  'a=b',
  'x~y',
  'CreateNamespace=true',
  'Everything that runs in prod.eu_1, as versions.yaml says.',
];

describe('simpleYaml writes what yaml.stringify writes, or nothing', () => {
  it('matches the library byte for byte on every tricky value it accepts, as a value, a key and a list item', () => {
    let accepted = 0;
    for (const text of TRICKY) {
      for (const value of [
        { key: text },
        { [text]: 'x' },
        { list: [text] },
        { nested: { deeper: text }, items: [{ name: text, on: true }] },
      ]) {
        const fast = simpleYaml(value);
        if (fast === undefined) continue;
        accepted += 1;
        expect({ value, fast }).toEqual({ value, fast: library(value) });
      }
    }
    // Both branches are exercised: most of these are refused, the plain ones are written.
    expect(accepted).toBeGreaterThan(20);
  });

  it('writes the plain strings of a chart itself (numbers-as-strings, URLs, digests), not through the library', () => {
    const chart = {
      apiVersion: 'v2',
      name: 'prod-umbrella',
      description: 'Everything that runs in prod, as versions.yaml says.',
      type: 'application',
      version: '0.1.0',
      dependencies: [
        { name: 'api', version: '1.2.3', repository: 'https://charts.example', condition: 'api.enabled' },
        { name: 'chart-1', version: '0.10.0', repository: 'oci://ghcr.io/acme', alias: 'web_v2', condition: 'web_v2.enabled' },
      ],
    };
    const values = { api: { enabled: true, image: { repository: 'ghcr.io/acme/api', tag: '1.2.3', digest: `sha256:${'0'.repeat(64)}` } } };
    for (const value of [chart, values, { empty: {}, none: [] }, {}]) {
      const fast = simpleYaml(value);
      expect(fast).toBeDefined();
      expect(fast).toBe(library(value));
    }
  });

  it('leaves to the library what it does not handle: numbers, undefined, null, nested lists, empty list items', () => {
    for (const value of [{ a: 1 }, { a: undefined }, { a: null }, { a: [['x']] }, { a: [{}] }, { a: [1] }])
      expect(simpleYaml(value)).toBeUndefined();
  });

  it('agrees with the library on random strings from an alphabet of YAML indicators, digits and unicode', () => {
    const alphabet = fc.constantFrom(...'aZ09_-.:/@+=,~ #!&*?|>\'"%`[]{}\tÿé日🙂eExo'.split(''), ': ', ' #', 'true', 'null', '0x', '.inf');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }), fc.array(alphabet, { minLength: 1, maxLength: 5 }), (valueParts, keyParts) => {
        const value = { [keyParts.join('')]: { image: { tag: valueParts.join('') } }, list: [{ name: valueParts.join('') }] };
        const fast = simpleYaml(value);
        return fast === undefined || fast === library(value);
      }),
      { numRuns: 3000, seed: 16 },
    );
  });
});
