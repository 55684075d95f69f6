#!/usr/bin/env node
// actions/umbrella-chart:
// 1. The built action (dist/index.js, Node 24) as a fresh process with its action.yml defaults,
//    generating the chart of an environment of 2,000 services into its working directory: once from
//    nothing (the output removed before each run), once over its own previous output (unchanged,
//    nothing written). Interleaved with `node -e 0`. Goals: at most 300 ms; peak RSS under 100 MB.
//    generateUmbrella in a warm process is printed beside, labelled.
// 2. In process, labelled: verify against a local HTTP chart repository whose index.yaml lists
//    50,000 chart versions, cold and warm (ETag), next to a bare download of the index.
// Needs `pnpm build` first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { generateUmbrella, verifyDependencies } from '../actions/umbrella-chart/lib/umbrella-chart.js';
import { builtAction, fmtMB, fmtMs, interleave, intro, median, min, nodeStart, sandbox, table, verdict } from './support/bench.mjs';

const SERVICES = 2000;
const RUNS = Number(process.env.RUNS ?? 11);
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
const work = sandbox('umbrella');
writeFileSync(path.join(work, 'versions.yaml'), versions);
const action = await builtAction('umbrella-chart', {
  inputs: { environment: 'prod', repository: 'https://charts.example' },
  workspace: work,
});
const outputDir = path.join(work, action.inputs['output-dir'] || 'umbrella/prod');

intro(
  `the built umbrella-chart action as a fresh process, action.yml defaults, ${SERVICES.toLocaleString('en')} services (${(versions.length / 1e6).toFixed(2)} MB versions.yaml)`,
  '`node -e 0` under the same Node 24, interleaved',
);
const inProcess = async () => {
  const at = performance.now();
  await generateUmbrella(async (file) => (file === 'versions.yaml' ? versions : undefined), config);
  return { ms: performance.now() - at, rssMB: NaN };
};
const config = {
  versionsFile: 'versions.yaml',
  environment: 'prod',
  chartName: 'prod-umbrella',
  outputDir: 'umbrella/prod',
  repository: 'https://charts.example',
  chartVersion: 'patch',
  sourceCommit: 'bench',
};
const rows = [];
for (const scenario of ['from nothing', 'over its unchanged output']) {
  const results = await interleave(
    {
      'node -e 0': nodeStart,
      action: () => {
        if (scenario === 'from nothing') rmSync(outputDir, { recursive: true, force: true });
        return action.run();
      },
      'in process': inProcess,
    },
    { runs: RUNS },
  );
  const expected = scenario === 'from nothing' ? 'true' : 'false';
  if (results.action.last.outputs.changed !== expected) throw new Error(`${scenario}: changed=${results.action.last.outputs.changed}`);
  const ms = median(results.action.ms);
  const rss = Math.max(...results.action.rssMB);
  rows.push([
    scenario,
    `${fmtMs(min(results.action.ms))} / ${fmtMs(ms)} — ${verdict(ms, 300, fmtMs)}`,
    `${fmtMs(min(results['node -e 0'].ms))} / ${fmtMs(median(results['node -e 0'].ms))}`,
    `${(ms / median(results['node -e 0'].ms)).toFixed(2)}×`,
    `${fmtMB(rss)} — ${verdict(rss, 100, fmtMB)}`,
    fmtMs(median(results['in process'].ms)),
  ]);
}
console.log(
  table(
    [
      'whole action',
      'action min / median',
      'node -e 0 min / median',
      'ratio',
      'action peak RSS',
      'generateUmbrella in process, warm (median)',
    ],
    rows,
  ),
);
const loaded = await action.loaded();
console.log(`\nJS loaded: ${fmtMB(loaded.mb)} (${loaded.files.join(' ')}) — ${verdict(loaded.mb, 1.5, fmtMB)}\n`);
const dependencies = (await generateUmbrella(async (file) => (file === 'versions.yaml' ? versions : undefined), config)).dependencies;
const verifyRows = [];
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
  verifyRows.push([
    `verify ${pinned.length} pins against a 50,000-version index (${(index.length / 1e6).toFixed(1)} MB), cold`,
    `${cold.ms.toFixed(0)} ms, ${coldFetches} index fetch`,
    `bare download: ${download.ms.toFixed(0)} ms`,
    `${(cold.ms / download.ms).toFixed(2)}x`,
  ]);
  verifyRows.push([
    `the same, warm (ETag: 304)`,
    `${warm.ms.toFixed(0)} ms, ${served} request (${warm.result.notModified} not modified)`,
    `bare download: ${download.ms.toFixed(0)} ms`,
    `${(warm.ms / download.ms).toFixed(2)}x`,
  ]);
} finally {
  server.close();
  rmSync(cacheDir, { recursive: true, force: true });
}

console.log('In process (a warm Node 20 process running the compiled library), labelled as such:\n');
console.log(table(['verify, in process', 'umbrella-chart', 'baseline (same run)', 'ratio'], verifyRows));
