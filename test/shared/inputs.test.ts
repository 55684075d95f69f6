import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, UserError, parseDuration, splitList } from '@toolkit/shared';

function reader(values: Record<string, string>, masked: string[] = []): InputReader {
  return new InputReader({ source: (name) => values[name] ?? '', mask: (secret) => masked.push(secret) });
}

describe('InputReader', () => {
  it('reads strings trimmed, and refuses an empty required one by name', () => {
    expect(reader({ image: '  app:1  ' }).string('image')).toBe('app:1');
    expect(reader({}).string('image')).toBe('');
    expect(() => reader({}).string('image', { required: true })).toThrow('Invalid input "image": a value is required.');
  });

  it('checks a string against a pattern and says what is expected', () => {
    const read = () => reader({ release: 'a b' }).string('release', { pattern: /^\S+$/, expected: 'a word without spaces' });
    expect(read).toThrow('Invalid input "release": "a b" is not allowed; expected a word without spaces.');
  });

  it('reads YAML 1.2 booleans and refuses anything else, naming the value', () => {
    const values = { a: 'true', b: 'False', c: 'TRUE', d: 'yes' };
    expect(reader(values).boolean('a')).toBe(true);
    expect(reader(values).boolean('b')).toBe(false);
    expect(reader(values).boolean('c')).toBe(true);
    expect(reader(values).boolean('missing', true)).toBe(true);
    expect(() => reader(values).boolean('d')).toThrow('Invalid input "d": "yes" is not a boolean; expected true or false.');
  });

  it('reads integers within bounds and names the bounds when out of them', () => {
    expect(reader({ n: '12' }).integer('n', { min: 1, max: 20 })).toBe(12);
    expect(reader({}).integer('n', { fallback: 5 })).toBe(5);
    expect(() => reader({ n: '0' }).integer('n', { min: 1, max: 20 })).toThrow('"0" is not allowed; expected a whole number from 1 to 20.');
    expect(() => reader({ n: '1.5' }).integer('n', { min: 1 })).toThrow('expected a whole number of at least 1.');
    expect(() => reader({ n: '9999999999999999999' }).integer('n')).toThrow('expected a whole number.');
  });

  it('splits lists on commas and newlines, dropping blanks, or on newlines only', () => {
    expect(reader({ l: 'a, b\n\n c,\n' }).list('l')).toEqual(['a', 'b', 'c']);
    expect(reader({ l: 'x=1,2\ny=3' }).list('l', { separator: 'newline' })).toEqual(['x=1,2', 'y=3']);
    expect(splitList('one\r\ntwo')).toEqual(['one', 'two']);
    expect(() => reader({}).list('l', { required: true })).toThrow(InputError);
  });

  it('reads an enum, listing what is allowed when the value is not', () => {
    const allowed = ['critical', 'high', 'none'] as const;
    expect(reader({ f: 'high' }).enum('f', allowed)).toBe('high');
    expect(reader({}).enum('f', allowed, 'critical')).toBe('critical');
    expect(() => reader({ f: 'severe' }).enum('f', allowed)).toThrow(
      'Invalid input "f": "severe" is not allowed; expected one of: critical, high, none.',
    );
    expect(() => reader({}).enum('f', allowed)).toThrow('Invalid input "f": a value is required.');
  });

  it('reads durations with units into milliseconds', () => {
    expect(reader({ t: '5m' }).duration('t')).toBe(300_000);
    expect(reader({ t: '1h30m' }).duration('t')).toBe(5_400_000);
    expect(reader({ t: '250ms' }).duration('t')).toBe(250);
    expect(reader({ t: '90' }).duration('t')).toBe(90_000);
    expect(reader({}).duration('t', 1000)).toBe(1000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(() => reader({ t: '5 minutes' }).duration('t')).toThrow(
      '"5 minutes" is not a duration; expected a number with a unit of ms, s, m, h or d, such as 30s, 5m, 1h30m or 7d.',
    );
  });

  it('masks a secret and each of its lines at once, and never repeats it in an error', () => {
    const masked: string[] = [];
    const key = '-----BEGIN KEY-----\nabcdefgh\n-----END KEY-----\n';
    expect(reader({ key }, masked).secret('key')).toBe(key);
    expect(masked).toEqual([key, '-----BEGIN KEY-----', 'abcdefgh', '-----END KEY-----']);

    const error = (() => {
      try {
        reader({ key: '   ' }, masked).secret('key', { required: true });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe('Invalid input "key": a value is required (this input is secret; it was empty).');
  });
});

describe('InputReader.withAliases (the names of the actions teams migrate from)', () => {
  const aliased = (values: Record<string, string>, masked: string[] = []) =>
    reader(values, masked).withAliases({ image: 'image-ref', 'cosign-version': 'cosign-release', key: 'private-key' });

  it('reads a value given under the alias as the input’s own, and the own name as before', () => {
    expect(aliased({ 'image-ref': 'app:1' }).string('image')).toBe('app:1');
    expect(aliased({ image: 'app:2' }).string('image')).toBe('app:2');
    expect(aliased({ 'cosign-release': 'v3.1.3' }).string('cosign-version')).toBe('v3.1.3');
    expect(aliased({}).string('image')).toBe('');
    // Inputs without an alias are untouched.
    expect(aliased({ 'image-ref': 'app:1', other: 'x' }).string('other')).toBe('x');
  });

  it('refuses both names given, naming both, even when they agree', () => {
    for (const values of [
      { image: 'app:1', 'image-ref': 'app:2' },
      { image: 'app:1', 'image-ref': 'app:1' },
    ]) {
      expect(() => aliased(values).string('image')).toThrow(
        'Invalid input "image": it is given twice, as "image" and as its alias "image-ref"; give only one of them',
      );
    }
    // A blank own value (an action.yml default of '') is not a second value.
    expect(aliased({ image: '  ', 'image-ref': 'app:1' }).string('image')).toBe('app:1');
  });

  it('names the alias in an error about a value given under it, and both in a missing required one', () => {
    expect(() => aliased({ 'image-ref': 'a b' }).string('image', { pattern: /^\S+$/, expected: 'no spaces' })).toThrow(
      'Invalid input "image-ref": "a b" is not allowed; expected no spaces.',
    );
    expect(() => aliased({}).string('image', { required: true })).toThrow(
      'Invalid input "image": a value is required (or its alias "image-ref").',
    );
    expect(aliased({ 'image-ref': 'x' }).nameOf('image')).toBe('image-ref');
    expect(aliased({ image: 'x' }).nameOf('image')).toBe('image');
  });

  it('masks a secret given under its alias, and refuses it given twice without repeating either value', () => {
    const masked: string[] = [];
    expect(aliased({ 'private-key': 'sekrit-value' }, masked).secret('key')).toBe('sekrit-value');
    expect(masked).toEqual(['sekrit-value']);
    let message = '';
    try {
      aliased({ key: 'first-secret', 'private-key': 'second-secret' }).secret('key');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('given twice, as "key" and as its alias "private-key"');
    expect(message).not.toContain('secret-');
  });
});
