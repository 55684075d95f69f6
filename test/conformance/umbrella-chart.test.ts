/**
 * Conformance of what umbrella-chart writes, over a corpus of environments that includes the names
 * versions.yaml allows and Helm or Kubernetes do not take as they are (api.v2, prod.eu_1, names
 * longer than 63 characters):
 *
 * - every `Chart.yaml` against Helm's chart metadata rules as Helm's source states them, checked
 *   here without a helm binary (the rules re-stated, not Helm's code copied), from helm/helm at
 *   e9b85e4de16ad45805843fb121748018cf89094b:
 *   - pkg/chart/v2/metadata.go, Metadata.Validate: apiVersion and name required, name neither "."
 *     nor ".." and its own filepath.Base, version required and SemVer, type "", application or
 *     library, strings that sanitizeString leaves as they are (printable, no whitespace but ' '),
 *     one dependency per name or alias;
 *   - pkg/chart/v2/dependency.go, Dependency.Validate, with pkg/chart/v2/chart.go, aliasNameFormat:
 *     an alias matches ^[a-zA-Z0-9_-]+$;
 *   - pkg/chart/v2/lint/rules/chartfile.go (helm lint): apiVersion v1 or v2, version and appVersion
 *     strings, version > 0.0.0-0 and (a warning there, required here) strict SemVer 2, dependencies
 *     and type only with apiVersion v2; pkg/chart/v2/util/chartfile.go, StrictLoadChartfile: no
 *     field Metadata does not have;
 *   - pkg/chart/v2/lint/rules/dependencies.go, validateDependenciesUnique;
 *   - pkg/chart/v2/util/dependencies.go, processDependencyConditions, with pkg/chart/common/values.go,
 *     PathValue: a condition is a path split on '.', and must lead to a boolean in values.yaml;
 *     a subchart's values are those under its alias (or name).
 * - every `application.yaml` against Argo CD's own Application CRD (../shared/fixtures/argocd, its
 *   openAPIV3Schema, with unknown fields refused as `kubectl apply --validate=strict` refuses them),
 *   and its names against Kubernetes' (k8s.io/apimachinery pkg/util/validation/validation.go: a
 *   custom resource's name is a DNS-1123 subdomain, a namespace a DNS-1123 label). Skipped, saying
 *   so, when ../shared is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { InputReader, type ReadFile, type UmbrellaConfig, generateUmbrella, readUmbrellaConfig } from '@toolkit/shared';
import { Ajv, type AnySchema } from 'ajv';
import semverGt from 'semver/functions/gt.js';
import { parse } from 'yaml';
import { ROOT } from '../support/harness.js';

const CRD = path.join(ROOT, '..', 'shared', 'fixtures', 'argocd', 'application-crd.yaml');
const crdPresent = existsSync(CRD);
if (!crdPresent)
  console.warn(
    `Conformance of application.yaml with Argo CD's Application CRD is SKIPPED: ${CRD} is absent (../shared is not beside this checkout).`,
  );

// ─── the corpus ──────────────────────────────────────────────────────────────────────────────────

const LONG = `team-${'a'.repeat(60)}.eu`;
const TRICKY = `environments:
  prod.eu_1:
    services:
      api.v2: {version: 2.0.0, image: ghcr.io/acme/api, digest: sha256:${'a'.repeat(64)}, chart: {name: api, version: 1.0.0}}
      cache.redis: {version: 7.2.4, chart: {version: 19.0.1, repository: https://charts.bitnami.example}}
      web_front: {version: 1.0.0-rc.1, chart: {name: web.front, version: 0.3.0+build.7, repository: oci://ghcr.io/acme/charts}}
  ${LONG}:
    services:
      orders.v1: {version: 3.0.0, chart: {name: microservice, version: 4.1.0}}
      orders.v2: {version: 3.1.0, chart: {name: microservice, version: 4.2.0}}
  empty:
    services: {}
`;

interface Case {
  label: string;
  versions: string;
  environment: string;
  inputs: Record<string, string>;
}

const fixture = readFileSync(path.join(ROOT, 'test', 'fixtures', 'umbrella', 'versions.yaml'), 'utf8');
const CASES: Case[] = [
  ...['uat', 'prod'].map((environment) => ({ label: `fixture ${environment}`, versions: fixture, environment, inputs: {} })),
  ...['prod.eu_1', LONG, 'empty'].flatMap((environment) => [
    { label: `${environment}`, versions: TRICKY, environment, inputs: {} },
    { label: `${environment}, content-hash`, versions: TRICKY, environment, inputs: { 'chart-version': 'content-hash' } },
  ]),
  {
    label: 'prod.eu_1 with a chart name Helm takes and Kubernetes does not',
    versions: TRICKY,
    environment: 'prod.eu_1',
    inputs: { 'chart-name': 'shop.eu_1', 'argocd-namespace': 'shop-eu', 'argocd-target-revision': 'v1.2.3' },
  },
];

function configOf(testCase: Case): UmbrellaConfig {
  const values: Record<string, string> = { repository: 'https://charts.acme.example', argocd: 'true', ...testCase.inputs };
  return readUmbrellaConfig(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }), {
    prefix: '',
    environment: testCase.environment,
    versionsFile: 'versions.yaml',
    sourceCommit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
    defaultRepoUrl: 'https://github.com/acme/environments.git',
  });
}

/** Every chart of the corpus: as first written, and as rewritten after a pin moved. */
async function generated(): Promise<{ label: string; chart: string; values: string; application: string }[]> {
  const out = [];
  for (const testCase of CASES) {
    const config = configOf(testCase);
    const files: Record<string, string> = { 'versions.yaml': testCase.versions };
    const read: ReadFile = async (file) => files[file];
    const first = await generateUmbrella(read, config);
    Object.assign(files, first.files);
    files['versions.yaml'] = testCase.versions.replace(/version: 2\.0\.0,/, 'version: 2.0.1,').replace('version: 3.0.0', 'version: 3.0.1');
    const second = await generateUmbrella(read, config);
    for (const [when, result] of [
      ['first', first],
      ['after a change', second],
    ] as const) {
      if (!result.changed) continue;
      const at = (name: string) => result.files[`${config.outputDir}/${name}`] as string;
      out.push({
        label: `${testCase.label} (${when})`,
        chart: at('Chart.yaml'),
        values: at('values.yaml'),
        application: at('application.yaml'),
      });
    }
  }
  return out;
}

