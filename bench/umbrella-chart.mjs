#!/usr/bin/env node
// actions/umbrella-chart:
// 1. The time to generate the chart of an environment of 2,000 services, next to a plain yaml.parse
//    of the same versions.yaml in the same run. Goal: at most 300 ms.
// 2. verify against a local HTTP chart repository whose index.yaml lists 50,000 chart versions:
//    the time and the number of index fetches, cold and warm (ETag), next to a bare download of the
//    index in the same run.
// Needs `pnpm build` first.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { generateUmbrella, verifyDependencies } from '../actions/umbrella-chart/lib/umbrella-chart.js';

const SERVICES = 2000;
const RUNS = Number(process.env.RUNS ?? 7);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function timed(work) {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

const services = {};
for (let n = 0; n < SERVICES; n++) {
  services[`service-${String(n).padStart(4, '0')}`] = {
    version: `1.${n}.0`,
    image: `ghcr.io/acme/service-${n}`,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    chart: { name: `chart-${n % 50}`, version: `0.${n % 50}.0` },
  };
}
const versions = `# benchmark\n${stringify({ environments: { prod: { services } } }, { lineWidth: 0 })}`;
const config = {
  versionsFile: 'versions.yaml',
  environment: 'prod',
  chartName: 'prod-umbrella',
  outputDir: 'umbrella/prod',
  repository: '',
  chartVersion: 'patch',
  sourceCommit: 'bench',
};
const rows = [];

const generate = [];
const parsing = [];
let dependencies = [];
for (let i = 0; i < RUNS + 2; i++) {
  const { ms, result } = await timed(() =>
    generateUmbrella(async (file) => (file === 'versions.yaml' ? versions : undefined), {
      ...config,
      repository: 'https://charts.example',
    }),
  );
  const parsed = await timed(async () => parse(versions));
  if (i >= 2) {
    generate.push(ms);
    parsing.push(parsed.ms);
  }
  dependencies = result.dependencies;
}
rows.push([
  `generate, ${SERVICES} services (${(versions.length / 1024).toFixed(0)} KiB versions.yaml)`,
  `${median(generate).toFixed(0)} ms ${median(generate) <= 300 ? '(goal met)' : '(goal: <= 300 ms)'}`,
  `yaml.parse: ${median(parsing).toFixed(0)} ms`,
  `${(median(generate) / median(parsing)).toFixed(2)}x`,
]);

// A repository whose index lists 50,000 versions: 50 charts x 1,000 versions.
const entries = {};
for (let chart = 0; chart < 50; chart++)
  entries[`chart-${chart}`] = Array.from({ length: 1000 }, (_, n) => ({
    name: `chart-${chart}`,
    version: `0.${n}.0`,
    urls: [`chart-${chart}-0.${n}.0.tgz`],
    digest: 'd'.repeat(64),
  }));
const index = stringify({ apiVersion: 'v1', entries }, { lineWidth: 0 });
let served = 0;
const server = http.createServer((request, response) => {
  served += 1;
  if (request.headers['if-none-match'] === '"v1"') response.writeHead(304, { etag: '"v1"' }).end();
  else response.writeHead(200, { etag: '"v1"' }).end(index);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'bench-umbrella-'));
try {
  const pinned = dependencies.map((dependency) => ({ ...dependency, repository: url }));
  const download = await timed(async () => (await fetch(`${url}/index.yaml`)).text());
  served = 0;
  const cold = await timed(() => verifyDependencies(pinned, { cacheDir }));
  const coldFetches = served;
  served = 0;
  const warm = await timed(() => verifyDependencies(pinned, { cacheDir }));
  rows.push([
    `verify ${pinned.length} pins against a 50,000-version index (${(index.length / 1024 / 1024).toFixed(1)} MiB), cold`,
    `${cold.ms.toFixed(0)} ms, ${coldFetches} index fetch`,
    `bare download: ${download.ms.toFixed(0)} ms`,
    `${(cold.ms / download.ms).toFixed(2)}x`,
  ]);
  rows.push([
    `the same, warm (ETag: 304)`,
    `${warm.ms.toFixed(0)} ms, ${served} request (${warm.result.notModified} not modified)`,
    `bare download: ${download.ms.toFixed(0)} ms`,
    `${(warm.ms / download.ms).toFixed(2)}x`,
  ]);
} finally {
  server.close();
  rmSync(cacheDir, { recursive: true, force: true });
}

const header = ['measure', 'umbrella-chart', 'baseline (same run)', 'ratio'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
const line = (cells) => `| ${cells.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
console.log(`Medians of ${RUNS} runs for generation.\n`);
console.log(line(header));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const row of rows) console.log(line(row));
