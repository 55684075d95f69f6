/**
 * promote: GitOps edits of an environment repository's versions.yaml, safe under concurrency.
 *
 * - bump: set services of an environment to a version (and image, digest, chart version).
 * - promote: copy services from one environment to the next in the promotion order, exactly.
 * - rollback: go back to the release before the current one (or one named), read from the
 *   history of versions.yaml (rollback.ts): a second rollback goes one further back.
 *
 * An edit is a pure function of the file as it is now (`applyRequest`), so every write mode can
 * re-apply it to whatever the file has become: on a rejected push (git), a conflicting ref update
 * (api), nothing is merged as text; the change is computed again on the new file. The file is
 * edited by splicing (comments, order, quoting kept) and validated again before it is written.
 *
 * With an umbrella chart configuration, the edit also regenerates the environment's chart from the
 * edited file (the shared generator of actions/umbrella-chart) and returns both: versions.yaml and
 * the chart land in one commit, or, when the chart cannot be generated, nothing lands.
 */
import {
  type ChartRef,
  type FileHistory,
  type GitOpsOptions,
  InputError,
  type ReadFile,
  type Release,
  type ServiceEntry,
  type UmbrellaConfig,
  type UmbrellaResult,
  UserError,
  VERSIONS_HEADER,
  type VersionsData,
  type YamlValue,
  compareReleaseVersions,
  describeChartChanges,
  generateUmbrella,
  type EditVersionsOptions,
  editVersions,
  readVersionsData,
  readingEdited,
  umbrellaCommitMessage,
} from '@toolkit/shared';
import { type RollbackTarget, noRollbackTarget, rollbackTargets, rollbackTargetsOfFile } from './rollback.js';

export type Operation = 'bump' | 'promote' | 'rollback';

export interface ServiceSpec {
  name: string;
  version?: string;
  digest?: string;
  /** bump: this service's own image and chart fields, over the request's (services-json). */
  image?: string;
  chart?: ChartRef;
}

export interface PromoteRequest {
  operation: Operation;
  /** bump and rollback: the environment; promote: the target. */
  environment: string;
  /** promote: the source environment. */
  from?: string;
  /** bump: name, version and digest; promote and rollback: names (none means every service of `from`, for promote). */
  services: ServiceSpec[];
  image?: string;
  /** bump: the service's chart, recorded as chart.name, chart.version and chart.repository (each kept from before when unset). */
  chartName?: string;
  chartVersion?: string;
  chartRepository?: string;
  /** bump: record a version lower than the one the environment has (refused otherwise). */
  allowDowngrade?: boolean;
  /**
   * bump: leave a service the environment records at a higher version as it is, instead of refusing
   * (a release set that lands after a newer one, its other services still recorded).
   */
  skipOlder?: boolean;
  /** From the input; else the file's `promotion`; else dev, uat, prod. */
  promotionOrder?: string[];
  /**
   * bump: create the environment when the file does not have it and the promotion order does not
   * name it (refused otherwise: a typo such as `qa` must not become an environment).
   */
  createEnvironment?: boolean;
  allowSkip: boolean;
  /** Written with every release. */
  meta: {
    commit?: string;
    /** When the source commit was committed (RFC 3339, UTC), recorded as committed_at with it. */
    commitTime?: string;
    actor?: string;
    runUrl?: string;
    now: string;
  };
}

export interface ServiceChange {
  environment: string;
  service: string;
  before?: ServiceEntry;
  after: ServiceEntry;
}

export interface EditResult {
  text: string;
  changes: ServiceChange[];
  /** Every service the request names, changed or not: `after` is what it is recorded as now. */
  recorded: ServiceChange[];
  /** What was found and done anyway, worth a warning (the same version with another digest). */
  notices: string[];
}

export const DEFAULT_ORDER = ['dev', 'uat', 'prod'];
const RELEASE_FIELDS = ['version', 'image', 'digest', 'chart', 'commit', 'committed_at', 'deployed_at', 'deployed_by', 'run_url'] as const;
const IDENTITY_FIELDS = ['version', 'image', 'digest', 'chart'] as const;

// ─── Inputs ──────────────────────────────────────────────────────────────────────────────────────