// ─── Helm's rules ────────────────────────────────────────────────────────────────────────────────

/** The fields of Metadata and of Dependency (their json tags): StrictLoadChartfile refuses any other. */
const METADATA_FIELDS = new Set([
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
]);
const DEPENDENCY_FIELDS = new Set(['name', 'version', 'repository', 'condition', 'tags', 'enabled', 'import-values', 'alias']);
const ALIAS = /^[a-zA-Z0-9_-]+$/;
/** SemVer 2 (semver.org's own expression), what lint's StrictNewVersion accepts. */
const SEMVER2 =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What sanitizeString would change: characters Go's unicode.IsPrint refuses, and whitespace other than ' '. */
const unsanitized = (text: string) => /(?! )[\p{C}\p{Z}]/u.test(text);

/** Every way a Chart.yaml (with its values.yaml) breaks Helm's rules; empty when it keeps them. */
function helmChartProblems(chartText: string, valuesText: string): string[] {
  const problems: string[] = [];
  const chart: unknown = parse(chartText, { uniqueKeys: true });
  const values: unknown = parse(valuesText, { uniqueKeys: true }) ?? {};
  if (!isMapping(chart)) return ['Chart.yaml is not a mapping'];
  for (const key of Object.keys(chart)) if (!METADATA_FIELDS.has(key)) problems.push(`unknown field ${key} (StrictLoadChartfile)`);

  // Types, as lint's isStringValue and the Go struct would have them.
  for (const key of [
    'name',
    'version',
    'apiVersion',
    'appVersion',
    'description',
    'type',
    'condition',
    'tags',
    'kubeVersion',
    'home',
    'icon',
  ])
    if (key in chart && typeof chart[key] !== 'string') problems.push(`${key} should be of type string`);
  const text = (key: string) => (typeof chart[key] === 'string' ? (chart[key] as string) : '');
  for (const key of ['name', 'description', 'home', 'icon', 'condition', 'tags', 'appVersion', 'kubeVersion'])
    if (unsanitized(text(key))) problems.push(`${key} has characters sanitizeString would change`);

  const apiVersion = text('apiVersion');
  if (apiVersion === '') problems.push('apiVersion is required');
  else if (apiVersion !== 'v1' && apiVersion !== 'v2') problems.push(`apiVersion '${apiVersion}' is not valid`);

  const name = text('name');
  if (name === '') problems.push('name is required');
  else if (name === '.' || name === '..') problems.push(`name ${JSON.stringify(name)} is not allowed`);
  // filepath.Base(name) == name: no path separator (Base drops trailing ones too).
  else if (name.includes('/')) problems.push(`chart name ${JSON.stringify(name)} is invalid`);

  const version = text('version');
  if (version === '') problems.push('version is required');
  else if (!SEMVER2.test(version)) problems.push(`version '${version}' is not a valid SemVerV2`);
  else if (!semverGt(version, '0.0.0-0')) problems.push(`version '${version}' is not > 0.0.0-0`);

  const type = text('type');
  if (!['', 'application', 'library'].includes(type)) problems.push('type must be application or library');
  if (type !== '' && apiVersion !== 'v2') problems.push(`chart type is not valid in apiVersion '${apiVersion}'`);

  for (const maintainer of (chart.maintainers as unknown[] | undefined) ?? [])
    if (!isMapping(maintainer) || !maintainer.name) problems.push('each maintainer requires a name');

  const dependencies = chart.dependencies ?? [];
  if (!Array.isArray(dependencies)) return [...problems, 'dependencies is not a list'];
  if (dependencies.length > 0 && apiVersion !== 'v2') problems.push(`dependencies are not valid with apiVersion '${apiVersion}'`);
  const seen = new Set<string>();
  for (const dependency of dependencies) {
    if (!isMapping(dependency)) {
      problems.push('dependencies must not contain empty or null nodes');
      continue;
    }
    const label = String(dependency.name);
    for (const key of Object.keys(dependency))
      if (!DEPENDENCY_FIELDS.has(key)) problems.push(`dependency ${label}: unknown field ${key} (StrictLoadChartfile)`);
    for (const key of ['name', 'version', 'repository', 'condition', 'alias']) {
      if (key in dependency && typeof dependency[key] !== 'string') problems.push(`dependency ${label}: ${key} should be of type string`);
      else if (typeof dependency[key] === 'string' && unsanitized(dependency[key] as string))
        problems.push(`dependency ${label}: ${key} has characters sanitizeString would change`);
    }
    if (!dependency.name) problems.push('a dependency has no name');
    const alias = typeof dependency.alias === 'string' ? dependency.alias : '';
    if (alias !== '' && !ALIAS.test(alias)) problems.push(`dependency ${JSON.stringify(label)} has disallowed characters in the alias`);
    const key = alias || label;
    if (seen.has(key)) problems.push(`more than one dependency with name or alias ${JSON.stringify(key)}`);
    seen.add(key);
    // What the umbrella pins: an exact version (Helm reads it as a constraint; an exact one is SemVer).
    if (typeof dependency.version !== 'string' || !SEMVER2.test(dependency.version))
      problems.push(`dependency ${label}: version ${JSON.stringify(dependency.version)} is not an exact SemVer 2 version`);

    // How Helm then reads values.yaml: the subchart's values under its key, enabled by the condition.
    if (!isMapping(values) || !isMapping(values[key])) problems.push(`values.yaml has no mapping under ${JSON.stringify(key)}`);
    for (const condition of String(dependency.condition ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const found = condition.split('.').reduce<unknown>((node, part) => (isMapping(node) ? node[part] : undefined), values);
      if (typeof found !== 'boolean') problems.push(`condition ${JSON.stringify(condition)} of ${key} is not a boolean in values.yaml`);
    }
  }
  return problems;
}

// ─── Kubernetes and Argo CD ──────────────────────────────────────────────────────────────────────

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isDns1123Label = (value: unknown) => typeof value === 'string' && value.length <= 63 && DNS1123_LABEL.test(value);
const isDns1123Subdomain = (value: unknown) =>
  typeof value === 'string' && value.length <= 253 && value.split('.').every((label) => DNS1123_LABEL.test(label));

/**
 * The CRD's openAPIV3Schema as JSON Schema for Ajv: Kubernetes' own extensions said in JSON Schema
 * (x-kubernetes-int-or-string as integer or string; x-kubernetes-preserve-unknown-fields as any
 * field allowed), and every other object with properties closed to fields it does not name, as
 * strict field validation (`kubectl apply --validate=strict`, fieldValidation=Strict) refuses them.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isMapping(node)) return node;
  const out: Mapping = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'x-kubernetes-int-or-string' || key === 'x-kubernetes-preserve-unknown-fields') continue;
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Mapping).map(([name, child]) => [name, toJsonSchema(child)]))
        : toJsonSchema(value);
  }
  if (node['x-kubernetes-int-or-string'] === true && !out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (
    node.type === 'object' &&
    out.properties &&
    out.additionalProperties === undefined &&
    node['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out.additionalProperties = false;
  return out;
}

function applicationValidator() {
  const crd = parse(readFileSync(CRD, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] } };
  const version = crd.spec.versions.find((candidate) => candidate.name === 'v1alpha1');
  if (!version) throw new Error(`${CRD} has no v1alpha1 version`);
  const ajv = new Ajv({ strict: true, allErrors: true });
  // The formats the CRD names: date-time (RFC 3339), and int64 on integers (a range, which JSON
  // numbers within Number.MAX_SAFE_INTEGER keep).
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (value: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(value),
  });
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isSafeInteger(value) });
  return ajv.compile(toJsonSchema(version.schema.openAPIV3Schema) as AnySchema);
}

function applicationProblems(validate: ReturnType<typeof applicationValidator>, text: string): string[] {
  const application = parse(text, { uniqueKeys: true }) as Mapping;
  const problems = validate(application) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
  if (application.apiVersion !== 'argoproj.io/v1alpha1' || application.kind !== 'Application')
    problems.push('not an argoproj.io/v1alpha1 Application');
  const metadata = (application.metadata ?? {}) as Mapping;
  const spec = (application.spec ?? {}) as { destination?: Mapping };
  if (!isDns1123Subdomain(metadata.name)) problems.push(`metadata.name ${JSON.stringify(metadata.name)} is not a DNS-1123 subdomain`);
  // umbrella-chart's own promise, stricter: a label, which also fits as the value of a label.
  if (!isDns1123Label(metadata.name)) problems.push(`metadata.name ${JSON.stringify(metadata.name)} is not a DNS-1123 label`);
  if (!isDns1123Label(metadata.namespace))
    problems.push(`metadata.namespace ${JSON.stringify(metadata.namespace)} is not a DNS-1123 label`);
  const namespace = spec.destination?.namespace;
  if (!isDns1123Label(namespace)) problems.push(`spec.destination.namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  return problems;
}

// ─── the tests ───────────────────────────────────────────────────────────────────────────────────

describe('conformance: every generated Chart.yaml keeps Helm’s chart metadata rules', () => {
  it('over the whole corpus (dotted services and environments, long names, OCI, content-hash, a rewrite)', async () => {
    const charts = await generated();
    expect(charts.length).toBeGreaterThan(CASES.length);
    for (const { label, chart, values } of charts)
      expect({ label, problems: helmChartProblems(chart, values) }).toEqual({ label, problems: [] });
  });

  it('and the checks do catch a chart Helm would refuse', () => {
    const values = 'api.v2: {enabled: true}\napi: {enabled: true}\n';
    expect(
      helmChartProblems(
        [
          'apiVersion: v2',
          'name: a/b',
          'version: 1.0',
          'type: service',
          'icons: x',
          'dependencies:',
          '  - {name: api, version: 1.0.0, repository: "https://x", alias: api.v2, condition: api.v2.enabled}',
          '  - {name: api.v2, version: 1.0.0, repository: "https://x", condition: api.enabled}',
          '  - {name: web, version: "^1", repository: "https://x", condition: web.enabled}',
        ].join('\n'),
        values,
      ),
    ).toEqual([
      'unknown field icons (StrictLoadChartfile)',
      'version should be of type string',
      'chart name "a/b" is invalid',
      'version is required',
      'type must be application or library',
      'dependency "api" has disallowed characters in the alias',
      'condition "api.v2.enabled" of api.v2 is not a boolean in values.yaml',
      'more than one dependency with name or alias "api.v2"',
      'dependency web: version "^1" is not an exact SemVer 2 version',
      'values.yaml has no mapping under "web"',
      'condition "web.enabled" of web is not a boolean in values.yaml',
    ]);
    expect(helmChartProblems('apiVersion: v1\nname: ..\nversion: 0.0.0-0\ntype: application\n', '')).toEqual([
      'name ".." is not allowed',
      "version '0.0.0-0' is not > 0.0.0-0",
      "chart type is not valid in apiVersion 'v1'",
    ]);
  });
});

(crdPresent ? describe : describe.skip)('conformance: every generated application.yaml is an Application Argo CD’s CRD accepts', () => {
  it('over the whole corpus, with Kubernetes names for the Application and its namespaces', async () => {
    const validate = applicationValidator();
    const charts = await generated();
    for (const { label, application } of charts)
      expect({ label, problems: applicationProblems(validate, application) }).toEqual({ label, problems: [] });
  });

  it('and the schema does catch an Application Argo CD would refuse', () => {
    const validate = applicationValidator();
    const broken = [
      'apiVersion: argoproj.io/v1alpha1',
      'kind: Application',
      'metadata: {name: prod.eu_1-umbrella, namespace: argocd}',
      'spec:',
      '  project: default',
      '  source: {repoURL: "https://x", path: p, helm: {valueFile: [values.yaml]}}',
      '  destination: {server: "https://kubernetes.default.svc", namespace: prod.eu_1}',
      '  syncPolicy: {automated: {prune: "yes"}}',
    ].join('\n');
    expect(applicationProblems(validate, broken)).toEqual([
      '/spec/source/helm must NOT have additional properties',
      '/spec/syncPolicy/automated/prune must be boolean',
      'metadata.name "prod.eu_1-umbrella" is not a DNS-1123 subdomain',
      'metadata.name "prod.eu_1-umbrella" is not a DNS-1123 label',
      'spec.destination.namespace "prod.eu_1" is not a DNS-1123 label',
    ]);
  });
});
