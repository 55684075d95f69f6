import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runDemo } from '@toolkit/cli';
import { Git, parseVersionsFile } from '@toolkit/shared';
import { parse } from 'yaml';
import { ROOT } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

describe('toolkit demo', () => {
  it('rehearses the release chain with the built actions, leaving versions.yaml and the umbrella charts in the environment repository', async () => {
    const sandbox = await tempDir('toolkit-demo-test-');
    const lines: string[] = [];
    const code = await runDemo({ root: ROOT, keep: false, sandbox, log: (line) => lines.push(line) });
    const log = lines.join('\n');
    expect({ code, failed: /Demo FAILED at: (.*)/.exec(log)?.[1] }).toEqual({ code: 0, failed: undefined });
    expect(log).toMatch(/== semantic-tag[^]*tag=v0\.2\.0[^]*environment-tag=UAT-0\.2\.0[^]*-> done/);
    expect(log).toMatch(/== release-context for PROD-0\.2\.0[^]*passed: UAT-0\.2\.0 is at the same commit[^]*-> done/);
    expect(log).toMatch(/== release-context for PROD-0\.3\.0[^]*Error: PROD-0\.3\.0 is refused[^]*-> refused, as it must be/);

    const environments = new Git({ cwd: path.join(sandbox, 'environments.git') });
    const { data } = parseVersionsFile(await environments.output(['show', 'main:versions.yaml']));
    const uat = data.environments.uat?.services?.app;
    expect(uat).toMatchObject({ version: '0.2.0', image: 'ghcr.io/demo/app', chart: { version: '0.1.0' }, deployed_by: 'demo-developer' });
    expect(data.environments.prod?.services?.app).toMatchObject({ version: '0.2.0', digest: uat?.digest, commit: uat?.commit });
    const prodChart = parse(await environments.output(['show', 'main:umbrella/prod/Chart.yaml']));
    expect(prodChart).toMatchObject({
      apiVersion: 'v2',
      name: 'prod-umbrella',
      version: '0.1.0',
      dependencies: [{ name: 'app', version: '0.1.0', condition: 'app.enabled' }],
    });
    expect(parse(await environments.output(['show', 'main:umbrella/prod/values.yaml']))).toEqual({
      app: { enabled: true, image: { repository: 'ghcr.io/demo/app', tag: '0.2.0', digest: uat?.digest } },
    });
    expect(await environments.output(['show', 'main:umbrella/uat/application.yaml'])).toContain('kind: Application');
  });
});
