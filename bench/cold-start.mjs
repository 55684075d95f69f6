#!/usr/bin/env node
// Every action's start: the built action (dist/index.js under Node 24) as a fresh process with its
// action.yml defaults on a minimal valid input, from spawn to exit, interleaved with `node -e 0`;
// and the JS it loads on that path (index.js and every chunk), in decimal MB.
// Goals: at most 2x `node -e 0`; at most 1.5 MB loaded. Needs `pnpm build` first.
//   node bench/cold-start.mjs            (RUNS=11 by default)
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {
  TIMING_HEADER,
  builtAction,
  fmtMB,
  interleave,
  intro,
  median,
  nodeStart,
  sandbox,
  table,
  timingRows,
  verdict,
} from './support/bench.mjs';

const work = sandbox('cold-start');
const IDENTITY = { GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const gitIn =
  (cwd) =>
  (...args) =>
    execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY } });
const fakeTool = (name, script) => {
  const bin = path.join(work, `${name}-bin`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, name), `#!/bin/sh\n${script}\n`);
  chmodSync(path.join(bin, name), 0o755);
  return bin;
};

// publish-release's API calls go to a stand-in: no release for the tag yet, the tag exists, create.
const github = http.createServer((request, response) => {
  const reply = (status, body) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  request.resume();
  if (request.method === 'GET' && request.url.includes('/releases/tags/')) return reply(404, { message: 'Not Found' });
  if (request.method === 'GET' && request.url.includes('/git/ref/'))
    return reply(200, { ref: 'refs/tags/v1.0.0', object: { sha: '1'.repeat(40) } });
  if (request.method === 'POST' && request.url.endsWith('/releases'))
    return reply(201, {
      id: 1,
      html_url: 'https://github.example/r/1',
      upload_url: 'http://127.0.0.1/u{?name,label}',
      prerelease: false,
      body: '',
      name: 'v1.0.0',
    });
  reply(500, { message: `unexpected ${request.method} ${request.url}` });
});
// deploy-compose's first connection: accepted and closed at once (the action then exits 1).
const sshPort = net.createServer((socket) => socket.destroy());
await Promise.all([github, sshPort].map((server) => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))));

