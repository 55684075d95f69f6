import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  CommandError,
  FAILURE_TITLES,
  InputError,
  ToolkitError,
  UserError,
  reportFailure,
  runAction,
  runnerReporter,
} from '@toolkit/shared';

function recorder() {
  const failed: string[] = [];
  const kinds: string[] = [];
  const debug: string[] = [];
  return {
    failed,
    kinds,
    debug,
    reporter: {
      setFailed: (m: string, kind: string) => {
        failed.push(m);
        kinds.push(kind);
      },
      debug: (m: string) => debug.push(m),
    },
  };
}

afterEach(() => {
  jest.restoreAllMocks();
  process.exitCode = undefined;
});

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

  it('reports each kind as itself: a user error never as internal, an internal failure never as a user error', () => {
    const cases: [unknown, 'user' | 'internal'][] = [
      [new UserError('REFUSED', 'no'), 'user'],
      [new InputError('ref', 'bad'), 'user'],
      [new UserError('NOT_FOUND', 'gone', { cause: new Error('HTTP 404') }), 'user'],
      [new ToolkitError('DOWNLOAD_FAILED', 'down'), 'internal'],
      [new CommandError(['git', 'push'], 1, 'fatal', 'git push'), 'internal'],
      [new Error('wrapped', { cause: new UserError('REFUSED', 'inner') }), 'internal'],
      [new TypeError('x is undefined'), 'internal'],
      [42, 'internal'],
    ];
    for (const [error, kind] of cases) {
      const { kinds, debug, reporter } = recorder();
      reportFailure(error, reporter);
      expect(kinds).toEqual([kind]);
      // Only an internal failure has a stack (or a note) in debug.
      expect(debug.length > 0).toBe(kind === 'internal');
    }
  });

  it('titles the step’s error annotation by kind, and fails the step', () => {
    const printed: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    runnerReporter.setFailed('Invalid input "ref": bad.', 'user');
    runnerReporter.setFailed('socket hang up', 'internal');
    expect(process.exitCode).toBe(1);
    const title = (kind: 'user' | 'internal') => FAILURE_TITLES[kind].replace(/:/g, '%3A').replace(/,/g, '%2C');
    expect(printed.join('')).toContain(`::error title=${title('user')}::Invalid input "ref": bad.`);
    expect(printed.join('')).toContain(`::error title=${title('internal')}::socket hang up`);
  });

  it('tells user errors from internal ones by class and code', () => {
    const user = new UserError('REFUSED', 'no');
    expect(user).toBeInstanceOf(ToolkitError);
    expect(user.code).toBe('REFUSED');
    expect(user.name).toBe('UserError');
    expect(new InputError('x', 'y').code).toBe('INVALID_INPUT');
    // The type system keeps the codes apart too (checked by tsc -b): a UserError takes no internal code.
    // @ts-expect-error COMMAND_FAILED is an internal failure's code
    expect(new UserError('COMMAND_FAILED', 'x')).toBeInstanceOf(UserError);
  });
});
