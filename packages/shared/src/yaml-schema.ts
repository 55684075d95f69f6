/**
 * A YAML file read against a JSON Schema, with every problem reported as `file:line:column` and
 * what is wrong: syntax, keys repeated in a mapping, aliases that expand too far, and schema errors
 * located at the key or value they are about. versions.yaml and the services manifest both read
 * through it.
 */
import type { ErrorObject } from 'ajv';
import { type Document, type LineCounter, type Node, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { UserError } from './errors.js';

/** A generated (ajv standalone) validator. */
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

export interface SchemaReadOptions {
  /** How errors name the schema: "the versions.yaml schema (docs/versions-yaml.md)". */
  schema: string;
  /** Whether the error says nothing was written (true: the readers that write say so). */
  nothingWritten?: boolean;
  /** What a value of each pattern is, in words, said instead of the pattern itself ("a path inside the repository"). */
  patternWords?: Readonly<Record<string, string>>;
}

/**
 * The data of a parsed document, checked against `validate`. Linear in the file's size: duplicate
 * keys are found with one pass over the parsed maps (yaml's own check is quadratic).
 */
export function readYamlWithSchema(
  document: Document.Parsed,
  lineCounter: LineCounter,
  file: string,
  validate: SchemaValidator,
  options: SchemaReadOptions,
): unknown {
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${line}:${col}`;
  };
  const at = (offset: number) => `${file}:${position(offset)}`;
  if (document.errors.length > 0) {
    const lines = document.errors.map(
      (error) => `${at(error.pos[0])}: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
    );
    throw new UserError('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
  }
  const { duplicates, firstAlias } = scan(document.contents as Node | null);
  if (duplicates.length > 0) {
    const lines = duplicates.map(
      ({ key, offset, first }) =>
        `${at(offset)}: the key ${JSON.stringify(key)} appears again in the same mapping (first at ${position(first)}); keys must be unique`,
    );
    throw new UserError('INVALID_CONFIGURATION', `${file} is not valid YAML:\n${lines.join('\n')}`);
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    // yaml's guard against "billion laughs": aliases of aliases that would expand exponentially.
    if (!(error instanceof ReferenceError)) throw error;
    throw new UserError(
      'INVALID_CONFIGURATION',
      `${firstAlias === undefined ? file : `${at(firstAlias)} (the first alias)`}: the aliases (*name) of ${file} expand to too many copies ` +
        `(more than ${MAX_ALIAS_COUNT} uses of one anchor, counting the aliases inside it), as a "billion laughs" attack does; it was not read${options.nothingWritten === false ? '' : ' and nothing was written'}. ` +
        'Write the values out, or use fewer aliases.',
      { cause: error },
    );
  }
  if (!validate(data)) {
    const root = document.contents as Node | null;
    // A bad key under propertyNames comes twice from ajv (its pattern, then propertyNames): said once.
    const errors = (validate.errors ?? []).filter((error) => !(error.keyword === 'pattern' && error.propertyName !== undefined));
    const lines = errors.map((error) => {
      const { offset, node } = locate(root, error);
      return `${at(offset)}: ${describe(error, node, options.patternWords)}`;
    });
    throw new UserError('INVALID_CONFIGURATION', `${file} does not follow ${options.schema}:\n${[...new Set(lines)].join('\n')}`);
  }
  return data;
}

/** yaml's default: how many times one anchor may be used, counting the aliases inside it. */
const MAX_ALIAS_COUNT = 100;

/**
 * One pass over the document (aliases are not followed): every key that repeats a key of the same
 * mapping (scalar keys, compared by value as yaml compares them), and where the first alias is.
 */
