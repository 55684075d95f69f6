import { describe, expect, it } from '@jest/globals';
import { runDemo } from '@toolkit/cli';
import { ROOT } from '../support/harness.js';

describe('toolkit demo', () => {
  it('cuts v0.2.0 and UAT-0.2.0 from the commits, rehearses UAT and PROD with the built actions, and shows the gate refusing a version UAT never had', async () => {
    const lines: string[] = [];
    const code = await runDemo({ root: ROOT, keep: false, log: (line) => lines.push(line) });
    const log = lines.join('\n');
    expect(code).toBe(0);
    expect(log).toMatch(/== semantic-tag[^]*tag=v0\.2\.0[^]*environment-tag=UAT-0\.2\.0[^]*-> released/);
    expect(log).toMatch(/== release-context for UAT-0\.2\.0[^]*environment=uat[^]*-> released/);
    expect(log).toMatch(
      /== release-context for PROD-0\.2\.0[^]*previous-tag=UAT-0\.2\.0[^]*passed: UAT-0\.2\.0 is at the same commit[^]*-> released/,
    );
    expect(log).toMatch(/== release-context for PROD-0\.3\.0[^]*Error: PROD-0\.3\.0 is refused[^]*-> refused, as it must be/);
    expect(log).toContain('Demo finished: every step behaved as a release should.');
  });
});
