import { type JsonWebKey, createPublicKey, verify } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Git, type GitOpsOptions, githubClient, writeWithApi, writeWithPullRequest } from '@toolkit/shared';
import { startGitHubStandIn } from '../../packages/cli/src/rehearse/github-stand-in.js';
import type { GitHubStandIn, Permissions, WorkflowDispatch } from '../../packages/cli/src/rehearse/types.js';
import { commit, makeRepo, tempDir } from '../support/temp.js';

const VERSIONS = 'environments:\n  uat:\n    api: 1.0.0\n';
const RELEASE_WORKFLOW = `name: Release
on:
  workflow_dispatch:
    inputs:
      tag:
        description: The tag to release.
        required: true
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: echo "$TAG"
`;
const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
};

let standIn: GitHubStandIn;
let root: string;
/** The bare repositories: acme/app is public, acme/environments private. */
const bare: Record<'app' | 'environments', Git> = {} as Record<'app' | 'environments', Git>;
const savedApiUrl = process.env.GITHUB_API_URL;

beforeAll(async () => {
  root = await tempDir('rehearse-github-');
  const seed = await makeRepo(path.join(root, 'seed'));
  await writeFile(path.join(seed.cwd, 'versions.yaml'), VERSIONS);
  await seed.run(['add', 'versions.yaml']);
  await commit(seed, 'chore: start');
  await mkdir(path.join(seed.cwd, '.github/workflows'), { recursive: true });
  await writeFile(path.join(seed.cwd, '.github/workflows/release.yml'), RELEASE_WORKFLOW);
  await seed.run(['add', '.github']);
  await commit(seed, 'ci: release workflow');
  standIn = await startGitHubStandIn({ scratch: path.join(root, 'scratch') });
  for (const [name, isPrivate] of [
    ['app', false],
    ['environments', true],
  ] as const) {
    const dir = path.join(root, `${name}.git`);
    await seed.run(['clone', '--quiet', '--bare', seed.cwd, dir]);
    bare[name] = new Git({ cwd: dir });
    standIn.addRepository(`acme/${name}`, dir, { private: isPrivate });
  }
  process.env.GITHUB_API_URL = standIn.apiUrl;
});

afterAll(async () => {
  if (savedApiUrl === undefined) delete process.env.GITHUB_API_URL;
  else process.env.GITHUB_API_URL = savedApiUrl;
  await standIn?.close();
});

let holders = 0;
function token(permissions: Permissions, repositories?: string[]): { token: string; holder: string } {
  const holder = `test token ${++holders}`;
  return { token: standIn.issueToken({ holder, permissions, ...(repositories ? { repositories } : {}) }), holder };
}

/** git as the toolkit runs it: the token in an http.extraheader scoped to the stand-in's URL. */
function gitWith(accessToken: string | undefined, cwd: string): Git {
  return new Git({ cwd, env: IDENTITY, ...(accessToken ? { auth: { token: accessToken, url: standIn.serverUrl } } : {}) });
}

async function cloneOf(accessToken: string | undefined, repository: string): Promise<{ exitCode: number; stderr: string; git: Git }> {
  const dir = path.join(await tempDir('rehearse-clone-'), 'clone');
  const result = await gitWith(accessToken, path.dirname(dir)).run(['clone', '--quiet', `${standIn.serverUrl}/${repository}.git`, dir], {
    allowFailure: true,
  });
  return { exitCode: result.exitCode, stderr: result.stderr, git: gitWith(accessToken, dir) };
}

/** The status and GitHub message of an Octokit call that must fail. */
async function failure(request: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await request;
  } catch (error) {
    const failed = error as { status?: number; response?: { data?: { message?: string } } };
    return { status: failed.status ?? 0, message: failed.response?.data?.message ?? '' };
  }
  throw new Error('The request succeeded, but it should have been refused.');
}

const app = { owner: 'acme', repo: 'app' };
const environments = { owner: 'acme', repo: 'environments' };

