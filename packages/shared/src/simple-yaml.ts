/**
 * The bytes `yaml.stringify(value, { lineWidth: 0 })` (yaml 2, core schema) writes, for the shapes
 * the umbrella chart's files have, without building a Document: at 2,000 services the library's
 * stringify is most of umbrella-chart's run (and of its memory).
 *
 * It handles mappings of mappings, sequences (of mappings or scalars), `true`/`false`, and strings
 * that the library writes plain. Anything it is not sure of — a string that would be quoted (one
 * that reads as a number, bool or null, has `: ` or ` #`, starts with an indicator, is empty, ...),
 * a number, undefined, a nested sequence — makes it answer `undefined`, and the caller uses the
 * library for the whole file. So it is never a second, drifting YAML writer: it writes what the
 * library writes or nothing (test/shared/simple-yaml.test.ts compares the two over tricky values).
 */

type Simple = string | boolean | readonly Simple[] | { readonly [key: string]: Simple };

/** Plain strings made of these, starting with a letter, digit or `_`, and not ending in ' ' or ':'. */
const PLAIN_VALUE = /^[A-Za-z0-9_][A-Za-z0-9_./@+=, :~-]*$/;
/** Keys are kept narrower (Helm keys, Chart.yaml fields). */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Plain text the core schema reads as something else than a string: null, bool, int, float. */
const NOT_A_STRING =
  /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

function plain(text: string, pattern: RegExp): boolean {
  return pattern.test(text) && !NOT_A_STRING.test(text) && !/[ :]$/.test(text) && !text.includes(': ') && !text.includes(' #');
}

function isMapping(value: unknown): value is { readonly [key: string]: Simple } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scalar as written after `key: ` or `- `, or undefined if this writer is not sure of it. */
function scalar(value: unknown): string | undefined {
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string' && plain(value, PLAIN_VALUE)) return value;
  return undefined;
}

/**
 * The lines of a mapping's entries at `indent`; `first` prefixes the first line instead of the
 * indent (a sequence item's `- `). Undefined when some part is not for this writer.
 */
function mappingLines(value: { readonly [key: string]: Simple }, indent: string, first = indent): string[] | undefined {
  const lines: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (!plain(key, PLAIN_KEY)) return undefined;
    const lead = lines.length === 0 ? first : indent;
    const inner = `${indent}  `;
    if (Array.isArray(item)) {
      if (item.length === 0) {
        lines.push(`${lead}${key}: []`);
        continue;
      }
      lines.push(`${lead}${key}:`);
      for (const element of item as readonly Simple[]) {
        if (isMapping(element)) {
          if (Object.keys(element).length === 0) return undefined;
          const nested = mappingLines(element, `${inner}  `, `${inner}- `);
          if (!nested) return undefined;
          lines.push(...nested);
        } else {
          const text = scalar(element);
          if (text === undefined) return undefined;
          lines.push(`${inner}- ${text}`);
        }
      }
    } else if (isMapping(item)) {
      if (Object.keys(item).length === 0) {
        lines.push(`${lead}${key}: {}`);
        continue;
      }
      const nested = mappingLines(item, inner);
      if (!nested) return undefined;
      lines.push(`${lead}${key}:`, ...nested);
    } else {
      const text = scalar(item);
      if (text === undefined) return undefined;
      lines.push(`${lead}${key}: ${text}`);
    }
  }
  return lines;
}

/** `yaml.stringify(value, { lineWidth: 0 })` of a top-level mapping, or undefined (use the library). */
export function simpleYaml(value: { readonly [key: string]: unknown }): string | undefined {
  if (!isMapping(value)) return undefined;
  if (Object.keys(value).length === 0) return '{}\n';
  const lines = mappingLines(value as { readonly [key: string]: Simple }, '');
  return lines && `${lines.join('\n')}\n`;
}
