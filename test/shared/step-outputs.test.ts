/**
 * Step outputs as the actions write them: @actions/core's setOutput, patched (patches/) to make its
 * heredoc delimiter without loading Node's crypto. The delimiter needs no secrecy because a value
 * that contains it is refused; these tests hold that, and that what is written reads back whole.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
// The copy the shared library (and so every action) bundles, with the toolkit's patch applied.
import * as core from '../../packages/shared/node_modules/@actions/core/lib/core.js';
import { parseFileCommand } from '../../packages/cli/src/local-runner.js';
import { tempDir } from '../support/temp.js';

let outputFile: string;
const saved = process.env.GITHUB_OUTPUT;

beforeEach(async () => {
  outputFile = path.join(await tempDir(), 'output');
  await writeFile(outputFile, '');
  process.env.GITHUB_OUTPUT = outputFile;
});

afterEach(() => {
  jest.restoreAllMocks();
  if (saved === undefined) delete process.env.GITHUB_OUTPUT;
  else process.env.GITHUB_OUTPUT = saved;
});

describe('setOutput (patched @actions/core)', () => {
  it('writes each output in a heredoc of its own fresh delimiter, and it reads back whole', async () => {
    const changelog = '### Fixes\n\n- a subject that says ghadelimiter_ and EOF\nEOF\n<<';
    core.setOutput('changelog', changelog);
    core.setOutput('version', '1.4.0');
    const text = await readFile(outputFile, 'utf8');
    const delimiters = [...text.matchAll(/^[a-z]+<<(.*)$/gm)].map((match) => match[1]);
    expect(delimiters).toHaveLength(2);
    for (const delimiter of delimiters) expect(delimiter).toMatch(/^ghadelimiter_[0-9a-z]{16,}$/);
    expect(delimiters[0]).not.toBe(delimiters[1]);
    expect(parseFileCommand(text)).toEqual({ changelog, version: '1.4.0' });
  });

  it('refuses a value or a name that holds the delimiter, writing nothing', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    const delimiter = `ghadelimiter_${(0.5).toString(36).slice(2).repeat(2)}`;
    expect(() => core.setOutput('forged', `x\n${delimiter}\nother=injected`)).toThrow(
      `Unexpected input: value should not contain the delimiter "${delimiter}"`,
    );
    expect(() => core.setOutput(`a${delimiter}`, 'x')).toThrow('name should not contain the delimiter');
    expect(await readFile(outputFile, 'utf8')).toBe('');
  });
});
