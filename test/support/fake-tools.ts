import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * How a fake tool behaves: what it writes to the file after `--output` (for syft, after
 * `<format>=`), its stderr and exit code, and, to imitate a DB that cannot be downloaded, a failure
 * unless it is run with `--skip-db-update`.
 */
export interface FakeBehaviour {
  output?: string;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  dbDownloadFails?: boolean;
}

/**
 * Puts a fake executable `name` in `dir` (put on PATH, or used with version: system). It records
 * every argv to `<name>.calls.json` (and its COSIGN_* variables to `<name>.env.json`) and behaves
 * as `<name>.behaviour.json` says.
 */
export async function fakeTool(
  dir: string,
  name: string,
  behaviour: FakeBehaviour,
): Promise<{ calls: () => Promise<string[][]>; environments: () => Promise<Record<string, string>[]> }> {
  await mkdir(dir, { recursive: true });
  const callsFile = path.join(dir, `${name}.calls.json`);
  const envFile = path.join(dir, `${name}.env.json`);
  await writeFile(envFile, '[]');
  await writeFile(path.join(dir, `${name}.behaviour.json`), JSON.stringify(behaviour));
  await writeFile(callsFile, '[]');
  const script = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
const calls = JSON.parse(fs.readFileSync(${JSON.stringify(callsFile)}, 'utf8'));
calls.push(args);
fs.writeFileSync(${JSON.stringify(callsFile)}, JSON.stringify(calls));
const environments = JSON.parse(fs.readFileSync(${JSON.stringify(envFile)}, 'utf8'));
environments.push(Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('COSIGN_'))));
fs.writeFileSync(${JSON.stringify(envFile)}, JSON.stringify(environments));
const behaviour = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, `${name}.behaviour.json`))}, 'utf8'));
if (behaviour.dbDownloadFails && !args.includes('--skip-db-update')) {
  process.stderr.write('FATAL\\tinit error: DB error: failed to download vulnerability DB: GET https://mirror.gcr.io/v2/aquasec/trivy-db/manifests/2: TOOMANYREQUESTS: rate exceeded\\n');
  process.exit(1);
}
const at = args.indexOf('--output');
if (at >= 0 && behaviour.output !== undefined) {
  const target = args[at + 1].includes('=') ? args[at + 1].slice(args[at + 1].indexOf('=') + 1) : args[at + 1];
  fs.writeFileSync(target, behaviour.output);
}
if (behaviour.stdout) process.stdout.write(behaviour.stdout);
if (behaviour.stderr) process.stderr.write(behaviour.stderr);
process.exit(behaviour.exitCode ?? 0);
`;
  await writeFile(path.join(dir, name), script);
  await chmod(path.join(dir, name), 0o755);
  return {
    calls: async () => JSON.parse(await readFile(callsFile, 'utf8')) as string[][],
    environments: async () => JSON.parse(await readFile(envFile, 'utf8')) as Record<string, string>[],
  };
}
