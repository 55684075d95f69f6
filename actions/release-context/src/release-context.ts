/**
 * release-context: what release a pushed environment tag starts, and whether it may start.
 *
 * `UAT-1.4.0` releases version 1.4.0 to `uat`. An environment's release is refused unless the
 * environment before it in the promotion order (if that one is released by tags) already has the
 * same version tag on the same commit: production only ever gets the commit that passed UAT.
 */
import { InputError, UserError } from '@toolkit/shared';
// The parse function alone: the whole package would add its ranges and comparators to every start-up.
import parseSemver from 'semver/functions/parse.js';

export interface EnvironmentPrefix {
  /** e.g. `UAT-` */
  prefix: string;
  /** e.g. `uat` */
  environment: string;
}

export interface ReleaseContextConfig {
  /** `refs/tags/UAT-1.4.0`, or the tag name alone. */
  ref: string;
  environmentPrefixes: EnvironmentPrefix[];
  /** Environments from first to last; the last is production. */
  promotionOrder: string[];
  /** Require the previous environment's tag at the same commit. */
  promotionGate: boolean;
}

export type Gate =
  { status: 'passed'; tag: string; commit: string } | { status: 'not-required'; reason: string } | { status: 'off'; tag?: string };

export interface ReleaseContext {
  environment: string;
  version: string;
  tag: string;
  commit: string;
  isProduction: boolean;
  previousEnvironment?: string;
  /** The previous environment's tag for this version, e.g. `UAT-1.4.0`, where it has a prefix. */
  previousTag?: string;
  gate: Gate;
}

/** Looks tags up: the commit each points at, or undefined where it does not exist. */
export type TagLookup = (tags: string[]) => Promise<Map<string, string | undefined>>;

const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function parsePromotionOrder(items: string[], input = 'promotion-order'): string[] {
  if (items.length === 0) throw new InputError(input, 'a value is required; expected environments in order, e.g. dev,uat,prod.');
  for (const name of items) {
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new InputError(input, `${JSON.stringify(name)} is not an environment name; expected lower-case letters, digits, - and _.`);
    }
  }
  const repeated = items.find((name, index) => items.indexOf(name) !== index);
  if (repeated) throw new InputError(input, `${JSON.stringify(repeated)} appears twice; each environment comes once in the order.`);
  return items;
}

/** `UAT-=uat` items into prefixes, each naming an environment of the promotion order. */
export function parseEnvironmentPrefixes(items: string[], order: readonly string[], input = 'environment-prefixes'): EnvironmentPrefix[] {
  const prefixes = items.map((item) => {
    const equals = item.lastIndexOf('=');
    const prefix = item.slice(0, equals).trim();
    const environment = item.slice(equals + 1).trim();
    if (equals <= 0 || prefix === '' || environment === '') {
      throw new InputError(input, `${JSON.stringify(item)} is not allowed; expected prefix=environment, e.g. UAT-=uat.`);
    }
    if (!order.includes(environment)) {
      throw new InputError(
        input,
        `${JSON.stringify(item)} names environment "${environment}", which is not in the promotion order (${order.join(', ')}).`,
      );
    }
    return { prefix, environment };
  });
  if (prefixes.length === 0)
    throw new InputError(input, 'a value is required; expected prefix=environment items, e.g. UAT-=uat,PROD-=prod.');
  for (const field of ['prefix', 'environment'] as const) {
    const values = prefixes.map((entry) => entry[field]);
    const repeated = values.find((value, index) => values.indexOf(value) !== index);
    if (repeated) throw new InputError(input, `${field} "${repeated}" appears twice.`);
  }
  return prefixes;
}

/** The environment, version and tag name of an environment tag ref; anything else is refused. */
export function parseEnvironmentTag(
  ref: string,
  prefixes: readonly EnvironmentPrefix[],
): { tag: string; environment: string; version: string } {
  const examples = prefixes.map((entry) => `${entry.prefix}1.4.0`).join(' or ');
  if (ref.startsWith('refs/') && !ref.startsWith('refs/tags/')) {
    throw new InputError('ref', `${JSON.stringify(ref)} is not a tag; a release starts from a pushed environment tag such as ${examples}.`);
  }
  const tag = ref.replace(/^refs\/tags\//, '');
  // The longest matching prefix wins, so `PROD-EU-` is not read as `PROD-` with version `EU-…`.
  const match = [...prefixes].sort((a, b) => b.prefix.length - a.prefix.length).find((entry) => tag.startsWith(entry.prefix));
  if (!match) {
    const known = prefixes.map((entry) => `${entry.prefix} (${entry.environment})`).join(', ');
    throw new InputError(
      'ref',
      `${JSON.stringify(tag)} is not an environment tag; expected a tag starting with one of: ${known}, such as ${examples}.`,
    );
  }
  const version = tag.slice(match.prefix.length);
  if (!/^\d/.test(version) || parseSemver(version) === null) {
    throw new InputError(
      'ref',
      `the version ${JSON.stringify(version)} of tag ${JSON.stringify(tag)} is not semantic versioning; expected MAJOR.MINOR.PATCH such as ${match.prefix}1.4.0 or ${match.prefix}1.4.0-rc.1.`,
    );
  }
  return { tag, environment: match.environment, version };
}

export async function resolveReleaseContext(config: ReleaseContextConfig, lookupTags: TagLookup): Promise<ReleaseContext> {
  const { tag, environment, version } = parseEnvironmentTag(config.ref, config.environmentPrefixes);
  const order = config.promotionOrder;
  const position = order.indexOf(environment);
  const previousEnvironment = position > 0 ? order[position - 1] : undefined;
  const previousPrefix = config.environmentPrefixes.find((entry) => entry.environment === previousEnvironment)?.prefix;
  const previousTag = previousPrefix === undefined ? undefined : `${previousPrefix}${version}`;

  const commits = await lookupTags(previousTag && config.promotionGate ? [tag, previousTag] : [tag]);
  const commit = commits.get(tag);
  if (!commit) throw new UserError('NOT_FOUND', `Tag ${tag} was not found, neither in the repository nor on its remote.`);

  let gate: Gate;
  if (!config.promotionGate) gate = { status: 'off', ...(previousTag ? { tag: previousTag } : {}) };
  else if (previousEnvironment === undefined)
    gate = { status: 'not-required', reason: `${environment} is the first environment of the promotion order` };
  else if (previousTag === undefined)
    gate = { status: 'not-required', reason: `${previousEnvironment}, the environment before ${environment}, is not released by tags` };
  else {
    const previousCommit = commits.get(previousTag);
    const howToFix = `Release ${version} to ${previousEnvironment} first by pushing ${previousTag} at ${commit.slice(0, 12)}; or set promotion-gate: false.`;
    if (!previousCommit) {
      throw new UserError(
        'REFUSED',
        `${tag} is refused: ${environment} only takes a version that ${previousEnvironment} has, and ${previousTag} does not exist. ${howToFix}`,
      );
    }
    if (previousCommit !== commit) {
      throw new UserError(
        'REFUSED',
        `${tag} is refused: it points at ${commit.slice(0, 12)}, but ${previousTag} points at ${previousCommit.slice(0, 12)}; ${environment} must release exactly the commit that ${previousEnvironment} released.`,
      );
    }
    gate = { status: 'passed', tag: previousTag, commit: previousCommit };
  }

  return {
    environment,
    version,
    tag,
    commit,
    isProduction: position === order.length - 1,
    ...(previousEnvironment ? { previousEnvironment } : {}),
    ...(previousTag ? { previousTag } : {}),
    gate,
  };
}
