import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, UserError, parseVersionsFile } from '@toolkit/shared';
import { getInputs } from '../../actions/promote/src/main.js';
import { type PromoteRequest, applyRequest } from '../../actions/promote/src/promote.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const meta = { actor: 'octocat', now: '2026-11-23T05:00:00Z' };
const request = (overrides: Partial<PromoteRequest>): PromoteRequest => ({
  operation: 'bump',
  environment: 'uat',
  services: [],
  allowSkip: false,
  meta,
  ...overrides,
});
const read = (values: Record<string, string>) =>
  getInputs(new InputReader({ source: (name) => values[name] ?? '', mask: () => undefined }), {});
const base = { environment: 'uat', service: 'api', version: '1.4.0', repository: 'acme/env' };

const VERSION_EXPECTED =
  'expected a semantic version (SemVer 2, such as 1.4.0 or 1.4.0-rc.1, without build metadata, which no image tag can hold; a leading v is accepted and stripped: v1.4.0 is recorded as 1.4.0).';

const FILE = `promotion: [dev, uat, prod]
environments:
  dev:
    services:
      api: {version: v1.4.0, digest: '${D('a')}'}
  uat:
    services:
      api:
        version: 1.3.0
`;

function failure(work: () => unknown): Error {
  try {
    work();
  } catch (caught) {
    return caught as Error;
  }
  throw new Error('expected a refusal');
}

describe('promote: versions, images and chart versions are checked before anything is cloned or pushed', () => {
  it('refuses versions that are not SemVer 2, naming the input, the value and what is allowed', () => {
    for (const bad of ['latest', '1.0"1', '1.4', 'main-3f2a9c']) {
      const error = failure(() => read({ ...base, version: bad }));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toBe(`Invalid input "version": ${JSON.stringify(bad)} is not allowed; ${VERSION_EXPECTED}`);
    }
    for (const bad of ['not a version!', '1.0"1 #x'])
      expect(failure(() => read({ ...base, version: bad })).message).toBe(
        `Invalid input "version": ${JSON.stringify(bad)} is not allowed (it contains whitespace); ${VERSION_EXPECTED}`,
      );
    expect(failure(() => read({ ...base, version: '1.0.0\nimage: evil' })).message).toBe(
      `Invalid input "version": "1.0.0\\nimage: evil" is not allowed (it contains a line break); ${VERSION_EXPECTED}`,
    );
    expect(failure(() => read({ ...base, service: '', services: 'api=1.4.0\nweb=latest' })).message).toBe(
      `Invalid input "services": "web=latest": the version "latest" is not allowed; ${VERSION_EXPECTED}`,
    );
    // For promote, the version it must have, and for rollback, the one to go back to: the same rule.
    expect(() =>
      read({ operation: 'promote', from: 'uat', to: 'prod', service: 'api', version: 'latest', repository: 'acme/env' }),
    ).toThrow('Invalid input "version": "latest" is not allowed');
  });

  it('strips a leading v and keeps pre-releases; refuses build metadata, which an image tag cannot hold', () => {
    expect(read({ ...base, version: 'v1.4.0' }).request.services).toEqual([{ name: 'api', version: '1.4.0' }]);
    expect(read({ ...base, service: '', services: `api=v2.0.0-rc.1@${D('b')}\nweb=1.0.0` }).request.services).toEqual([
      { name: 'api', version: '2.0.0-rc.1', digest: D('b') },
      { name: 'web', version: '1.0.0' },
    ]);
    expect(() => read({ ...base, version: '1.0.0+build.7' })).toThrow(
      'Invalid input "version": "1.0.0+build.7" is not allowed: SemVer build metadata (+build.7) cannot be an image tag',
    );
  });

  it('refuses an image with a line break, a tag, a digest or upper case in its path', () => {
    const cases: Record<string, string> = {
      'ghcr.io/acme/api\nversion: 6.6.6': 'it contains a line break',
      'ghcr.io/acme/api:1.4.0': 'it has a tag (":1.4.0"); the tag is what the version input records, not part of the image',
      [`ghcr.io/acme/api@${D('c')}`]: `it has a digest ("@${D('c')}"); give the digest in the digest input, not in the image`,
      'ghcr.io/Acme/api': 'its repository path has upper-case letters; image repositories are lower-case ("ghcr.io/acme/api")',
      'https://ghcr.io/acme/api': 'it is a URL; an image repository has no scheme',
    };
    for (const [image, problem] of Object.entries(cases)) {
      const error = failure(() => read({ ...base, image }));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toBe(
        `Invalid input "image": ${JSON.stringify(image)} is not allowed: ${problem}. Expected an image repository without tag or digest, such as ghcr.io/acme/api ` +
          '(lower-case path components separated by /, after an optional registry host and port).',
      );
    }
    for (const image of ['ghcr.io/acme/api', 'localhost:5000/team/api', 'Registry.Example.com/acme/api'])
      expect(read({ ...base, image }).request.image).toBe(image);
  });

  it('refuses a chart version that is not SemVer, and a run URL or actor that would not be one line', () => {
    for (const bad of ['[1,2]', 'latest', '1.0', '0.7.0\n- x'])
      expect(() => read({ ...base, 'chart-version': bad })).toThrow(
        `Invalid input "chart-version": ${JSON.stringify(bad)} is not allowed; expected a chart version in semantic versioning`,
      );
    expect(() => read({ ...base, 'run-url': 'https://ci.example/run/1\nversion: 6.6.6' })).toThrow(
      'Invalid input "run-url": "https://ci.example/run/1\\nversion: 6.6.6" is not allowed; expected the URL of a workflow run (https://…), without whitespace.',
    );
    expect(() => read({ ...base, 'run-url': 'ci.example/run/1' })).toThrow('Invalid input "run-url"');
    expect(() => read({ ...base, actor: 'octocat\ndeployed_at: never' })).toThrow(
      'Invalid input "actor": "octocat\\ndeployed_at: never" is not allowed; expected a GitHub login, without line breaks or control characters.',
    );
    expect(read({ ...base, actor: 'dependabot[bot]' }).request.meta.actor).toBe('dependabot[bot]');
    expect(() => read({ ...base, file: '.git/config' })).toThrow('Invalid input "file"');
  });

  it('does not blame a line break in a version on a versions.yaml line that does not exist', () => {
    // Through the inputs: refused as the input, before any file is read.
    const input = failure(() => read({ ...base, version: '1.1.0\nfoo: bar' }));
    expect(input).toBeInstanceOf(InputError);
    expect(input.message).not.toMatch(/versions\.yaml:\d+/);
    // An edit that does not read back (here: a request that skipped the inputs, with a run URL the
    // schema refuses) is promote's own failure, not a user error about the file: the line it would
    // name is one of the edited text, which the file in the repository does not have.
    const edit = failure(() =>
      applyRequest(
        FILE,
        request({ services: [{ name: 'api', version: '1.4.0' }], meta: { ...meta, runUrl: 'ftp://ci.example/1' } }),
        'versions.yaml',
      ),
    );
    expect(edit).not.toBeInstanceOf(UserError);
    expect(edit.message).toMatch(
      /^promote's edit of versions\.yaml does not read back, so nothing was written \(a bug in promote, not in versions\.yaml; the lines named are of the edited text\): /,
    );
  });
});

