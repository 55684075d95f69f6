/**
 * release-report's versions reader parses each service's lines once while they stay the same; it
 * must read every version exactly as readVersionsData does, and refuse what it refuses.
 */
import { describe, expect, it } from '@jest/globals';
import { UserError, readVersionsData } from '@toolkit/shared';
import { versionsReader } from '../../actions/release-report/src/versions-reader.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const FILE = `# what runs where
promotion: [dev, uat, prod]
environments:
  # the first one
  uat:
    services:
      api:
        version: 1.4.0
        digest: ${D('a')}
        chart: {name: api, version: 0.7.0}
        deployed_at: '2026-11-23T05:00:00Z'

      web: # a comment on the key
        version: "3.0.0"
        previous:
          version: 2.9.0
  prod:
    services: {}
x-notes: kept
`;

/** Each variant, read after the one before it (as the report reads a history), must equal the whole read, or fail as it fails. */
function expectSameReads(texts: readonly string[]): number {
  const read = versionsReader();
  let refused = 0;
  for (const text of texts) {
    let whole: unknown;
    try {
      whole = readVersionsData(text, 'versions.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect(() => read(text, 'versions.yaml')).toThrow((error as Error).message);
      refused += 1;
      continue;
    }
    expect(read(text, 'versions.yaml')).toEqual(whole);
  }
  return refused;
}

describe('the versions reader of release-report', () => {
  it('reads block, flow, commented, CRLF, 4-space and final-newline-less files as the whole read does', () => {
    const bumped = FILE.replace('version: 1.4.0', 'version: 1.5.0');
    const refused = expectSameReads([
      FILE,
      bumped,
      bumped.replace('version: 2.9.0', 'version: 2.9.1'),
      FILE.replace(/\n/g, '\r\n'),
      FILE.replace(/^( +)/gm, (spaces) => spaces + spaces),
      FILE.slice(0, -1),
      FILE.replace('    services: {}\n', '    services:\n      api: {version: 1.3.0}\n'),
      FILE.replace('  prod:\n    services: {}\n', '  prod:\n    services:\n'),
      FILE.replace('environments:\n', 'environments: # all of them\n'),
    ]);
    expect(refused).toBe(0);
  });

  it('refuses what the whole read refuses: a broken part, a duplicate service, a bad value, tabs', () => {
    const refused = expectSameReads([
      FILE,
      FILE.replace('version: 1.4.0', 'version: [1.4.0'),
      FILE,
      FILE.replace('      web:', '      api:'),
      FILE.replace("deployed_at: '2026-11-23T05:00:00Z'", 'deployed_at: yesterday'),
      FILE.replace('        version: "3.0.0"', '\tversion: "3.0.0"'),
      FILE.replace('  uat:\n', '  uat:\n               stray: 1\n'),
      FILE,
    ]);
    expect(refused).toBe(5);
  });

  it('reads anchors, aliases and merge keys whole, since they may cross parts', () => {
    const anchored = FILE.replace('environments:\n', 'x-chart: &chart {name: api, version: 0.7.0}\nenvironments:\n').replace(
      'chart: {name: api, version: 0.7.0}',
      'chart: *chart',
    );
    expect(expectSameReads([FILE, anchored])).toBe(0);
  });

  it('hands back the same object for an entry that did not change, and a new one for one that did', () => {
    const read = versionsReader();
    const first = read(FILE, 'versions.yaml');
    const second = read(FILE.replace('version: 1.4.0', 'version: 1.5.0'), 'versions.yaml');
    expect(second.environments.uat?.services?.web).toBe(first.environments.uat?.services?.web);
    expect(second.environments.uat?.services?.api).not.toBe(first.environments.uat?.services?.api);
    expect(second.environments.uat?.services?.api?.version).toBe('1.5.0');
  });
});
