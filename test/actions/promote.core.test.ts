import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, type UmbrellaConfig, UserError, VERSIONS_HEADER, parseVersionsFile } from '@toolkit/shared';
import { getInputs, repositoryUrl } from '../../actions/promote/src/main.js';
import {
  type PromoteRequest,
  applyRequest,
  commitMessage,
  diffMarkdown,
  parseServices,
  promotionBranch,
  promotionEdit,
} from '../../actions/promote/src/promote.js';

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

describe('promote: no silent downgrade', () => {
  const bumpTo = (version: string, overrides: Partial<PromoteRequest> = {}) =>
    applyRequest(COMMENTED, request({ services: [{ name: 'api', version }], ...overrides }), 'versions.yaml');

  it('refuses a bump to a lower version, naming service, environment, both versions and how to allow it', () => {
    expect(() => bumpTo('1.2.9')).toThrow(UserError);
    expect(() => bumpTo('1.2.9')).toThrow(
      'service "api" in "uat" is at 1.3.0; a bump to 1.2.9 would downgrade it (1.3.0 → 1.2.9), so nothing was written. ' +
        'To go back to the release before, use operation: rollback; to record the lower version on purpose, set allow-downgrade: true.',
    );
    // A pre-release of the same version is lower too.
    expect(() => bumpTo('1.3.0-rc.1')).toThrow('(1.3.0 → 1.3.0-rc.1)');
  });

  it('records the lower version with allow-downgrade, keeping what it replaced as previous', () => {
    const { text, changes } = bumpTo('1.2.9', { allowDowngrade: true });
    expect(changes.map((change) => [change.before?.version, change.after.version])).toEqual([['1.3.0', '1.2.9']]);
    expect(parseVersionsFile(text).data.environments.uat?.services?.api).toMatchObject({
      version: '1.2.9',
      previous: { version: '1.3.0' },
    });
  });

  it('allows higher versions, versions without an order (not semver), a new service, and rollback as before', () => {
    expect(bumpTo('1.3.1').changes).toHaveLength(1);
    expect(bumpTo('main-3f2a9c').changes).toHaveLength(1);
    expect(applyRequest(COMMENTED, request({ services: [{ name: 'web', version: '0.0.1' }] }), 'versions.yaml').changes).toHaveLength(1);
    const rolledBack = applyRequest(COMMENTED, request({ operation: 'rollback', services: [{ name: 'api' }] }), 'versions.yaml');
    expect(rolledBack.changes[0]?.after.version).toBe('1.2.0');
  });

  it('records the same version with another digest as before, and says what it found', () => {
    const { text, changes, notices } = bumpTo('1.3.0', { services: [{ name: 'api', version: '1.3.0', digest: D('e') }] });
    expect(changes).toHaveLength(1);
    expect(parseVersionsFile(text).data.environments.uat?.services?.api).toMatchObject({
      version: '1.3.0',
      digest: D('e'),
      previous: { version: '1.3.0', digest: D('a') },
    });
    expect(notices).toEqual([
      `service "api" in "uat" is already at 1.3.0, with digest ${D('a')}; recording 1.3.0 again with digest ${D('e')} (the same version, another image). ` +
        'The release before, with the old digest, is kept as previous.',
    ]);
    expect(bumpTo('1.3.1', { services: [{ name: 'api', version: '1.3.1', digest: D('e') }] }).notices).toEqual([]);
    expect(bumpTo('1.3.0', { services: [{ name: 'api', version: '1.3.0', digest: D('a') }] })).toMatchObject({ changes: [], notices: [] });
  });
});

