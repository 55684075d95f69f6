import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, UserError, VERSIONS_HEADER, parseVersionsFile } from '@toolkit/shared';
import { getInputs, repositoryUrl } from '../../actions/promote/src/main.js';
import { type PromoteRequest, applyRequest, commitMessage, diffMarkdown, parseServices } from '../../actions/promote/src/promote.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const meta = { commit: 'abc1234def', actor: 'octocat', runUrl: 'https://github.com/acme/api/actions/runs/7', now: '2026-11-23T05:00:00Z' };
const request = (overrides: Partial<PromoteRequest>): PromoteRequest => ({
  operation: 'bump',
  environment: 'uat',
  services: [],
  allowSkip: false,
  meta,
  ...overrides,
});

/** Every field present, comments everywhere, 4-space indentation, mixed quoting. */
const COMMENTED = `# versions.yaml for acme
# (hand-written header, kept as it is)

promotion: [dev, uat, prod]   # order

environments:

    # -- user acceptance --
    uat:
        services:
            api:                       # the API
                version: "1.3.0"       # keep the quotes
                image: ghcr.io/acme/api
                digest: ${D('a')}
                chart: {name: api, version: 0.4.0}
                commit: c0ffee1
                deployed_at: '2026-11-01T10:00:00Z'
                deployed_by: alice     # who
                run_url: https://github.com/acme/api/actions/runs/1
                previous:
                    version: "1.2.0"
                    image: ghcr.io/acme/api
                    digest: ${D('9')}
                    chart: {name: api, version: 0.3.0}
                    commit: deadbee
                    deployed_at: '2026-10-01T10:00:00Z'
                    deployed_by: bob
                    run_url: https://github.com/acme/api/actions/runs/0

    # -- production --
    prod:
        services:
            api:
                version: "1.2.0"
                image: ghcr.io/acme/api
                digest: ${D('9')}
                chart: {name: api, version: 0.3.0}
                commit: deadbee
                deployed_at: '2026-10-02T10:00:00Z'
                deployed_by: bob
                run_url: https://github.com/acme/api/actions/runs/0
    dev:
        services:
            api: {version: 1.4.0, image: ghcr.io/acme/api, digest: '${D('b')}', commit: feed123}
# trailing comment
`;

