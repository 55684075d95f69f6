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

  it('removes a mapping with its own lines only, and leaves {} where a map loses its last pair', () => {
    const text = 'a:\n  p:\n    x: 1  # t\n    # inner end\n  # before q\n  q: 2\nb:\n  only: 1  # c\n';
    const editor = new YamlEditor(text);
    editor.delete(['a', 'p']);
    editor.delete(['b', 'only']);
    const edited = editor.toString();
    expect(edited).toBe('a:\n    # inner end\n  # before q\n  q: 2\nb: {}\n');
    expect(parse(edited)).toEqual({ a: { q: 2 }, b: {} });
  });

  it('writes an alias out in full where it is edited, leaving its anchor and other uses alone, and says so', () => {
    const editor = new YamlEditor(COMMENTED, { file: 'env/versions.yaml' });
    editor.set(['environments', 'dev', 'services', 'base', 'image'], 'ghcr.io/acme/other');
    const edited = editor.toString();
    expect(edited).toBe(
      COMMENTED.replace('            base: *defaults\n', '            base:\n                image: ghcr.io/acme/other\n'),
    );
    expect(parse(edited)['x-defaults']).toEqual({ image: 'ghcr.io/acme/base' });
    expect(editor.notes).toEqual([
      'env/versions.yaml:26:19: environments.dev.services.base was the alias *defaults (&defaults at env/versions.yaml:6:13); ' +
        'it is now written out in full with this change, so the anchor and its other uses are unchanged.',
    ]);
  });

  it('changes nothing, and says nothing, when an edit through an alias sets what it already has', () => {
    const editor = new YamlEditor(COMMENTED);
    editor.set(['environments', 'dev', 'services', 'base'], { image: 'ghcr.io/acme/base' });
    expect(editor.toString()).toBe(COMMENTED);
    expect(editor.notes).toEqual([]);
  });

  it('refuses to change a node whose anchor an alias uses, naming file:line:column of the anchor and of each alias', () => {
    const text = [
      'x-chart: &common {name: api, repository: oci://ghcr.io/acme/charts}',
      'environments:',
      '  uat:',
      '    services:',
      '      api:',
      '        version: 1.0.0',
      '        chart: &chart',
      '          name: api',
      '          version: 0.1.0',
      '        digest: &pinned sha256:' + 'a'.repeat(64),
      '      web:',
      '        version: 1.0.0',
      '        chart: *chart',
      '        digest: *pinned',
      '      worker: &worker',
      '        version: 1.0.0',
      '  prod:',
      '    services:',
      '      worker: *worker',
      '',
    ].join('\n');
    const editor = new YamlEditor(text, { file: 'env/versions.yaml' });
    expect(() => editor.set(['environments', 'uat', 'services', 'api', 'chart', 'version'], '0.2.0')).toThrow(
      'env/versions.yaml:7:16: environments.uat.services.api.chart has the anchor &chart, which env/versions.yaml:13:16 ' +
        '(*chart at environments.uat.services.web.chart) also uses: changing environments.uat.services.api.chart.version here would change it there too, so nothing was changed.',
    );
    expect(() => editor.set(['environments', 'uat', 'services', 'api', 'digest'], 'sha256:' + 'b'.repeat(64))).toThrow(
      /^env\/versions\.yaml:10:17: environments\.uat\.services\.api\.digest has the anchor &pinned, which env\/versions\.yaml:14:17 /,
    );
    // A new key in an anchored map changes its aliases too.
    expect(() => editor.set(['environments', 'uat', 'services', 'worker', 'commit'], 'abc1234')).toThrow(UserError);
    expect(() => editor.set(['environments', 'uat', 'services', 'worker', 'commit'], 'abc1234')).toThrow(
      'environments.uat.services.worker has the anchor &worker, which env/versions.yaml:19:15 (*worker at environments.prod.services.worker) also uses',
    );
    // Removing it would leave its aliases without an anchor.
    expect(() => editor.delete(['environments', 'uat', 'services', 'api', 'chart'])).toThrow('has the anchor &chart');
    expect(() => editor.delete(['environments', 'uat', 'services', 'api'])).toThrow('has the anchor &chart');
    // What no alias shares is edited as usual, and an edit under an alias writes that alias out.
    editor.set(['environments', 'uat', 'services', 'api', 'version'], '1.1.0');
    editor.set(['environments', 'uat', 'services', 'web', 'chart', 'version'], '0.2.0');
    const edited = editor.toString();
    expect(edited).toBe(
      text
        .replace('        version: 1.0.0\n        chart: &chart', '        version: 1.1.0\n        chart: &chart')
        .replace('        chart: *chart\n', '        chart:\n          name: api\n          version: 0.2.0\n'),
    );
    expect(parse(edited).environments.uat.services.api.chart).toEqual({ name: 'api', version: '0.1.0' });
    expect(editor.notes).toHaveLength(1);
  });

  it('writes out a scalar alias as a scalar', () => {
    const editor = new YamlEditor('a: &v 1.0.0\nb: *v  # same\n');
    editor.set(['b'], '2.0.0');
    expect(editor.toString()).toBe('a: &v 1.0.0\nb: 2.0.0  # same\n');
    expect(editor.notes[0]).toMatch(/^versions\.yaml:2:4: b was the alias \*v \(&v at versions\.yaml:1:4\)/);
  });

  it('refuses to rewrite a flow map that holds an anchor used elsewhere, and says when it writes out aliases in one', () => {
    const shared = new YamlEditor('a: {x: &x {y: 1}, z: 2}\nb: *x\n');
    expect(() => shared.set(['a', 'z'], 3)).toThrow('versions.yaml:1:8: a.x has the anchor &x');
    const aliased = new YamlEditor('x: &x {y: 1}\na: {x: *x, z: 2}\n');
    aliased.set(['a', 'z'], 3);
    expect(aliased.toString()).toBe('x: &x {y: 1}\na: {x: {y: 1}, z: 3}\n');
    expect(aliased.notes).toEqual([
      'versions.yaml:2:4: a was written again with its aliases written out in full; their anchors and other uses are unchanged.',
    ]);
  });

  describe("keeps the file's conventions", () => {
    const LF = 'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n        digest: sha256:' + 'a'.repeat(64) + '\n';
    const bump = (editor: YamlEditor) => {
      editor.set(['environments', 'uat', 'services', 'api'], {
        version: '1.1.0',
        commit: 'abc1234',
        previous: { version: '1.0.0' },
      });
      editor.delete(['environments', 'uat', 'services', 'api', 'digest']);
      editor.set(['environments', 'uat', 'services', 'web'], { version: '2.0.0' });
      editor.set(['environments', 'prod', 'services', 'api'], { version: '0.9.0' });
      return editor.toString();
    };
    const EXPECTED = [
      'environments:',
      '  uat:',
      '    services:',
      '      api:',
      '        version: 1.1.0',
      '        commit: abc1234',
      '        previous:',
      '          version: 1.0.0',
      '      web:',
      '        version: 2.0.0',
      '  prod:',
      '    services:',
      '      api:',
      '        version: 0.9.0',
      '',
    ].join('\n');

    it('LF', () => {
      expect(bump(new YamlEditor(LF))).toBe(EXPECTED);
    });

    it('CRLF: inserted lines end in CRLF too', () => {
      const edited = bump(new YamlEditor(LF.replace(/\n/g, '\r\n')));
      expect(edited).toBe(EXPECTED.replace(/\n/g, '\r\n'));
      expect(edited.replace(/\r\n/g, '')).not.toContain('\n');
    });

    it('no final newline: none is added, and no blank line comes after inserted fields', () => {
      expect(bump(new YamlEditor(LF.slice(0, -1)))).toBe(EXPECTED.slice(0, -1));
      expect(bump(new YamlEditor(LF.replace(/\n/g, '\r\n').slice(0, -2)))).toBe(EXPECTED.replace(/\n/g, '\r\n').slice(0, -2));
      const single = new YamlEditor('a:\n  b: 1');
      single.set(['a', 'c'], 2);
      single.set(['a', 'd'], 3);
      expect(single.toString()).toBe('a:\n  b: 1\n  c: 2\n  d: 3');
      const last = new YamlEditor('a:\n  b: 1\n  c: 2');
      last.delete(['a', 'c']);
      expect(last.toString()).toBe('a:\n  b: 1');
    });

    it('a byte order mark: kept, and not counted as indentation', () => {
      expect(bump(new YamlEditor(`\uFEFF${LF}`))).toBe(`\uFEFF${EXPECTED}`);
      const top = new YamlEditor('\uFEFFpromotion: [uat]\nenvironments: {}\n');
      top.delete(['promotion']);
      top.set(['x-note'], 'kept');
      expect(top.toString()).toBe('\uFEFFenvironments: {}\nx-note: kept\n');
      expect(() => new YamlEditor('\uFEFFa: &x {b: 1}\nc: *x\n').set(['a', 'b'], 2)).toThrow(/^versions\.yaml:1:4: a has the anchor &x/);
    });

    it('four-space indentation, found from the file rather than from its first lines', () => {
      const four = LF.replace(/^( +)/gm, (spaces) => spaces.repeat(2));
      expect(bump(new YamlEditor(four))).toBe(EXPECTED.replace(/^( +)/gm, (spaces) => spaces.repeat(2)));
      // A multi-line comment or scalar indented by one does not make the step 1.
      const odd = `# header\n#  indented comment\nnote: |\n   three\n    four\n${four}`;
      const edited = bump(new YamlEditor(odd));
      expect(edited).toBe(
        `# header\n#  indented comment\nnote: |\n   three\n    four\n${EXPECTED.replace(/^( +)/gm, (spaces) => spaces.repeat(2))}`,
      );
    });

    it('all of them at once: CRLF, a BOM, four spaces and no final newline', () => {
      const four = (text: string) => text.replace(/^( +)/gm, (spaces) => spaces.repeat(2));
      const crlf = (text: string) => text.replace(/\n/g, '\r\n');
      const edited = bump(new YamlEditor(`\uFEFF${crlf(four(LF)).slice(0, -2)}`));
      expect(edited).toBe(`\uFEFF${crlf(four(EXPECTED)).slice(0, -2)}`);
    });
  });

  it('adds several services to an environment it creates under one key, and fills an empty value once', () => {
    const editor = new YamlEditor('environments:\n  uat: ~\n');
    editor.set(['environments', 'uat', 'services', 'api'], { version: '1.0.0' });
    editor.set(['environments', 'uat', 'services', 'web'], { version: '2.0.0' });
    editor.set(['environments', 'qa', 'services', 'api'], { version: '1.0.0' });
    editor.set(['environments', 'qa', 'services', 'web'], { version: '2.0.0' });
    const edited = editor.toString();
    expect(edited).toBe(
      'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n      web:\n        version: 2.0.0\n' +
        '  qa:\n    services:\n      api:\n        version: 1.0.0\n      web:\n        version: 2.0.0\n',
    );
  });

  describe('merge keys (<<)', () => {
    const MERGED = [
      'x-defaults: &defaults',
      '  image: ghcr.io/acme/base',
      '  chart:',
      '    name: base',
      '    repository: oci://ghcr.io/acme/charts',
      'environments:',
      '  uat:',
      '    services:',
      '      api:',
      '        <<: *defaults  # the defaults',
      '        version: 1.0.0',
      '      web:',
      '        <<: [*defaults]',
      '        version: 2.0.0',
      '        image: ghcr.io/acme/web',
      '',
    ].join('\n');

    it('are read: the merged keys are data, and the schema sees them', () => {
      const { data } = parseVersionsFile(MERGED, 'env/versions.yaml');
      expect(data.environments.uat?.services?.api).toEqual({
        image: 'ghcr.io/acme/base',
        chart: { name: 'base', repository: 'oci://ghcr.io/acme/charts' },
        version: '1.0.0',
      });
      expect(data.environments.uat?.services?.web?.image).toBe('ghcr.io/acme/web');
      expect(readVersionsData(MERGED)).toEqual(data);
      expect(() => parseVersionsFile(MERGED.replace('  image: ghcr.io', '  colour: blue\n  image: ghcr.io'), 'env/versions.yaml')).toThrow(
        'environments.uat.services.api has an unknown key "colour"',
      );
    });

    it('an edit of a merged key writes it in the map itself, which overrides it; the defaults stay', () => {
      const { editor } = parseVersionsFile(MERGED, 'env/versions.yaml');
      editor.set(['environments', 'uat', 'services', 'api'], {
        version: '1.1.0',
        image: 'ghcr.io/acme/base',
        chart: { name: 'base', version: '0.2.0', repository: 'oci://ghcr.io/acme/charts' },
      });
      editor.set(['environments', 'uat', 'services', 'web', 'version'], '2.1.0');
      const edited = editor.toString();
      expect(edited).toBe(
        MERGED.replace(
          '        version: 1.0.0\n',
          '        version: 1.1.0\n        chart:\n          name: base\n          repository: oci://ghcr.io/acme/charts\n          version: 0.2.0\n',
        ).replace('version: 2.0.0', 'version: 2.1.0'),
      );
      const { data } = parseVersionsFile(edited);
      expect(data.environments.uat?.services?.api?.chart).toEqual({
        name: 'base',
        version: '0.2.0',
        repository: 'oci://ghcr.io/acme/charts',
      });
      expect((parse(edited, { merge: true }) as { 'x-defaults': unknown })['x-defaults']).toEqual(
        parse(MERGED, { merge: true })['x-defaults'],
      );
      expect(editor.notes).toEqual([]);
    });

    it('refuses to remove a key that a merge key gives, naming file:line:column of the merge key', () => {
      const { editor } = parseVersionsFile(MERGED, 'env/versions.yaml');
      expect(() => editor.delete(['environments', 'uat', 'services', 'api', 'image'])).toThrow(
        'env/versions.yaml:10:9: environments.uat.services.api.image comes from the merge key (<<) there, so it cannot be removed from environments.uat.services.api alone; nothing was changed.',
      );
      expect(() => editor.delete(['environments', 'uat', 'services', 'web', 'image'])).toThrow(
        'env/versions.yaml:13:9: environments.uat.services.web.image is also in the merge key (<<) there, so removing it from environments.uat.services.web would bring that value back',
      );
    });

    it('refuses to change the defaults themselves, which every map that merges them would see', () => {
      const editor = new YamlEditor(MERGED, { file: 'env/versions.yaml' });
      expect(() => editor.set(['x-defaults', 'image'], 'ghcr.io/acme/new')).toThrow(
        'env/versions.yaml:1:13: x-defaults has the anchor &defaults, which env/versions.yaml:10:13 (*defaults at environments.uat.services.api.<<), env/versions.yaml:13:14 (*defaults at environments.uat.services.web.<<) also use',
      );
    });
  });

  it('names the file in its refusals', () => {
    const { editor } = parseVersionsFile(
      'environments:\n  uat:\n    services:\n      api: {version: 1.0.0}\nx-list: [1]\n',
      'env/versions.yaml',
    );
    expect(() => editor.set(['environments', 'uat', 'services', 'api', 'version', 'x'], '1')).toThrow(/^env\/versions\.yaml:4:12: /);
    expect(() => editor.set(['x-list', 'a'], '1')).toThrow('env/versions.yaml:5:9: x-list holds a list where a mapping is expected.');
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

describe('YamlEditor in lists of maps (workflow steps), as toolkit migrate edits them', () => {
  const STEPS = [
    'jobs:',
    '  build:',
    '    steps:',
    '      - uses: actions/checkout@v4 # pinned later',
    '      # Scan it',
    '      # (twice a day)',
    '      - name: Scan',
    '        uses: aquasecurity/trivy-action@0.30.0',
    '        with:',
    "          image-ref: 'ghcr.io/acme/api:1.0' # the image",
    '          format: table',
    '      - run: |',
    '          echo "${{ steps.scan.outputs.new_tag }}"',
    '',
  ].join('\n');

  it('sets, renames and deletes inside an item by its index, keeping every other byte', () => {
    const editor = new YamlEditor(STEPS, { file: 'ci.yml' });
    editor.set(['jobs', 'build', 'steps', '1', 'uses'], 'org/toolkit/actions/scan@v1');
    editor.renameKey(['jobs', 'build', 'steps', '1', 'with', 'image-ref'], 'image');
    editor.delete(['jobs', 'build', 'steps', '1', 'with', 'format']);
    editor.set(['jobs', 'build', 'steps', '1', 'with', 'fail-on'], 'none');
    expect(editor.toString()).toBe(
      STEPS.replace('aquasecurity/trivy-action@0.30.0', 'org/toolkit/actions/scan@v1')
        .replace("image-ref: 'ghcr.io", "image: 'ghcr.io")
        .replace('          format: table\n', '          fail-on: none\n'),
    );
  });

  it('adds a map to an item that has none, at the item’s key column', () => {
    const editor = new YamlEditor(STEPS);
    editor.set(['jobs', 'build', 'steps', '0', 'with', 'fetch-depth'], 0);
    expect(editor.toString()).toContain(
      '      - uses: actions/checkout@v4 # pinned later\n        with:\n          fetch-depth: 0\n      # Scan it',
    );
  });

  it('removes an item with the comment lines right above it, and replaces text inside a block scalar without rewriting it', () => {
    const editor = new YamlEditor(STEPS.replace(/\n/g, '\r\n'));
    editor.deleteItem(['jobs', 'build', 'steps', '1']);
    expect(editor.replaceInScalar(['jobs', 'build', 'steps', '2', 'run'], /outputs\.new_tag/g, () => 'outputs.tag')).toBe(true);
    expect(editor.replaceInScalar(['jobs', 'build', 'steps', '2', 'run'], /nothing-here/g, () => 'x')).toBe(false);
    expect(editor.toString()).toBe(
      [
        'jobs:',
        '  build:',
        '    steps:',
        '      - uses: actions/checkout@v4 # pinned later',
        '      - run: |',
        '          echo "${{ steps.scan.outputs.tag }}"',
        '',
      ].join('\r\n'),
    );
  });

  it('refuses what it cannot do, naming the place', () => {
    const editor = new YamlEditor(STEPS, { file: 'ci.yml' });
    expect(() => editor.renameKey(['jobs', 'build', 'steps', '1', 'with', 'missing'], 'x')).toThrow(
      'ci.yml: jobs.build.steps.1.with.missing is not there to rename.',
    );
    expect(() => editor.renameKey(['jobs', 'build', 'steps', '1', 'with', 'image-ref'], 'format')).toThrow(
      'ci.yml:10:11: jobs.build.steps.1.with.format is already there.',
    );
    expect(() => editor.deleteItem(['jobs', 'build', 'steps', '9'])).toThrow('is not an item of a block list');
    expect(() => editor.set(['jobs', 'build', 'steps', '9', 'uses'], 'x')).toThrow(UserError);
  });
});
