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

    // The PROD tag UAT never had stops at the gate; nothing after it ran.
    expect(refused?.jobs.map((job) => [job.id, job.result])).toEqual([
      ['release/context', 'failure'],
      ['release/build', 'skipped'],
      ['release/release', 'skipped'],
    ]);
    for (const report of result.reports) expect(report.denials).toEqual([]);

    const { data } = parseVersionsFile(result.versions);
    expect(data.environments.uat?.services?.shop).toMatchObject({ version: '1.0.0', digest, chart: { version: '0.1.0' } });
    expect(data.environments.prod?.services?.shop).toMatchObject({ version: '1.0.0', digest });
    // Named in the output: every part that stood in for a missing real one.
    expect(log).toMatch(/registry: the in-process OCI registry stand-in/);
    expect(log).toMatch(/trivy: a replay shim/);
  });
});
