/**
 * toolkit migrate on workflows of our own: one per anchor input (every input of the mapping table,
 * given alone), the derived mappings, the `cosign sign` forms, and the CLI with --check. Every
 * rewritten file is checked with `toolkit validate`'s own checks.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { ANCHORS, type AnchorMap, COSIGN_INSTALLER, migrateWorkflow, readCosignSign, validateRepository } from '@toolkit/cli';
import { classifyCommit, highestBump, parseCommit, parseReleaseRules } from '../../actions/semantic-tag/src/semantic-tag.js';
import { PINNED_TOOLS } from '@toolkit/shared';
import { parse } from 'yaml';
import { ROOT } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

const run = promisify(execFile);

/** A workflow with one step using `uses` with `inputs`, after a checkout; a comment and a later step that reads its outputs. */
function workflow(uses: string, inputs: Record<string, string>, after = ''): string {
  const lines = Object.entries(inputs).map(([name, value]) => `          ${name}: ${JSON.stringify(value)}`);
  return [
    'name: ci',
    'on: push',
    'permissions:',
    '  contents: write',
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      # the step to migrate',
    '      - name: Under test',
    '        id: under',
    `        uses: ${uses}`,
    ...(lines.length > 0 ? ['        with:', ...lines] : []),
    after,
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}

type Step = { uses?: string; with?: Record<string, unknown>; run?: string; env?: Record<string, unknown>; name?: string };
const stepsOf = (text: string) => (parse(text) as { jobs: { build: { steps: Step[] } } }).jobs.build.steps;

/** A sample value for each anchor input that is not its default. */
const SAMPLES: Record<string, Record<string, string>> = {
  'aquasecurity/trivy-action': {
    'scan-type': 'fs',
    'image-ref': 'ghcr.io/acme/api:1.0',
    input: 'image.tar',
    'scan-ref': '.',
    'exit-code': '1',
    'ignore-unfixed': 'true',
    'vuln-type': 'os',
    severity: 'CRITICAL,HIGH',
    format: 'json',
    template: '@/contrib/sarif.tpl',
    output: 'out.json',
    'skip-dirs': 'node_modules',
    'skip-files': '**/*.pem',
    'cache-dir': '.cache/trivy',
    timeout: '10m',
    'ignore-policy': 'policy.rego',
    'hide-progress': 'true',
    'list-all-pkgs': 'true',
    scanners: 'vuln,secret',
    trivyignores: '.trivyignore,.trivyignore.extra',
    'github-pat': '${{ secrets.PAT }}',
    'trivy-config': 'trivy.yaml',
    'tf-vars': 'prod.tfvars',
    'limit-severities-for-sarif': 'true',
    'docker-host': 'unix:///run/docker.sock',
    version: `v${PINNED_TOOLS.trivy.version}`,
    cache: 'false',
    'skip-setup-trivy': 'true',
    'token-setup-trivy': '${{ secrets.PAT }}',
  },
  'anchore/sbom-action': {
    path: './src',
    file: 'app.jar',
    image: 'ghcr.io/acme/api:1.0',
    'registry-username': 'bot',
    'registry-password': '${{ secrets.PASSWORD }}',
    format: 'cyclonedx-json',
    'github-token': '${{ secrets.PAT }}',
    'artifact-name': 'api.spdx.json',
    'output-file': 'sbom/api.spdx.json',
    'syft-version': `v${PINNED_TOOLS.syft.version}`,
    'dependency-snapshot': 'true',
    'upload-artifact': 'false',
    'upload-artifact-retention': '7',
    'upload-release-assets': 'false',
    config: '.syft.yaml',
  },
  'mathieudutour/github-tag-action': {
    github_token: '${{ secrets.GITHUB_TOKEN }}',
    default_bump: 'minor',
    default_prerelease_bump: 'prepatch',
    tag_prefix: 'api/v',
    append_to_pre_release_tag: 'rc',
    custom_tag: '9.9.9',
    custom_release_rules: 'hotfix:patch:Hotfixes',
    release_branches: 'release.*',
    pre_release_branches: 'next',
    commit_sha: '${{ github.sha }}',
    create_annotated_tag: 'true',
    fetch_all_tags: 'true',
    dry_run: 'true',
  },
  'sigstore/cosign-installer': {
    'cosign-release': `v${PINNED_TOOLS.cosign.version}`,
    'install-dir': '$HOME/bin',
    'use-sudo': 'true',
  },
};

/** What a sample becomes when it is not simply its value under the mapped name. */
const DERIVED: Record<string, Record<string, Record<string, string> | 'left'>> = {
  'aquasecurity/trivy-action': {
    'scan-type': 'left',
    input: 'left',
    'exit-code': { 'fail-on': 'unknown' },
    format: { 'fail-on': 'none' },
    template: { 'fail-on': 'none' },
    output: { 'fail-on': 'none' },
    version: { 'trivy-version': PINNED_TOOLS.trivy.version },
    'skip-setup-trivy': { 'trivy-version': 'system' },
    trivyignores: { 'ignore-file': '.trivyignore,.trivyignore.extra' },
  },
  'anchore/sbom-action': {
    file: 'left',
    format: { 'sbom-format': 'cyclonedx-json', 'sbom-artifact': 'sbom.cdx.json' },
    'artifact-name': { 'sbom-artifact': 'api.spdx.json', 'sbom-file': 'api.spdx.json' },
    'upload-artifact': { 'sbom-format': 'spdx-json' },
    'syft-version': { 'syft-version': PINNED_TOOLS.syft.version },
  },
  'mathieudutour/github-tag-action': {
    custom_tag: 'left',
    release_branches: 'left',
    dry_run: { 'dry-run': 'true' },
    default_bump: {
      'default-bump': 'minor',
      'release-rules': 'build:minor,chore:minor,ci:minor,docs:minor,refactor:minor,style:minor,test:minor',
    },
    custom_release_rules: {
      'release-rules': 'hotfix:patch:Hotfixes,build:patch,chore:patch,ci:patch,docs:patch,refactor:patch,style:patch,test:patch',
    },
    create_annotated_tag: { annotate: 'true' },
  },
  'sigstore/cosign-installer': {
    'cosign-release': { 'cosign-version': PINNED_TOOLS.cosign.version },
  },
};

const SIGN_STEP = [
  '      - name: Sign',
  '        env:',
  `          DIGEST: sha256:${'0'.repeat(64)}`,
  '        run: cosign sign --yes ghcr.io/acme/api@${DIGEST}',
].join('\n');

/** What each anchor's step needs besides the input under test, or it is left as it is (scan needs an image). */
const NEEDED: Record<string, Record<string, string>> = {
  'aquasecurity/trivy-action': { 'image-ref': 'ghcr.io/acme/api:1.0' },
  'anchore/sbom-action': { image: 'ghcr.io/acme/api:1.0' },
};

async function migrated(anchor: AnchorMap, inputs: Record<string, string>) {
  const text = workflow(`${anchor.anchor}@v1`, { ...NEEDED[anchor.anchor], ...inputs }, anchor === COSIGN_INSTALLER ? SIGN_STEP : '');
  return migrateWorkflow(text, 'ci.yml', { root: ROOT });
}

describe('every input of every anchor, given alone', () => {
  for (const anchor of ANCHORS) {
    for (const [input, counterpart] of Object.entries(anchor.inputs)) {
      it(`${anchor.anchor} ${input}`, async () => {
        const sample = SAMPLES[anchor.anchor]?.[input];
        expect(sample).toBeDefined();
        const result = await migrated(anchor, { [input]: sample as string });
        expect(result.problems).toEqual([]);
        const derived = DERIVED[anchor.anchor]?.[input];
        const report = result.steps.find((step) => step.from === (anchor === COSIGN_INSTALLER ? 'run: cosign sign' : anchor.anchor));
        expect(report).toBeDefined();
        if (derived === 'left' || ('none' in counterpart && counterpart.blocks)) {
          expect(report?.to).toBeUndefined();
          expect(report?.left).toContain(input);
          expect(result.changed).toBe(false);
          return;
        }
        const step = stepsOf(result.text).find((candidate) => candidate.uses?.startsWith('org/toolkit/actions/')) as Step;
        expect(step.uses).toBe(`org/toolkit/actions/${anchor.action}@v1`);
        const given = Object.fromEntries(Object.entries(step.with ?? {}).map(([key, value]) => [key, String(value)]));
        if (derived) expect(given).toMatchObject(derived);
        else if ('to' in counterpart) expect(given[counterpart.to]).toBe(sample);
        else if ('none' in counterpart) {
          expect(report?.unmapped).toEqual([{ input, reason: counterpart.none }]);
          expect(Object.values(given)).not.toContain(sample);
        } else {
          expect(report?.notes).toContain(`${input} is dropped: ${counterpart.ignored}`);
          expect(Object.keys(given)).not.toContain(input);
        }
        // No anchor input name is left under with:, unless it is also this toolkit's.
        for (const key of Object.keys(given))
          if (key in anchor.inputs) expect(key).toBe('to' in (anchor.inputs[key] as object) ? key : '(not an anchor name)');
        // The rewritten file passes toolkit validate.
        const root = await tempDir();
        await mkdir(path.join(root, '.github', 'workflows'), { recursive: true });
        await writeFile(path.join(root, '.github', 'workflows', 'ci.yml'), result.text);
        expect(await validateRepository(root)).toEqual([]);
      });
    }
  }
});

describe('what several inputs decide together', () => {
  it('leaves a trivy-action step without image-ref and an sbom-action step without image (a directory scan) as they are', async () => {
    const trivy = await migrateWorkflow(workflow('aquasecurity/trivy-action@0.30.0', { severity: 'HIGH' }), 'ci.yml', { root: ROOT });
    expect(trivy).toMatchObject({ changed: false, steps: [{ left: 'no image-ref: there is no image for scan to scan.' }] });
    const sbom = await migrateWorkflow(workflow('anchore/sbom-action@v0', { format: 'spdx-json' }), 'ci.yml', { root: ROOT });
    expect(sbom.changed).toBe(false);
    expect(sbom.steps[0]?.left).toContain('sbom-action then makes the SBOM of the directory');
  });

  const trivy = (inputs: Record<string, string>) =>
    migrateWorkflow(workflow('aquasecurity/trivy-action@0.30.0', { 'image-ref': 'ghcr.io/acme/api:1.0', ...inputs }), 'ci.yml', {
      root: ROOT,
    });
  const withOf = async (promise: ReturnType<typeof trivy>) =>
    Object.fromEntries(Object.entries(stepsOf((await promise).text)[1]?.with ?? {}).map(([key, value]) => [key, String(value)]));

  it('exit-code: the lowest severity listed fails, as Trivy with --exit-code failed on any finding it reported', async () => {
    expect(await withOf(trivy({ 'exit-code': '1', severity: 'CRITICAL,HIGH' }))).toMatchObject({
      'fail-on': 'high',
      severity: 'CRITICAL,HIGH',
    });
    expect(await withOf(trivy({ 'exit-code': '1', severity: 'critical' }))).toMatchObject({ 'fail-on': 'critical' });
    expect(await withOf(trivy({ 'exit-code': '0', severity: 'CRITICAL' }))).toMatchObject({ 'fail-on': 'none' });
    // Trivy's exit code also fired on secrets (a default scanner) and misconfigurations: the difference is said.
    const secrets = (scanners?: string) =>
      trivy({ 'exit-code': '1', severity: 'CRITICAL', ...(scanners ? { scanners } : {}) }).then((result) =>
        result.steps[0]?.notes.join('\n'),
      );
    expect(await secrets()).toContain(
      'exit-code also failed trivy-action on secrets found (Trivy’s scanners default to vuln,secret); scan’s fail-on judges vulnerabilities only',
    );
    expect(await secrets('vuln,misconfig,secret')).toContain('exit-code also failed trivy-action on secrets and misconfigurations found');
    expect(await secrets('vuln')).not.toContain('exit-code also failed');
    expect((await trivy({ severity: 'CRITICAL' })).steps[0]?.notes.join('\n')).not.toContain('exit-code also failed');
    expect(await withOf(trivy({}))).toMatchObject({ 'fail-on': 'none', 'sbom-format': 'none' });
  });

  it('format: sarif and the sarif template write sarif-file; json report-file; github submits; a table to a file is reported', async () => {
    expect(await withOf(trivy({ format: 'sarif', output: 'r.sarif', severity: 'HIGH' }))).toEqual({
      image: 'ghcr.io/acme/api:1.0',
      'sarif-file': 'r.sarif',
      severity: 'HIGH',
      'limit-severities-for-sarif': 'false',
      'fail-on': 'none',
      'sbom-format': 'none',
    });
    expect(
      await withOf(trivy({ format: 'sarif', output: 'r.sarif', severity: 'HIGH', 'limit-severities-for-sarif': 'true' })),
    ).toMatchObject({
      'limit-severities-for-sarif': 'true',
    });
    // Only format: sarif drops severity there; the sarif template keeps it, as scan's default does.
    const template = await withOf(trivy({ format: 'template', template: '@/contrib/sarif.tpl', output: 'r.sarif', severity: 'HIGH' }));
    expect(template).toMatchObject({ 'sarif-file': 'r.sarif', severity: 'HIGH' });
    expect(template).not.toHaveProperty('limit-severities-for-sarif');
    // With exit-code, Trivy failed there on any severity (severity was dropped): said, not hidden.
    const gate = await trivy({ format: 'sarif', output: 'r.sarif', severity: 'CRITICAL,HIGH', 'exit-code': '1' });
    expect(await withOf(Promise.resolve(gate))).toMatchObject({ 'fail-on': 'high', 'limit-severities-for-sarif': 'false' });
    expect(gate.steps[0]?.notes.join('\n')).toContain('ignored severity for its exit code too and failed on a finding of any severity');
    const templateGate = await trivy({ format: 'template', template: '@/contrib/sarif.tpl', severity: 'HIGH', 'exit-code': '1' });
    expect(templateGate.steps[0]?.notes.join('\n')).not.toContain('ignored severity');
    expect(await withOf(trivy({ format: 'json', output: 'r.json' }))).toMatchObject({ 'report-file': 'r.json' });
    expect(await withOf(trivy({ format: 'github', 'github-pat': '${{ secrets.PAT }}' }))).toMatchObject({
      'dependency-snapshot': 'true',
      'sbom-format': 'spdx-json',
      token: '${{ secrets.PAT }}',
    });
    const cyclonedx = await trivy({ format: 'cyclonedx', output: 'sbom.cdx.json' });
    expect(cyclonedx.steps[0]?.notes).toEqual(['the cyclonedx SBOM is made by Syft here, not by Trivy.']);
    expect(await withOf(trivy({ format: 'cyclonedx', output: 'sbom.cdx.json' }))).toMatchObject({
      'sbom-format': 'cyclonedx-json',
      'sbom-file': 'sbom.cdx.json',
    });
    const table = await trivy({ output: 'table.txt' });
    expect(table.steps[0]?.unmapped).toEqual([
      { input: 'output', reason: 'the table goes to the log here; the JSON report is report-file.' },
    ]);
    const junit = await trivy({ format: 'template', template: '@/contrib/junit.tpl', output: 'junit.xml' });
    expect(junit.steps[0]?.unmapped.map((item) => item.input)).toEqual(['template', 'output']);
  });

  it('an expression in an input the rewrite reads leaves the step as it is, reported; one only carried over is kept', async () => {
    const tag = (inputs: Record<string, string>) =>
      migrateWorkflow(workflow('mathieudutour/github-tag-action@v6.2', inputs), 'ci.yml', { root: ROOT });
    const sbom = (inputs: Record<string, string>) =>
      migrateWorkflow(workflow('anchore/sbom-action@v0', { image: 'ghcr.io/acme/api:1.0', ...inputs }), 'ci.yml', { root: ROOT });
    const cases: [Promise<Awaited<ReturnType<typeof trivy>>>, string][] = [
      [trivy({ 'exit-code': '${{ inputs.strict && 1 || 0 }}', severity: 'HIGH' }), 'exit-code: ${{ inputs.strict && 1 || 0 }}'],
      [trivy({ 'exit-code': '1', severity: '${{ vars.SEVERITY }}' }), 'severity: ${{ vars.SEVERITY }}'],
      [trivy({ format: '${{ inputs.format }}', output: 'out' }), 'format: ${{ inputs.format }}'],
      [sbom({ format: '${{ inputs.format }}' }), 'format: ${{ inputs.format }}'],
      [tag({ dry_run: "${{ github.event_name == 'pull_request' }}" }), "dry_run: ${{ github.event_name == 'pull_request' }}"],
      [tag({ create_annotated_tag: '${{ inputs.annotate }}' }), 'create_annotated_tag: ${{ inputs.annotate }}'],
      [tag({ default_bump: '${{ inputs.bump }}' }), 'default_bump: ${{ inputs.bump }}'],
      [tag({ release_branches: '${{ vars.BRANCHES }}' }), 'release_branches: ${{ vars.BRANCHES }}'],
    ];
    for (const [promise, left] of cases) {
      const result = await promise;
      expect(result.changed).toBe(false);
      expect(result.steps[0]?.to).toBeUndefined();
      expect(result.steps[0]?.left).toBe(
        `${left} is an expression, whose value is known only when the workflow runs, and it decides ${left.startsWith('severity') ? 'fail-on (the lowest severity listed, with exit-code)' : 'how the step is rewritten'}; the step is left as it is: rewrite it by hand (docs/migrating.md).`,
      );
    }
    // Carried over as it is: an expression is fine there.
    expect(await withOf(trivy({ severity: '${{ vars.SEVERITY }}', 'image-ref': '${{ env.IMAGE }}' }))).toMatchObject({
      image: '${{ env.IMAGE }}',
      severity: '${{ vars.SEVERITY }}',
      'fail-on': 'none',
    });
  });

  it('vuln-type is read as a set: os and library in any order is the default; only one of them leaves the step', async () => {
    for (const value of ['library,os', 'os, library', 'os,library']) {
      const result = await trivy({ 'vuln-type': value });
      expect([value, result.changed, result.steps[0]?.unmapped]).toEqual([value, true, []]);
      expect(await withOf(Promise.resolve(result))).not.toHaveProperty('vuln-type');
    }
    for (const value of ['os', 'library']) {
      const result = await trivy({ 'vuln-type': value });
      expect(result.changed).toBe(false);
      expect(result.steps[0]?.left).toContain(`vuln-type: ${value}: scan reports OS and library packages alike`);
    }
  });

  it('format: github submits the dependency graph only with github-pat, as trivy-action did; without it, it is reported', async () => {
    const without = await trivy({ format: 'github' });
    const given = await withOf(Promise.resolve(without));
    expect(given).not.toHaveProperty('dependency-snapshot');
    expect(given).toMatchObject({ 'sbom-format': 'none' });
    expect(without.steps[0]?.unmapped).toEqual([
      {
        input: 'format',
        reason:
          'github without github-pat: trivy-action submitted nothing then (it printed a warning). To submit the dependency graph, give sbom-format: spdx-json, dependency-snapshot: true and a token with contents: write.',
      },
    ]);
  });

  it('a tool version not pinned here is dropped and reported, not carried into a step that would stop', async () => {
    const result = await trivy({ version: 'v0.50.0' });
    expect((await withOf(Promise.resolve(result)))['trivy-version']).toBeUndefined();
    expect(result.steps[0]?.unmapped).toEqual([
      {
        input: 'version',
        reason: `trivy 0.50.0 is not pinned here, so it would need trivy-sha256 (its release's SHA-256); the pinned ${PINNED_TOOLS.trivy.version} is used instead. Set trivy-version and trivy-sha256 to keep 0.50.0.`,
      },
    ]);
  });

  it('sbom-action: a format scan does not write leaves the step; upload-artifact false gives no artifact', async () => {
    const sbom = (inputs: Record<string, string>) =>
      migrateWorkflow(workflow('anchore/sbom-action@v0', { image: 'ghcr.io/acme/api:1.0', ...inputs }), 'ci.yml', { root: ROOT });
    const left = await sbom({ format: 'syft-json' });
    expect(left.changed).toBe(false);
    expect(left.steps[0]?.left).toBe('format syft-json has no counterpart: scan writes spdx-json or cyclonedx-json.');
    const none = await sbom({ 'upload-artifact': 'false' });
    expect(stepsOf(none.text)[1]?.with).not.toHaveProperty('sbom-artifact');
    const named = await sbom({});
    expect(stepsOf(named.text)[1]?.with).toMatchObject({
      'sbom-artifact': 'sbom.spdx.json',
      'sbom-file': 'sbom.spdx.json',
      'fail-on': 'none',
    });
    // output-file named the uploaded file there, and sbom-file does here.
    const output = await sbom({ 'artifact-name': 'api.spdx.json', 'output-file': 'out/api.json' });
    expect(stepsOf(output.text)[1]?.with).toMatchObject({ 'sbom-artifact': 'api.spdx.json', 'sbom-file': 'out/api.json' });
  });

  it('github-tag-action default_bump: a push of chore or docs commits only is released at that bump, as it was there', async () => {
    const tag = (inputs: Record<string, string>) =>
      migrateWorkflow(workflow('mathieudutour/github-tag-action@v6.2', inputs), 'ci.yml', { root: ROOT });
    const bumpOf = (withInputs: Record<string, unknown> | undefined, messages: string[]) => {
      const rules = parseReleaseRules(String(withInputs?.['release-rules'] ?? '').split(','));
      const bump = String(withInputs?.['default-bump']) as Parameters<typeof classifyCommit>[2];
      return highestBump(messages.map((message, index) => classifyCommit(parseCommit(String(index), message), rules, bump)));
    };
    // Its default (patch), and minor; the step's own rule for a type stays.
    const patch = await tag({ custom_release_rules: 'docs:none' });
    const given = stepsOf(patch.text)[1]?.with;
    expect(given?.['release-rules']).toBe('docs:none,build:patch,chore:patch,ci:patch,refactor:patch,style:patch,test:patch');
    expect(bumpOf(given, ['chore: tidy', 'ci: cache'])).toBe('patch');
    expect(bumpOf(given, ['chore: tidy', 'feat: new'])).toBe('minor');
    expect(patch.steps[0]?.notes.join('\n')).toContain(
      'default_bump patch: github-tag-action released a patch when no commit gave a bump (e.g. chore or docs commits only)',
    );
    const minor = await tag({ default_bump: 'minor' });
    expect(bumpOf(stepsOf(minor.text)[1]?.with, ['docs: readme'])).toBe('minor');
    // What still differs is said, not hidden.
    expect(minor.steps[0]?.notes.join('\n')).toContain(
      'a push with a fix and a chore is a minor release here (the chore’s), where github-tag-action released a patch',
    );
    // default_bump false: no rules are added; no bump stays none.
    expect(stepsOf((await tag({ default_bump: 'false' })).text)[1]?.with).not.toHaveProperty('release-rules');
  });

  it('github-tag-action: default_bump false and major, pre-release rules, and the outputs read later renamed', async () => {
    const tag = (inputs: Record<string, string>, after = '') =>
      migrateWorkflow(
        workflow('mathieudutour/github-tag-action@v6.2', { github_token: '${{ secrets.GITHUB_TOKEN }}', ...inputs }, after),
        'ci.yml',
        { root: ROOT },
      );
    expect(stepsOf((await tag({ default_bump: 'false' })).text)[1]?.with).toMatchObject({ 'default-bump': 'none', annotate: 'false' });
    const noCheckout = await migrateWorkflow(
      workflow('mathieudutour/github-tag-action@v6.2', { github_token: '${{ secrets.GITHUB_TOKEN }}' }).replace(
        '      - uses: actions/checkout@v4\n',
        '',
      ),
      'ci.yml',
      { root: ROOT },
    );
    expect(noCheckout.steps[0]?.notes).toContain(
      'semantic-tag reads and tags the checkout (github-tag-action used the API): add actions/checkout before it.',
    );
    expect((await tag({})).steps[0]?.notes.join('\n')).not.toContain('add actions/checkout');
    // Tagged only on the release branches, as github-tag-action did: a dry run elsewhere.
    const branches = await tag({ release_branches: 'main, release/v1' });
    expect(stepsOf(branches.text)[1]?.with?.['dry-run']).toBe(
      '${{ !contains(fromJSON(\'["refs/heads/main","refs/heads/release/v1"]\'), github.ref) }}',
    );
    expect(branches.problems).toEqual([]);
    expect(stepsOf((await tag({})).text)[1]?.with?.['dry-run']).toBe(
      '${{ !contains(fromJSON(\'["refs/heads/master","refs/heads/main"]\'), github.ref) }}',
    );
    expect((await tag({ release_branches: 'release-.*' })).steps[0]?.left).toContain(
      'has patterns, which a workflow condition cannot test',
    );
    const minor = await tag({ default_bump: 'minor', create_annotated_tag: 'true' });
    expect(minor.steps[0]?.notes.join('\n')).not.toMatch(/default-bump: patch|annotate: false/);
    expect(stepsOf(minor.text)[1]?.with).toMatchObject({ 'default-bump': 'minor', annotate: 'true' });
    const major = await tag({ default_bump: 'major' });
    expect(major.steps[0]?.unmapped).toEqual([
      { input: 'default_bump', reason: 'major has no counterpart: default-bump is none, patch or minor.' },
    ]);
    const rules = await tag({ custom_release_rules: 'hotfix:patch:Hotfixes,pre-feat:preminor' });
    expect(stepsOf(rules.text)[1]?.with?.['release-rules']).toBe(
      'hotfix:patch:Hotfixes,build:patch,chore:patch,ci:patch,docs:patch,refactor:patch,style:patch,test:patch',
    );
    expect(rules.steps[0]?.unmapped.map((item) => item.input)).toEqual(['custom_release_rules']);

    const later = [
      '      - run: echo "${{ steps.under.outputs.new_tag }} ${{ steps.under.outputs.previous_version }} ${{ steps.other.outputs.new_tag }}"',
      '      - name: Notes',
      '        run: |',
      '          echo "${{ steps.under.outputs.changelog }}"',
      '          echo "${{ steps.under.outputs.release_type }}"',
    ].join('\n');
    const outputs = await tag({}, later);
    expect(outputs.problems).toEqual([]);
    const steps = stepsOf(outputs.text);
    expect(steps[2]?.run).toBe(
      'echo "${{ steps.under.outputs.tag }} ${{ steps.under.outputs.previous-version }} ${{ steps.other.outputs.new_tag }}"',
    );
    expect(steps[3]?.run).toBe('echo "${{ steps.under.outputs.changelog }}"\necho "${{ steps.under.outputs.bump }}"\n');
    expect(outputs.text).toContain('        run: |\n          echo');
  });
});

describe('cosign-installer and the cosign sign step after it', () => {
  const publish = (signStep: string, extra = '') =>
    [
      'name: publish',
      'on: push',
      'permissions:',
      '  id-token: write',
      '  packages: write',
      'env:',
      '  IMAGE: ghcr.io/acme/api',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      # Install cosign',
      '      # (for signing)',
      '      - uses: sigstore/cosign-installer@v3',
      '        with:',
      `          cosign-release: v${PINNED_TOOLS.cosign.version}`,
      '      - id: build',
      '        run: echo digest=sha256:0000 >> "$GITHUB_OUTPUT"',
      signStep,
      extra,
    ]
      .filter((line) => line !== '')
      .join('\n')
      .concat('\n');

  it('rewrites `cosign sign --yes $IMAGE@${DIGEST}` into sign, removes the installer and its comment, keeps the rest', async () => {
    const source = publish(
      [
        '      - name: Sign',
        "        if: github.ref == 'refs/heads/main'",
        '        env:',
        '          DIGEST: ${{ steps.build.outputs.digest }}',
        '        run: cosign sign --yes $IMAGE@${DIGEST}',
      ].join('\n'),
    );
    const result = await migrateWorkflow(source, 'publish.yml', { root: ROOT });
    expect(result.problems).toEqual([]);
    expect(result.text).not.toContain('# Install cosign');
    expect(result.text).toContain(
      [
        '      - name: Sign',
        "        if: github.ref == 'refs/heads/main'",
        '        uses: org/toolkit/actions/sign@v1',
        '        with:',
        `          cosign-version: ${PINNED_TOOLS.cosign.version}`,
        '          image: ${{ env.IMAGE }}',
        '          digest: ${{ steps.build.outputs.digest }}',
      ].join('\n'),
    );
    expect(stepsOf(result.text).map((step) => step.uses ?? 'run')).toEqual(['run', 'org/toolkit/actions/sign@v1']);
  });

  it('maps --key env://VAR with COSIGN_PASSWORD, and --tlog-upload=false', () => {
    const env = { COSIGN_PRIVATE_KEY: '${{ secrets.KEY }}', COSIGN_PASSWORD: '${{ secrets.PASSWORD }}' };
    expect(readCosignSign("cosign sign --key env://COSIGN_PRIVATE_KEY --tlog-upload=false -y 'ghcr.io/acme/api:1.0'", env, [])).toEqual({
      with: { key: '${{ secrets.KEY }}', 'key-password': '${{ secrets.PASSWORD }}', 'tlog-upload': 'false', image: 'ghcr.io/acme/api:1.0' },
      consumed: ['COSIGN_PRIVATE_KEY', 'COSIGN_PASSWORD'],
      notes: [],
    });
  });

  it('refuses, never guesses: a key file, a flag sign has no counterpart for, several images, other commands, the runner’s variables', () => {
    expect(() => readCosignSign('cosign sign --key cosign.key ghcr.io/a/b:1', {}, [])).toThrow('--key cosign.key: sign takes the key');
    expect(() => readCosignSign('cosign sign --recursive ghcr.io/a/b:1', {}, [])).toThrow(
      'the cosign sign flag --recursive has no counterpart in sign',
    );
    expect(() => readCosignSign('cosign sign -a env=prod ghcr.io/a/b:1', {}, [])).toThrow('the cosign sign flag -a has no counterpart');
    expect(() => readCosignSign('cosign sign ghcr.io/a/b:1 ghcr.io/a/c:1', {}, [])).toThrow('cosign sign is given 2 images');
    // A trailing comment is the shell's: one image.
    expect(readCosignSign('cosign sign --yes ghcr.io/a/b@${DIGEST} # by digest, never a tag', { DIGEST: 'sha256:00' }, []).with).toEqual({
      image: 'ghcr.io/a/b',
      digest: 'sha256:00',
    });
    expect(() => readCosignSign('cosign sign ghcr.io/a/b:1 && echo done', {}, [])).toThrow('not one `cosign sign` command');
    expect(() => readCosignSign('set -e\ncosign sign ghcr.io/a/b:1', {}, [])).toThrow('more commands than `cosign sign`');
    expect(() => readCosignSign('cosign sign ghcr.io/a/b@$GITHUB_SHA', {}, [])).toThrow("$GITHUB_SHA is the runner's own variable");
    expect(() => readCosignSign('echo "${TAGS}" | xargs -I {} cosign sign {}@${DIGEST}', { TAGS: 'a\nb', DIGEST: 'x' }, [])).toThrow(
      'the list is not the tags of one image from a docker/metadata-action step',
    );
  });

  it('leaves the installer and reports it when a later step runs another cosign command, and leaves a sign step it cannot read', async () => {
    const source = publish(
      '      - run: cosign sign --yes --recursive ghcr.io/acme/api@${{ steps.build.outputs.digest }}',
      '      - run: cosign verify ghcr.io/acme/api:1',
    );
    const result = await migrateWorkflow(source, 'publish.yml', { root: ROOT });
    expect(result.changed).toBe(false);
    expect(result.steps.map((step) => step.left)).toEqual([
      'no `cosign sign` step after it could be rewritten into sign; it is left as it is.',
      'the cosign sign flag --recursive has no counterpart in sign; left as it is.',
    ]);
  });

  it('leaves the installer and the sign steps when cosign-release is an expression', async () => {
    const source = publish('      - run: cosign sign --yes ghcr.io/acme/api@${{ steps.build.outputs.digest }}').replace(
      `cosign-release: v${PINNED_TOOLS.cosign.version}`,
      'cosign-release: ${{ vars.COSIGN }}',
    );
    const result = await migrateWorkflow(source, 'publish.yml', { root: ROOT });
    expect(result.changed).toBe(false);
    expect(result.steps.map((step) => step.left)).toEqual([
      'cosign-release: ${{ vars.COSIGN }} is an expression, whose value is known only when the workflow runs, and it decides how the step is rewritten; the step is left as it is: rewrite it by hand (docs/migrating.md). The cosign sign steps after it stay too.',
    ]);
  });

  it('keeps a CRLF file CRLF and a file without a final newline without one', async () => {
    const source = publish('      - run: cosign sign --yes ghcr.io/acme/api@${{ steps.build.outputs.digest }}')
      .trimEnd()
      .replace(/\n/g, '\r\n');
    const result = await migrateWorkflow(source, 'publish.yml', { root: ROOT });
    expect(result.changed).toBe(true);
    expect(result.text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(result.text.endsWith('\n')).toBe(false);
    expect(stepsOf(result.text)[1]).toEqual({
      uses: 'org/toolkit/actions/sign@v1',
      with: { 'cosign-version': PINNED_TOOLS.cosign.version, image: 'ghcr.io/acme/api', digest: '${{ steps.build.outputs.digest }}' },
    });
  });
});

describe('toolkit migrate (the CLI)', () => {
  const bin = path.join(ROOT, 'packages', 'cli', 'lib', 'bin.js');

  it('with --check reports and writes nothing, exiting 1; without, rewrites in place with --org and --ref', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'scan.yml');
    const source = workflow('aquasecurity/trivy-action@0.30.0', {
      'image-ref': 'ghcr.io/acme/api:1.0',
      'cache-dir': '/tmp/c',
      'ignore-policy': 'p.rego',
    });
    await writeFile(file, source);
    const checked = await run(process.execPath, [bin, 'migrate', '--check', file]).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect((checked as { code: number }).code).toBe(1);
    const out = (checked as { stdout: string }).stdout;
    expect(out).toContain(`${file}:11: "Under test": aquasecurity/trivy-action → org/toolkit/actions/scan@v1 (would be)`);
    expect(out).toContain('  mapped: image-ref → image; sbom-format: none; fail-on: none');
    expect(out).toContain('  not mapped: ignore-policy: there is no Rego policy input');
    expect(out).toContain('  note: cache-dir is dropped: scan keeps Trivy’s cache');
    expect(out).toContain('would be rewritten (--check: nothing written)');
    expect(await readFile(file, 'utf8')).toBe(source);

    const written = await run(process.execPath, [bin, 'migrate', '--org', 'acme/toolkit', '--ref', 'v2', file]);
    expect(written.stdout).toContain(`${file}: rewritten.`);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('uses: acme/toolkit/actions/scan@v2');
    expect(text).toContain('      # the step to migrate\n');
    // A file the editor refuses (the step's inputs come from an anchor used elsewhere) is reported, and the others still migrate.
    const shared = path.join(dir, 'shared.yml');
    await writeFile(
      shared,
      [
        'on: push',
        'jobs:',
        '  a:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: aquasecurity/trivy-action@0.30.0',
        '        with: &scan',
        '          image-ref: ghcr.io/acme/api:1.0',
        '  b:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: aquasecurity/trivy-action@0.30.0',
        '        with: *scan',
        '',
      ].join('\n'),
    );
    const other = path.join(dir, 'other.yml');
    await writeFile(other, source);
    const both = await run(process.execPath, [bin, 'migrate', shared, other]).catch((error: { code: number; stdout: string }) => error);
    expect((both as { code: number }).code).toBe(1);
    expect((both as { stdout: string }).stdout).toContain(`${shared}: not migrated: `);
    expect((both as { stdout: string }).stdout).toContain(`${other}: rewritten.`);
    // A workflow that is a symbolic link (here to a file outside the repository) is neither read nor
    // written through; a missing file is said to be missing; the others still migrate.
    const repo = path.join(dir, 'repo');
    await mkdir(path.join(repo, '.github', 'workflows'), { recursive: true });
    const outside = path.join(dir, 'outside.yml');
    await writeFile(outside, source);
    const linked = path.join(repo, '.github', 'workflows', 'linked.yml');
    await symlink(outside, linked);
    const plain = path.join(repo, '.github', 'workflows', 'plain.yml');
    await writeFile(plain, source);
    const missing = path.join(repo, '.github', 'workflows', 'missing.yml');
    const links = await run(process.execPath, [bin, 'migrate', linked, missing, plain]).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect((links as { code: number }).code).toBe(1);
    expect((links as { stdout: string }).stdout).toMatch(
      new RegExp(`${linked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not migrated: .*symbolic link`),
    );
    expect((links as { stdout: string }).stdout).toContain(`${missing}: not migrated: ${missing} does not exist.`);
    expect((links as { stdout: string }).stdout).toContain(`${plain}: rewritten.`);
    expect(await readFile(outside, 'utf8')).toBe(source);
    expect(await readFile(plain, 'utf8')).toContain('uses: org/toolkit/actions/scan@v1');
    // --check fails while a step is left as it is, though nothing would change: it needs a person.
    const left = path.join(dir, 'left.yml');
    await writeFile(left, workflow('aquasecurity/trivy-action@0.30.0', { 'scan-type': 'fs', 'scan-ref': '.' }));
    const leftChecked = await run(process.execPath, [bin, 'migrate', '--check', left]).catch(
      (error: { code: number; stdout: string }) => error,
    );
    expect((leftChecked as { code: number }).code).toBe(1);
    expect((leftChecked as { stdout: string }).stdout).toContain('aquasecurity/trivy-action left as it is: scan-type: fs:');
    // Again: nothing left to migrate.
    expect((await run(process.execPath, [bin, 'migrate', '--check', file])).stdout).toContain('nothing to migrate');
  });
});
