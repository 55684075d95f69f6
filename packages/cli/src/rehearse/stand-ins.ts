/**
 * The third-party actions the toolkit's workflows use, each replaced by a stand-in that does the
 * same job against the rehearsal's local parts: checkout clones through the GitHub stand-in (so
 * the job's token is checked), the App token is minted with the App's permissions, the build is a
 * real image pushed to the rehearsal's registry. Every stand-in is named in the report.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Git } from '@toolkit/shared';
import { buildPushStandIn } from './image-build.js';
import type { Permissions, StandIn, StepContext, StepResult } from './types.js';

const ok = (outputs: Record<string, string> = {}, summary?: string): StepResult => ({
  exitCode: 0,
  outputs,
  ...(summary ? { summary } : {}),
});
const fail = (context: StepContext, message: string): StepResult => {
  context.log(`Error: ${message}`);
  return { exitCode: 1, outputs: {} };
};

/** actions/checkout's extraheader: the token as Basic credentials, for the GitHub stand-in only. */
function authHeader(token: string): string {
  return `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** Git with the token sent only to the GitHub stand-in, as actions/checkout's extraheader does. */
function authEnv(serverUrl: string, token: string): Record<string, string> {
  return {
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${serverUrl}/.extraheader`,
    GIT_CONFIG_VALUE_0: authHeader(token),
  };
}

