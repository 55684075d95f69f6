import { describe, expect, it } from '@jest/globals';
import {
  UserError,
  VERSIONS_MAX_BYTES,
  compareReleaseVersions,
  imageRepositoryProblem,
  isSemanticVersion,
  parseVersionsFile,
  readVersionsData,
  releaseVersion,
} from '@toolkit/shared';

describe('release versions', () => {
  it('orders semantic versions, pre-releases below their release, and knows no order for other tags', () => {
    expect(compareReleaseVersions('1.3.9', '1.4.0')).toBe(-1);
    expect(compareReleaseVersions('1.10.0', '1.9.0')).toBe(1);
    expect(compareReleaseVersions('1.4.0-rc.1', '1.4.0')).toBe(-1);
    expect(compareReleaseVersions('v1.4.0', '1.4.0')).toBe(0);
    expect(compareReleaseVersions('main-3f2a9c', '1.4.0')).toBeUndefined();
    expect(compareReleaseVersions('1.4.0', 'latest')).toBeUndefined();
  });

  it('tells semantic versions (what Helm needs of a chart version) from other text', () => {
    expect(isSemanticVersion('0.7.0')).toBe(true);
    expect(isSemanticVersion('1.0.0-alpha.1+build.5')).toBe(true);
    expect(isSemanticVersion('1.0')).toBe(false);
    expect(isSemanticVersion('latest')).toBe(false);
  });
});

describe('release versions and image repositories as promote takes them', () => {
  it('takes SemVer 2 with an optional leading v (stripped), and nothing else', () => {
    expect(releaseVersion('1.4.0')).toBe('1.4.0');
    expect(releaseVersion('v1.4.0')).toBe('1.4.0');
    expect(releaseVersion('1.4.0-rc.1+build.5')).toBe('1.4.0-rc.1+build.5');
    for (const bad of [
      'latest',
      'not a version!',
      '1.0"1 #x',
      '1.0.0\nimage: evil',
      '1.0.0\n',
      ' 1.0.0',
      '1.4',
      'vv1.4.0',
      '=1.4.0',
      'V1.4.0',
      '01.0.0',
    ])
      expect([bad, releaseVersion(bad)]).toEqual([bad, undefined]);
    // The semver package trims: without a check of our own, a line break would pass as 0.7.0.
    expect(isSemanticVersion('0.7.0\n')).toBe(false);
  });

  it("follows distribution/reference's name grammar: no tag, no digest, lower-case path, and says what is wrong", () => {
    for (const good of [
      'ghcr.io/acme/api',
      'api',
      'localhost:5000/api',
      'Registry.Example.com:443/acme/api-v2/x__y',
      '[::1]:5000/a',
      'docker.io/library/nginx',
    ])
      expect([good, imageRepositoryProblem(good)]).toEqual([good, undefined]);
    expect(imageRepositoryProblem('ghcr.io/acme/api:1.4.0')).toBe(
      'it has a tag (":1.4.0"); the tag is what the version input records, not part of the image',
    );
    expect(imageRepositoryProblem(`ghcr.io/acme/api@sha256:${'a'.repeat(64)}`)).toMatch(
      /^it has a digest \("@sha256:a+"\); give the digest in the digest input/,
    );
    expect(imageRepositoryProblem('ghcr.io/Acme/API')).toBe(
      'its repository path has upper-case letters; image repositories are lower-case ("ghcr.io/acme/api")',
    );
    expect(imageRepositoryProblem('ghcr.io/acme/api\nversion: 6.6.6')).toBe('it contains a line break');
    expect(imageRepositoryProblem('https://ghcr.io/acme/api')).toBe('it is a URL; an image repository has no scheme');
    expect(imageRepositoryProblem(`ghcr.io/${'a'.repeat(250)}`)).toMatch(/at most 255/);
    expect(imageRepositoryProblem('ghcr.io/acme/-api')).toBe('it is not an image reference');
  });
});

