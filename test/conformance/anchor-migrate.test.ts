/**
 * toolkit migrate on what migrating users have (../shared/fixtures/anchor-workflows, read in place):
 * GitHub's starter workflows for Trivy, Anchore and Cosign and github-tag-action's usage example;
 * and the mapping table checked against the anchors' real action.yml files, input by input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ANCHORS, listActions, migrateWorkflow, renderMigratingDoc, validateRepository } from '@toolkit/cli';
import { PINNED_TOOLS } from '@toolkit/shared';
import { parse } from 'yaml';
import { ROOT } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

const ANCHOR_WORKFLOWS = path.join(ROOT, '..', 'shared', 'fixtures', 'anchor-workflows');
const present = existsSync(path.join(ANCHOR_WORKFLOWS, 'trivy-action.action.yml'));
if (!present)
  console.warn(
    `toolkit migrate on the anchors' real workflows and action.yml files is SKIPPED: ${ANCHOR_WORKFLOWS} is absent (../shared/fixtures is not beside this checkout).`,
  );

const read = (name: string) => readFileSync(path.join(ANCHOR_WORKFLOWS, name), 'utf8');
type Step = { uses?: string; run?: string; name?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; if?: string };
const jobSteps = (text: string) => Object.values((parse(text) as { jobs: Record<string, { steps: Step[] }> }).jobs)[0]?.steps ?? [];
const strings = (values: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(values ?? {}).map(([key, value]) => [key, String(value)]));

/**
 * Starter workflows carry GitHub's placeholders ($default-branch, $cron-weekly), filled in when a
 * repository adopts one; filled the same way here, the rewritten file must pass toolkit validate whole.
 */
async function validatesWhenFilled(name: string, text: string): Promise<void> {
  const filled = text
    .replaceAll('$default-branch', 'main')
    .replaceAll('$protected-branches', 'release')
    .replaceAll('$cron-weekly', "'17 3 * * 1'")
    .replaceAll('$cron-daily', "'17 3 * * *'");
  const root = await tempDir();
  await mkdir(path.join(root, '.github', 'workflows'), { recursive: true });
  await writeFile(path.join(root, '.github', 'workflows', name), filled);
  expect(await validateRepository(root)).toEqual([]);
}

/** The text before the rewritten `uses:` and from the next step on stays byte for byte, comments included. */
function keptOutside(source: string, text: string, uses: [string, string], next: string): void {
  const cut = (value: string, from: string) => {
    expect(value.indexOf(from)).toBeGreaterThan(0);
    return value.slice(0, value.indexOf(from)) + value.slice(value.indexOf(next));
  };
  expect(cut(text, uses[1])).toBe(cut(source, uses[0]));
}

