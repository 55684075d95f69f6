#!/usr/bin/env node
// actions/scan on the warm path with its action.yml defaults (db-cache: true, an spdx-json SBOM):
// tools installed (version system: a fake trivy and a fake syft in shell that answer at once), no
// Actions cache service configured (as on a self-hosted runner or here). Interleaved with the two
// fake tools run on their own and with `node -e 0`. The overhead is the action's wall time minus the
// tools'. Every network request is counted by a local proxy that each client is pointed at
// (HTTP(S)_PROXY, NODE_USE_ENV_PROXY).
// Goals: overhead at most 300 ms; zero requests; at most 1.5 MB of JS loaded. Needs `pnpm build`.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  TIMING_HEADER,
  builtAction,
  fmtMB,
  fmtMs,
  interleave,
  intro,
  measure,
  median,
  min,
  nodeStart,
  sandbox,
  table,
  timingRows,
  verdict,
} from './support/bench.mjs';

const work = sandbox('scan');
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
  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  const report = {
    SchemaVersion: 2,
    ArtifactName: 'bench/app:1',
    Results: [
      {
        Target: 'bench/app:1',
        Class: 'os-pkgs',
        Vulnerabilities: [{ VulnerabilityID: 'CVE-1', PkgName: 'p', InstalledVersion: '1', Severity: 'LOW' }],
      },
    ],
  };
  writeFileSync(path.join(bin, 'report.json'), JSON.stringify(report));
  writeFileSync(
    path.join(bin, 'sbom.json'),
    JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'x', packages: [] }),
  );
  writeFileSync(
    path.join(bin, 'trivy'),
    `#!/bin/sh\nwhile [ "$#" -gt 0 ]; do if [ "$1" = --output ]; then cp "${path.join(bin, 'report.json')}" "$2"; fi; shift; done\n`,
  );
  writeFileSync(
    path.join(bin, 'syft'),
    `#!/bin/sh\nfor a in "$@"; do case "$a" in *=*) cp "${path.join(bin, 'sbom.json')}" "\${a#*=}";; esac; done\n`,
  );
  chmodSync(path.join(bin, 'trivy'), 0o755);
  chmodSync(path.join(bin, 'syft'), 0o755);

  const action = await builtAction('scan', {
    inputs: { image: 'bench/app:1', 'trivy-version': 'system', 'syft-version': 'system' },
    workspace: work,
    binPath: bin,
    env: { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NODE_USE_ENV_PROXY: '1' },
  });
  const tools = async () => {
    const trivy = await measure([path.join(bin, 'trivy'), 'image', '--output', path.join(work, 'r.json'), 'bench/app:1']);
    const syft = await measure([path.join(bin, 'syft'), 'scan', `--output=spdx-json=${path.join(work, 's.json')}`, 'bench/app:1']);
    return { ms: trivy.ms + syft.ms, rssMB: NaN };
  };
  intro(
    'the built scan action as a fresh process, action.yml defaults (db-cache: true, spdx-json SBOM), tools installed, no cache service',
    'the same fake trivy and syft run on their own (the overhead is the difference of medians), and `node -e 0`, interleaved',
  );
  const results = await interleave({ 'node -e 0': nodeStart, 'fake trivy + syft alone': tools, scan: () => action.run() }, { warmup: 1 });
  const requestsDuringRuns = requests;
  const loaded = await action.loaded();
  const overhead = median(results.scan.ms) - median(results['fake trivy + syft alone'].ms);
  const overheadMin = min(results.scan.ms) - min(results['fake trivy + syft alone'].ms);
  console.log(table(TIMING_HEADER, timingRows(results, 'node -e 0')));
  console.log(
    `\n${table(
      ['figure', 'value', 'goal'],
      [
        ['overhead over the tools (min / median)', `${fmtMs(overheadMin)} / ${fmtMs(overhead)}`, verdict(overhead, 300, fmtMs)],
        ['network requests (all runs)', String(requestsDuringRuns), verdict(requestsDuringRuns, 0)],
        [`JS loaded (${loaded.files.join(' ')})`, fmtMB(loaded.mb), verdict(loaded.mb, 1.5, fmtMB)],
      ],
    )}`,
  );
} finally {
  proxy.close();
}
