import { describe, expect, it } from '@jest/globals';
import { UserError, VERSIONS_HEADER, YamlEditor, parseVersionsFile, readVersionsData } from '@toolkit/shared';
import { parse } from 'yaml';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

/** Heavily commented, 4-space indented, mixed quoting, flow maps, an anchor and an alias. */
const COMMENTED = `# What runs where.   (trailing spaces kept)
# Second header line.

promotion: [dev, uat, prod]   # the order

x-defaults: &defaults
    image: ghcr.io/acme/base

environments:
    # ---- UAT ----
    uat:
        services:
            api:   # the API
                version: "1.3.0"      # double-quoted stays double-quoted
                digest: '${DIGEST_A}'
                image: ghcr.io/acme/api

                deployed_by: someone  # who


            web: {version: '2.0.0'}
    prod:
        services: {}   # nothing yet
    dev:
        services:
            base: *defaults
# end of file comment
`;

describe('YamlEditor', () => {
  it('changes only the changed values, byte for byte, keeping comments, order, blank lines, quoting and indentation', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.set(['environments', 'uat', 'services', 'api'], { version: '1.4.0', digest: DIGEST_B, deployed_by: 'octocat' });
    const edited = editor.toString();
    expect(edited).toBe(
      COMMENTED.replace('version: "1.3.0"', 'version: "1.4.0"')
        .replace(`digest: '${DIGEST_A}'`, `digest: '${DIGEST_B}'`)
        .replace('deployed_by: someone', 'deployed_by: octocat'),
    );
  });

  it('is a no-op when nothing changes', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.set(['environments', 'uat', 'services', 'api', 'version'], '1.3.0');
    expect(editor.toString()).toBe(COMMENTED);
  });

  it('adds missing keys at the end of their map, at its indentation, in call order', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.set(['environments', 'uat', 'services', 'api'], { commit: 'abc1234', run_url: 'https://example.test/run/1' });
    const edited = editor.toString();
    expect(edited).toBe(
      COMMENTED.replace(
        '                deployed_by: someone  # who\n',
        '                deployed_by: someone  # who\n                commit: abc1234\n                run_url: https://example.test/run/1\n',
      ),
    );
  });

  it('adds a new service and a new environment, and turns an empty flow map into a block', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.set(['environments', 'prod', 'services', 'api'], { version: '1.3.0', digest: DIGEST_A });
    editor.set(['environments', 'staging', 'services', 'api'], { version: '1.0.0' });
    const edited = editor.toString();
    expect(edited).toContain(
      `    prod:\n        services:   # nothing yet\n            api:\n                version: 1.3.0\n                digest: ${DIGEST_A}\n    dev:\n`,
    );
    expect(edited).toContain(
      '            base: *defaults\n    staging:\n        services:\n            api:\n                version: 1.0.0\n# end of file comment\n',
    );
    const data = parse(edited);
    expect(data.environments.prod.services.api).toEqual({ version: '1.3.0', digest: DIGEST_A });
    expect(data.environments.staging.services.api.version).toBe('1.0.0');
    expect(data.environments.dev.services.base).toEqual({ image: 'ghcr.io/acme/base' });
  });

  it('rewrites a non-empty flow map with the new key', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.set(['environments', 'uat', 'services', 'web', 'digest'], DIGEST_B);
    expect(parse(editor.toString()).environments.uat.services.web).toEqual({ version: '2.0.0', digest: DIGEST_B });
  });

  it('applies several edits to one flow map at once, deletions included', () => {
    const editor = new YamlEditor(`svc:\n  api: {version: 1.0.0, digest: '${DIGEST_A}'}  # flow\n  web: {}\n`);
    editor.set(['svc', 'api'], { version: '2.0.0', image: 'ghcr.io/acme/api' });
    editor.delete(['svc', 'api', 'digest']);
    editor.set(['svc', 'web', 'one'], { version: '1' });
    editor.set(['svc', 'web', 'two'], { version: '2' });
    expect(editor.toString()).toBe(
      'svc:\n  api: {version: 2.0.0, image: ghcr.io/acme/api}  # flow\n  web:\n    one:\n      version: "1"\n    two:\n      version: "2"\n',
    );
  });

  it('quotes a value that would otherwise read as another type', () => {
    const editor = new YamlEditor('a:\n  version: 1.4.0\n');
    editor.set(['a', 'version'], '1.10');
    expect(editor.toString()).toBe('a:\n  version: "1.10"\n');
    expect(parse(editor.toString()).a.version).toBe('1.10');
  });

  it('gives an empty value a block mapping below it, keeping its comment on its line', () => {
    const editor = new YamlEditor('environments:\n  uat:\n    services:  # none\n  prod: ~\n');
    editor.set(['environments', 'uat', 'services', 'api'], { version: '1.0.0' });
    editor.set(['environments', 'prod', 'services', 'api'], { version: '0.9.0' });
    expect(editor.toString()).toBe(
      'environments:\n  uat:\n    services:  # none\n      api:\n        version: 1.0.0\n  prod:\n    services:\n      api:\n        version: 0.9.0\n',
    );
  });

  it('removes a pair with its lines', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.delete(['environments', 'uat', 'services', 'api', 'digest']);
    expect(editor.toString()).toBe(COMMENTED.replace(`                digest: '${DIGEST_A}'\n`, ''));
  });

  it('refuses to edit through an alias, which would change every user of the anchor', () => {
    const editor = new YamlEditor(COMMENTED);
    expect(() => editor.set(['environments', 'dev', 'services', 'base', 'image'], 'x')).toThrow(UserError);
    expect(() => editor.set(['environments', 'dev', 'services', 'base', 'image'], 'x')).toThrow(
      'environments.dev.services.base is an alias (*defaults)',
    );
  });

  it('fills the header a first bump starts from', () => {
    const editor = new YamlEditor(VERSIONS_HEADER);
    editor.set(['environments', 'uat', 'services', 'api'], { version: '1.0.0' });
    const edited = editor.toString();
    expect(edited.startsWith(VERSIONS_HEADER.replace('environments: {}\n', ''))).toBe(true);
    expect(parse(edited)).toEqual({ environments: { uat: { services: { api: { version: '1.0.0' } } } } });
  });
});