(present ? describe : describe.skip)('toolkit migrate on the anchors’ real workflows, in place', () => {
  it('starter-trivy.yml: trivy-action becomes scan, the SARIF where upload-sarif reads it, the verdict as before', async () => {
    const source = read('starter-trivy.yml');
    const result = await migrateWorkflow(source, 'starter-trivy.yml', { root: ROOT });
    expect(result.problems).toEqual([]);
    const step = jobSteps(result.text)[2] as Step;
    expect(step.uses).toBe('org/toolkit/actions/scan@v1');
    expect(strings(step.with)).toEqual({
      image: 'docker.io/my-organization/my-app:${{ github.sha }}',
      'sarif-file': 'trivy-results.sarif',
      severity: 'CRITICAL,HIGH',
      'sbom-format': 'none',
      'fail-on': 'none',
    });
    // The sarif template kept severity there (only format: sarif drops it): scan's default limits the SARIF alike.
    expect(result.text).not.toContain('limit-severities-for-sarif');
    // upload-sarif still reads the file scan now writes.
    expect(strings(jobSteps(result.text)[3]?.with)).toEqual({ sarif_file: 'trivy-results.sarif' });
    keptOutside(
      source,
      result.text,
      ['uses: aquasecurity/trivy-action', 'uses: org/toolkit/actions/scan'],
      '      - name: Upload Trivy scan results',
    );
    expect(result.text).toContain("          image: 'docker.io/my-organization/my-app:${{ github.sha }}'\n");
    await validatesWhenFilled('starter-trivy.yml', result.text);
  });

  it('starter-anchore-syft.yml: sbom-action becomes scan with the artifact and the dependency snapshot', async () => {
    const source = read('starter-anchore-syft.yml');
    const result = await migrateWorkflow(source, 'starter-anchore-syft.yml', { root: ROOT });
    expect(result.problems).toEqual([]);
    const step = jobSteps(result.text)[2] as Step;
    expect(step.uses).toBe('org/toolkit/actions/scan@v1');
    expect(strings(step.with)).toEqual({
      image: 'localbuild/testimage:latest',
      'sbom-artifact': 'image.spdx.json',
      // The file in the artifact is image.spdx.json, as sbom-action's was: a later download finds it.
      'sbom-file': 'image.spdx.json',
      'dependency-snapshot': 'true',
      'fail-on': 'none',
      'sbom-format': 'spdx-json',
    });
    expect(result.text.split('\n').slice(0, 30)).toEqual(source.split('\n').slice(0, 30));
    expect(result.steps[0]?.notes).toContain(
      'on a release event sbom-action also attached the SBOM to the release; scan does not (publish-release attaches release assets here).',
    );
    await validatesWhenFilled('starter-anchore-syft.yml', result.text);
  });

  it('starter-anchore.yml: grype’s scan-action is none of the anchors, and nothing changes', async () => {
    const source = read('starter-anchore.yml');
    const result = await migrateWorkflow(source, 'starter-anchore.yml', { root: ROOT });
    expect(result).toMatchObject({ changed: false, steps: [], text: source });
  });

  it('starter-docker-publish.yml: the cosign sign step becomes sign (one image by digest), the installer goes', async () => {
    const source = read('starter-docker-publish.yml');
    const result = await migrateWorkflow(source, 'starter-docker-publish.yml', { root: ROOT });
    expect(result.problems).toEqual([]);
    const steps = jobSteps(result.text);
    expect(steps.some((step) => step.uses?.startsWith('sigstore/cosign-installer'))).toBe(false);
    const sign = steps.find((step) => step.name === 'Sign the published Docker image') as Step;
    expect(sign).toEqual({
      name: 'Sign the published Docker image',
      if: "${{ github.event_name != 'pull_request' }}",
      uses: 'org/toolkit/actions/sign@v1',
      // Not images: ${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}, whose github.repository may have capitals;
      // docker/metadata-action's own tags are lower-cased.
      with: { image: '${{ fromJSON(steps.meta.outputs.json).tags[0] }}', digest: '${{ steps.build-and-push.outputs.digest }}' },
    });
    // cosign v2.2.4 is not pinned here: reported, and the pinned one used.
    const report = result.steps.find((step) => step.from === 'run: cosign sign');
    expect(report?.unmapped).toEqual([
      {
        input: 'cosign-release',
        reason: `cosign 2.2.4 is not pinned here, so it would need cosign-sha256 (its release's SHA-256); the pinned ${PINNED_TOOLS.cosign.version} is used instead. Set cosign-version and cosign-sha256 to keep 2.2.4.`,
      },
    ]);
    expect(report?.notes.join('\n')).toContain('a signature belongs to the digest, not the tag');
    // The comments that described the sign step stay; those of the removed installer go with it.
    expect(result.text).toContain('        # This step uses the identity token to provision an ephemeral certificate\n');
    expect(result.text).not.toContain('# https://github.com/sigstore/cosign-installer');
    expect(result.text).toContain('      # Set up BuildKit Docker container builder');
    await validatesWhenFilled('starter-docker-publish.yml', result.text);
  });

  it('github-tag-action.readme-usage.yml: semantic-tag, and the release step reads its outputs by their names here', async () => {
    const source = read('github-tag-action.readme-usage.yml');
    const result = await migrateWorkflow(source, 'github-tag-action.readme-usage.yml', { root: ROOT });
    expect(result.problems).toEqual([]);
    const steps = jobSteps(result.text);
    expect(steps[1]).toEqual({
      name: 'Bump version and push tag',
      id: 'tag_version',
      uses: 'org/toolkit/actions/semantic-tag@v1',
      with: {
        token: '${{ secrets.GITHUB_TOKEN }}',
        'default-bump': 'patch',
        annotate: 'false',
        // default_bump's patch there covered pushes whose commits give no bump (chore, docs, …).
        'release-rules': 'build:patch,chore:patch,ci:patch,docs:patch,refactor:patch,style:patch,test:patch',
        'dry-run': '${{ !contains(fromJSON(\'["refs/heads/master","refs/heads/main"]\'), github.ref) }}',
      },
    });
    expect(strings(steps[2]?.with)).toEqual({
      tag: '${{ steps.tag_version.outputs.tag }}',
      name: 'Release ${{ steps.tag_version.outputs.tag }}',
      body: '${{ steps.tag_version.outputs.changelog }}',
    });
    await validatesWhenFilled('github-tag-action.readme-usage.yml', result.text);
  });
});

