import { describe, expect, it } from '@jest/globals';
import { InputError, ToolkitError, UserError, runAction } from '@toolkit/shared';

function recorder() {
  const failed: string[] = [];
  const debug: string[] = [];
  return { failed, debug, reporter: { setFailed: (m: string) => failed.push(m), debug: (m: string) => debug.push(m) } };
}

describe('runAction', () => {
  it('does nothing more when main succeeds', async () => {
    const { failed, reporter } = recorder();
    let ran = false;
    await runAction(async () => {
      ran = true;
    }, reporter);
    expect(ran).toBe(true);
    expect(failed).toEqual([]);
  });

  it('reports a UserError as its one clear line, with no stack', async () => {
    const { failed, debug, reporter } = recorder();
    await runAction(async () => {
      throw new InputError('ref', '"main" is not an environment tag.');
    }, reporter);
    expect(failed).toEqual(['Invalid input "ref": "main" is not an environment tag.']);
    expect(debug).toEqual([]);
  });

  it('reports any other error by its message, with its stack and causes in debug', async () => {
    const { failed, debug, reporter } = recorder();
    const cause = new Error('socket hang up');
    await runAction(async () => {
      throw new ToolkitError('DOWNLOAD_FAILED', 'download failed', { cause });
    }, reporter);
    expect(failed).toEqual(['download failed']);
    expect(debug).toHaveLength(2);
    expect(debug[0]).toContain('ToolkitError: download failed');
    expect(debug[1]).toContain('Error: socket hang up');
  });

  it('reports a thrown non-error as its string, and never rejects', async () => {
    const { failed, reporter } = recorder();
    await expect(
      runAction(async () => {
        throw 'plain string';
      }, reporter),
    ).resolves.toBeUndefined();
    expect(failed).toEqual(['plain string']);
  });

  it('tells user errors from internal ones by class and code', () => {
    const user = new UserError('REFUSED', 'no');
    expect(user).toBeInstanceOf(ToolkitError);
    expect(user.code).toBe('REFUSED');
    expect(user.name).toBe('UserError');
    expect(new InputError('x', 'y').code).toBe('INVALID_INPUT');
  });
});