/** actions/checkout: the repository at the ref, from the GitHub stand-in with the given token. */
const checkout: StandIn = {
  action: 'actions/checkout',
  description: 'clones the local repository through the GitHub stand-in, with the job token',
  async run(context) {
    const { inputs, world } = context;
    const repository = inputs.repository || context.repository;
    const token = inputs.token || context.token;
    const target = path.resolve(context.workspace, inputs.path || '.');
    const inside = path.relative(context.workspace, target);
    if (inside.startsWith('..') || path.isAbsolute(inside)) return fail(context, `path ${inputs.path} is outside the workspace`);
    const depth = Number.parseInt(inputs['fetch-depth'] || '1', 10);
    let ref = inputs.ref || (repository === context.repository ? context.ref : '');
    const sha = repository === context.repository && !inputs.ref ? context.sha : undefined;
    const url = `${world.github.serverUrl}/${repository}.git`;
    await mkdir(target, { recursive: true });
    const git = new Git({ cwd: target, env: authEnv(world.github.serverUrl, token) });
    await git.run(['init', '--quiet']);
    await git.run(['remote', 'add', 'origin', url]);
    const depthArgs = depth > 0 ? [`--depth=${depth}`] : [];
    let fetched;
    if (depth === 0) {
      fetched = await git.run(
        [
          'fetch',
          '--quiet',
          '--prune',
          '--no-recurse-submodules',
          'origin',
          '+refs/heads/*:refs/remotes/origin/*',
          '+refs/tags/*:refs/tags/*',
        ],
        {
          allowFailure: true,
        },
      );
    } else if (/^[0-9a-f]{40}$/.test(ref) || (!ref && sha)) {
      fetched = await git.run(['fetch', '--quiet', ...depthArgs, 'origin', ref || (sha as string)], { allowFailure: true });
    } else {
      if (!ref) ref = `refs/heads/${world.repositories.get(repository)?.defaultBranch ?? 'main'}`;
      const full = ref.startsWith('refs/')
        ? ref
        : (await git.run(['ls-remote', '--exit-code', 'origin', `refs/tags/${ref}`], { allowFailure: true })).exitCode === 0
          ? `refs/tags/${ref}`
          : `refs/heads/${ref}`;
      const local = full.startsWith('refs/tags/') ? full : full.replace(/^refs\/heads\//, 'refs/remotes/origin/');
      fetched = await git.run(['fetch', '--quiet', ...depthArgs, 'origin', `+${full}:${local}`], { allowFailure: true });
      ref = local;
    }
    if (fetched.exitCode !== 0) return fail(context, `fetching ${repository} failed:\n${fetched.stderr.trim()}`);
    // A full fetch brings branches and tags only; a pull request's merge commit (refs/pull/N/merge)
    // is then fetched on its own, as actions/checkout does.
    if (
      depth === 0 &&
      sha &&
      !inputs.ref &&
      (await git.run(['cat-file', '-e', `${sha}^{commit}`], { allowFailure: true })).exitCode !== 0
    ) {
      const alone = await git.run(
        [
          'fetch',
          '--quiet',
          'origin',
          context.ref.startsWith('refs/pull/') ? `+${context.ref}:refs/remotes/${context.ref.slice('refs/'.length)}` : sha,
        ],
        {
          allowFailure: true,
        },
      );
      if (alone.exitCode !== 0) return fail(context, `fetching ${context.ref || sha} of ${repository} failed:\n${alone.stderr.trim()}`);
    }
    const what = sha && !inputs.ref ? sha : /^[0-9a-f]{40}$/.test(ref) ? ref : ref || 'FETCH_HEAD';
    const checkedOut = await git.run(['checkout', '--quiet', '--force', '--detach', what], { allowFailure: true });
    if (checkedOut.exitCode !== 0) return fail(context, `checking out ${what} failed:\n${checkedOut.stderr.trim()}`);
    if ((inputs['persist-credentials'] || 'true') === 'true') {
      // As actions/checkout does: the token in the clone's config, for the job's later git commands.
      await git.run(['config', '--local', `http.${world.github.serverUrl}/.extraheader`, authHeader(token)]);
    }
    const commit = await git.output(['rev-parse', 'HEAD']);
    context.log(`Checked out ${repository} at ${commit.slice(0, 12)} into ${path.relative(context.workspace, target) || '.'}`);
    return ok({ commit, ref: inputs.ref || context.ref });
  },
};

/** The GitHub App a rehearsal's App tokens belong to. */
export interface RehearsalApp {
  appId: string;
  privateKey: string;
  /** What the App's installation may do. */
  permissions: Permissions;
}

/** actions/create-github-app-token: an installation token with the App's permissions, limited to `repositories:` as given. */
export function createAppTokenStandIn(app: RehearsalApp): StandIn {
  return {
    action: 'actions/create-github-app-token',
    description: `mints an installation token of App ${app.appId} from the GitHub stand-in`,
    async run(context) {
      const { inputs } = context;
      const appId = inputs['app-id'] || inputs.app_id || '';
      if (!appId) return fail(context, '[@octokit/auth-app] appId option is required');
      if (appId !== app.appId) return fail(context, `App ${appId} is not known here (the rehearsal's App is ${app.appId})`);
      if ((inputs['private-key'] || '').trim() !== app.privateKey.trim())
        return fail(context, 'A JSON web token could not be decoded: the private key does not belong to the App');
      const owner = inputs.owner || context.repository.split('/')[0] || '';
      const names = (inputs.repositories || '')
        .split(/[\n,]+/)
        .map((name) => name.trim())
        .filter(Boolean);
      // The real action takes names without the owner: it looks the installation up at
      // /repos/{owner}/{repositories[0]}/installation, and `owner/name` there is Not Found.
      const qualified = names.find((name) => name.includes('/'));
      if (qualified)
        return fail(
          context,
          `Failed to create token for "${names.join(',')}" (attempt 1): Not Found - GET /repos/${owner}/${encodeURIComponent(qualified)}/installation ` +
            '(repositories takes names without the owner; the owner goes in owner)',
        );
      const repositories =
        names.length > 0
          ? names.map((name) => `${owner}/${name}`)
          : [...context.world.repositories.keys()].filter((name) => name.startsWith(`${owner}/`));
      const permissions: Permissions = { ...app.permissions };
      for (const [key, value] of Object.entries(inputs)) {
        if (key.startsWith('permission-') && value) {
          const scope = key.slice('permission-'.length);
          if ((app.permissions[scope] ?? 'none') === 'none' || (value === 'write' && app.permissions[scope] !== 'write')) {
            return fail(context, `The permissions requested are not granted to this installation: ${scope}: ${value}`);
          }
          permissions[scope] = value as Permissions[string];
        }
      }
      const token = context.world.github.issueToken({
        holder: `App ${app.appId} installation (${repositories.join(', ')})`,
        repositories,
        permissions,
      });
      context.mask(token);
      context.log(`Created an installation token for ${repositories.join(', ')}`);
      return ok({ token, 'installation-id': '1', 'app-slug': 'toolkit-rehearsal' });
    },
  };
}

const setupBuildx: StandIn = {
  action: 'docker/setup-buildx-action',
  description: 'nothing to set up: the build stand-in uses the local Docker engine, or writes the image itself',
  async run() {
    return ok({ name: 'rehearsal', driver: 'docker', platforms: 'linux/amd64' });
  },
};

const login: StandIn = {
  action: 'docker/login-action',
  description: "checks the registry is the rehearsal's and that credentials were given",
  async run(context) {
    const registry = context.inputs.registry || 'docker.io';
    const address = context.world.registry?.address;
    if (!address) return fail(context, 'the rehearsal has no registry');
    if (registry !== address)
      return fail(context, `login to ${registry}: the rehearsal's only registry is ${address}, so image names must start with it`);
    if (!context.inputs.username || !context.inputs.password) return fail(context, 'Username and password required');
    context.mask(context.inputs.password);
    context.log(`Login Succeeded (${registry})`);
    return ok();
  },
};

const uploadSarif: StandIn = {
  action: 'github/codeql-action/upload-sarif',
  description: "checks the SARIF file and the token's permissions as code scanning does",
  async run(context) {
    const file = path.resolve(context.workspace, context.inputs.sarif_file || '../results');
    if (!existsSync(file)) return fail(context, `Path does not exist: ${context.inputs.sarif_file}`);
    let sarif: { version?: string; runs?: unknown[] };
    try {
      sarif = JSON.parse(await readFile(file, 'utf8')) as typeof sarif;
    } catch {
      return fail(context, `${context.inputs.sarif_file} is not valid JSON`);
    }
    if (sarif.version !== '2.1.0' || !Array.isArray(sarif.runs)) return fail(context, `${context.inputs.sarif_file} is not SARIF 2.1.0`);
    const permissions = context.grant.permissions;
    if (permissions['security-events'] !== 'write')
      return fail(context, 'Resource not accessible by integration: uploading SARIF needs security-events: write');
    // Code scanning reads the workflow run to attribute the upload; in a private repository the token needs actions: read.
    const isPrivate = context.world.repositories.get(context.repository)?.private ?? true;
    if (isPrivate && (permissions.actions ?? 'none') === 'none')
      return fail(context, 'Resource not accessible by integration: in a private repository uploading SARIF also needs actions: read');
    context.log(`Uploaded ${path.basename(file)} (${sarif.runs.length} run(s)) as category ${context.inputs.category || '(default)'}`);
    return ok({ 'sarif-id': `rehearsal-${Date.now()}` });
  },
};

/** Where a run's artifacts are kept: one folder per run and artifact name. */
function artifactDir(context: StepContext, name: string): string {
  return path.join(context.world.scratch, 'artifacts', context.env.GITHUB_RUN_ID ?? 'run', name);
}

const ARTIFACT_NAME = /^[^"\\:<>|*?\r\n/]+$/;

/** actions/upload-artifact: the named files, kept for later jobs of the same run. */
const uploadArtifact: StandIn = {
  action: 'actions/upload-artifact',
  description: "keeps the files for the run's later jobs, in the rehearsal's folder",
  async run(context) {
    const name = context.inputs.name || 'artifact';
    if (!ARTIFACT_NAME.test(name)) return fail(context, `The artifact name is not valid: ${name}`);
    const paths = (context.inputs.path ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    if (paths.some((entry) => /[*?[]/.test(entry) || entry.startsWith('!'))) {
      return fail(context, `path: patterns are not run by the rehearsal's upload-artifact; name each file (${paths.join(', ')})`);
    }
    const target = artifactDir(context, name);
    if (existsSync(target) && context.inputs.overwrite !== 'true') {
      return fail(context, `An artifact with the name ${name} already exists in this run (overwrite: true replaces it)`);
    }
    const found = paths.filter((entry) => existsSync(path.resolve(context.workspace, entry)));
    if (found.length === 0) {
      const how = context.inputs['if-no-files-found'] || 'warn';
      if (how === 'error')
        return fail(context, `No files were found with the provided path: ${paths.join(', ')}. No artifacts will be uploaded.`);
      context.log(`Warning: No files were found with the provided path: ${paths.join(', ')}. No artifacts will be uploaded.`);
      return ok();
    }
    await mkdir(target, { recursive: true });
    // As upload-artifact does for plain files: each under its name (the paths' common folder dropped).
    for (const entry of found)
      await cp(path.resolve(context.workspace, entry), path.join(target, path.basename(entry)), { recursive: true });
    context.log(`Artifact ${name} has ${found.length} file(s): ${found.join(', ')}`);
    return ok({
      'artifact-id': String(Date.now()),
      'artifact-url': `${context.world.github.serverUrl}/${context.repository}/actions/runs/${context.env.GITHUB_RUN_ID ?? ''}`,
    });
  },
};

/** The artifact names a download-artifact `pattern` matches (minimatch's * and ?, as the action uses on names without /). */
function artifactPattern(pattern: string): RegExp {
  const source = [...pattern]
    .map((char) => (char === '*' ? '[^/]*' : char === '?' ? '[^/]' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * actions/download-artifact: artifacts of the same run into path. A `name` goes into path itself;
 * with `pattern` (or neither), every matching artifact goes into path/<name>, or into path itself
 * with merge-multiple, as the action does.
 */
const downloadArtifact: StandIn = {
  action: 'actions/download-artifact',
  description: "copies artifacts of the same run from the rehearsal's folder",
  async run(context) {
    const { name, pattern } = context.inputs;
    const target = path.resolve(context.workspace, context.inputs.path || '.');
    await mkdir(target, { recursive: true });
    if (name) {
      const source = artifactDir(context, name);
      if (!existsSync(source)) return fail(context, `Unable to download artifact(s): Artifact not found for name: ${name}`);
      await cp(source, target, { recursive: true });
      context.log(`Artifact ${name} downloaded to ${path.relative(context.workspace, target) || '.'}`);
      return ok({ 'download-path': target });
    }
    const runDir = path.dirname(artifactDir(context, 'artifact'));
    const matches = pattern ? artifactPattern(pattern) : /^/;
    const names = existsSync(runDir) ? (await readdir(runDir)).filter((entry) => matches.test(entry)).sort() : [];
    const merge = context.inputs['merge-multiple'] === 'true';
    for (const found of names) await cp(path.join(runDir, found), merge ? target : path.join(target, found), { recursive: true });
    context.log(
      `${names.length} artifact(s) downloaded to ${path.relative(context.workspace, target) || '.'}: ${names.join(', ') || 'none'}`,
    );
    return ok({ 'download-path': target });
  },
};

/** Every stand-in, with the App the world's App tokens come from. */
export function standIns(app: RehearsalApp): StandIn[] {
  return [checkout, createAppTokenStandIn(app), setupBuildx, login, buildPushStandIn, uploadSarif, uploadArtifact, downloadArtifact];
}
