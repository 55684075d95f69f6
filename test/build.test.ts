import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT, node24 } from './support/harness.js';
import { tempDir } from './support/temp.js';

/** A folder of actions, each given as its package.json and its compiled lib/index.js. */
async function actionsFolder(actions: Record<string, { packageJson: object; index: string }>): Promise<string> {
  const dir = await tempDir();
  for (const [name, { packageJson, index }] of Object.entries(actions)) {
    await mkdir(path.join(dir, name, 'lib'), { recursive: true });
    await writeFile(path.join(dir, name, 'package.json'), JSON.stringify(packageJson));
    await writeFile(path.join(dir, name, 'lib', 'index.js'), index);
  }
  return dir;
}

function build(actionsDir: string, ...flags: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-actions.mjs'), '--actions', actionsDir, ...flags], {
    encoding: 'utf8',
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('pnpm build (scripts/build-actions.mjs)', () => {
  it('bundles an ES module action into a dist that runs under Node 24, and check-dist sees any change', async () => {
    const dir = await actionsFolder({
      hello: {
        packageJson: { name: 'hello', type: 'module' },
        index: "import os from 'node:os';\nconsole.log('hello from', os.platform());\n",
      },
    });
    expect(build(dir).status).toBe(0);
    expect(execFileSync(node24(), [path.join(dir, 'hello', 'dist', 'index.js')]).toString()).toBe(`hello from ${process.platform}\n`);

    expect(build(dir, '--check')).toMatchObject({
      status: 0,
      output: expect.stringContaining('check-dist: every dist/ matches its sources.'),
    });

    await writeFile(path.join(dir, 'hello', 'lib', 'index.js'), "console.log('changed');\n");
    const stale = build(dir, '--check');
    expect(stale.status).toBe(1);
    expect(stale.output).toMatch(/check-dist: dist\/ differs from what the sources build:\n\s+changed: .*hello\/dist\/index\.js/);
  });

  it('refuses an action package without "type": "module", which ncc would bundle into a crash', async () => {
    const dir = await actionsFolder({ untyped: { packageJson: { name: 'untyped' }, index: 'console.log(1);\n' } });
    const result = build(dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain('actions/untyped/package.json must have "type": "module"');
  });

  it('refuses a bundle that contains webpackMissingModule', async () => {
    const index = 'function webpackMissingModule() { throw new Error("Cannot find module \'x\'"); }\nwebpackMissingModule();\n';
    const dir = await actionsFolder({ broken: { packageJson: { name: 'broken', type: 'module' }, index } });
    const result = build(dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain('actions/broken: the bundle contains webpackMissingModule');
  });
  it('refuses an index.js over 1.5 MB, and takes the same code when it comes by import() into a chunk', async () => {
    // Random-looking text, so that minifying cannot shrink it: 1.6 MB.
    const text = Array.from({ length: 1_600_000 / 16 }, (_, index) => (index * 2654435761).toString(16).padStart(16, '0')).join('');
    const dir = await actionsFolder({
      eager: {
        packageJson: { name: 'eager', type: 'module' },
        index: `export const text = ${JSON.stringify(text)};\nconsole.log(text.length);\n`,
      },
      lazy: {
        packageJson: { name: 'lazy', type: 'module' },
        index: "if (process.argv[2] === 'big') console.log((await import('./big.js')).text.length);\nelse console.log('small');\n",
      },
    });
    await writeFile(path.join(dir, 'lazy', 'lib', 'big.js'), `export const text = ${JSON.stringify(text)};\n`);
    const result = build(dir);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/actions\/eager\/dist\/index\.js is 1\.6\d MB, over the 1\.5 MB every run loads at start/);
    expect(result.output).toMatch(/built actions\/lazy\/dist\/index\.js \(0\.\d\d MB loaded at start\)/);
    expect(execFileSync(node24(), [path.join(dir, 'lazy', 'dist', 'index.js'), 'big']).toString()).toBe(`${text.length}\n`);
  });
});