describe('git over smart HTTP', () => {
  it('clones a private repository with contents: read, and not without a token; a public one anonymously', async () => {
    const reader = token({ contents: 'read' });
    const cloned = await cloneOf(reader.token, 'acme/environments');
    expect(cloned.exitCode).toBe(0);
    expect(await readFile(path.join(cloned.git.cwd, 'versions.yaml'), 'utf8')).toBe(VERSIONS);

    const anonymous = await cloneOf(undefined, 'acme/environments');
    expect(anonymous.exitCode).not.toBe(0);
    expect(anonymous.stderr).toMatch(/Authentication failed|401|could not read Username/i);

    expect((await cloneOf(undefined, 'acme/app')).exitCode).toBe(0);
  });

  it('refuses a push without contents: write, changing nothing, and accepts it with contents: write', async () => {
    const before = await bare.environments.output(['rev-parse', 'main']);
    const reader = token({ contents: 'read' });
    const { git } = await cloneOf(reader.token, 'acme/environments');
    const pushed = await commit(git, 'feat: a change');

    const refused = await git.run(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { allowFailure: true });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('403');
    expect(await bare.environments.output(['rev-parse', 'main'])).toBe(before);
    expect(standIn.denials).toContainEqual({
      holder: reader.holder,
      method: 'GET',
      path: '/acme/environments.git/info/refs?service=git-receive-pack',
      needed: 'contents: write on acme/environments',
    });

    const writer = token({ contents: 'write' });
    const allowed = await gitWith(writer.token, git.cwd).run(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { allowFailure: true });
    expect(allowed.stderr).toBe('');
    expect(allowed.exitCode).toBe(0);
    expect(await bare.environments.output(['rev-parse', 'main'])).toBe(pushed);
  });

  it('refuses a token it did not issue', async () => {
    const cloned = await cloneOf('ghs_not_issued_here', 'acme/app');
    expect(cloned.exitCode).not.toBe(0);
    expect(standIn.denials.at(-1)).toMatchObject({ holder: 'a token the stand-in did not issue', needed: 'a token the stand-in issued' });
  });
});

