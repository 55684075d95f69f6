/**
 * Workflows toolkit migrate rewrote, run as GitHub would run them: GitHub's Trivy and Anchore Syft
 * starter workflows (../shared/fixtures/anchor-workflows, read in place), migrated, their
 * placeholders filled as a repository adopting one fills them, rehearsed on a push to main with
 * dockerd building the image, this toolkit's built scan action, the trivy and syft replay shims,
 * upload-sarif's stand-in, and the GitHub stand-in's dependency graph.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalParts, migrateWorkflow, prepareRehearsal, shimCalls, startLocalParts } from '@toolkit/cli';
import { YamlEditor } from '@toolkit/shared';
import { parse } from 'yaml';
import { ROOT, node24 } from '../support/harness.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const ANCHOR_WORKFLOWS = path.join(ROOT, '..', 'shared', 'fixtures', 'anchor-workflows');
const STARTER = path.join(ANCHOR_WORKFLOWS, 'starter-trivy.yml');
const present = existsSync(STARTER);
if (!present)
  console.warn(
    `The rehearsal of a migrated starter workflow is SKIPPED: ${STARTER} is absent (../shared/fixtures is not beside this checkout).`,
  );

const stepsOf = (text: string) =>
  Object.values((parse(text) as { jobs: Record<string, { steps: { with?: Record<string, unknown> }[] }> }).jobs)[0]?.steps ?? [];

let parts: LocalParts | undefined;
beforeAll(async () => {
  if (present) parts = await startLocalParts(await mkdtemp(path.join(os.tmpdir(), 'rehearse-migrated-')));
}, 180_000);
afterAll(async () => {
  await parts?.close();
}, 60_000);

/** An app repository with one migrated workflow and a Dockerfile to build, committed. */
async function appWith(file: string, workflow: string): Promise<{ dir: string; sha: string }> {
  const dir = path.join(await tempDir('migrated-app-'), 'my-app');
  const git = await makeRepo(dir);
  await mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
  await writeFile(path.join(dir, '.github', 'workflows', file), workflow);
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  await writeFile(path.join(dir, 'hello.txt'), 'hello\n');
  await git.run(['add', '--all']);
  await commit(git, `ci: ${file}, migrated`);
  return { dir, sha: await git.output(['rev-parse', 'HEAD']) };
}