describe('promote: the chart of a bump, and the umbrella chart in the same edit', () => {
  const umbrella: UmbrellaConfig = {
    versionsFile: 'versions.yaml',
    environment: 'uat',
    chartName: 'uat-umbrella',
    outputDir: 'umbrella/uat',
    repository: '',
    repositoryInput: 'umbrella-repository',
    chartVersion: 'patch',
    sourceCommit: 'abc1234def',
  };
  const files = (map: Record<string, string>) => async (file: string) => map[file];

  it('records chart name, version and repository on a bump, keeping the ones not given', () => {
    const given = applyRequest(
      COMMENTED,
      request({ services: [{ name: 'api', version: '1.4.0' }], chartVersion: '0.5.0', chartRepository: 'oci://ghcr.io/acme/charts' }),
      'versions.yaml',
    );
    expect(parseVersionsFile(given.text).data.environments.uat?.services?.api?.chart).toEqual({
      name: 'api',
      version: '0.5.0',
      repository: 'oci://ghcr.io/acme/charts',
    });
    const named = applyRequest(
      undefined,
      request({ services: [{ name: 'orders', version: '1.0.0' }], chartName: 'microservice', chartVersion: '4.1.0' }),
      'versions.yaml',
    );
    expect(parseVersionsFile(named.text).data.environments.uat?.services?.orders?.chart).toEqual({
      name: 'microservice',
      version: '4.1.0',
    });
  });

  it('returns versions.yaml and the chart generated from it as one edit', async () => {
    const promotion = promotionEdit(
      request({ services: [{ name: 'api', version: '0.1.0' }], chartVersion: '0.3.0', chartRepository: 'https://charts.acme.example' }),
      'versions.yaml',
      umbrella,
    );
    const edit = await promotion.edit(files({}));
    expect(Object.keys(edit?.files ?? {}).sort()).toEqual(['umbrella/uat/Chart.yaml', 'umbrella/uat/values.yaml', 'versions.yaml']);
    expect(edit?.files['umbrella/uat/Chart.yaml']).toContain(
      'dependencies:\n  - name: api\n    version: 0.3.0\n    repository: https://charts.acme.example\n    condition: api.enabled\n',
    );
    expect(edit?.files['umbrella/uat/values.yaml']).toContain('api:\n  enabled: true\n  image:\n    tag: 0.1.0\n');
    expect(edit?.message).toBe(
      'bump(uat): api 0.1.0\n\n- uat/api: (none) -> 0.1.0\n\nChart: uat-umbrella 0.1.0 in umbrella/uat\n- api: (added) -> api 0.3.0\n\nRun: https://github.com/acme/api/actions/runs/7',
    );
    expect(promotion.chart()).toMatchObject({ changed: true, chartVersion: '0.1.0' });

    // Everything already says it: no edit at all. Only the chart is behind (a half-done release): the chart alone.
    const written = { ...(edit?.files ?? {}) };
    expect(await promotion.edit(files(written))).toBeUndefined();
    const { 'umbrella/uat/Chart.yaml': _chart, ...withoutChart } = written;
    const healed = await promotion.edit(files(withoutChart));
    expect(Object.keys(healed?.files ?? {}).sort()).toEqual(['umbrella/uat/Chart.yaml', 'umbrella/uat/values.yaml']);
    expect(healed?.message.split('\n')[0]).toBe('chart(uat): uat-umbrella 0.1.0');
    expect(promotionBranch('uat', promotion.changes(), promotion.chart())).toEqual({
      branch: 'umbrella/uat/0.1.0',
      reusePrefix: 'umbrella/uat/',
    });
  });

  it('refuses the whole edit when the chart cannot be generated, naming the service, the field and what to set', async () => {
    const noVersion = promotionEdit(request({ services: [{ name: 'api', version: '0.1.0' }] }), 'versions.yaml', umbrella);
    await expect(noVersion.edit(files({}))).rejects.toThrow(UserError);
    await expect(noVersion.edit(files({}))).rejects.toThrow(
      'The umbrella chart of "uat" cannot be generated, so nothing was committed (versions.yaml and the chart are written together, or not at all): ' +
        'Service "api" in uat has no chart version (chart.version in versions.yaml); its chart cannot be pinned. ' +
        `Set environments.uat.services.api.chart.version in versions.yaml, or give promote's chart-version input when bumping "api".`,
    );
    const noRepository = promotionEdit(
      request({ services: [{ name: 'api', version: '0.1.0' }], chartVersion: '0.3.0' }),
      'versions.yaml',
      umbrella,
    );
    await expect(noRepository.edit(files({}))).rejects.toThrow(
      'Service "api" in uat names no chart repository, and the umbrella-repository input is empty. Set umbrella-repository (https://… or oci://…, ' +
        'for every service that names none), or environments.uat.services.api.chart.repository in versions.yaml ' +
        `(promote's chart-repository input records it when bumping "api").`,
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
    expect(() => read({ environment: 'uat', service: 'api', version: '1.0.0', repository: 'acme/env', 'commit-mode': 'svn' })).toThrow(
      '"svn" is not allowed; expected one of: git, pull-request, api.',
    );
    expect(() => read({ environment: 'uat', service: 'api', version: '1.0.0', repository: 'acme/env', file: '../x.yaml' })).toThrow(
      'Invalid input "file"',
    );
  });

  it('reads the chart of a bump, allow-downgrade, and the umbrella chart inputs with their umbrella- prefix', () => {
    const base = { environment: 'uat', service: 'api', version: '1.4.0', repository: 'acme/env' };
    const plain = read(base);
    expect(plain.umbrella).toBeUndefined();
    expect(plain.request).toMatchObject({ allowDowngrade: false, chartName: '', chartVersion: '', chartRepository: '' });
    const full = read(
      {
        ...base,
        'chart-name': 'microservice',
        'chart-version': '4.1.0',
        'chart-repository': 'oci://ghcr.io/acme/charts/',
        'allow-downgrade': 'true',
        'source-commit': 'abcdef1',
        'umbrella-chart': 'true',
        'umbrella-argocd': 'true',
        'umbrella-chart-version': 'content-hash',
      },
      { GITHUB_SERVER_URL: 'https://git.example' },
    );
    expect(full.request).toMatchObject({
      allowDowngrade: true,
      chartName: 'microservice',
      chartVersion: '4.1.0',
      chartRepository: 'oci://ghcr.io/acme/charts',
    });
    expect(full.umbrella).toEqual({
      versionsFile: 'versions.yaml',
      environment: 'uat',
      chartName: 'uat-umbrella',
      outputDir: 'umbrella/uat',
      repository: '',
      repositoryInput: 'umbrella-repository',
      chartVersion: 'content-hash',
      sourceCommit: 'abcdef1',
      argocd: {
        repoUrl: 'https://git.example/acme/env.git',
        targetRevision: 'HEAD',
        namespace: 'uat',
        project: 'default',
        destination: 'https://kubernetes.default.svc',
      },
    });
    expect(() => read({ ...base, 'chart-version': 'latest' })).toThrow(
      'Invalid input "chart-version": "latest" is not allowed; expected a chart version in semantic versioning (such as 0.7.0), as Helm needs.',
    );
    expect(() => read({ ...base, 'chart-repository': 'charts.acme.example' })).toThrow(
      'Invalid input "chart-repository": "charts.acme.example" is not a chart repository',
    );
    expect(() => read({ ...base, 'umbrella-chart': 'true', 'umbrella-repository': 'ftp://x' })).toThrow(
      'Invalid input "umbrella-repository"',
    );
    expect(() => read({ ...base, 'umbrella-chart': 'true', 'umbrella-output-dir': '../elsewhere' })).toThrow(
      'Invalid input "umbrella-output-dir"',
    );
    // Without umbrella-chart the umbrella inputs are not read at all.
    expect(read({ ...base, 'umbrella-repository': 'ftp://x' }).umbrella).toBeUndefined();
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

  it('keeps refused requests apart from internal failures', async () => {
    const { CommandError, ToolkitError, isUserError, reportFailure } = await import('@toolkit/shared');
    /** How a failure is reported: its kind, the message shown, and whether a stack went to debug. */
    const reported = (error: unknown) => {
      const shown: { message: string; kind: string }[] = [];
      const debug: string[] = [];
      reportFailure(error, { setFailed: (message, kind) => shown.push({ message, kind }), debug: (line) => debug.push(line) });
      expect(shown).toHaveLength(1);
      return { ...(shown[0] as { message: string; kind: string }), stack: debug.length > 0 };
    };
    const thrown = async (action: () => unknown): Promise<unknown> => {
      try {
        await action();
      } catch (error) {
        return error;
      }
      throw new Error('expected a failure');
    };

    // A user error is never reported as internal: promote's refusals, bad inputs and broken files.
    const userErrors = [
      await thrown(() =>
        applyRequest(COMMENTED, request({ operation: 'rollback', environment: 'prod', services: [{ name: 'api' }] }), 'v'),
      ),
      await thrown(() =>
        getInputs(new InputReader({ source: (name) => ({ environment: 'uat', service: 'api', repository: 'acme/env' })[name] ?? '' })),
      ),
      await thrown(() =>
        applyRequest('environments: [unclosed\n', request({ services: [{ name: 'api', version: '1.0.0' }] }), 'versions.yaml'),
      ),
      new UserError('REFUSED', 'refused, with the socket error that explains it', { cause: new Error('socket hang up') }),
    ];
    for (const error of userErrors) {
      expect(error).toBeInstanceOf(UserError);
      expect(isUserError(error)).toBe(true);
      expect(reported(error)).toEqual({ message: (error as Error).message, kind: 'user', stack: false });
    }

    // An internal failure is never reported as a user error: a failing disk under the edit, a bug
    // (a request no input reader makes), a failed command, a download, and anything not an Error.
    const disk = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    const internal = [
      await thrown(() =>
        promotionEdit(request({ services: [{ name: 'api', version: '1.0.0' }] }), 'versions.yaml').edit(() => Promise.reject(disk)),
      ),
      await thrown(() => applyRequest(COMMENTED, request({ services: undefined as never }), 'versions.yaml')),
      new CommandError(['git', 'push'], 128, 'fatal: unable to access', 'git push'),
      new ToolkitError('DOWNLOAD_FAILED', 'Download of https://example.test/x failed after 4 attempts: HTTP 503'),
      new Error('promote’s edit does not read back', { cause: new UserError('INVALID_CONFIGURATION', 'versions.yaml:3:1: …') }),
      new TypeError("Cannot read properties of undefined (reading 'map')"),
      'a thrown string',
    ];
    expect(internal[0]).toBe(disk);
    for (const error of internal) {
      expect(error).not.toBeInstanceOf(UserError);
      expect(isUserError(error)).toBe(false);
      const report = reported(error);
      expect(report.kind).toBe('internal');
      expect(report.stack).toBe(true);
    }
  });
});
