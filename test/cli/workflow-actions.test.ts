import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { listWorkflows, readActionManifest } from '@toolkit/cli';
import { ROOT } from '../support/harness.js';

/**
 * Every step that runs one of our actions (`uses: ./actions/<name>`, or `./.toolkit/actions/<name>`
 * where a reusable workflow checked the toolkit out beside the caller's code) is checked against
 * that action.yml: its `with:` keys are inputs, its required inputs are given, and every
 * `steps.<id>.outputs.<x>` read from it is an output.
 */
interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
}

describe('workflows use our actions as their action.yml says', () => {
  it('checks every uses: ./actions/<name> step of every workflow', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of await listWorkflows(ROOT)) {
      const text = await readFile(path.join(ROOT, file), 'utf8');
      const workflow = parse(text) as { jobs?: Record<string, { steps?: Step[] }> };
      for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
        const steps = job.steps ?? [];
        const actionOf = new Map<string, string>();
        for (const step of steps) {
          const match = /^\.\/(?:\.toolkit\/)?actions\/([\w-]+)$/.exec(step.uses ?? '');
          if (!match) continue;
          const name = match[1] as string;
          checked += 1;
          const manifest = await readActionManifest(path.join(ROOT, 'actions', name));
          const inputs = new Map(manifest.inputs.map((input) => [input.id, input]));
          for (const key of Object.keys(step.with ?? {})) {
            if (!inputs.has(key)) problems.push(`${file} ${jobName}: ${name} has no input "${key}"`);
          }
          for (const input of manifest.inputs) {
            if (input.required && input.default === undefined && !(input.id in (step.with ?? {}))) {
              problems.push(`${file} ${jobName}: ${name} needs input "${input.id}"`);
            }
          }
          if (step.id) actionOf.set(step.id, name);
        }
        // Outputs read anywhere in the job (later steps, the job's outputs) from a step of ours.
        const jobText = JSON.stringify(job);
        for (const [, id, output] of jobText.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          const name = actionOf.get(id as string);
          if (!name) continue;
          const manifest = await readActionManifest(path.join(ROOT, 'actions', name));
          if (!manifest.outputs.some((candidate) => candidate.id === output)) {
            problems.push(`${file} ${jobName}: ${name} (step ${id}) has no output "${output}"`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // The walk found the steps it is meant to check (scan, sign, promote, umbrella-chart, …).
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});
