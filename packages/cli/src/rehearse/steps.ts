/**
 * One step of a job, as the runner runs it: `run:` through bash with the runner's files, a
 * JavaScript action from its built `dist` under Node 24 (the local runner), or a third-party
 * action through its named stand-in. Anything else fails, named.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Git } from '@toolkit/shared';
import { readActionManifest } from '../action-manifest.js';
import { applyMasks, parseFileCommand, parseWorkflowCommand, runActionLocally } from '../local-runner.js';
import { UnsupportedConstruct } from './errors.js';
import type { RehearsalWorld, StandIn, StepResult, TokenGrant } from './types.js';

export interface StepRun {
  world: RehearsalWorld;
  /** Where the step stands, for errors: acme/toolkit/.github/workflows/release.yml@v1:120 */
  where: string;
  workspace: string;
  /** RUNNER_TEMP of the job. */
  runnerTemp: string;
  env: Record<string, string>;
  eventPath: string;
  token: string;
  grant: TokenGrant;
  repository: string;
  sha: string;
  ref: string;
  standIns: ReadonlyMap<string, StandIn>;
  /** The repository and commit of the workflow file the step is in (what `$/` names). */
  workflowSource: { gitDir: string; sha: string };
  masks: string[];
  log(line: string): void;
}

export interface RunStepSpec {
  kind: 'run';
  script: string;
  shell?: string;
  workingDirectory?: string;
}

export interface UsesStepSpec {
  kind: 'uses';
  uses: string;
  inputs: Record<string, string>;
}

/** What a step was, for the report: a toolkit action, a stand-in, a script. */
export type StepKind = 'run' | 'action' | 'stand-in';

export interface StepOutcome extends StepResult {
  kind: StepKind;
}

interface FileCommands {
  GITHUB_OUTPUT: string;
  GITHUB_ENV: string;
  GITHUB_PATH: string;
  GITHUB_STEP_SUMMARY: string;
  GITHUB_STATE: string;
}

async function runFileCommands(dir: string): Promise<FileCommands> {
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary'),
    GITHUB_STATE: path.join(dir, 'state'),
  };
  for (const file of Object.values(files)) await writeFile(file, '');
  return files;
}