describe('promote: a bump into an environment that does not exist', () => {
  it('is refused unless the promotion order names it or create-environment allows it', () => {
    const typo = failure(() =>
      applyRequest(FILE, request({ environment: 'qa', services: [{ name: 'api', version: '1.4.0' }] }), 'versions.yaml'),
    );
    expect(typo).toBeInstanceOf(InputError);
    expect(typo.message).toBe(
      'Invalid input "environment": "qa" is neither an environment of versions.yaml (dev, uat) nor in the promotion order (dev, uat, prod), so nothing was written. ' +
        'Check the name; to create the environment, add it to promotion-order (or the promotion list of the file), or set create-environment: true.',
    );
    // In the file's promotion order: its first bump creates it.
    const prod = applyRequest(FILE, request({ environment: 'prod', services: [{ name: 'api', version: '1.4.0' }] }), 'versions.yaml');
    expect(parseVersionsFile(prod.text).data.environments.prod?.services?.api?.version).toBe('1.4.0');
    // In the promotion-order input, or allowed by create-environment.
    for (const allowed of [{ promotionOrder: ['dev', 'qa', 'uat', 'prod'] }, { createEnvironment: true }]) {
      const { text } = applyRequest(
        FILE,
        request({ environment: 'qa', services: [{ name: 'api', version: '1.4.0' }], ...allowed }),
        'versions.yaml',
      );
      expect(parseVersionsFile(text).data.environments.qa?.services?.api?.version).toBe('1.4.0');
    }
    // A new file: the default order (dev, uat, prod) applies.
    expect(() =>
      applyRequest(undefined, request({ environment: 'dev', services: [{ name: 'api', version: '0.1.0' }] }), 'versions.yaml'),
    ).not.toThrow();
    expect(() =>
      applyRequest(undefined, request({ environment: 'stagin', services: [{ name: 'api', version: '0.1.0' }] }), 'versions.yaml'),
    ).toThrow('"stagin" is neither an environment of versions.yaml (it has none yet) nor in the promotion order (dev, uat, prod)');
  });

  it('reads create-environment', () => {
    expect(read(base).request.createEnvironment).toBe(false);
    expect(read({ ...base, 'create-environment': 'true' }).request.createEnvironment).toBe(true);
    expect(() => read({ ...base, 'create-environment': 'yes' })).toThrow('Invalid input "create-environment"');
  });

  it('promotes a version named with v to one an older run recorded with v', () => {
    const { changes } = applyRequest(
      FILE,
      request({ operation: 'promote', from: 'dev', environment: 'uat', services: [{ name: 'api', version: '1.4.0' }] }),
      'versions.yaml',
    );
    expect(changes.map((change) => change.after.version)).toEqual(['v1.4.0']);
  });
});
