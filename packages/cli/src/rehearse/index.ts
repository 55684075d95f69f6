/**
 * `toolkit rehearse`: a local app repository (as `toolkit init` set it up) and an environment
 * repository served by the GitHub stand-in, the toolkit those workflows call resolved to this
 * toolkit, and one event rehearsed through every workflow it triggers.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Git } from '@toolkit/shared';
import { parse } from 'yaml';
import { type RehearsalReport, rehearse } from './engine.js';
import type { EventName, RehearsalEvent } from './events.js';
import type { Json } from './expressions.js';
import { standIns } from './stand-ins.js';
import type { ImageRegistry } from './types.js';
import { parseWorkflowReference } from './workflow.js';
import { type World, createWorld } from './world.js';

export * from './engine.js';
export * from './events.js';
export * from './expressions.js';
export * from './replay-shims.js';
export * from './report.js';
export * from './stand-ins.js';
export * from './types.js';
export * from './world.js';

export interface Rehearsal {
  world: World;
  /** owner/name of the app repository in the world. */
  repository: string;
  /** owner/name of the environment repository in the world, when there is one. */
  environmentRepository?: string;
  /** The world's bare copy of the app repository: push here, as a developer pushes to GitHub. */
  appRemote: string;
  /**
   * Rehearses one event (the app repository's refs are pushed to the world first). A pull_request
   * names its base and head branches; its refs and test merge are made as GitHub makes them.
   */
  run(event: EventSpec, options?: RunOptions): Promise<RehearsalReport>;
  close(): Promise<void>;
}

export type EventSpec = Omit<RehearsalEvent, 'sha' | 'actor' | 'pullRequest'> & {
  sha?: string;
  actor?: string;
  pullRequest?: { base: string; head: string; number?: number };
};

function eventOf(spec: EventSpec): RehearsalEvent {
  const { pullRequest, ...rest } = spec;
  return {
    actor: 'rehearsal-developer',
    sha: '',
    ...rest,
    ...(pullRequest
      ? { pullRequest: { number: pullRequest.number ?? 1, baseSha: '', headSha: '', base: pullRequest.base, head: pullRequest.head } }
      : {}),
  };
}

export interface RunOptions {
  /** Secrets for this run, over the rehearsal's. */
  secrets?: Record<string, string>;
  jobs?: string[];
  workflows?: string[];
  log?: (line: string) => void;
}

export interface RehearsalSetup {
  /** This toolkit's repository (its working tree is what the workflows call). */
  root: string;
  /** The app repository: a git working copy. */
  appDir: string;
  /** owner/name of the app (default: acme/<folder name>). */
  appRepository?: string;
  /** A git repository (bare or not) holding versions.yaml; an empty one is made when absent. */
  envDir?: string;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  registry?: ImageRegistry;
  dockerHost?: string;
  node?: string;
  /** Real webhook payloads to start from (octokit/webhooks' examples, say): their fields are kept where the rehearsal has none. */
  basePayloads?: Partial<Record<EventName, Record<string, Json>>>;
  log?: (line: string) => void;
  scratch?: string;
  /** The toolkit as a private repository (a company fork). */
  toolkitPrivate?: boolean;
}

interface Named {
  toolkit: string;
  refs: string[];
  environmentRepository?: string;
}

/** The toolkit and environment repository the app's workflows name (as `toolkit init` wrote them). */
export async function namedInWorkflows(appDir: string, root: string): Promise<Named> {
  // The files as they are on disk: validate reads a repository toolkit init just wrote into.
  const files = (await readdir(path.join(appDir, '.github', 'workflows')).catch(() => [] as string[]))
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => `.github/workflows/${file}`);
  const toolkitWorkflows = new Set((await new Git({ cwd: root }).output(['ls-files', '--', '.github/workflows'])).split('\n'));
  // The toolkit is the repository most calls name; a workflow that names another fails in the
  // rehearsal itself, at its line.
  const calls = new Map<string, number>();
  const refs = new Set<string>();
  let environmentRepository: string | undefined;
  for (const file of files) {
    const document = parse(await readFile(`${appDir}/${file}`, 'utf8')) as {
      jobs?: Record<string, { uses?: unknown; with?: Record<string, unknown> }>;
    } | null;
    for (const job of Object.values(document?.jobs ?? {})) {
      if (typeof job.uses === 'string' && !/^[.$]\//.test(job.uses)) {
        const reference = parseWorkflowReference(job.uses, file);
        if (!reference.local && toolkitWorkflows.has(reference.path)) {
          calls.set(reference.repository, (calls.get(reference.repository) ?? 0) + 1);
          refs.add(reference.ref);
        }
      }
      const named = job.with?.['environment-repository'];
      if (typeof named === 'string' && !named.includes('${{')) environmentRepository = named;
    }
  }
  // A repository whose workflows call none of the toolkit's still rehearses; the toolkit is then
  // served under the templates' own placeholder name.
  const toolkit = [...calls.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'org/toolkit';
  return { toolkit, refs: refs.size > 0 ? [...refs] : ['v1'], ...(environmentRepository ? { environmentRepository } : {}) };
}

