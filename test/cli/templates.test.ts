import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from '../support/harness.js';

describe('workflow templates', () => {
  it('each has a .properties.json with the name and description organization templates show', async () => {
    const dir = path.join(ROOT, 'workflows-templates');
    const templates = (await readdir(dir)).filter((name) => name.endsWith('.yml'));
    expect(templates.sort()).toEqual([
      'ci.yml',
      'cut-release.yml',
      'release-on-tag.yml',
      'release-report.yml',
      'services-ci.yml',
      'services-cut-release.yml',
      'services-release-on-tag.yml',
    ]);
    for (const template of templates) {
      const properties = JSON.parse(await readFile(path.join(dir, template.replace(/\.yml$/, '.properties.json')), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(typeof properties.name === 'string' && /^\w/.test(properties.name)).toBe(true);
      expect(typeof properties.description === 'string' && /^[A-Z].*\.$/.test(properties.description)).toBe(true);
      expect(Array.isArray(properties.categories) && properties.categories.length > 0).toBe(true);
    }
  });
});
