import * as core from '@actions/core';
import { InputError } from './errors.js';
import { registerSecret } from './secrets.js';

/** Where input values come from: the runner's `INPUT_*` variables by default, a map in tests. */
export type InputSource = (name: string) => string;

export interface InputReaderOptions {
  source?: InputSource;
  /**
   * Called with every secret value (and each of its lines) as soon as it is read; by default
   * `registerSecret`, so that the value is masked in the job summary as well as in the log.
   */
  mask?: (secret: string) => void;
  /**
   * Other names an input answers to, as own name → alias: the names of the actions teams migrate
   * from (trivy-action's `image-ref` for `image`). See `InputReader.withAliases`.
   */
  aliases?: Readonly<Record<string, string>>;
}

interface Required {
  required?: boolean;
}

/**
 * Typed readers for action inputs. Defaults live in `action.yml`, which the runner (and `toolkit run`)
 * applies; the readers only decide what a value means and refuse what it cannot mean.
 */
export class InputReader {
  private readonly source: InputSource;
  private readonly mask: (secret: string) => void;
  private readonly aliases: Readonly<Record<string, string>>;

  constructor(options: InputReaderOptions = {}) {
    this.source = options.source ?? ((name) => core.getInput(name));
    this.mask = options.mask ?? registerSecret;
    this.aliases = options.aliases ?? {};
  }

  /**
   * This reader, with inputs that also answer to an alias (own name → alias). A value given under
   * the alias is read as the input's own, and errors about it name the alias, as the workflow wrote
   * it. Both given is refused, naming both, even when they agree: one of them is left over from a
   * migration and would be edited alone later. Every action with aliases reads them through this.
   */
  withAliases(aliases: Readonly<Record<string, string>>): InputReader {
    return new InputReader({ source: this.source, mask: this.mask, aliases: { ...this.aliases, ...aliases } });
  }

  /** The name the input was given under: its alias when only that is set, else its own. */
  private given(name: string): string {
    const alias = this.aliases[name];
    if (alias === undefined) return name;
    const own = this.source(name).trim() !== '';
    const aliased = this.source(alias).trim() !== '';
    if (own && aliased) {
      throw new InputError(
        name,
        `it is given twice, as "${name}" and as its alias "${alias}"; give only one of them (the two names mean the same).`,
      );
    }
    return aliased ? alias : name;
  }

  /** The trimmed value, or '' when not set (unless required). */
  string(name: string, options: Required & { pattern?: RegExp; expected?: string } = {}): string {
    const value = this.read(name, options.required);
    if (value !== '' && options.pattern && !options.pattern.test(value)) {
      throw new InputError(
        this.given(name),
        `${show(value)} is not allowed; expected ${options.expected ?? `a value matching ${options.pattern}`}.`,
      );
    }
    return value;
  }

  /** `true`/`false` as YAML 1.2 spells them; an empty value is `fallback`. */
  boolean(name: string, fallback = false): boolean {
    const value = this.read(name, false);
    if (value === '') return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    throw new InputError(this.given(name), `${show(value)} is not a boolean; expected true or false.`);
  }

  integer(name: string, options: Required & { min?: number; max?: number; fallback?: number } = {}): number {
    const value = this.read(name, options.required && options.fallback === undefined);
    if (value === '' && options.fallback !== undefined) return options.fallback;
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
    const parsed = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InputError(this.given(name), `${show(value)} is not allowed; expected a whole number${range(min, max)}.`);
    }
    return parsed;
  }

  /** Items separated by newlines, or also by commas unless `separator: 'newline'`; blank items dropped. */
  list(name: string, options: Required & { separator?: 'newline' | 'comma-or-newline' } = {}): string[] {
    const value = this.read(name, options.required);
    return splitList(value, options.separator ?? 'comma-or-newline');
  }

  /** One of `allowed`; an empty value is `fallback`, or an error when there is none. */
  enum<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = this.read(name, fallback === undefined);
    if (value === '') return fallback as T;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InputError(this.given(name), `${show(value)} is not allowed; expected one of: ${allowed.join(', ')}.`);
    }
    return value as T;
  }

  /** A duration such as `90s`, `5m`, `1h30m` or `7d` (a bare number is seconds), in milliseconds. */
  duration(name: string, fallbackMs?: number): number {
    const value = this.read(name, fallbackMs === undefined);
    if (value === '') return fallbackMs as number;
    const milliseconds = parseDuration(value);
    if (milliseconds === undefined) {
      throw new InputError(
        this.given(name),
        `${show(value)} is not a duration; expected a number with a unit of ms, s, m, h or d, such as 30s, 5m, 1h30m or 7d.`,
      );
    }
    return milliseconds;
  }

  /**
   * A secret, masked before anything else can print it. Each line is masked too, because the runner
   * masks log lines one at a time and would otherwise let the lines of a multi-line key through.
   * Errors about a secret never repeat its value.
   */
  secret(name: string, options: Required = {}): string {
    const given = this.given(name);
    const raw = this.source(given);
    if (raw !== '') {
      this.mask(raw);
      for (const line of raw.split(/\r?\n/)) {
        if (line.trim().length >= 4 && line !== raw) this.mask(line.trim());
      }
    }
    if (raw.trim() === '' && options.required) throw new InputError(given, 'a value is required (this input is secret; it was empty).');
    return raw;
  }

  /** The name an error about this input should use: the one the workflow wrote (own name or alias). */
  nameOf(name: string): string {
    return this.given(name);
  }

  private read(name: string, required: boolean | undefined): string {
    const value = this.source(this.given(name)).trim();
    if (value === '' && required) {
      const alias = this.aliases[name];
      throw new InputError(name, alias === undefined ? 'a value is required.' : `a value is required (or its alias "${alias}").`);
    }
    return value;
  }
}

export function splitList(value: string, separator: 'newline' | 'comma-or-newline' = 'comma-or-newline'): string[] {
  const pattern = separator === 'newline' ? /\r?\n/ : /\r?\n|,/;
  return value
    .split(pattern)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let index = 0;
  while (index < value.length) {
    part.lastIndex = index;
    const match = part.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    index = part.lastIndex;
  }
  return index === 0 ? undefined : Math.round(total);
}

/** A value quoted for an error message, cut short when it is long. */
function show(value: string): string {
  const shown = value.length > 200 ? `${value.slice(0, 200)}…` : value;
  return JSON.stringify(shown);
}

function range(min: number, max: number): string {
  const hasMin = min !== Number.MIN_SAFE_INTEGER;
  const hasMax = max !== Number.MAX_SAFE_INTEGER;
  if (hasMin && hasMax) return ` from ${min} to ${max}`;
  if (hasMin) return ` of at least ${min}`;
  if (hasMax) return ` of at most ${max}`;
  return '';
}
