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

/**
 * cosign's replay remembers what it signed, as the registry would: `sign` and `attest` append the
 * digest with the signer's identity to cosign.signatures.jsonl, and `verify` answers from it. A
 * keyless identity is what Fulcio would write in the certificate: the server URL and the OIDC
 * token's job_workflow_ref (asked of the job's token endpoint, as cosign does), with GitHub's
 * issuer. So a verify with the wrong identity fails in a rehearsal as it would on GitHub.
 */
const COSIGN_REPLAY = `const store = path.join(__dirname, 'cosign.signatures.jsonl');
const option = (name) => { for (let i = 0; i < args.length; i += 1) { if (args[i] === '--') break; if (args[i] === name) return args[i + 1]; if (args[i].startsWith(name + '=')) return args[i].slice(name.length + 1); } return undefined; };
const ref = args.includes('--') ? args[args.indexOf('--') + 1] : image;
const digest = (ref.split('@')[1] || '');
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const fail = (code, message) => { process.stderr.write('Error: ' + message + '\\nerror during command execution: ' + message + '\\n'); process.exit(code); };
(async () => {
  if (args[0] === 'sign' || args[0] === 'attest') {
    let signer = { kind: 'key' };
    if (option('--key') === undefined) {
      const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL, bearer = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
      if (!url || !bearer) fail(1, 'signing: getting signer: no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL is not set)');
      const response = await fetch(url + (url.includes('?') ? '&' : '?') + 'audience=sigstore', { headers: { authorization: 'bearer ' + bearer } });
      if (!response.ok) fail(1, 'signing: getting signer: the OIDC token request failed with ' + response.status);
      const claims = JSON.parse(Buffer.from((await response.json()).value.split('.')[1], 'base64url').toString('utf8'));
      signer = { kind: 'keyless', identity: (process.env.GITHUB_SERVER_URL || 'https://github.com') + '/' + claims.job_workflow_ref, issuer: GITHUB_ISSUER };
    }
    fs.appendFileSync(store, JSON.stringify({ type: args[0], digest, ...signer }) + '\\n');
    process.exit(0);
  }
  if (args[0] === 'verify') {
    const signatures = (fs.existsSync(store) ? fs.readFileSync(store, 'utf8') : '').split('\\n').filter(Boolean).map((line) => JSON.parse(line)).filter((entry) => entry.type === 'sign' && entry.digest === digest);
    if (signatures.length === 0) fail(10, 'no signatures found');
    const key = option('--key'), identity = option('--certificate-identity'), identityRegexp = option('--certificate-identity-regexp');
    const issuer = option('--certificate-oidc-issuer'), issuerRegexp = option('--certificate-oidc-issuer-regexp');
    const matches = (entry) => key !== undefined ? entry.kind === 'key' :
      entry.kind === 'keyless' &&
      (identity !== undefined ? entry.identity === identity : identityRegexp !== undefined && new RegExp(identityRegexp).test(entry.identity)) &&
      (issuer !== undefined ? entry.issuer === issuer : issuerRegexp !== undefined && new RegExp(issuerRegexp).test(entry.issuer));
    if (!signatures.some(matches)) {
      const got = signatures.filter((entry) => entry.kind === 'keyless').map((entry) => entry.identity).join(' ');
      fail(12, 'no matching signatures: none of the expected identities matched what was in the certificate, got subjects [' + got + '] with issuer ' + GITHUB_ISSUER);
    }
    process.stdout.write(JSON.stringify([{ critical: { image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: {} }]) + '\\n');
  }
  process.exit(0);
})();`;

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
      : COSIGN_REPLAY
}
${name === 'cosign' ? '' : 'process.exit(0);'}
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
