import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parseFileCommand, parseWorkflowCommand, runActionLocally } from '@toolkit/cli';
import { ROOT } from '../support/harness.js';
import { tempDir } from '../support/temp.js';

const ACTION_YML = `name: Probe
description: Reports what the runner gave it.
inputs:
  who:
    description: Who to greet.
    required: true
  password:
    description: A secret.
  with space:
    description: An input whose name has a space.
    default: spaced default
  token:
    description: Defaults to the workflow token.
    default: \${{ github.token }}
  exit-code:
    description: The code to exit with.
    default: '0'
outputs:
  greeting:
    description: A greeting.
runs:
  using: node24
  main: dist/index.js
`;

// A plain CommonJS action: it uses only what the runner provides, so the test checks the runner.
const PROBE = `
const fs = require('fs');
const env = process.env;
fs.appendFileSync(env.GITHUB_OUTPUT, 'greeting=hello ' + env.INPUT_WHO + '\\n');
fs.appendFileSync(env.GITHUB_OUTPUT, 'multi<<ghadelimiter_1\\nline 1\\nline 2\\nghadelimiter_1\\n');
fs.appendFileSync(env.GITHUB_STEP_SUMMARY, '<h3>Probe</h3>\\n');
fs.appendFileSync(env.GITHUB_ENV, 'EXPORTED=yes\\n');
console.log('::add-mask::' + env.INPUT_PASSWORD);
console.log('password is ' + env.INPUT_PASSWORD);
console.log('::debug::a detail');
console.log('::warning file=src/a.ts,line=3::careful%0Anow');
console.log('space: ' + env['INPUT_WITH_SPACE']);
console.log('token: ' + env.INPUT_TOKEN);
console.log('event: ' + fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
console.log('cwd: ' + process.cwd() + ' workspace: ' + env.GITHUB_WORKSPACE + ' actions: ' + env.GITHUB_ACTIONS);
console.error('stderr ' + env.INPUT_PASSWORD);
process.exitCode = Number(env['INPUT_EXIT-CODE']);
`;

let actionDir: string;
let workspace: string;

beforeAll(async () => {
  const dir = await tempDir();
  actionDir = path.join(dir, 'probe');
  workspace = path.join(dir, 'workspace');
  await mkdir(path.join(actionDir, 'dist'), { recursive: true });
  await mkdir(workspace);
  await writeFile(path.join(actionDir, 'action.yml'), ACTION_YML);
  await writeFile(path.join(actionDir, 'dist', 'index.js'), PROBE);
  await writeFile(path.join(dir, 'event.json'), '{"ref":"refs/tags/UAT-1.0.0"}');
});

describe('runActionLocally', () => {
  it('runs an action as the runner does: inputs, defaults, files, masking and workflow commands', async () => {
    const lines: string[] = [];
    const result = await runActionLocally({
      actionDir,
      inputs: { who: 'world', password: 'hunter2-secret' },
      env: { GITHUB_TOKEN: 'ghs_from_env' },
      eventPath: path.join(path.dirname(actionDir), 'event.json'),
      workspace,
      onLine: (line) => lines.push(line),
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({ greeting: 'hello world', multi: 'line 1\nline 2' });
    expect(result.summary).toBe('<h3>Probe</h3>\n');
    expect(result.exportedEnv).toEqual({ EXPORTED: 'yes' });
    expect(result.masks).toEqual(['hunter2-secret']);
    expect(result.log).toEqual(lines);
    expect(result.log).toEqual([
      'password is ***',
      'Warning (src/a.ts:3): careful\nnow',
      'space: spaced default',
      'token: ghs_from_env',
      'event: {"ref":"refs/tags/UAT-1.0.0"}',
      `cwd: ${workspace} workspace: ${workspace} actions: true`,
      'stderr ***',
    ]);
    expect(result.log.join('\n')).not.toContain('hunter2-secret');
  });

  it('shows debug lines when asked, and passes the exit code on', async () => {
    const result = await runActionLocally({ actionDir, inputs: { who: 'x', 'exit-code': '3' }, workspace, debug: true });
    expect(result.exitCode).toBe(3);
    expect(result.log).toContain('##[debug]a detail');
  });

  it('refuses an input the action does not have, listing the ones it has', async () => {
    await expect(runActionLocally({ actionDir, inputs: { whom: 'x' }, workspace })).rejects.toThrow(
      'probe has no input "whom"; its inputs are: who, password, with space, token, exit-code.',
    );
  });

  it('parses workflow commands and file commands as the runner does', () => {
    expect(parseWorkflowCommand('::error file=a%2Cb.ts,line=1::bad%25 thing')).toEqual({
      name: 'error',
      properties: { file: 'a,b.ts', line: '1' },
      message: 'bad% thing',
    });
    expect(parseWorkflowCommand('plain text')).toBeUndefined();
    expect(parseFileCommand('a=1\nb<<EOF\nx=2\n\nEOF\nc=3=4\n')).toEqual({ a: '1', b: 'x=2\n', c: '3=4' });
  });
});

describe('toolkit run', () => {
  it('prints the log, the outputs (masked) and the summary, and exits with the action’s code', async () => {
    const bin = path.join(ROOT, 'packages', 'cli', 'lib', 'bin.js');
    const run = promisify(execFile);
    const failed = await run(
      process.execPath,
      [
        bin,
        'run',
        actionDir,
        '--input',
        'who=hunter2-secret',
        '--input',
        'password=hunter2-secret',
        '--input',
        'exit-code=4',
        '--workspace',
        workspace,
      ],
      {},
    ).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failed && failed.code).toBe(4);
    expect(failed.stdout).toContain('Outputs:\n  greeting=hello ***\n');
    expect(failed.stdout).toContain('Job summary:\n### Probe');
    expect(failed.stdout).toContain('Exit code: 4');
    expect(failed.stdout).not.toContain('hunter2-secret');
  });
});
