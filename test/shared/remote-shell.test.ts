import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { INJECTION_CORPUS, ToolkitError, injectionCorpus, quoteForRemoteShell, quoteShellArg } from '@toolkit/shared';
import { tempDir } from '../support/temp.js';

/** The POSIX shells on this machine that a login shell on a deploy host is likely to be. */
const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((shell) => existsSync(shell));

/** Runs a script through `shell` the way sshd runs an exec request: `shell -c <command>`. */
function runRemote(shell: string, command: string, cwd?: string): Buffer {
  const result = spawnSync(shell, ['-c', command], { cwd, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${shell} exited ${result.status}: ${result.stderr.toString()}`);
  return result.stdout;
}

/**
 * Prints every string through the shell, each followed by a NUL, and reads them back. The script
 * goes in on stdin (`sh -s`) so that thousands of strings need one process, not thousands.
 */
function roundTrip(shell: string, strings: readonly string[]): string[] {
  const script = strings.map((text) => quoteForRemoteShell(['printf', '%s\\000', text])).join('\n');
  const result = spawnSync(shell, ['-s'], { input: script, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${shell} exited ${result.status}: ${result.stderr.toString()}`);
  const parts = result.stdout.toString('utf8').split('\0');
  expect(parts.pop()).toBe('');
  return parts;
}

/** mulberry32: a seeded generator, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = `'"\\$\`;&|<>(){}[]*?~#!=% \t\n\r\v\f^`;

function randomString(next: () => number): string {
  const length = Math.floor(next() * 40);
  let text = '';
  for (let i = 0; i < length; i++) {
    const pick = next();
    let codePoint: number;
    if (pick < 0.35) codePoint = SPECIAL.codePointAt(Math.floor(next() * SPECIAL.length)) as number;
    else if (pick < 0.6) codePoint = 0x20 + Math.floor(next() * 95);
    else if (pick < 0.7) codePoint = 1 + Math.floor(next() * 31);
    else if (pick < 0.8) codePoint = 0x80 + Math.floor(next() * 0x780);
    else if (pick < 0.9) codePoint = 0x800 + Math.floor(next() * (0xd800 - 0x800));
    else codePoint = 0x10000 + Math.floor(next() * 0x10000);
    text += String.fromCodePoint(codePoint);
  }
  return text;
}

describe('quoteForRemoteShell', () => {
  it('leaves plain words readable and quotes everything else', () => {
    expect(quoteForRemoteShell(['docker', 'compose', '-f', 'a/b.yml', 'up', '-d'])).toBe('docker compose -f a/b.yml up -d');
    expect(quoteForRemoteShell(['echo', '', 'a b', "it's", 'x=1'])).toBe(`echo '' 'a b' 'it'\\''s' 'x=1'`);
  });

  it('refuses a NUL byte, which no shell string can carry, instead of cutting the argument', () => {
    expect(() => quoteShellArg('a\0b')).toThrow(ToolkitError);
    expect(() => quoteShellArg('a\0b')).toThrow('contains a NUL byte');
    expect(() => quoteForRemoteShell([])).toThrow('at least one word');
  });

  it.each(SHELLS)('round-trips 10,000 seeded random strings through %s unchanged', (shell) => {
    const seed = 20261123;
    const next = random(seed);
    const strings = Array.from({ length: 10_000 }, () => randomString(next));
    const back = roundTrip(shell, strings);
    expect(back).toHaveLength(strings.length);
    const firstDifference = strings.findIndex((text, index) => back[index] !== text);
    expect({ seed, firstDifference, sent: strings[firstDifference], got: back[firstDifference] }).toEqual({
      seed,
      firstDifference: -1,
      sent: undefined,
      got: undefined,
    });
  });

  it.each(SHELLS)('passes every hostile string of the corpus through %s -c literally, and runs none of it', async (shell) => {
    const dir = await tempDir();
    const canary = path.join(dir, 'canary');
    for (const hostile of injectionCorpus(canary)) {
      if (hostile.includes('\0')) {
        expect(() => quoteForRemoteShell(['printf', '%s', hostile])).toThrow('NUL');
        continue;
      }
      const printed = runRemote(shell, quoteForRemoteShell(['printf', '%s', hostile]), dir).toString('utf8');
      expect(printed).toBe(hostile);
      // A hostile string as the command word is looked up as one (missing) program, not parsed.
      spawnSync(shell, ['-c', quoteForRemoteShell([hostile, 'arg'])], { cwd: dir });
      expect(existsSync(canary)).toBe(false);
    }
    expect(INJECTION_CORPUS.length).toBeGreaterThanOrEqual(30);
  });
});