describe('parseVersionsFile', () => {
  it('reads a valid file', () => {
    const { data } = parseVersionsFile(
      COMMENTED.replace(/ {12}base: \*defaults\n/, '            base: {version: 0.1.0}\n').replace(/x-defaults: &defaults\n.*\n/, ''),
    );
    expect(data.promotion).toEqual(['dev', 'uat', 'prod']);
    expect(data.environments.uat?.services?.api?.version).toBe('1.3.0');
  });

  it('refuses broken YAML with file:line:column', () => {
    expect(() => parseVersionsFile('environments:\n  uat:\n    services: [\n', 'env/versions.yaml')).toThrow(
      /^env\/versions\.yaml is not valid YAML:\nenv\/versions\.yaml:\d+:\d+: /,
    );
  });

  it('refuses a schema violation with file:line:column of each problem', () => {
    const text = [
      'environments:',
      '  uat:',
      '    services:',
      '      api:',
      '        version: 1.0.0',
      '        digest: sha256:short',
      '        colour: blue',
      '      web:',
      '        image: ghcr.io/acme/web',
      '',
    ].join('\n');
    const error = (() => {
      try {
        parseVersionsFile(text, 'versions.yaml');
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain('versions.yaml does not follow the versions.yaml schema (docs/versions-yaml.md):');
    expect(error.message).toContain(
      'versions.yaml:6:17: environments.uat.services.api.digest is not allowed: expected a value matching "^sha256:[a-f0-9]{64}$"',
    );
    expect(error.message).toContain('versions.yaml:7:9: environments.uat.services.api has an unknown key "colour"');
    expect(error.message).toContain('versions.yaml:9:9: environments.uat.services.web is missing "version"');
  });

  it('says to quote a value that YAML reads as a number', () => {
    expect(() => parseVersionsFile('environments:\n  uat:\n    services:\n      api:\n        version: 1.10\n')).toThrow(
      'versions.yaml:5:18: environments.uat.services.api.version must be a string; put the value in quotes (YAML reads 1.10 or 1234567 as numbers)',
    );
  });
});

describe('docs/versions-yaml.md', () => {
  it('has an example that follows the schema', async () => {
    const { readFile } = await import('node:fs/promises');
    const { ROOT } = await import('../support/harness.js');
    const doc = await readFile(`${ROOT}/docs/versions-yaml.md`, 'utf8');
    const example = /```yaml\n([^]*?)```/.exec(doc)?.[1] ?? '';
    const { data } = parseVersionsFile(example, 'docs/versions-yaml.md');
    expect(data.environments.uat?.services?.api?.previous?.version).toBe('1.3.2');
  });
});

describe('readVersionsData', () => {
  it('reads what parseVersionsFile reads, and reports problems with file:line:column all the same', () => {
    const text = 'environments:\n  uat:\n    services:\n      api: {version: "1.0", deployed_at: 2026-11-23T05:00:00Z}\n';
    expect(readVersionsData(text)).toEqual(parseVersionsFile(text).data);
    expect(readVersionsData(text).environments.uat?.services?.api?.deployed_at).toBe('2026-11-23T05:00:00Z');
    expect(() => readVersionsData('environments:\n  uat: [\n', 'v.yaml')).toThrow(/v\.yaml:\d+:\d+/);
    expect(() => readVersionsData('environments:\n  uat:\n    services:\n      api: {version: 1.10}\n')).toThrow(
      'versions.yaml:4:22: environments.uat.services.api.version must be a string; put the value in quotes',
    );
  });
});