/** A minimal valid run of each action: inputs, workspace, fake tools; what makes it exit. */
const minimalRuns = {
  'release-context': () => {
    const repo = path.join(work, 'repo');
    execFileSync('git', ['init', '--quiet', repo]);
    gitIn(repo)('commit', '--quiet', '--allow-empty', '-m', 'feat: x');
    gitIn(repo)('tag', 'UAT-1.0.0');
    return { inputs: { ref: 'refs/tags/UAT-1.0.0' }, workspace: repo };
  },
  promote: () => {
    // A bump that is already there: clone, read, validate, no commit (git clone included).
    const seed = path.join(work, 'promote-seed');
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', seed]);
    writeFileSync(path.join(seed, 'versions.yaml'), 'environments:\n  uat:\n    services:\n      api:\n        version: 1.0.0\n');
    gitIn(seed)('add', 'versions.yaml');
    gitIn(seed)('commit', '--quiet', '-m', 'start');
    execFileSync('git', ['clone', '--quiet', '--bare', seed, path.join(work, 'promote.git')]);
    return {
      inputs: { repository: `file://${path.join(work, 'promote.git')}`, environment: 'uat', service: 'api', version: '1.0.0' },
      workspace: work,
    };
  },
  'umbrella-chart': () => {
    const dir = path.join(work, 'umbrella');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'versions.yaml'),
      'environments:\n  uat:\n    services:\n      api: {version: 1.0.0, chart: {version: 0.1.0}}\n',
    );
    return { inputs: { environment: 'uat', repository: 'https://charts.example' }, workspace: dir };
  },
  scan: () => {
    // The defaults (db-cache: true, sbom-format as action.yml says), with a trivy and a syft on PATH
    // (version system) that answer at once.
    writeFileSync(path.join(work, 'report.json'), JSON.stringify({ SchemaVersion: 2, ArtifactName: 'x', Results: [] }));
    const bin = fakeTool(
      'trivy',
      `while [ "$#" -gt 0 ]; do if [ "$1" = --output ]; then cp "${path.join(work, 'report.json')}" "$2"; fi; shift; done`,
    );
    writeFileSync(
      path.join(work, 'sbom.json'),
      JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'bench/app:1', packages: [] }),
    );
    writeFileSync(
      path.join(bin, 'syft'),
      `#!/bin/sh\nfor a in "$@"; do case "$a" in *=*) cp "${path.join(work, 'sbom.json')}" "\${a#*=}";; esac; done\ncat "${path.join(work, 'sbom.json')}"\n`,
    );
    chmodSync(path.join(bin, 'syft'), 0o755);
    return { inputs: { image: 'bench/app:1', 'trivy-version': 'system', 'syft-version': 'system' }, workspace: work, binPath: bin };
  },
  sign: () => ({
    // A key and a digest, so no registry and no OIDC; a cosign that succeeds at once.
    inputs: { image: `bench/app@sha256:${'1'.repeat(64)}`, key: 'fake-key', verify: 'false', 'cosign-version': 'system' },
    workspace: work,
    binPath: fakeTool('cosign', 'exit 0'),
  }),
  'release-report': () => {
    // One promote commit in a clone on disk: read, measured, written.
    const repo = path.join(work, 'release-report');
    const git = gitIn(repo);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
    writeFileSync(
      path.join(repo, 'versions.yaml'),
      "environments:\n  prod:\n    services:\n      api: {version: 1.0.0, deployed_at: '2026-11-23T05:00:00Z'}\n",
    );
    git('add', 'versions.yaml');
    git('commit', '--quiet', '-m', 'bump(prod): api 1.0.0');
    return { inputs: { 'repository-path': repo }, workspace: repo };
  },
  'changed-services': () => {
    // Two services, one released and one changed since: the matrix of one.
    const repo = path.join(work, 'changed-services');
    const git = gitIn(repo);
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo]);
    mkdirSync(path.join(repo, 'services', 'api'), { recursive: true });
    mkdirSync(path.join(repo, 'services', 'web'), { recursive: true });
    writeFileSync(
      path.join(repo, 'toolkit.yaml'),
      'image-prefix: ghcr.io/acme/shop\nservices:\n  api: {path: services/api}\n  web: {path: services/web}\n',
    );
    writeFileSync(path.join(repo, 'services', 'api', 'a'), '1\n');
    writeFileSync(path.join(repo, 'services', 'web', 'w'), '1\n');
    git('add', '--all');
    git('commit', '--quiet', '-m', 'feat: both');
    git('tag', 'api/v1.0.0');
    git('tag', 'web/v1.0.0');
    writeFileSync(path.join(repo, 'services', 'api', 'a'), '2\n');
    git('commit', '--quiet', '--all', '-m', 'fix(api): one');
    return { inputs: {}, workspace: repo };
  },
  'semantic-tag': () => {
    const repo = path.join(work, 'semantic-tag');
    execFileSync('git', ['init', '--quiet', repo]);
    gitIn(repo)('commit', '--quiet', '--allow-empty', '-m', 'feat: x');
    gitIn(repo)('tag', 'v1.0.0');
    gitIn(repo)('commit', '--quiet', '--allow-empty', '-m', 'fix: y');
    return { inputs: { 'dry-run': 'true', 'repository-path': repo }, workspace: repo };
  },
  'publish-release': () => ({
    inputs: { tag: 'v1.0.0', token: 'bench-token', repository: 'acme/app' },
    env: { GITHUB_API_URL: `http://127.0.0.1:${github.address().port}` },
    workspace: work,
  }),
  'deploy-compose': () => {
    const key = path.join(work, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    return {
      inputs: {
        host: '127.0.0.1',
        port: String(sshPort.address().port),
        user: 'deploy',
        'ssh-key': execFileSync('cat', [key]).toString(),
        'host-fingerprint': `SHA256:${'A'.repeat(43)}`,
        project: 'bench',
      },
      workspace: work,
      // Up to its first connection: the stand-in closes it, so the run ends with exit 1.
      allowFailure: true,
    };
  },
};

intro(
  'each built action (dist/index.js, Node 24) as a fresh process with its action.yml defaults on a minimal valid input, spawn to exit (deploy-compose: to its first SSH connection, which is refused)',
  '`node -e 0` under the same Node 24, interleaved',
);
const rows = [];
const sizes = [];
try {
  for (const [name, setup] of Object.entries(minimalRuns)) {
    const { allowFailure, ...options } = setup();
    const action = await builtAction(name, options);
    const results = await interleave({ 'node -e 0': nodeStart, [name]: () => action.run({ allowFailure }) });
    const [baseRow, actionRow] = timingRows(results, 'node -e 0');
    const ratio = median(results[name].ms) / median(results['node -e 0'].ms);
    rows.push([...actionRow, verdict(ratio, 2, (x) => `${x.toFixed(2)}×`), baseRow[2]]);
    const loaded = await action.loaded({ allowFailure });
    sizes.push([name, fmtMB(loaded.mb), verdict(loaded.mb, 1.5, fmtMB), loaded.files.join(' ')]);
  }
  console.log(table([...TIMING_HEADER, 'goal ≤ 2×', 'node -e 0 median'], rows));
  console.log(`\nJS loaded on that path (decimal MB, every dist file the process loaded):\n`);
  console.log(table(['action', 'loaded', 'goal ≤ 1.5 MB', 'files'], sizes));
} finally {
  github.close();
  sshPort.close();
}