describe('versions.yaml: what the file may not be', () => {
  const failure = (work: () => unknown): Error => {
    try {
      work();
    } catch (caught) {
      return caught as Error;
    }
    throw new Error('expected a refusal');
  };

  it('does not tell to quote a list, a mapping or an empty value; names file:line:column and what it is', () => {
    const text = (value: string) => `environments:\n  uat:\n    services:\n      api:\n        version: ${value}\n`;
    for (const read of [parseVersionsFile, readVersionsData]) {
      const list = failure(() => read(text('[1, 2]'), 'env/versions.yaml'));
      expect(list).toBeInstanceOf(UserError);
      expect(list.message).toContain('env/versions.yaml:5:18: environments.uat.services.api.version must be a string, not a list');
      expect(list.message).not.toContain('quotes');
      expect(failure(() => read(text('{major: 1}'))).message).toContain(
        'versions.yaml:5:18: environments.uat.services.api.version must be a string, not a mapping',
      );
      expect(failure(() => read(text(''))).message).toContain('must be a string, not empty (null)');
      // What YAML reads as a number or a boolean is what quotes fix.
      expect(failure(() => read(text('1.10'))).message).toContain(
        'versions.yaml:5:18: environments.uat.services.api.version must be a string; put the value in quotes (YAML reads 1.10 or 1234567 as numbers): "1.10"',
      );
      expect(failure(() => read(text('true'))).message).toContain('YAML reads true as a boolean: put the value in quotes ("true")');
      expect(failure(() => read('environments:\n  uat:\n    services: [api]\n')).message).toContain(
        'versions.yaml:3:15: environments.uat.services must be a mapping or empty, not a list',
      );
    }
  });

  it('refuses the alias bomb ("billion laughs") as a problem of the file, naming it, not as a bare ReferenceError', () => {
    const levels = ['x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level <= 8; level++)
      levels.push(
        `x-${level}: &l${level} [${Array(9)
          .fill(`*l${level - 1}`)
          .join(', ')}]`,
      );
    const bombs = [
      `${levels.join('\n')}\nenvironments: {}\n`,
      // Where the schema looks (js-yaml reads it without expanding; the Document API would).
      `${levels.join('\n')}\nenvironments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n        deployed_by: *l8\n`,
    ];
    for (const text of bombs) {
      for (const read of [parseVersionsFile, readVersionsData]) {
        if (read === readVersionsData && text === bombs[0]) continue; // read without expanding: nothing to refuse
        const error = failure(() => read(text, 'env/versions.yaml'));
        expect(error).toBeInstanceOf(UserError);
        expect((error as UserError).code).toBe('INVALID_CONFIGURATION');
        expect(error.message).toMatch(
          /^env\/versions\.yaml:2:\d+ \(the first alias\): the aliases \(\*name\) of env\/versions\.yaml expand to too many copies \(more than 100 uses of one anchor/,
        );
      }
    }
  });

  it('refuses duplicate keys with file:line:column of the repeat and of the first', () => {
    const text =
      'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n        version: 2.0.0\n  prod: {}\n  uat: {}\n';
    for (const read of [parseVersionsFile, readVersionsData]) {
      const error = failure(() => read(text, 'v.yaml'));
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toBe(
        'v.yaml is not valid YAML:\n' +
          'v.yaml:6:9: the key "version" appears again in the same mapping (first at 5:9); keys must be unique\n' +
          'v.yaml:8:3: the key "uat" appears again in the same mapping (first at 2:3); keys must be unique',
      );
    }
  });

  it(`refuses a file over ${VERSIONS_MAX_BYTES} bytes (20 MiB) before parsing it`, () => {
    // Valid YAML all the same: without the limit it would be parsed, and read.
    const text = `environments: {}\n${'# padding padding padding padding padding padding padding padding\n'.repeat(Math.ceil(VERSIONS_MAX_BYTES / 66))}`;
    expect(VERSIONS_MAX_BYTES).toBe(20 * 1024 * 1024);
    for (const read of [parseVersionsFile, readVersionsData]) {
      const started = performance.now();
      const error = failure(() => read(text, 'env/versions.yaml'));
      expect(performance.now() - started).toBeLessThan(2000);
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toBe(
        `env/versions.yaml is ${Buffer.byteLength(text)} bytes; a versions.yaml is at most 20971520 bytes (20 MiB), so it was not read and nothing was written. ` +
          'Remove what it no longer needs (environments that are gone, x- keys), or split the environments over several files or repositories.',
      );
    }
    // Counted in bytes of UTF-8, not characters: 7 MiB of "é…" is 14 MiB, of "€" 21 MiB.
    expect(() => readVersionsData(`environments: {}\n# ${'€'.repeat(7 * 1024 * 1024)}\n`)).toThrow('a versions.yaml is at most');
    expect(readVersionsData(`environments: {}\n# ${'é'.repeat(7 * 1024 * 1024)}\n`)).toEqual({ environments: {} });
  });

  it('parses a large file in time linear in its size (yaml uniqueKeys was quadratic: 10 MB took 92 s)', () => {
    const file = (services: number) => {
      const lines = ['environments:', '  uat:', '    services:'];
      for (let n = 0; n < services; n++)
        lines.push(`      service-${n}:`, `        version: 1.${n}.0`, `        image: ghcr.io/acme/service-${n}`);
      return `${lines.join('\n')}\n`;
    };
    const time = (text: string) => {
      const started = performance.now();
      const { data } = parseVersionsFile(text);
      expect(Object.keys(data.environments.uat?.services ?? {}).length).toBeGreaterThan(0);
      return performance.now() - started;
    };
    const small = file(8_000);
    const large = file(32_000); // about 2.4 MB in one mapping
    time(small); // warm up
    const ratio = time(large) / time(small);
    // Four times the keys: about 4 when linear, about 16 when quadratic.
    expect(ratio).toBeLessThan(9);
  }, 120_000);
});