/** `run:`: the script in a file, run by bash as the runner does (`bash --noprofile --norc -eo pipefail`). */
async function runScript(spec: RunStepSpec, run: StepRun): Promise<StepOutcome> {
  if (spec.shell && spec.shell !== 'bash') {
    throw new UnsupportedConstruct(run.where, undefined, `shell: ${spec.shell} is not run by the rehearsal (bash is)`);
  }
  const dir = await mkdtemp(path.join(run.runnerTemp, 'step-'));
  const files = await runFileCommands(dir);
  const script = path.join(dir, 'script.sh');
  await writeFile(script, spec.script);
  const cwd = spec.workingDirectory ? path.resolve(run.workspace, spec.workingDirectory) : run.workspace;
  const exitCode = await new Promise<number>((resolve, reject) => {
    // As the runner: `shell: bash` is bash --noprofile --norc -eo pipefail {0}; no shell given is bash -e {0}.
    const args = spec.shell === 'bash' ? ['--noprofile', '--norc', '-eo', 'pipefail', script] : ['-e', script];
    const child = spawn('bash', args, {
      cwd,
      env: { ...run.env, ...files, GITHUB_EVENT_PATH: run.eventPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string) => {
      const command = parseWorkflowCommand(line);
      if (command?.name === 'add-mask') {
        if (command.message) run.masks.push(command.message);
        return;
      }
      run.log(applyMasks(command ? `${command.name}: ${command.message}` : line, run.masks));
    };
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const part of parts) onLine(part);
      });
      stream.on('end', () => pending && onLine(pending));
    }
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  const pathFile = await readFile(files.GITHUB_PATH, 'utf8');
  return {
    kind: 'run',
    exitCode,
    outputs: parseFileCommand(await readFile(files.GITHUB_OUTPUT, 'utf8')),
    env: parseFileCommand(await readFile(files.GITHUB_ENV, 'utf8')),
    path: pathFile.split('\n').filter(Boolean),
    summary: await readFile(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

/** A JavaScript action's folder, for `./path` (in the workspace) or `owner/repo/path@ref` of the toolkit. */
async function actionFolder(uses: string, run: StepRun): Promise<string | undefined> {
  const inside = (base: string, folder: string) => {
    const relative = path.relative(base, folder);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new UnsupportedConstruct(run.where, undefined, `uses: ${uses} leaves the folder it must be in (${base})`);
    }
    return folder;
  };
  if (uses.startsWith('./')) return inside(run.workspace, path.resolve(run.workspace, uses));
  // $/path: GitHub's self-repository syntax, the workflow file's own repository at the running commit.
  if (uses.startsWith('$/')) {
    const own = await commitFolder(run.workflowSource.gitDir, run.workflowSource.sha, run);
    return inside(own, path.join(own, uses.slice(2)));
  }
  const match = /^([^/@]+\/[^/@]+)((?:\/[^@]+)?)@(.+)$/.exec(uses);
  if (!match) throw new UnsupportedConstruct(run.where, undefined, `uses: ${uses} is not owner/repo[/path]@ref, ./path or $/path`);
  const [, repository, subPath, ref] = match as unknown as [string, string, string, string];
  if (repository !== run.world.toolkit.repository) return undefined;
  // The toolkit's own action at that ref: its files at that commit of the local toolkit repository.
  const sha = await new Git({ cwd: run.world.toolkit.dir }).output(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => {
    throw new UnsupportedConstruct(run.where, undefined, `${repository} has no ref ${ref}`);
  });
  const target = await commitFolder(run.world.toolkit.dir, sha, run);
  return inside(target, path.join(target, subPath));
}

/** The files of one commit of a repository, checked out once per rehearsal (a git worktree). */
async function commitFolder(gitDir: string, sha: string, run: StepRun): Promise<string> {
  const target = path.join(run.world.scratch, 'actions', sha);
  if (!existsSync(target)) {
    await mkdir(path.dirname(target), { recursive: true });
    await new Git({ cwd: gitDir }).run(['worktree', 'add', '--detach', '--force', target, sha]);
  }
  return target;
}

/** `uses:`: a toolkit (or workspace) JavaScript action, or the named stand-in of a third-party one. */
async function runUses(spec: UsesStepSpec, run: StepRun): Promise<StepOutcome> {
  if (spec.uses.startsWith('docker://'))
    throw new UnsupportedConstruct(run.where, undefined, `uses: ${spec.uses} (a Docker action) is not run`);
  const folder = await actionFolder(spec.uses, run);
  if (folder === undefined) {
    const name = spec.uses.replace(/@.*$/, '');
    const standIn = run.standIns.get(name);
    if (!standIn) {
      throw new UnsupportedConstruct(
        run.where,
        undefined,
        `uses: ${spec.uses} has no stand-in here (stand-ins: ${[...run.standIns.keys()].join(', ')}), and it is not ${run.world.toolkit.repository}`,
      );
    }
    const result = await standIn.run({
      world: run.world,
      uses: spec.uses,
      inputs: spec.inputs,
      env: run.env,
      workspace: run.workspace,
      token: run.token,
      grant: run.grant,
      repository: run.repository,
      sha: run.sha,
      ref: run.ref,
      log: (line) => run.log(applyMasks(line, run.masks)),
      mask: (value) => {
        if (value) run.masks.push(value);
      },
    });
    return { ...result, kind: 'stand-in' };
  }
  if (!existsSync(path.join(folder, 'action.yml')) && !existsSync(path.join(folder, 'action.yaml'))) {
    throw new UnsupportedConstruct(run.where, undefined, `uses: ${spec.uses}: no action.yml at ${folder}`);
  }
  const manifest = await readActionManifest(folder);
  if (!manifest.runs.using?.startsWith('node')) {
    throw new UnsupportedConstruct(
      run.where,
      undefined,
      `uses: ${spec.uses} runs using ${manifest.runs.using}; the rehearsal runs JavaScript actions`,
    );
  }
  const result = await runActionLocally({
    actionDir: folder,
    inputs: spec.inputs,
    env: run.env,
    eventPath: run.eventPath,
    workspace: run.workspace,
    node: run.world.node,
    githubToken: run.token,
    onLine: (line) => run.log(applyMasks(line, run.masks)),
  });
  run.masks.push(...result.masks);
  return {
    kind: 'action',
    exitCode: result.exitCode,
    outputs: result.outputs,
    env: result.exportedEnv,
    summary: result.summary,
  };
}

export function runStep(spec: RunStepSpec | UsesStepSpec, run: StepRun): Promise<StepOutcome> {
  return spec.kind === 'run' ? runScript(spec, run) : runUses(spec, run);
}