describe('the REST API, through Octokit', () => {
  it('reads a repository, a ref, a commit and a file as GitHub shapes them', async () => {
    const client = await githubClient(token({ contents: 'read' }).token);
    const repository = (await client.rest.repos.get(environments)).data;
    expect(repository).toMatchObject({ full_name: 'acme/environments', name: 'environments', private: true, default_branch: 'main' });
    expect(repository.owner.login).toBe('acme');

    const main = await bare.environments.output(['rev-parse', 'main']);
    const ref = (await client.rest.git.getRef({ ...environments, ref: 'heads/main' })).data;
    expect(ref).toMatchObject({ ref: 'refs/heads/main', object: { sha: main, type: 'commit' } });
    const latest = (await client.rest.repos.getCommit({ ...environments, ref: 'main' })).data;
    expect(latest.sha).toBe(main);
    expect(latest.commit.message).toBe(await bare.environments.output(['log', '-1', '--format=%s', 'main']));
    expect(latest.commit.committer?.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const file = (await client.rest.repos.getContent({ ...environments, path: 'versions.yaml', ref: main })).data;
    if (Array.isArray(file) || file.type !== 'file') throw new Error('versions.yaml should be a file');
    expect(Buffer.from(file.content, 'base64').toString('utf8')).toBe(VERSIONS);
    expect(file.sha).toBe(await bare.environments.output(['rev-parse', `${main}:versions.yaml`]));
    expect(await failure(client.rest.repos.getContent({ ...environments, path: 'missing.yaml' }))).toMatchObject({ status: 404 });
  });

  it('commits through the Git Data API (createTree, createCommit, updateRef) and refuses a ref update that is not a fast-forward', async () => {
    const client = await githubClient(token({ contents: 'write' }).token);
    const before = await bare.environments.output(['rev-parse', 'main']);
    const options: GitOpsOptions = {
      maxAttempts: 1,
      author: { name: 'unused', email: 'unused@example.test' },
      authorGiven: false,
      edit: async (read) => ({ files: { 'versions.yaml': `${await read('versions.yaml')}    web: 2.0.0\n` }, message: 'chore: web 2.0.0' }),
      log: () => undefined,
    };
    const written = await writeWithApi(client, environments, options);
    expect(written.changed).toBe(true);
    expect(await bare.environments.output(['rev-parse', 'main'])).toBe(written.commit);
    expect(await bare.environments.output(['rev-parse', 'main^'])).toBe(before);
    expect(await bare.environments.output(['show', 'main:versions.yaml'])).toBe(`${VERSIONS}    web: 2.0.0`);
    expect(await bare.environments.output(['log', '-1', '--format=%an <%ae>', 'main'])).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>',
    );

    // A commit on the old tip, deleting a file: moving main there would drop the commit above.
    const baseTree = await bare.environments.output(['rev-parse', `${before}^{tree}`]);
    const tree = await client.rest.git.createTree({
      ...environments,
      base_tree: baseTree,
      tree: [
        { path: 'versions.yaml', mode: '100644', type: 'blob', sha: null },
        { path: 'docs/readme.md', mode: '100644', type: 'blob', content: '# env\n' },
      ],
    });
    const stale = await client.rest.git.createCommit({ ...environments, message: 'stale', tree: tree.data.sha, parents: [before] });
    expect(await bare.environments.output(['ls-tree', '-r', '--name-only', stale.data.sha])).toBe(
      '.github/workflows/release.yml\ndocs/readme.md',
    );
    expect(await failure(client.rest.git.updateRef({ ...environments, ref: 'heads/main', sha: stale.data.sha, force: false }))).toEqual({
      status: 422,
      message: 'Update is not a fast forward',
    });
    expect(await bare.environments.output(['rev-parse', 'main'])).toBe(written.commit);
    await client.rest.git.createRef({ ...environments, ref: 'refs/heads/stale', sha: stale.data.sha });
    expect(await bare.environments.output(['rev-parse', 'stale'])).toBe(stale.data.sha);
  });

  it('creates a release (and its tag), uploads an asset through upload_url and lists it', async () => {
    const client = await githubClient(token({ contents: 'write' }).token);
    const release = (await client.rest.repos.createRelease({ ...app, tag_name: 'v1.0.0', name: 'v1.0.0', body: 'First.' })).data;
    expect(await bare.app.output(['rev-parse', 'v1.0.0^{commit}'])).toBe(await bare.app.output(['rev-parse', 'main']));
    expect(release.upload_url).toBe(`${standIn.apiUrl}/uploads/repos/acme/app/releases/${release.id}/assets{?name,label}`);

    const data = Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x10]);
    const uploaded = await client.request({
      method: 'POST',
      url: release.upload_url,
      name: 'app.tar.gz',
      data,
      headers: { 'content-type': 'application/gzip' },
    });
    expect(uploaded.status).toBe(201);
    const assets = (await client.rest.repos.listReleaseAssets({ ...app, release_id: release.id })).data;
    expect(assets.map((asset) => [asset.name, asset.size, asset.content_type])).toEqual([['app.tar.gz', 5, 'application/gzip']]);
    expect(standIn.releases('acme/app')).toMatchObject([{ tag_name: 'v1.0.0', body: 'First.', assets: [{ name: 'app.tar.gz', data }] }]);
    const downloaded = await fetch(assets[0]?.browser_download_url ?? '');
    expect(Buffer.from(await downloaded.arrayBuffer())).toEqual(data);

    expect((await client.rest.repos.getReleaseByTag({ ...app, tag: 'v1.0.0' })).data.id).toBe(release.id);
    expect(await failure(client.rest.repos.createRelease({ ...app, tag_name: 'v1.0.0' }))).toMatchObject({ status: 422 });
    expect(await failure(client.rest.repos.getReleaseByTag({ ...app, tag: 'v9.9.9' }))).toMatchObject({ status: 404 });
    await client.rest.repos.deleteReleaseAsset({ ...app, asset_id: assets[0]?.id ?? 0 });
    expect((await client.rest.repos.listReleaseAssets({ ...app, release_id: release.id })).data).toEqual([]);
  });

  it('opens a pull request from a pushed branch, and reuses it, as promote does', async () => {
    const writer = token({ contents: 'write', 'pull-requests': 'write' });
    const client = await githubClient(writer.token);
    const target = {
      github: client,
      repository: environments,
      naming: () => ({ branch: 'promote/uat/api-1.1.0', reusePrefix: 'promote/uat/' }),
    };
    const options = (version: string): GitOpsOptions => ({
      maxAttempts: 1,
      author: { name: 'Promoter', email: 'promoter@example.test' },
      authorGiven: true,
      edit: async () => ({ files: { 'versions.yaml': `environments:\n  uat:\n    api: ${version}\n` }, message: `chore: api ${version}` }),
      log: () => undefined,
    });
    const workRoot = await tempDir('rehearse-pr-');
    const git = gitWith(writer.token, workRoot);
    const url = `${standIn.serverUrl}/acme/environments.git`;

    const opened = await writeWithPullRequest(git, url, workRoot, target, options('1.1.0'));
    expect(opened.pullRequestUrl).toBe(`${standIn.serverUrl}/acme/environments/pull/1`);
    expect(await bare.environments.output(['rev-parse', 'promote/uat/api-1.1.0'])).toBe(opened.commit);

    const reused = await writeWithPullRequest(git, url, workRoot, target, options('1.2.0'));
    expect(reused.pullRequestUrl).toBe(opened.pullRequestUrl);
    const open = (await client.rest.pulls.list({ ...environments, state: 'open', base: 'main', head: 'acme:promote/uat/api-1.1.0' })).data;
    expect(open.map((pull) => [pull.number, pull.title, pull.head.ref, pull.head.sha])).toEqual([
      [1, 'chore: api 1.2.0', 'promote/uat/api-1.1.0', reused.commit],
    ]);

    await client.rest.pulls.update({ ...environments, pull_number: 1, state: 'closed' });
    expect((await client.rest.pulls.list({ ...environments, state: 'open' })).data).toEqual([]);
    expect((await client.rest.pulls.list({ ...environments, state: 'closed' })).data.map((pull) => pull.number)).toEqual([1]);
    expect(await failure(client.rest.pulls.create({ ...environments, base: 'main', head: 'main', title: 'nothing' }))).toMatchObject({
      status: 422,
    });
  });

  it('accepts a workflow dispatch with 204 and hands it to onDispatch', async () => {
    const dispatcher = token({ actions: 'write' });
    const client = await githubClient(dispatcher.token);
    const received = new Promise<WorkflowDispatch>((resolve) => standIn.onDispatch(resolve));
    const response = await client.rest.actions.createWorkflowDispatch({
      ...app,
      workflow_id: 'release.yml',
      ref: 'v1.0.0',
      inputs: { tag: 'v1.0.0' },
    });
    expect(response.status).toBe(204);
    expect(await received).toEqual({
      repository: 'acme/app',
      workflow: 'release.yml',
      ref: 'v1.0.0',
      inputs: { tag: 'v1.0.0' },
      holder: dispatcher.holder,
    });

    expect(
      await failure(client.rest.actions.createWorkflowDispatch({ ...app, workflow_id: 'release.yml', ref: 'main', inputs: { tga: 'x' } })),
    ).toEqual({ status: 422, message: 'Unexpected inputs provided: ["tga"]' });
    expect(await failure(client.rest.actions.createWorkflowDispatch({ ...app, workflow_id: 'release.yml', ref: 'nowhere' }))).toEqual({
      status: 422,
      message: 'No ref found for: nowhere',
    });
  });
});