function scan(root: Node | null): { duplicates: { key: string; offset: number; first: number }[]; firstAlias?: number } {
  const duplicates: { key: string; offset: number; first: number }[] = [];
  let firstAlias: number | undefined;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      const offset = node.range?.[0];
      if (offset !== undefined && (firstAlias === undefined || offset < firstAlias)) firstAlias = offset;
    } else if (isMap(node)) {
      const seen = new Map<unknown, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key)) {
          const offset = key.range?.[0] ?? 0;
          const first = seen.get(key.value);
          if (first === undefined) seen.set(key.value, offset);
          else duplicates.push({ key: String(key.value), offset, first });
        } else stack.push(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  duplicates.sort((a, b) => a.offset - b.offset);
  return { duplicates, ...(firstAlias === undefined ? {} : { firstAlias }) };
}

/** Where in the source an error is (the offending key for an unknown property, else the value), and its node. */
function locate(root: Node | null, error: ErrorObject): { offset: number; node?: Node | null } {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties' || error.keyword === 'propertyNames') {
    const key =
      (error.params as { additionalProperty?: string; propertyName?: string }).additionalProperty ??
      (error.params as { propertyName?: string }).propertyName;
    if (key !== undefined) path.push(key);
    return { offset: keyOffset(root, path) };
  }
  const found = walk(root, path);
  return { offset: found.node?.range?.[0] ?? found.key?.range?.[0] ?? 0, node: found.complete ? found.node : undefined };
}

function walk(root: Node | null, path: readonly string[]): { node: Node | null; key?: Node; complete: boolean } {
  let node = root;
  let key: Node | undefined;
  for (const part of path) {
    if (isSeq(node) && /^\d+$/.test(part)) {
      const item = node.items[Number(part)];
      if (item === undefined) return { node, key, complete: false };
      node = (isPair(item) ? item.value : item) as Node | null;
      continue;
    }
    if (!isMap(node)) return { node, key, complete: false };
    const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : undefined) === part);
    if (!pair) return { node, key, complete: false };
    key = pair.key as Node;
    node = pair.value as Node | null;
  }
  return { node, key, complete: true };
}

function keyOffset(root: Node | null, path: readonly string[]): number {
  const { node, key } = walk(root, path);
  return key?.range?.[0] ?? node?.range?.[0] ?? 0;
}

function describe(error: ErrorObject, node?: Node | null, patternWords: Readonly<Record<string, string>> = {}): string {
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : 'the file';
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where} has an unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    case 'required':
      return `${where} is missing "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'pattern': {
      const words = patternWords[(error.params as { pattern: string }).pattern];
      const value = isScalar(node) ? ` (${JSON.stringify(node.value)})` : '';
      return words
        ? `${where}${value} is not allowed: expected ${words}`
        : `${where} is not allowed: ${error.message?.replace('must match pattern', 'expected a value matching')}`;
    }
    case 'type':
      return (error.params as { type: string | string[] }).type === 'string'
        ? `${where} must be a string${notAString(node)}`
        : `${where} must be ${typeWords((error.params as { type: string | string[] }).type)}${node !== undefined ? `, not ${kindOf(node)}` : ''}`;
    case 'propertyNames':
      return `${where} has a name that is not allowed (expected lower-case letters, digits, '.', '_' and '-')`;
    default:
      return `${where} ${error.message ?? 'is not valid'}`;
  }
}

/** Why a value is not a string, and what to do: the quoting hint only for what YAML read as a number or boolean. */
function notAString(node: Node | null | undefined): string {
  if (isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean' || typeof node.value === 'bigint')) {
    const source = (node.srcToken as { source?: string } | undefined)?.source ?? String(node.value);
    return typeof node.value === 'boolean'
      ? `; YAML reads ${source} as a boolean: put the value in quotes ("${source}")`
      : `; put the value in quotes (YAML reads 1.10 or 1234567 as numbers): "${source}"`;
  }
  if (node === undefined) return '';
  return `, not ${kindOf(node)}`;
}

function typeWords(type: string | string[]): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', null: 'empty', number: 'a number' };
  return (Array.isArray(type) ? type : [type]).map((one) => words[one] ?? one).join(' or ');
}

function kindOf(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return 'empty (null)';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isAlias(node)) return `an alias (*${node.source})`;
  if (isScalar(node)) return `the ${typeof node.value} ${String(node.value)}`;
  return 'a value of another kind';
}
