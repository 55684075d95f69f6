/**
 * promote's services-json: several services in one commit, each with its own image and chart (what
 * the monorepo release workflow collects from its build matrix), and the PROD promotion of a set,
 * refused unless the previous environment records each service's version.
 */
import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, UserError, parseVersionsFile } from '@toolkit/shared';
import { getInputs } from '../../actions/promote/src/main.js';
import { applyRequest } from '../../actions/promote/src/promote.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const read = (values: Record<string, string>) =>
  getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }), {});

const SET = JSON.stringify([
  {
    service: 'api',
    version: 'v1.1.0',
    digest: D('a'),
    image: 'ghcr.io/acme/shop/api',
    chart: { name: 'api', version: '0.3.0', repository: 'oci://ghcr.io/acme/charts/' },
  },
  { service: 'worker.jobs', version: '1.0.1', digest: D('b'), image: 'ghcr.io/acme/shop/worker.jobs', chart: { version: '1.2.0' } },
]);

describe('promote services-json', () => {
  it('bumps every service of the list with its own image and chart, in one edit', () => {
    const { request } = read({ environment: 'uat', repository: 'acme/env', 'services-json': SET });
    expect(request.services).toEqual([
      {
        name: 'api',
        version: '1.1.0',
        digest: D('a'),
        image: 'ghcr.io/acme/shop/api',
        chart: { name: 'api', version: '0.3.0', repository: 'oci://ghcr.io/acme/charts' },
      },
      { name: 'worker.jobs', version: '1.0.1', digest: D('b'), image: 'ghcr.io/acme/shop/worker.jobs', chart: { version: '1.2.0' } },
    ]);
    const before =
      'environments:\n  uat:\n    services:\n      worker.jobs: {version: 1.0.0, image: ghcr.io/old/worker, chart: {name: jobs, repository: https://charts.acme.example}}\n';
    const { text, changes } = applyRequest(before, { ...request, meta: { now: '2026-12-02T08:00:00Z' } }, 'versions.yaml');
    expect(changes.map((change) => change.service)).toEqual(['api', 'worker.jobs']);
    const { data } = parseVersionsFile(text);
    expect(data.environments.uat?.services?.api).toMatchObject({
      version: '1.1.0',
      image: 'ghcr.io/acme/shop/api',
      digest: D('a'),
      chart: { name: 'api', version: '0.3.0', repository: 'oci://ghcr.io/acme/charts' },
    });
    // The service's own chart fields over what it had; the rest kept.
    expect(data.environments.uat?.services?.['worker.jobs']).toMatchObject({
      version: '1.0.1',
      image: 'ghcr.io/acme/shop/worker.jobs',
      chart: { name: 'jobs', version: '1.2.0', repository: 'https://charts.acme.example' },
    });
  });

  it('promotes a set only where the previous environment records each version', () => {
    const file = `environments:\n  uat:\n    services:\n      api: {version: 1.1.0, digest: '${D('a')}'}\n      web: {version: 2.0.0}\n  prod:\n    services: {}\n`;
    const promote = (set: object[]) =>
      read({ operation: 'promote', from: 'uat', to: 'prod', repository: 'acme/env', 'services-json': JSON.stringify(set) }).request;
    const { changes } = applyRequest(
      file,
      { ...promote([{ service: 'api', version: '1.1.0' }]), meta: { now: '2026-12-02T08:00:00Z' } },
      'versions.yaml',
    );
    expect(changes.map((change) => `${change.service}@${change.after.version}`)).toEqual(['api@1.1.0']);
    expect(() =>
      applyRequest(
        file,
        {
          ...promote([
            { service: 'api', version: '1.1.0' },
            { service: 'web', version: '2.1.0' },
          ]),
          meta: { now: 'x' },
        },
        'versions.yaml',
      ),
    ).toThrow(UserError);
  });

  it('skip-older leaves alone a service a newer set already recorded, and records the others', () => {
    const file = 'environments:\n  uat:\n    services:\n      api: {version: 1.2.0}\n      web: {version: 2.0.0}\n';
    const set = JSON.stringify([
      { service: 'api', version: '1.1.0' },
      { service: 'web', version: '2.1.0' },
    ]);
    const refused = read({ environment: 'uat', repository: 'acme/env', 'services-json': set }).request;
    expect(() => applyRequest(file, { ...refused, meta: { now: '2026-12-02T08:00:00Z' } }, 'versions.yaml')).toThrow(/would downgrade it/);
    const request = read({ environment: 'uat', repository: 'acme/env', 'services-json': set, 'skip-older': 'true' }).request;
    const { text, changes, notices } = applyRequest(file, { ...request, meta: { now: '2026-12-02T08:00:00Z' } }, 'versions.yaml');
    expect(changes.map((change) => `${change.service}@${change.after.version}`)).toEqual(['web@2.1.0']);
    expect(notices).toEqual(['service "api" in "uat" is already at 1.2.0, above 1.1.0: left as it is (skip-older).']);
    expect(parseVersionsFile(text).data.environments.uat?.services?.api?.version).toBe('1.2.0');
  });

  it('names the input, the item and what is allowed', () => {
    const refusal = (json: string) => {
      try {
        read({ environment: 'uat', repository: 'acme/env', 'services-json': json });
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal('{"service": "api"}')).toMatch(/services-json.*is not a JSON list/);
    expect(refusal('[{"service": "api", "version": "1.0.0"},')).toMatch(/services-json.*is not JSON/);
    expect(refusal('[{"service": "API", "version": "1.0.0"}]')).toMatch(/item 1: service "API" is not allowed/);
    expect(refusal('[{"service": "api"}]')).toMatch(/item 1 \(api\) has no version/);
    expect(refusal('[{"service": "api", "version": "latest"}]')).toMatch(/item 1 \(api\): latest.*is not allowed/);
    expect(refusal('[{"service": "api", "version": "1.0.0", "digest": "sha256:abc"}]')).toMatch(
      /item 1 \(api\): digest "sha256:abc" is not allowed/,
    );
    expect(refusal('[{"service": "api", "version": "1.0.0", "image": "ghcr.io/Acme/API"}]')).toMatch(
      /services-json.*"ghcr.io\/Acme\/API" is not allowed/,
    );
    expect(refusal('[{"service": "api", "version": "1.0.0", "tag": "x"}]')).toMatch(/item 1 has an unknown key "tag"/);
    expect(refusal('[{"service": "api", "version": "1.0.0", "chart": {"version": "one"}}]')).toMatch(
      /chart\.version "one" is not a semantic version/,
    );
  });
});
