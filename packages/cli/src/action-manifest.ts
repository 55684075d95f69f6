import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@toolkit/shared';
import { parse } from 'yaml';

export interface ManifestInput {
  id: string;
  description?: string;
  required: boolean;
  default?: string;
}

export interface ManifestOutput {
  id: string;
  description?: string;
}

/** What `toolkit` needs of an `action.yml`: read leniently here, judged by `toolkit validate`. */
export interface ActionManifest {
  /** The action's folder name, which is also its name in `uses: org/toolkit/actions/<name>@v1`. */
  name: string;
  dir: string;
  file: string;
  title: string;
  description: string;
  inputs: ManifestInput[];
  outputs: ManifestOutput[];
  runs: { using?: string; main?: string };
}

export async function readActionManifest(dir: string): Promise<ActionManifest> {
  const file = path.join(dir, 'action.yml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError('NOT_FOUND', `No action at ${dir}: ${file} does not exist.`);
  }
  const document = (parse(text) ?? {}) as Record<string, unknown>;
  const record = (value: unknown) => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});
  const text_ = (value: unknown) => (value === undefined || value === null ? undefined : String(value));
  const runs = record(document.runs);
  return {
    name: path.basename(dir),
    dir,
    file,
    title: text_(document.name) ?? path.basename(dir),
    description: text_(document.description) ?? '',
    inputs: Object.entries(record(document.inputs)).map(([id, raw]) => {
      const input = record(raw);
      return {
        id,
        description: text_(input.description),
        required: input.required === true || input.required === 'true',
        default: text_(input.default),
      };
    }),
    outputs: Object.entries(record(document.outputs)).map(([id, raw]) => ({ id, description: text_(record(raw).description) })),
    runs: { using: text_(runs.using), main: text_(runs.main) },
  };
}

/** Every `actions/<name>/action.yml` under `root`, by name. */
export async function listActions(root: string): Promise<ActionManifest[]> {
  const actionsDir = path.join(root, 'actions');
  const entries = await readdir(actionsDir, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const manifests: ActionManifest[] = [];
  for (const name of names.sort()) {
    const dir = path.join(actionsDir, name);
    const hasManifest = await readFile(path.join(dir, 'action.yml')).then(
      () => true,
      () => false,
    );
    if (hasManifest) manifests.push(await readActionManifest(dir));
  }
  return manifests;
}
