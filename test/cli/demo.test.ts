import { describe, expect, it } from '@jest/globals';
import { demo } from '@toolkit/cli';
import { parseVersionsFile } from '@toolkit/shared';
import { ROOT, node24 } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

describe('toolkit demo', () => {
  it('rehearses UAT-1.0.0, PROD-1.0.0 and a refused PROD tag from the templates toolkit init writes, with only Node and git', async () => {
    const sandbox = await tempDir('toolkit-demo-test-');
    const lines: string[] = [];
    const result = await demo({ root: ROOT, keep: false, sandbox, node: node24(), log: (line) => lines.push(line) });
    const log = lines.join('\n');
    expect({ code: result.exitCode, failed: /Demo FAILED: (.*)/.exec(log)?.[1] }).toEqual({ code: 0, failed: undefined });
    const [uat, prod, refused] = result.reports;

    // UAT: built, scanned, signed and recorded through the reusable workflows, digest carried through.
    const built = uat?.jobs.find((job) => job.id === 'release/build/build');
    expect(built).toMatchObject({ result: 'success', workflow: 'acme/toolkit/.github/workflows/build-scan-sign.yml@v1' });
    const digest = built?.outputs.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(uat?.jobs.find((job) => job.id === 'release/release')).toMatchObject({
      result: 'success',
      environment: 'uat',
      outputs: { digest },
    });

    // PROD: no build, exactly UAT's digest; the one approval is the release job's.
    expect(prod?.jobs.find((job) => job.id === 'release/build')).toMatchObject({ result: 'skipped' });
    expect(prod?.jobs.find((job) => job.id === 'release/release')).toMatchObject({
      result: 'success',
      environment: 'prod',
      outputs: { digest },
    });
    expect(prod?.approvals).toEqual([{ job: 'release/release', environment: 'prod' }]);
    // One release per environment at a time, as the workflow's concurrency group says.
    expect(prod?.jobs.find((job) => job.id === 'release/release')?.concurrency).toBe('release-prod');

    // The PROD tag UAT never had stops at the gate; nothing after it ran.
    expect(refused?.jobs.map((job) => [job.id, job.result])).toEqual([
      ['release/context', 'failure'],
      ['release/build', 'skipped'],
      ['release/release', 'skipped'],
      ['release/publish', 'skipped'],
    ]);
    for (const report of result.reports) expect(report.denials).toEqual([]);

    const { data } = parseVersionsFile(result.versions);
    expect(data.environments.uat?.services?.shop).toMatchObject({ version: '1.0.0', digest, chart: { version: '0.1.0' } });
    expect(data.environments.prod?.services?.shop).toMatchObject({ version: '1.0.0', digest });
    // The UAT release's GitHub Release (on the hand-pushed tag: there is no v1.0.0) carries the
    // digest, the scan summary, the SBOM and the SARIF.
    expect(result.releases.map((release) => release.tag_name)).toEqual(['UAT-1.0.0']);
    const [release] = result.releases;
    expect(release?.body).toContain(`127.0.0.1`);
    expect(release?.body).toContain(digest);
    expect(release?.body).toMatch(/Trivy found 0 critical, 0 high, 0 medium and 0 low vulnerabilities/);
    expect(release?.assets.map((asset) => asset.name).sort()).toEqual(['sbom.spdx.json', 'trivy.sarif']);
    expect(JSON.parse(release?.assets.find((asset) => asset.name === 'sbom.spdx.json')?.data.toString() ?? '{}')).toMatchObject({
      spdxVersion: 'SPDX-2.3',
    });
    // The weekly release report (the template toolkit init wrote, run by hand) read the history
    // back: one deployment each to UAT and PROD, none failed, and the lead time from the
    // committed_at release.yml passed to promote.
    const prodShop = data.environments.prod?.services?.shop;
    expect(prodShop?.committed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(data.environments.uat?.services?.shop?.committed_at).toBe(prodShop?.committed_at);
    const reportJob = result.releaseReport?.jobs.find((job) => job.id === 'report/report');
    expect(reportJob).toMatchObject({
      result: 'success',
      outputs: {
        deployments: '1',
        'deployments-per-week': String(Math.round((7 / 90) * 1000) / 1000),
        'change-failure-rate': '0',
        'lead-time-median-seconds': String((Date.parse(prodShop?.deployed_at ?? '') - Date.parse(prodShop?.committed_at ?? '')) / 1000),
      },
    });
    expect(reportJob?.summary).toMatch(/### uat[\s\S]*### prod[\s\S]*```mermaid\nxychart-beta\n {4}title "Deployments per week to prod"/);
    // Named in the output: every part that stood in for a missing real one.
    expect(log).toMatch(/registry: the in-process OCI registry stand-in/);
    expect(log).toMatch(/trivy: a replay shim/);
  });
});
