import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CommandError, findOnPath, runCommand } from '@toolkit/shared';
import { tempDir } from '../support/temp.js';

/** An executable shell script `name` in `dir`. */
async function script(dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, mode);
  return file;
}

describe('runCommand (child_process.spawn, no shell)', () => {
  it('passes each argument as it is, and returns stdout, stderr and the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'printf "%s|" "$@"; echo err >&2', 'sh', 'a b', '$(touch x)', "'", '']);
    expect(result).toEqual({ exitCode: 0, stdout: "a b|$(touch x)|'||", stderr: 'err\n' });
  });

  it('throws a CommandError naming the command, its code and its stderr, unless allowFailure', async () => {
    const failing = runCommand('sh', ['-c', 'echo broken >&2; exit 3']);
    await expect(failing).rejects.toBeInstanceOf(CommandError);
    await expect(failing).rejects.toThrow("`sh -c 'echo broken >&2; exit 3'` exited with code 3:\nbroken");
    await expect(runCommand('sh', ['-c', 'echo out; exit 3'], { allowFailure: true })).resolves.toEqual({
      exitCode: 3,
      stdout: 'out\n',
      stderr: '',
    });
  });

  it('reports a process killed by a signal as 128 + its number', async () => {
    const result = await runCommand('sh', ['-c', 'kill -TERM $$'], { allowFailure: true });
    expect(result.exitCode).toBe(143);
  });

  it('writes input to stdin; without input, stdin is at its end at once (a read never waits)', async () => {
    expect((await runCommand('cat', [], { input: 'line one\nline two' })).stdout).toBe('line one\nline two');
    expect((await runCommand('cat', [], { input: Buffer.from([0, 1, 2]) })).stdout).toBe('\u0000\u0001\u0002');
    expect(await runCommand('cat', [])).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('does not fail when the process exits before reading its input', async () => {
    const result = await runCommand('sh', ['-c', 'exit 0'], { input: 'x'.repeat(1 << 20) });
    expect(result.exitCode).toBe(0);
  });

  it('streams stdout to onStdout as it arrives, and then returns no stdout of its own', async () => {
    const chunks: string[] = [];
    const result = await runCommand('sh', ['-c', 'echo one; sleep 0.2; echo two'], {
      onStdout: (chunk) => chunks.push(chunk.toString()),
    });
    expect(chunks.join('')).toBe('one\ntwo\n');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(result.stdout).toBe('');
  });

  it('adds env to the current environment, and runs in cwd', async () => {
    const dir = await tempDir();
    process.env.TOOLKIT_EXEC_TEST_INHERITED = 'inherited';
    try {
      const result = await runCommand('sh', ['-c', 'echo "$TOOLKIT_EXEC_TEST_INHERITED $ADDED"; pwd -P'], {
        cwd: dir,
        env: { ADDED: 'added' },
      });
      expect(result.stdout).toBe(`inherited added\n${dir}\n`);
    } finally {
      delete process.env.TOOLKIT_EXEC_TEST_INHERITED;
    }
  });

  it('waits for output a child of the process still writes after the process itself exited', async () => {
    const result = await runCommand('sh', ['-c', '(sleep 0.3; echo late) & echo early']);
    expect(result.stdout).toBe('early\nlate\n');
  });

  it('says which command could not be run, and why, for a missing executable', async () => {
    await expect(runCommand('toolkit-no-such-tool', ['--version'])).rejects.toThrow(
      'Cannot run toolkit-no-such-tool --version: it is not on PATH.',
    );
    await expect(runCommand('/nonexistent/tool', [])).rejects.toThrow('Cannot run /nonexistent/tool: it does not exist.');
    await expect(runCommand('toolkit-no-such-tool', [], { allowFailure: true })).rejects.toThrow('it is not on PATH');
  });
});

describe('findOnPath', () => {
  it('finds the first executable file of that name in PATH order, passing over folders and non-executables', async () => {
    const dir = await tempDir();
    const [first, second, third] = ['first', 'second', 'third'].map((name) => path.join(dir, name));
    await Promise.all([first, second, third].map((folder) => mkdir(folder as string)));
    await mkdir(path.join(first as string, 'tool'));
    await script(second as string, 'tool', 'exit 0', 0o644);
    const wanted = await script(third as string, 'tool', 'exit 0');
    await script(dir, 'tool', 'exit 0');
    const env = { PATH: ['', first, second, third, dir].join(path.delimiter) };
    expect(findOnPath('tool', env)).toBe(wanted);
    expect(findOnPath('other', env)).toBeUndefined();
    expect(findOnPath('tool', {})).toBeUndefined();
  });
});
