import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CATALOG_FILE, listActions, renderCatalog, updateCatalog } from '@toolkit/cli';
import { UserError } from '@toolkit/shared';
import { ROOT } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

async function writeAction(root: string, name: string, yml: string): Promise<void> {
  await mkdir(path.join(root, 'actions', name), { recursive: true });
  await writeFile(path.join(root, 'actions', name, 'action.yml'), yml);
}

const DEPLOY = `name: Deploy
description: Deploys things.
inputs:
  host:
    description: The host | with a pipe.
    required: true
  port:
    description: |
      The port.
      Second line.
    default: '22'
outputs:
  release:
    description: The release.
runs:
  using: node24
  main: dist/index.js
`;

describe('toolkit catalog', () => {
  it('lists every action with its inputs, outputs and a uses example', async () => {
    const root = await tempDir();
    await writeAction(root, 'deploy', DEPLOY);
    await writeAction(root, 'audit', 'name: Audit\ndescription: Audits.\nruns:\n  using: node24\n  main: dist/index.js\n');
    const text = renderCatalog(await listActions(root));
    expect(text).toContain('| [audit](#audit) | Audits. |\n| [deploy](#deploy) | Deploys things. |');
    expect(text).toContain('```yaml\n- uses: org/toolkit/actions/deploy@v1\n  with:\n    host: …\n```');
    expect(text).toContain('| `host` | yes |  | The host \\| with a pipe. |');
    expect(text).toContain('| `port` | no | `22` | The port.<br>Second line. |');
    expect(text).toContain('| `release` | The release. |');
    expect(text).toContain('## audit\n\nAudits.\n\n```yaml\n- uses: org/toolkit/actions/audit@v1\n```\n\n### Inputs\n\nNone.');
    expect(renderCatalog(await listActions(root))).toBe(text);
  });

  it('with --check, refuses a stale catalog and accepts a fresh one, writing nothing', async () => {
    const root = await tempDir();
    await writeAction(root, 'deploy', DEPLOY);
    await expect(updateCatalog(root, { check: true })).rejects.toThrow(UserError);
    expect(await updateCatalog(root)).toEqual({ file: path.join(root, CATALOG_FILE), changed: true });
    await expect(updateCatalog(root, { check: true })).resolves.toEqual({ file: path.join(root, CATALOG_FILE), changed: false });

    await writeAction(root, 'deploy', DEPLOY.replace('Deploys things.', 'Deploys other things.'));
    const before = await readFile(path.join(root, CATALOG_FILE), 'utf8');
    await expect(updateCatalog(root, { check: true })).rejects.toThrow(`${CATALOG_FILE} is stale`);
    expect(await readFile(path.join(root, CATALOG_FILE), 'utf8')).toBe(before);
  });

  it('is current for this repository', async () => {
    await expect(updateCatalog(ROOT, { check: true })).resolves.toMatchObject({ changed: false });
  });
});