(present ? describe : describe.skip)('a migrated starter workflow, rehearsed', () => {
  it('starter-trivy.yml: the image is built, scan runs Trivy once on it, and upload-sarif gets the SARIF', async () => {
    if (!parts?.daemon) throw new Error(`dockerd did not start: ${parts?.missing.join('; ') ?? 'not started'}`);
    const migrated = await migrateWorkflow(readFileSync(STARTER, 'utf8'), 'starter-trivy.yml', { root: ROOT });
    expect(migrated.problems).toEqual([]);
    // Trivy cannot be downloaded here: the step uses the replay shim on PATH, as the templates do in
    // a rehearsal (their trivy-version is vars.TOOLKIT_TRIVY_VERSION, set to system).
    const editor = new YamlEditor(migrated.text, { file: 'starter-trivy.yml' });
    editor.set(['jobs', 'build', 'steps', '2', 'with', 'trivy-version'], 'system');
    const workflow = editor
      .toString()
      .replaceAll('$default-branch', 'main')
      .replaceAll('$protected-branches', 'release')
      .replaceAll('$cron-weekly', "'17 3 * * 1'");
    const { dir, sha } = await appWith('trivy.yml', workflow);

    const rehearsal = await prepareRehearsal({ root: ROOT, appDir: dir, node: node24(), dockerHost: parts.daemon.host });
    // A hosted runner has its docker on the machine: the run step's `docker build` finds this dockerd.
    const dockerHost = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = parts.daemon.host;
    try {
      const lines: string[] = [];
      const report = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' }, { log: (line) => lines.push(line) });
      expect({ conclusion: report.conclusion, log: report.conclusion === 'success' ? '' : lines.join('\n') }).toEqual({
        conclusion: 'success',
        log: '',
      });
      const trivy = await shimCalls(rehearsal.world.shimDir, 'trivy');
      expect(trivy).toHaveLength(1);
      const args = trivy[0]?.args ?? [];
      expect(args.at(-1)).toBe(`docker.io/my-organization/my-app:${sha}`);
      // The starter's sarif template kept --severity there (only format: sarif drops it), and scan keeps it.
      expect(args[args.indexOf('--severity') + 1]).toBe('CRITICAL,HIGH');
      // sbom-format: none: trivy-action made no SBOM, so Syft is not run.
      expect(await shimCalls(rehearsal.world.shimDir, 'syft')).toEqual([]);
      const scan = report.jobs.flatMap((job) => job.steps).find((step) => step.name === 'Run Trivy vulnerability scanner');
      expect(scan?.outputs).toMatchObject({ passed: 'true', 'sarif-file': expect.stringMatching(/trivy-results\.sarif$/) });
      expect(lines.join('\n')).toContain('no vulnerabilities, misconfigurations or secrets reported.');
      const sarif = report.jobs
        .flatMap((job) => job.steps)
        .find((step) => step.name === 'Upload Trivy scan results to GitHub Security tab');
      expect(sarif?.conclusion).toBe('success');
    } finally {
      if (dockerHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = dockerHost;
      await rehearsal.close();
    }
  }, 300_000);

  it('starter-anchore-syft.yml: the SBOM is submitted as the pushed commit’s dependency snapshot, with the job’s token', async () => {
    if (!parts?.daemon) throw new Error(`dockerd did not start: ${parts?.missing.join('; ') ?? 'not started'}`);
    const migrated = await migrateWorkflow(
      readFileSync(path.join(ANCHOR_WORKFLOWS, 'starter-anchore-syft.yml'), 'utf8'),
      'starter-anchore-syft.yml',
      {
        root: ROOT,
      },
    );
    expect(migrated.problems).toEqual([]);
    // Trivy and Syft cannot be downloaded here: the replay shims on PATH stand in.
    const editor = new YamlEditor(migrated.text, { file: 'starter-anchore-syft.yml' });
    editor.set(['jobs', 'Anchore-Build-Scan', 'steps', '2', 'with', 'trivy-version'], 'system');
    editor.set(['jobs', 'Anchore-Build-Scan', 'steps', '2', 'with', 'syft-version'], 'system');
    // The rehearsal's GitHub is on 127.0.0.1, which @actions/artifact (v2+) takes for GitHub Enterprise
    // Server and refuses, as it refuses GHES itself: the artifact upload is tested against a stand-in
    // of the artifact service in test/actions/scan.anchor-inputs.test.ts, not here.
    expect(stepsOf(migrated.text)[2]?.with?.['sbom-artifact']).toBe('image.spdx.json');
    editor.delete(['jobs', 'Anchore-Build-Scan', 'steps', '2', 'with', 'sbom-artifact']);
    const workflow = editor.toString().replaceAll('$default-branch', 'main').replaceAll('$protected-branches', 'release');
    const { dir, sha } = await appWith('syft.yml', workflow);

    const rehearsal = await prepareRehearsal({ root: ROOT, appDir: dir, node: node24(), dockerHost: parts.daemon.host });
    const dockerHost = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = parts.daemon.host;
    try {
      const lines: string[] = [];
      const report = await rehearsal.run({ name: 'push', ref: 'refs/heads/main' }, { log: (line) => lines.push(line) });
      expect({ conclusion: report.conclusion, log: report.conclusion === 'success' ? '' : lines.join('\n') }).toEqual({
        conclusion: 'success',
        log: '',
      });
      const step = report.jobs
        .flatMap((job) => job.steps)
        .find((candidate) => candidate.name === 'Scan the image and upload dependency results');
      expect(step?.outputs).toMatchObject({ passed: 'true', 'sbom-file': expect.stringMatching(/image\.spdx\.json$/) });
      const [syft] = await shimCalls(rehearsal.world.shimDir, 'syft');
      expect(syft?.args.slice(0, 2)).toEqual(['scan', 'localbuild/testimage:latest']);

      // The dependency snapshot of the pushed commit, with the job's token (contents: write).
      const snapshots = rehearsal.world.github.dependencySnapshots(rehearsal.repository);
      expect(snapshots).toHaveLength(1);
      expect(snapshots[0]).toMatchObject({
        version: 0,
        sha,
        ref: 'refs/heads/main',
        detector: { name: 'toolkit scan (syft)', url: 'https://github.com/anchore/syft' },
        manifests: { 'localbuild/testimage:latest': { name: 'localbuild/testimage:latest', resolved: {} } },
      });
      expect(lines.join('\n')).toMatch(/Dependency graph: snapshot 1 submitted with 0 packages/);
    } finally {
      if (dockerHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = dockerHost;
      await rehearsal.close();
    }
  }, 300_000);
});