async function pushAll(from: string, to: string): Promise<void> {
  await new Git({ cwd: from }).run(['push', '--quiet', '--force', to, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*']);
}

/**
 * The rehearsal downloads nothing: trivy, syft and cosign are the ones on PATH, real where this
 * machine has them, else replay shims (the workflows read these variables, empty on GitHub).
 */
const TOOLS_FROM_PATH = { TOOLKIT_TRIVY_VERSION: 'system', TOOLKIT_SYFT_VERSION: 'system', TOOLKIT_COSIGN_VERSION: 'system' };

export async function prepareRehearsal(setup: RehearsalSetup): Promise<Rehearsal> {
  // The toolkit rehearsing its own workflows: the app is the toolkit's snapshot itself.
  const self = path.resolve(setup.appDir) === path.resolve(setup.root);
  const named: Named = self
    ? { toolkit: setup.appRepository ?? 'org/toolkit', refs: [] }
    : await namedInWorkflows(setup.appDir, setup.root);
  const world = await createWorld({
    root: setup.root,
    toolkitRepository: named.toolkit,
    toolkitRefs: named.refs,
    ...(setup.registry ? { registry: setup.registry } : {}),
    ...(setup.dockerHost ? { dockerHost: setup.dockerHost } : {}),
    ...(setup.node ? { node: setup.node } : {}),
    ...(setup.scratch ? { scratch: setup.scratch } : {}),
    ...(setup.toolkitPrivate ? { toolkitPrivate: true } : {}),
  });
  try {
    const appName = path.basename(path.resolve(setup.appDir));
    const repository = self ? named.toolkit : (setup.appRepository ?? `${named.toolkit.split('/')[0] ?? 'acme'}/${appName}`);
    const defaultBranch = await new Git({ cwd: setup.appDir }).output(['symbolic-ref', '--short', 'HEAD']).catch(() => 'main');
    const appRemote = self ? world.toolkit.dir : await world.addRepository(repository, { defaultBranch });
    // A developer's push: the app's branches and tags, as they are now (the toolkit's snapshot is already there).
    const push = () => (self ? Promise.resolve() : pushAll(setup.appDir, appRemote));
    await push();
    const environmentRepository = named.environmentRepository;
    if (environmentRepository) {
      const envRemote = await world.addRepository(environmentRepository);
      if (setup.envDir) await pushAll(setup.envDir, envRemote);
    }
    // Images go to the rehearsal's registry; the templates read its host from this variable.
    const vars = {
      ...TOOLS_FROM_PATH,
      TOOLKIT_APP_ID: world.app.appId,
      ...(world.registry ? { TOOLKIT_IMAGE_REGISTRY: world.registry.address } : {}),
      ...setup.vars,
    };
    const secrets = { TOOLKIT_APP_PRIVATE_KEY: world.app.privateKey, ...setup.secrets };
    return {
      world,
      repository,
      ...(environmentRepository ? { environmentRepository } : {}),
      appRemote,
      async run(event, options = {}) {
        await push();
        return rehearse({
          world,
          repository,
          event: eventOf(event),
          secrets: { ...secrets, ...options.secrets },
          vars,
          ...(setup.basePayloads ? { basePayloads: setup.basePayloads } : {}),
          ...(options.jobs ? { jobs: options.jobs } : {}),
          ...(options.workflows ? { workflows: options.workflows } : {}),
          standIns: standIns(world.app),
          log: options.log ?? setup.log ?? (() => {}),
        });
      },
      close: () => world.close(),
    };
  } catch (error) {
    await world.close();
    throw error;
  }
}
export * from './git-http-backend.js';