describe('permissions, as GitHub checks them', () => {
  it('refuses a token lacking the permission with 403 and records what it needed', async () => {
    const reader = token({ contents: 'read', actions: 'read' });
    const client = await githubClient(reader.token);
    const releases = standIn.releases('acme/app').length;
    expect(await failure(client.rest.repos.createRelease({ ...app, tag_name: 'v2.0.0' }))).toEqual({
      status: 403,
      message: 'Resource not accessible by integration',
    });
    expect(standIn.releases('acme/app')).toHaveLength(releases);
    expect(await bare.app.run(['rev-parse', '--verify', '--quiet', 'refs/tags/v2.0.0'], { allowFailure: true })).toMatchObject({
      exitCode: 1,
    });
    expect(
      await failure(client.rest.actions.createWorkflowDispatch({ ...app, workflow_id: 'release.yml', ref: 'main', inputs: { tag: 'x' } })),
    ).toMatchObject({
      status: 403,
    });
    expect(standIn.denials.filter((denial) => denial.holder === reader.holder)).toEqual([
      { holder: reader.holder, method: 'POST', path: '/repos/acme/app/releases', needed: 'contents: write on acme/app' },
      {
        holder: reader.holder,
        method: 'POST',
        path: '/repos/acme/app/actions/workflows/release.yml/dispatches',
        needed: 'actions: write on acme/app',
      },
    ]);
  });

  it('keeps a token to its repositories: another private one is hidden from the API and from git', async () => {
    const limited = token({ contents: 'write' }, ['acme/app']);
    const client = await githubClient(limited.token);
    expect(await failure(client.rest.repos.getContent({ ...environments, path: 'versions.yaml' }))).toMatchObject({ status: 404 });
    expect((await cloneOf(limited.token, 'acme/environments')).exitCode).not.toBe(0);
    const needed = 'contents: read on acme/environments (the token reaches only acme/app)';
    expect(standIn.denials.filter((denial) => denial.holder === limited.holder).map((denial) => denial.needed)).toEqual([needed, needed]);

    // The repository it was given it may write to.
    const main = await bare.app.output(['rev-parse', 'main']);
    await client.rest.git.createRef({ ...app, ref: 'refs/heads/limited', sha: main });
    expect(await bare.app.output(['rev-parse', 'limited'])).toBe(main);
  });

  it('answers a token it did not issue with 401 Bad credentials, and an endpoint it does not serve with a 404 naming it', async () => {
    expect(await failure((await githubClient('ghs_unknown')).rest.repos.get(app))).toEqual({ status: 401, message: 'Bad credentials' });
    const client = await githubClient(token({ contents: 'read', issues: 'read' }).token);
    expect(await failure(client.rest.issues.listForRepo(app))).toEqual({
      status: 404,
      message: "Not Found (the rehearsal's GitHub stand-in does not serve GET /api/v3/repos/acme/app/issues)",
    });
  });
});

