// The CPU time of promote's edit alone (applyRequest: parse, locate, splice, read back and check),
// in a warm process of the Node that runs the action (Node 24), next to a plain read of the same file
// by the fast reader (readVersionsData: js-yaml and the generated validator). Run by
// bench/promote.mjs as `node24 promote-edit-cpu.mjs <versions.yaml> <request.json> <runs>`; prints JSON.
import { readFileSync } from 'node:fs';
import { applyRequest } from '../../actions/promote/lib/promote.js';
import { readVersionsData } from '../../packages/shared/lib/index.js';

const [file, requestFile, runs] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
const request = JSON.parse(readFileSync(requestFile, 'utf8'));
const cpuMs = (work) => {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const apply = [];
const read = [];
for (let i = 0; i < Number(runs) + 3; i++) {
  const applied = cpuMs(() => applyRequest(text, request, 'versions.yaml'));
  const loaded = cpuMs(() => readVersionsData(text));
  if (i < 3) continue;
  apply.push(applied);
  read.push(loaded);
}
// The text the edit wrote, against what the whole-file editor writes (the tests hold them equal).
const edited = applyRequest(text, request, 'versions.yaml').text;
const whole = applyRequest(text, request, 'versions.yaml', undefined, { scoped: false }).text;
console.log(JSON.stringify({ apply, read, sameAsWholeFile: edited === whole, node: process.version }));