(present ? describe : describe.skip)('the mapping table against the anchors’ real action.yml files', () => {
  const ours = async (name: string) => (await listActions(ROOT)).find((action) => action.name === name);

  for (const anchor of ANCHORS) {
    it(`${anchor.anchor}: every input and output is mapped or said to have no counterpart, with the anchor’s own defaults`, async () => {
      const manifest = parse(read(anchor.fixture)) as { inputs?: Record<string, { default?: unknown }>; outputs?: Record<string, unknown> };
      expect(Object.keys(anchor.inputs).sort()).toEqual(Object.keys(manifest.inputs ?? {}).sort());
      expect(Object.keys(anchor.outputs).sort()).toEqual(Object.keys(manifest.outputs ?? {}).sort());
      for (const [name, counterpart] of Object.entries(anchor.inputs)) {
        if ('none' in counterpart) {
          expect(counterpart.none.length).toBeGreaterThan(20);
          if (counterpart.default !== undefined)
            expect([name, counterpart.default]).toEqual([name, String(manifest.inputs?.[name]?.default ?? '')]);
        }
        if ('ignored' in counterpart) expect(counterpart.ignored.length).toBeGreaterThan(20);
      }
      // Every name it maps to is an input (or output) of this toolkit's action.
      const action = await ours(anchor.action);
      const inputs = new Set(action?.inputs.map((input) => input.id));
      for (const counterpart of Object.values(anchor.inputs))
        if ('to' in counterpart)
          expect([anchor.action, counterpart.to, inputs.has(counterpart.to)]).toEqual([anchor.action, counterpart.to, true]);
      for (const kept of Object.keys(anchor.keep ?? {})) expect(inputs.has(kept)).toBe(true);
      const outputs = new Set(action?.outputs.map((output) => output.id));
      for (const counterpart of Object.values(anchor.outputs)) if ('to' in counterpart) expect(outputs.has(counterpart.to)).toBe(true);
    });
  }

  it('docs/migrating.md is the table, one section per anchor, every input and output a row', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'migrating.md'), 'utf8');
    expect(doc).toBe(renderMigratingDoc());
    for (const anchor of ANCHORS) {
      const manifest = parse(read(anchor.fixture)) as { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
      const section = doc.slice(doc.indexOf(`## ${anchor.anchor} → ${anchor.action}`));
      for (const name of [...Object.keys(manifest.inputs ?? {}), ...Object.keys(manifest.outputs ?? {})])
        expect(section).toContain(`| \`${name}\` |`);
    }
  });
});