const SERVICE_LINE = /^([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)(?:=([^@\s]+)(?:@(sha256:[a-f0-9]{64}))?)?$/;

/** `name=version[@sha256:…]` lines (or bare names, for promote and rollback). */
export function parseServices(lines: readonly string[], needVersion: boolean, input = 'services'): ServiceSpec[] {
  return lines.map((line) => {
    const match = SERVICE_LINE.exec(line.trim());
    if (!match || (needVersion && !match[2])) {
      const expected = needVersion ? 'name=version or name=version@sha256:<64 hex digits>, one per line' : 'a service name, one per line';
      throw new InputError(input, `${JSON.stringify(line)} is not allowed; expected ${expected}.`);
    }
    return { name: match[1] as string, ...(match[2] ? { version: match[2] } : {}), ...(match[3] ? { digest: match[3] } : {}) };
  });
}

// ─── The edit ────────────────────────────────────────────────────────────────────────────────────

function releaseOf(entry: ServiceEntry | undefined): Release | undefined {
  if (!entry) return undefined;
  const { previous: _previous, ...release } = entry;
  return release;
}

function sameRelease(a: Release | undefined, b: Release): boolean {
  return !!a && IDENTITY_FIELDS.every((field) => JSON.stringify(a[field] ?? null) === JSON.stringify(b[field] ?? null));
}

function orderOf(request: PromoteRequest, data: VersionsData): string[] {
  return request.promotionOrder?.length ? request.promotionOrder : (data.promotion ?? DEFAULT_ORDER);
}

function servicesOf(data: VersionsData, environment: string): Record<string, ServiceEntry> {
  return data.environments[environment]?.services ?? {};
}

/** The service's chart after a bump: what it had, with each chart field the bump gives (the service's own first). */
function chartOf(before: ChartRef | undefined, request: PromoteRequest, spec: ServiceSpec): ChartRef | undefined {
  const given: ChartRef = {
    ...(request.chartName ? { name: request.chartName } : {}),
    ...(request.chartVersion ? { version: request.chartVersion } : {}),
    ...(request.chartRepository ? { repository: request.chartRepository } : {}),
    ...spec.chart,
  };
  return Object.keys(given).length > 0 ? { ...before, ...given } : before;
}

/**
 * The releases the request asks for, against the file as it is. A rollback goes to `rollback`'s
 * target for each service (from the file's history); without one, to what the file alone says.
 */
export function planChanges(
  data: VersionsData,
  request: PromoteRequest,
  file: string,
  rollback?: ReadonlyMap<string, RollbackTarget>,
): ServiceChange[] {
  const { environment, meta } = request;
  const deployed = {
    ...(meta.actor ? { deployed_by: meta.actor } : {}),
    deployed_at: meta.now,
    ...(meta.runUrl ? { run_url: meta.runUrl } : {}),
  };
  const current = servicesOf(data, environment);
  const environments = Object.keys(data.environments);
  const requireEnvironment = (name: string, input: string) => {
    if (!data.environments[name]) {
      throw new InputError(
        input,
        `environment "${name}" is not in ${file}; it has ${environments.length > 0 ? environments.join(', ') : 'no environments yet'}.`,
      );
    }
  };

  if (request.operation === 'bump') {
    const order = orderOf(request, data);
    if (!data.environments[environment] && !order.includes(environment) && !request.createEnvironment) {
      throw new InputError(
        'environment',
        `"${environment}" is neither an environment of ${file} (${environments.length > 0 ? environments.join(', ') : 'it has none yet'}) nor in the promotion order (${order.join(', ')}), so nothing was written. ` +
          'Check the name; to create the environment, add it to promotion-order (or the promotion list of the file), or set create-environment: true.',
      );
    }
    return request.services.map((spec) => {
      const before = current[spec.name];
      const version = spec.version as string;
      const older = before !== undefined && compareReleaseVersions(version, before.version) === -1;
      // Unchanged, so left out of the edit; applyRequest says why.
      if (older && request.skipOlder && !request.allowDowngrade) return { environment, service: spec.name, before, after: before };
      if (before && !request.allowDowngrade && older) {
        throw new UserError(
          'REFUSED',
          `service "${spec.name}" in "${environment}" is at ${before.version}; a bump to ${version} would downgrade it (${before.version} → ${version}), so nothing was written. ` +
            `To go back to the release before, use operation: rollback; to record the lower version on purpose, set allow-downgrade: true.`,
        );
      }
      const chart = chartOf(before?.chart, request, spec);
      const image = spec.image || request.image || before?.image;
      const after: ServiceEntry = {
        version,
        ...(image ? { image } : {}),
        // A new version without a digest must not keep the old version's digest.
        ...(spec.digest ? { digest: spec.digest } : before?.digest && before.version === version ? { digest: before.digest } : {}),
        ...(chart ? { chart } : {}),
        ...(meta.commit ? { commit: meta.commit, ...(meta.commitTime ? { committed_at: meta.commitTime } : {}) } : {}),
        ...deployed,
      };
      return { environment, service: spec.name, ...(before ? { before } : {}), after };
    });
  }

  if (request.operation === 'promote') {
    const from = request.from as string;
    requireEnvironment(from, 'from');
    const order = orderOf(request, data);
    for (const [name, input] of [
      [from, 'from'],
      [environment, 'to'],
    ] as const) {
      if (!order.includes(name)) throw new InputError(input, `"${name}" is not in the promotion order (${order.join(', ')}).`);
    }
    const step = order.indexOf(environment) - order.indexOf(from);
    if (step <= 0)
      throw new InputError('to', `"${environment}" does not come after "${from}" in the promotion order (${order.join(', ')}).`);
    if (step > 1 && !request.allowSkip) {
      const skipped = order.slice(order.indexOf(from) + 1, order.indexOf(environment));
      throw new InputError(
        'to',
        `promoting from "${from}" to "${environment}" skips ${skipped.join(', ')} in the promotion order (${order.join(', ')}); promote to ${skipped[0]} first, or set allow-skip: true.`,
      );
    }
    const source = servicesOf(data, from);
    const names = request.services.length > 0 ? request.services.map((spec) => spec.name) : Object.keys(source);
    if (names.length === 0) throw new InputError('from', `environment "${from}" has no services to promote.`);
    const expected = new Map(request.services.map((spec) => [spec.name, spec]));
    return names.map((name) => {
      const entry = source[name];
      if (!entry)
        throw new InputError(
          'services',
          `service "${name}" is not in environment "${from}"; it has ${Object.keys(source).join(', ') || 'none'}.`,
        );
      // A PROD-1.4.0 release must promote what UAT released as 1.4.0, not whatever UAT runs by now.
      const { version, digest } = expected.get(name) ?? {};
      // The input's leading `v` is stripped; a file written before that may still say v1.4.0.
      if ((version && entry.version !== version && entry.version !== `v${version}`) || (digest && entry.digest !== digest)) {
        throw new UserError(
          'REFUSED',
          `service "${name}" in "${from}" is ${entry.version}${entry.digest ? ` (${entry.digest})` : ''}, not the ${[version, digest].filter(Boolean).join(' ')} asked for: ` +
            `nothing was promoted. Release that version to "${from}" first, or promote what it runs without naming a version.`,
        );
      }
      const before = current[name];
      const copied = Object.fromEntries(
        IDENTITY_FIELDS.filter((field) => entry[field] !== undefined).map((field) => [field, entry[field]]),
      );
      const after: ServiceEntry = {
        ...(copied as unknown as Release),
        ...(entry.commit ? { commit: entry.commit } : {}),
        ...(entry.committed_at ? { committed_at: entry.committed_at } : {}),
        ...deployed,
      };
      return { environment, service: name, ...(before ? { before } : {}), after };
    });
  }

  requireEnvironment(environment, 'environment');
  if (request.services.length === 0) throw new InputError('services', 'rollback needs the services to roll back.');
  const targets = rollback ?? rollbackTargetsOfFile(data, environment, request.services);
  return request.services.map((spec) => {
    const { name } = spec;
    const before = current[name];
    if (!before) throw new InputError('services', `service "${name}" is not in environment "${environment}".`);
    const target = targets.get(name);
    if (!target?.release) throw noRollbackTarget(spec, environment, file, target);
    const { deployed_at: _at, deployed_by: _by, run_url: _run, ...restored } = target.release;
    return { environment, service: name, before, after: { ...restored, ...deployed } };
  });
}

/**
 * Applies the request to the file's text (undefined when the file does not exist yet: a bump
 * creates it with a header). Unchanged services are left alone, with no new deployed_at. A
 * rollback goes to `rollback`'s targets (rollbackTargets, from the file's history) when given.
 */
export function applyRequest(
  text: string | undefined,
  request: PromoteRequest,
  file: string,
  rollback?: ReadonlyMap<string, RollbackTarget>,
  options?: EditVersionsOptions,
): EditResult {
  if (text === undefined && request.operation !== 'bump')
    throw new UserError('NOT_FOUND', `${file} does not exist yet; only a bump can create it.`);
  // The edit is a function of the data alone: editVersions may run it twice (each changed entry
  // on its own first, the whole file where that cannot be done), and reads what it wrote back.
  const edit = editVersions(
    text ?? VERSIONS_HEADER,
    file,
    (data, editor) => {
      const recorded = planChanges(data, request, file, rollback);
      const changes = recorded.filter((change) => !sameRelease(change.before, change.after));
      for (const { environment, service, before, after } of changes) {
        const entryPath = ['environments', environment, 'services', service];
        const previous = releaseOf(before);
        const value: Record<string, YamlValue> = {};
        for (const field of RELEASE_FIELDS) if (after[field] !== undefined) value[field] = after[field] as YamlValue;
        if (previous)
          value.previous = Object.fromEntries(
            RELEASE_FIELDS.filter((field) => previous[field] !== undefined).map((field) => [field, previous[field] as YamlValue]),
          );
        editor.set(entryPath, value);
        for (const field of RELEASE_FIELDS) {
          if (before?.[field] !== undefined && after[field] === undefined) editor.delete([...entryPath, field]);
          if (before?.previous?.[field] !== undefined && previous && previous[field] === undefined)
            editor.delete([...entryPath, 'previous', field]);
        }
      }
      return { recorded, changes };
    },
    options,
  );
  const { recorded, changes } = edit.value;
  const notices =
    request.operation === 'bump' ? [...changes.flatMap(rebuiltNotice), ...recorded.flatMap((change) => olderNotice(change, request))] : [];
  const edited = changes.length > 0 ? edit.text : (text ?? '');
  // An alias the edit had to write out in full (the anchor and its other uses untouched) is said, not hidden in the diff.
  return { text: edited, changes, recorded, notices: [...notices, ...(changes.length > 0 ? edit.notes : [])] };
}

/** A bump skipped (skip-older) because the environment already records a higher version. */
function olderNotice({ environment, service, before, after }: ServiceChange, request: PromoteRequest): string[] {
  const asked = request.services.find((spec) => spec.name === service)?.version;
  if (!request.skipOlder || after !== before || !asked || !before) return [];
  return [`service "${service}" in "${environment}" is already at ${before.version}, above ${asked}: left as it is (skip-older).`];
}

/** A bump of the version already there, with another digest: recorded, but said (the image was rebuilt under the same tag). */
function rebuiltNotice({ environment, service, before, after }: ServiceChange): string[] {
  if (!before?.digest || !after.digest || before.version !== after.version || before.digest === after.digest) return [];
  return [
    `service "${service}" in "${environment}" is already at ${after.version}, with digest ${before.digest}; ` +
      `recording ${after.version} again with digest ${after.digest} (the same version, another image). ` +
      `The release before, with the old digest, is kept as previous.`,
  ];
}

// ─── Describing a change ─────────────────────────────────────────────────────────────────────────

function shortDigest(digest: string | undefined): string {
  return digest ? `${digest.slice(0, 'sha256:'.length + 12)}…` : '';
}

export function describeRelease(release: Release | undefined): string {
  if (!release) return '(none)';
  return `${release.version}${release.digest ? ` (${shortDigest(release.digest)})` : ''}`;
}

/** The umbrella chart written with a promotion, and how it was generated. */
export interface ChartWrite {
  config: UmbrellaConfig;
  result: UmbrellaResult;
}

/**
 * The commit message: the services changed (or, when only the chart changed, the chart), then the
 * chart written with them, then the run.
 */
export function commitMessage(request: PromoteRequest, changes: readonly ServiceChange[], chart?: ChartWrite): string {
  const run = request.meta.runUrl ? ['', `Run: ${request.meta.runUrl}`] : [];
  const written = chart?.result.changed ? chart : undefined;
  if (changes.length === 0 && written) return [umbrellaCommitMessage(written.config, written.result), ...run].join('\n');
  const where = request.operation === 'promote' ? `${request.environment} from ${request.from}` : request.environment;
  const subject = `${request.operation}(${where}): ${changes.map((change) => `${change.service} ${change.after.version}`).join(', ')}`;
  const lines = changes.map(
    (change) => `- ${change.environment}/${change.service}: ${describeRelease(change.before)} -> ${describeRelease(change.after)}`,
  );
  const chartLines = written
    ? [
        '',
        `Chart: ${written.config.chartName} ${written.result.chartVersion} in ${written.config.outputDir}`,
        ...describeChartChanges(written.result),
      ]
    : [];
  return [subject, '', ...lines, ...chartLines, ...run].join('\n');
}

/** The changes as a Markdown table: the `diff` output. */
export function diffMarkdown(changes: readonly ServiceChange[]): string {
  if (changes.length === 0) return 'No change.\n';
  const rows = changes.map(
    (change) => `| ${change.environment} | ${change.service} | ${describeRelease(change.before)} | ${describeRelease(change.after)} |`,
  );
  return ['| Environment | Service | Before | After |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}

// ─── Writing (through the shared GitOps write path) ─────────────────────────────────────────────

export interface PromotionEdit {
  edit: GitOpsOptions['edit'];
  /** The services the last attempt changed. */
  changes: () => ServiceChange[];
  /** Every service named, changed or not, as the last attempt left it recorded. */
  recorded: () => ServiceChange[];
  /** The umbrella chart the last attempt generated, with an umbrella configuration. */
  chart: () => UmbrellaResult | undefined;
  /** What the last attempt found and did anyway. */
  notices: () => string[];
}

/**
 * A promotion as an edit for the shared write path (packages/shared gitops): each attempt applies
 * the request to versions.yaml as it is then and, with `umbrella`, regenerates the environment's
 * chart from the file so edited, so that both are written in one commit. A chart that cannot be
 * generated fails the edit before anything is written. The accessors give what the last attempt
 * found.
 */
export function promotionEdit(request: PromoteRequest, file: string, umbrella?: UmbrellaConfig): PromotionEdit {
  let last: { changes: ServiceChange[]; recorded: ServiceChange[]; chart?: UmbrellaResult; notices: string[] } = {
    changes: [],
    recorded: [],
    notices: [],
  };
  return {
    edit: async (read, history) => {
      const current = await read(file);
      const rollback = await rollbackOf(current, request, file, history);
      const { text, changes, recorded, notices } = applyRequest(current, request, file, rollback);
      const files: Record<string, string> = changes.length > 0 ? { [file]: text } : {};
      const chart = umbrella ? await chartOfEdited(readingEdited(read, files), { ...umbrella, versionsFile: file }) : undefined;
      last = { changes, recorded, ...(chart ? { chart } : {}), notices };
      Object.assign(files, chart?.files);
      if (Object.keys(files).length === 0) return undefined;
      return { files, message: commitMessage(request, changes, umbrella && chart ? { config: umbrella, result: chart } : undefined) };
    },
    changes: () => last.changes,
    recorded: () => last.recorded,
    chart: () => last.chart,
    notices: () => last.notices,
  };
}

/** A rollback's targets, from the history of the file (none for another operation, or when the file does not exist). */
async function rollbackOf(
  text: string | undefined,
  request: PromoteRequest,
  file: string,
  history: FileHistory | undefined,
): Promise<ReadonlyMap<string, RollbackTarget> | undefined> {
  if (request.operation !== 'rollback' || text === undefined || !history) return undefined;
  return rollbackTargets(readVersionsData(text, file), request.environment, request.services, file, history);
}

/** The chart of the edited versions.yaml; a chart that cannot be made refuses the whole edit. */
async function chartOfEdited(read: ReadFile, config: UmbrellaConfig): Promise<UmbrellaResult> {
  try {
    return await generateUmbrella(read, config);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new UserError(
      error.code,
      `The umbrella chart of "${config.environment}" cannot be generated, so nothing was committed (${config.versionsFile} and the chart are written together, or not at all): ${error.message}`,
      { cause: error },
    );
  }
}

/**
 * The branch of a promotion in pull-request mode: `promote/<environment>/<service>-<version>`
 * (the first service and how many more, when several). An open pull request for the same
 * environment and single service is reused.
 */
export function promotionBranch(
  environment: string,
  changes: readonly ServiceChange[],
  chart?: UmbrellaResult,
): { branch: string; reusePrefix?: string } {
  // Only the chart changed (versions.yaml already said this): the chart's own branch.
  if (changes.length === 0)
    return { branch: `umbrella/${environment}/${chart?.chartVersion ?? 'next'}`, reusePrefix: `umbrella/${environment}/` };
  const [first] = changes as [ServiceChange];
  if (changes.length > 1) return { branch: `promote/${environment}/${first.service}-${first.after.version}+${changes.length - 1}` };
  return {
    branch: `promote/${environment}/${first.service}-${first.after.version}`,
    reusePrefix: `promote/${environment}/${first.service}-`,
  };
}