describe('promote: the edit', () => {
  it('bumps a heavily commented file changing only the changed values, byte for byte', () => {
    const { text, changes } = applyRequest(
      COMMENTED,
      request({ services: [{ name: 'api', version: '1.4.0', digest: D('b') }] }),
      'versions.yaml',
    );
    expect(changes).toHaveLength(1);
    const expected = COMMENTED.replace(
      /( {12}api: {23}# the API\n)[^]*?( {4}# -- production --)/,
      (_all, head: string, tail: string) =>
        `${head}${[
          '                version: "1.4.0"       # keep the quotes',
          '                image: ghcr.io/acme/api',
          `                digest: ${D('b')}`,
          '                chart: {name: api, version: 0.4.0}',
          '                commit: abc1234def',
          "                deployed_at: '2026-11-23T05:00:00Z'",
          '                deployed_by: octocat     # who',
          '                run_url: https://github.com/acme/api/actions/runs/7',
          '                previous:',
          '                    version: "1.3.0"',
          '                    image: ghcr.io/acme/api',
          `                    digest: ${D('a')}`,
          '                    chart: {name: api, version: 0.4.0}',
          '                    commit: c0ffee1',
          "                    deployed_at: '2026-11-01T10:00:00Z'",
          '                    deployed_by: alice',
          '                    run_url: https://github.com/acme/api/actions/runs/1',
          '',
          '',
        ].join('\n')}${tail}`,
    );
    expect(text).toBe(expected);
  });

  it('promotes exactly the version, digest, image, chart and source commit, and refuses skipping environments', () => {
    const { text, changes } = applyRequest(
      COMMENTED,
      request({ operation: 'promote', from: 'dev', environment: 'uat', services: [] }),
      'versions.yaml',
    );
    expect(changes.map((change) => [change.service, change.before?.version, change.after.version])).toEqual([['api', '1.3.0', '1.4.0']]);
    const promoted = parseVersionsFile(text).data.environments.uat?.services?.api;
    expect(promoted).toMatchObject({
      version: '1.4.0',
      digest: D('b'),
      image: 'ghcr.io/acme/api',
      commit: 'feed123',
      deployed_by: 'octocat',
      previous: { version: '1.3.0', digest: D('a') },
    });
    // The chart is not dev's to give: dev has none, so uat's entry has none either.
    expect(promoted?.chart).toBeUndefined();

    expect(() => applyRequest(COMMENTED, request({ operation: 'promote', from: 'dev', environment: 'prod' }), 'versions.yaml')).toThrow(
      'Invalid input "to": promoting from "dev" to "prod" skips uat in the promotion order (dev, uat, prod); promote to uat first, or set allow-skip: true.',
    );
    const skipped = applyRequest(
      COMMENTED,
      request({ operation: 'promote', from: 'dev', environment: 'prod', allowSkip: true }),
      'versions.yaml',
    );
    expect(parseVersionsFile(skipped.text).data.environments.prod?.services?.api?.version).toBe('1.4.0');
    expect(() => applyRequest(COMMENTED, request({ operation: 'promote', from: 'uat', environment: 'dev' }), 'versions.yaml')).toThrow(
      '"dev" does not come after "uat"',
    );
    expect(() => applyRequest(COMMENTED, request({ operation: 'promote', from: 'qa', environment: 'uat' }), 'versions.yaml')).toThrow(
      'Invalid input "from": environment "qa" is not in versions.yaml; it has uat, prod, dev.',
    );
    expect(() =>
      applyRequest(
        COMMENTED,
        request({ operation: 'promote', from: 'dev', environment: 'uat', services: [{ name: 'web' }] }),
        'versions.yaml',
      ),
    ).toThrow('Invalid input "services": service "web" is not in environment "dev"; it has api.');
  });

  it('refuses to promote a version other than the one named, so that PROD-1.4.0 never ships what UAT runs by now', () => {
    const promote = (spec: { name: string; version?: string; digest?: string }) =>
      applyRequest(COMMENTED, request({ operation: 'promote', from: 'dev', environment: 'uat', services: [spec] }), 'versions.yaml');
    expect(() => promote({ name: 'api', version: '1.3.0' })).toThrow(
      `service "api" in "dev" is 1.4.0 (${D('b')}), not the 1.3.0 asked for: nothing was promoted.`,
    );
    expect(() => promote({ name: 'api', version: '1.4.0', digest: D('c') })).toThrow(/not the 1\.4\.0 sha256:c{64} asked for/);
    expect(promote({ name: 'api', version: '1.4.0' }).changes[0]?.after).toMatchObject({ version: '1.4.0', digest: D('b') });
  });

  it('is a no-op when the environment already runs that release', () => {
    const once = applyRequest(COMMENTED, request({ operation: 'promote', from: 'dev', environment: 'uat' }), 'versions.yaml');
    const twice = applyRequest(
      once.text,
      request({ operation: 'promote', from: 'dev', environment: 'uat', meta: { ...meta, now: '2026-12-01T00:00:00Z' } }),
      'versions.yaml',
    );
    expect(twice.changes).toEqual([]);
    expect(twice.text).toBe(once.text);
  });

  it('rolls back to the previous release without naming it, and remembers the rolled-back one', () => {
    const { text, changes } = applyRequest(COMMENTED, request({ operation: 'rollback', services: [{ name: 'api' }] }), 'versions.yaml');
    expect(changes[0]?.after).toMatchObject({
      version: '1.2.0',
      digest: D('9'),
      chart: { name: 'api', version: '0.3.0' },
      commit: 'deadbee',
      deployed_by: 'octocat',
    });
    const api = parseVersionsFile(text).data.environments.uat?.services?.api;
    expect(api).toMatchObject({ version: '1.2.0', previous: { version: '1.3.0', digest: D('a') } });
    expect(() =>
      applyRequest(COMMENTED, request({ operation: 'rollback', environment: 'prod', services: [{ name: 'api' }] }), 'versions.yaml'),
    ).toThrow('service "api" in "prod" has no previous release to roll back to.');
  });

  it('creates the file with its header on the first bump, and new services and environments after', () => {
    const first = applyRequest(
      undefined,
      request({ environment: 'dev', services: [{ name: 'api', version: '0.1.0' }], image: 'ghcr.io/acme/api' }),
      'versions.yaml',
    );
    expect(first.text.startsWith(VERSIONS_HEADER.split('environments')[0] as string)).toBe(true);
    const second = applyRequest(
      first.text,
      request({ environment: 'uat', services: [{ name: 'web', version: '2.0.0', digest: D('c') }], chartVersion: '1.0.0' }),
      'versions.yaml',
    );
    expect(parseVersionsFile(second.text).data.environments).toEqual({
      dev: {
        services: {
          api: {
            version: '0.1.0',
            image: 'ghcr.io/acme/api',
            commit: 'abc1234def',
            deployed_at: meta.now,
            deployed_by: 'octocat',
            run_url: meta.runUrl,
          },
        },
      },
      uat: {
        services: {
          web: {
            version: '2.0.0',
            digest: D('c'),
            chart: { version: '1.0.0' },
            commit: 'abc1234def',
            deployed_at: meta.now,
            deployed_by: 'octocat',
            run_url: meta.runUrl,
          },
        },
      },
    });
    expect(() => applyRequest(undefined, request({ operation: 'rollback', services: [{ name: 'api' }] }), 'versions.yaml')).toThrow(
      'versions.yaml does not exist yet; only a bump can create it.',
    );
  });

  it('drops a digest that belonged to the old version when a new version comes without one', () => {
    const { text } = applyRequest(COMMENTED, request({ services: [{ name: 'api', version: '1.5.0' }] }), 'versions.yaml');
    const api = parseVersionsFile(text).data.environments.uat?.services?.api;
    expect(api?.digest).toBeUndefined();
    expect(api?.previous?.digest).toBe(D('a'));
  });

  it('refuses a file that is broken or breaks the schema, with file:line:column', () => {
    expect(() =>
      applyRequest('environments:\n  uat: [\n', request({ services: [{ name: 'api', version: '1.0.0' }] }), 'env/versions.yaml'),
    ).toThrow(/env\/versions\.yaml:\d+:\d+/);
    expect(() =>
      applyRequest('environments:\n  uat:\n    servics: {}\n', request({ services: [{ name: 'api', version: '1.0.0' }] }), 'versions.yaml'),
    ).toThrow('versions.yaml:3:5: environments.uat has an unknown key "servics"');
  });

  it('describes the change for the commit and the diff output', () => {
    const { changes } = applyRequest(
      COMMENTED,
      request({ services: [{ name: 'api', version: '1.4.0', digest: D('b') }] }),
      'versions.yaml',
    );
    expect(commitMessage(request({}), changes)).toBe(
      `bump(uat): api 1.4.0\n\n- uat/api: 1.3.0 (sha256:aaaaaaaaaaaa…) -> 1.4.0 (sha256:bbbbbbbbbbbb…)\n\nRun: ${meta.runUrl}`,
    );
    expect(diffMarkdown(changes)).toBe(
      '| Environment | Service | Before | After |\n| --- | --- | --- | --- |\n| uat | api | 1.3.0 (sha256:aaaaaaaaaaaa…) | 1.4.0 (sha256:bbbbbbbbbbbb…) |\n',
    );
  });
});

describe('promote: inputs', () => {
  const read = (values: Record<string, string>, env: NodeJS.ProcessEnv = {}) =>
    getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }), env);

  it('reads service lines, names the input when one is malformed', () => {
    expect(parseServices(['api=1.4.0', `web=2.0.0@${D('c')}`], true)).toEqual([
      { name: 'api', version: '1.4.0' },
      { name: 'web', version: '2.0.0', digest: D('c') },
    ]);
    expect(() => parseServices(['api 1.4.0'], true)).toThrow(
      'Invalid input "services": "api 1.4.0" is not allowed; expected name=version or name=version@sha256:<64 hex digits>, one per line.',
    );
    expect(() => parseServices(['api'], true)).toThrow(InputError);
    expect(parseServices(['api'], false)).toEqual([{ name: 'api' }]);
  });

  it('reads a bump, a promote and a rollback, with the run URL from the runner', () => {
    const env = { GITHUB_RUN_ID: '99', GITHUB_REPOSITORY: 'acme/api', GITHUB_SERVER_URL: 'https://github.com' };
    const bump = read(
      { environment: 'uat', service: 'api', version: '1.4.0', repository: 'acme/env', 'source-commit': 'abcdef1', actor: 'octocat' },
      env,
    );
    expect(bump.request).toMatchObject({
      operation: 'bump',
      environment: 'uat',
      services: [{ name: 'api', version: '1.4.0' }],
      meta: { runUrl: 'https://github.com/acme/api/actions/runs/99', actor: 'octocat' },
    });
    expect(bump).toMatchObject({ commitMode: 'git', maxAttempts: 10, file: 'versions.yaml', authorGiven: false });
    expect(read({ operation: 'promote', from: 'uat', to: 'prod', repository: 'acme/env' }).request).toMatchObject({
      operation: 'promote',
      from: 'uat',
      environment: 'prod',
      services: [],
    });
    expect(() => read({ operation: 'rollback', environment: 'prod', repository: 'acme/env' })).toThrow(
      'Invalid input "services": rollback needs a service',
    );
    expect(() => read({ environment: 'uat', service: 'api', repository: 'acme/env' })).toThrow(
      'Invalid input "version": a value is required.',
    );
    expect(() => read({ environment: 'uat', service: 'api', version: '1', repository: 'acme/env', 'commit-mode': 'svn' })).toThrow(
      '"svn" is not allowed; expected one of: git, pull-request, api.',
    );
    expect(() => read({ environment: 'uat', service: 'api', version: '1', repository: 'acme/env', file: '../x.yaml' })).toThrow(
      'Invalid input "file"',
    );
  });

  it('maps owner/name to GITHUB_SERVER_URL and scopes the token to the host', () => {
    expect(repositoryUrl('acme/env', 'https://github.com')).toEqual({
      url: 'https://github.com/acme/env.git',
      github: { owner: 'acme', repo: 'env' },
      authUrl: 'https://github.com',
    });
    expect(repositoryUrl('https://git.example/acme/env.git', 'https://github.com')).toEqual({
      url: 'https://git.example/acme/env.git',
      authUrl: 'https://git.example',
    });
    expect(repositoryUrl('file:///srv/env.git', 'https://github.com')).toEqual({ url: 'file:///srv/env.git' });
  });

  it('keeps refused requests apart from internal failures', () => {
    expect(() =>
      applyRequest(COMMENTED, request({ operation: 'rollback', environment: 'prod', services: [{ name: 'api' }] }), 'v'),
    ).toThrow(UserError);
  });
});
