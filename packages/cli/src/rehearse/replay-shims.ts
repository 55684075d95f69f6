/**
 * trivy, syft and cosign cannot be had on this machine, so a rehearsal puts replay shims of them
 * on PATH: each records its argv (and the COSIGN_* and SIGSTORE_* variables) to
 * `<dir>/<name>.calls.jsonl` and answers as the real tool does for the calls the toolkit makes,
 * with a recorded output: trivy's JSON report (a clean one unless `replay.trivy` is given), syft's
 * SBOM, cosign's success.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ReplayOutputs {
  /** The Trivy JSON report written after `--output` (default: an image with no findings). */
  trivy?: string;
  /** The SBOM written after `--output <format>=` (default: an SPDX 2.3 document with no packages). */
  syft?: string;
}

export type ShimName = 'trivy' | 'syft' | 'cosign';

const CLEAN_TRIVY_REPORT = (image: string) =>
  JSON.stringify({
    SchemaVersion: 2,
    CreatedAt: new Date(0).toISOString(),
    ArtifactName: image,
    ArtifactType: 'container_image',
    Metadata: { OS: { Family: 'none', Name: '' }, ImageConfig: {} },
    Results: [],
  });

const EMPTY_SPDX = (image: string) =>
  JSON.stringify({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: image,
    documentNamespace: `https://rehearsal.invalid/spdx/${encodeURIComponent(image)}`,
    creationInfo: { created: new Date(0).toISOString(), creators: ['Tool: syft-replay-shim'] },
    packages: [],
    relationships: [],
  });

function script(name: ShimName, dir: string): string {
  return `#!/usr/bin/env node
// A replay shim of ${name} for a rehearsal: records its argv, answers with a recorded output.
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => /^(COSIGN|SIGSTORE)_/.test(key)).map(([key]) => [key, '(set)']));
fs.appendFileSync(${JSON.stringify(path.join(dir, `${name}.calls.jsonl`))}, JSON.stringify({ args, env }) + '\\n');
const replay = (file, fallback) => { try { return fs.readFileSync(path.join(${JSON.stringify(dir)}, file), 'utf8'); } catch { return fallback; } };
const image = args[args.length - 1] || '';
if (args[0] === '--version' || args[0] === 'version') { process.stdout.write('${name} replay shim\\n'); process.exit(0); }
${
  name === 'trivy'
    ? `const at = args.indexOf('--output');
if (at >= 0) fs.writeFileSync(args[at + 1], replay('trivy.replay.json', ${JSON.stringify('')}) || (${CLEAN_TRIVY_REPORT.toString()})(image));`
    : name === 'syft'
      ? `const at = args.indexOf('--output');
if (at >= 0) { const target = args[at + 1]; const file = target.includes('=') ? target.slice(target.indexOf('=') + 1) : target;
  const scanned = args[1] || image; fs.writeFileSync(file, replay('syft.replay.json', '') || (${EMPTY_SPDX.toString()})(scanned)); }`
      : `if (args[0] === 'verify') process.stdout.write(JSON.stringify([{ critical: { image: { 'docker-manifest-digest': (image.split('@')[1] || '') }, type: 'cosign container image signature' }, optional: {} }]) + '\\n');`
}
process.exit(0);
`;
}

/** Writes the shims into `dir` (to be put on PATH) and their replay outputs; returns `dir`. */
export async function writeReplayShims(dir: string, names: readonly ShimName[], replay: ReplayOutputs = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  if (replay.trivy) await writeFile(path.join(dir, 'trivy.replay.json'), replay.trivy);
  if (replay.syft) await writeFile(path.join(dir, 'syft.replay.json'), replay.syft);
  for (const name of names) {
    await writeFile(path.join(dir, name), script(name, dir));
    await chmod(path.join(dir, name), 0o755);
    await writeFile(path.join(dir, `${name}.calls.jsonl`), '');
  }
  return dir;
}

/** Every call a shim recorded, in order. */
export async function shimCalls(dir: string, name: ShimName): Promise<{ args: string[]; env: Record<string, string> }[]> {
  const text = await readFile(path.join(dir, `${name}.calls.jsonl`), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { args: string[]; env: Record<string, string> });
}