describe('the OIDC token endpoint', () => {
  it('returns a JWT carrying the claims, signed with the key it publishes', async () => {
    const claims = { repository: 'acme/app', repository_owner: 'acme', ref: 'refs/tags/v1.0.0', sub: 'repo:acme/app:ref:refs/tags/v1.0.0' };
    const endpoint = standIn.oidcEndpoint(claims);
    // As @actions/core's getIDToken asks for it.
    const response = await fetch(`${endpoint.url}&audience=${encodeURIComponent('sigstore')}`, {
      headers: { authorization: `Bearer ${endpoint.token}` },
    });
    expect(response.status).toBe(200);
    const jwt = ((await response.json()) as { value: string }).value;
    const [header = '', payload = '', signature = ''] = jwt.split('.');
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(decoded).toMatchObject({ ...claims, aud: 'sigstore', iss: standIn.serverUrl });
    expect(Number(decoded.exp)).toBeGreaterThan(Number(decoded.iat));

    const { keys } = (await (await fetch(`${standIn.serverUrl}/.well-known/jwks`)).json()) as { keys: JsonWebKey[] };
    const key = createPublicKey({ key: keys[0] as JsonWebKey, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))).toBe(true);

    const refused = await fetch(`${endpoint.url}&audience=sigstore`, { headers: { authorization: 'Bearer not-a-request-token' } });
    expect(refused.status).toBe(401);
  });
});

describe('the dependency graph (POST dependency-graph/snapshots)', () => {
  const snapshot = (sha: string) => ({
    version: 0,
    sha,
    ref: 'refs/heads/main',
    job: { correlator: 'build_scan_ghcr.io/acme/app', id: '7' },
    detector: { name: 'toolkit scan (syft)', version: 'syft-1.44.0', url: 'https://github.com/anchore/syft' },
    scanned: '2026-12-02T00:00:00.000Z',
    manifests: { 'ghcr.io/acme/app': { name: 'ghcr.io/acme/app', resolved: { 'pkg:npm/a@1': { package_url: 'pkg:npm/a@1' } } } },
  });
  const submit = (client: Awaited<ReturnType<typeof githubClient>>, body: Record<string, unknown>) =>
    client.request('POST /repos/{owner}/{repo}/dependency-graph/snapshots', { ...app, ...body } as never);

  it('keeps a snapshot submitted with contents: write, and refuses one with contents: read or with no package URLs', async () => {
    const sha = await bare.app.output(['rev-parse', 'HEAD']);
    const writer = await githubClient(token({ contents: 'write' }).token);
    const response = await submit(writer, snapshot(sha));
    expect(response.status).toBe(201);
    expect(response.data).toMatchObject({ id: 1, result: 'SUCCESS' });
    expect(standIn.dependencySnapshots('acme/app')).toEqual([snapshot(sha)]);

    const reader = await githubClient(token({ contents: 'read' }).token);
    expect((await failure(submit(reader, snapshot(sha)))).status).toBe(403);
    const bad = snapshot(sha);
    bad.manifests['ghcr.io/acme/app'].resolved['pkg:npm/a@1'] = { package_url: 'npm:a@1' };
    expect(await failure(submit(writer, bad))).toEqual({
      status: 422,
      message: 'manifests.ghcr.io/acme/app.resolved.pkg:npm/a@1.package_url is not a package URL.',
    });
    expect((await failure(submit(writer, { ...snapshot(sha), ref: 'main' }))).message).toBe('ref main is not a full ref (refs/…).');
    expect(standIn.dependencySnapshots('acme/app')).toHaveLength(1);
  });
});
